"""Losses (functional and modules) against PyTorch: values, gradients, options and errors."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_gradcheck, check_raises

rng = np.random.default_rng(0)
TGT = rng.integers(0, 5, (6,))
TGT_IGN = np.where(np.arange(6) % 3 == 0, -100, TGT)
TGT_K = rng.integers(0, 5, (3, 4, 2))
W5 = rng.uniform(0.2, 2.0, (5,)).astype(np.float32)
PROB = rng.dirichlet(np.ones(5), 6).astype(np.float32)
BIN = rng.integers(0, 2, (6, 5)).astype(np.float32)
SIGN = rng.choice([-1.0, 1.0], (6,)).astype(np.float32)


def T(lib, a):
    return lib.tensor(a)


CASES = {
    'ce': (lambda lib, x: lib.nn.functional.cross_entropy(x, T(lib, TGT)), (6, 5)),
    'ce_sum_weight': (lambda lib, x: lib.nn.functional.cross_entropy(x, T(lib, TGT), T(lib, W5), reduction='sum'),
                      (6, 5)),
    'ce_none_ignore': (lambda lib, x: lib.nn.functional.cross_entropy(x, T(lib, TGT_IGN), reduction='none'), (6, 5)),
    'ce_mean_ignore_weight': (lambda lib, x: lib.nn.functional.cross_entropy(x, T(lib, TGT_IGN), T(lib, W5)),
                              (6, 5)),
    'ce_smoothing': (lambda lib, x: lib.nn.functional.cross_entropy(x, T(lib, TGT_IGN), T(lib, W5),
                                                                      label_smoothing=0.2), (6, 5)),
    'ce_smoothing_none': (lambda lib, x: lib.nn.functional.cross_entropy(x, T(lib, TGT), reduction='none',
                                                                           label_smoothing=0.1), (6, 5)),
    'ce_kdim': (lambda lib, x: lib.nn.functional.cross_entropy(x, T(lib, TGT_K)), (3, 5, 4, 2)),
    'ce_probs': (lambda lib, x: lib.nn.functional.cross_entropy(x, T(lib, PROB)), (6, 5)),
    'ce_probs_smooth_w': (lambda lib, x: lib.nn.functional.cross_entropy(x, T(lib, PROB), T(lib, W5),
                                                                           label_smoothing=0.3), (6, 5)),
    'ce_unbatched': (lambda lib, x: lib.nn.functional.cross_entropy(x, T(lib, np.array(3))), (5,)),
    'nll': (lambda lib, x: lib.nn.functional.nll_loss(x.log_softmax(1), T(lib, TGT_IGN), T(lib, W5)), (6, 5)),
    'l1': (lambda lib, x, y: lib.nn.functional.l1_loss(x, y), (4, 3), (4, 3)),
    'mse_mean': (lambda lib, x, y: lib.nn.functional.mse_loss(x, y), (4, 3), (4, 3)),
    'mse_sum': (lambda lib, x, y: lib.nn.functional.mse_loss(x, y, reduction='sum'), (4, 3), (4, 3)),
    'mse_0d': (lambda lib, x, y: lib.nn.functional.mse_loss(x, y), (), ()),
    'mse_weight': (lambda lib, x, y: lib.nn.functional.mse_loss(x, y, weight=y.detach().abs()), (4, 3), (4, 3)),
    'mse_weight_sum': (lambda lib, x, y: lib.nn.functional.mse_loss(x, y, weight=y.detach().abs(), reduction='sum'),
                       (4, 3), (4, 3)),
    'l1_weight': (lambda lib, x, y: lib.nn.functional.l1_loss(x, y, weight=y.detach().abs()), (4, 3), (4, 3)),
    'huber_weight': (lambda lib, x, y: lib.nn.functional.huber_loss(x, y, weight=y.detach().abs()), (4, 3), (4, 3)),
    'mse_none': (lambda lib, x, y: lib.nn.functional.mse_loss(x, y, reduction='none'), (4, 3), (4, 3)),
    'smooth_l1': (lambda lib, x, y: lib.nn.functional.smooth_l1_loss(x, y, beta=0.5), (4, 3), (4, 3)),
    'smooth_l1_beta0': (lambda lib, x, y: lib.nn.functional.smooth_l1_loss(x, y, beta=0.0), (4, 3), (4, 3)),
    'huber': (lambda lib, x, y: lib.nn.functional.huber_loss(x, y, delta=0.7), (4, 3), (4, 3)),
    'bce': (lambda lib, x: lib.nn.functional.binary_cross_entropy(x.sigmoid(), T(lib, BIN)), (6, 5)),
    'bce_weight': (lambda lib, x: lib.nn.functional.binary_cross_entropy(x.sigmoid(), T(lib, BIN), T(lib, W5)),
                   (6, 5)),
    'bce_logits': (lambda lib, x: lib.nn.functional.binary_cross_entropy_with_logits(x, T(lib, BIN)), (6, 5)),
    'bce_logits_pw': (lambda lib, x: lib.nn.functional.binary_cross_entropy_with_logits(
        x, T(lib, BIN), T(lib, W5), pos_weight=T(lib, W5[::-1].copy()), reduction='none'), (6, 5)),
    'kl_batchmean': (lambda lib, x: lib.nn.functional.kl_div(x.log_softmax(1), T(lib, PROB), reduction='batchmean'),
                     (6, 5)),
    'kl_log_target': (lambda lib, x: lib.nn.functional.kl_div(x.log_softmax(1), T(lib, np.log(PROB)),
                                                               reduction='sum', log_target=True), (6, 5)),
    'poisson': (lambda lib, x: lib.nn.functional.poisson_nll_loss(x, T(lib, BIN * 3)), (6, 5)),
    'poisson_full': (lambda lib, x: lib.nn.functional.poisson_nll_loss(x.exp(), T(lib, BIN * 3), log_input=False,
                                                                        full=True), (6, 5)),
    'gaussian': (lambda lib, x, y, v: lib.nn.functional.gaussian_nll_loss(x, y, v.abs(), full=True), (4, 3), (4, 3),
                 (4, 3)),
    'margin_ranking': (lambda lib, x, y: lib.nn.functional.margin_ranking_loss(x, y, T(lib, SIGN), margin=0.2),
                       (6,), (6,)),
    'hinge': (lambda lib, x: lib.nn.functional.hinge_embedding_loss(x, T(lib, SIGN), margin=0.5), (6,)),
    'soft_margin': (lambda lib, x: lib.nn.functional.soft_margin_loss(x, T(lib, SIGN)), (6,)),
    'multilabel_soft_margin': (lambda lib, x: lib.nn.functional.multilabel_soft_margin_loss(x, T(lib, BIN),
                                                                                            T(lib, W5)), (6, 5)),
    'cosine_embedding': (lambda lib, x, y: lib.nn.functional.cosine_embedding_loss(x, y, T(lib, SIGN), margin=0.1),
                         (6, 5), (6, 5)),
    'triplet': (lambda lib, a, p, n: lib.nn.functional.triplet_margin_loss(a, p, n, margin=2.0), (6, 5), (6, 5),
                (6, 5)),
    'triplet_swap_p1': (lambda lib, a, p, n: lib.nn.functional.triplet_margin_loss(a, p, n, p=1, swap=True),
                        (6, 5), (6, 5), (6, 5)),
    'cosine_similarity': (lambda lib, x, y: lib.nn.functional.cosine_similarity(x, y), (6, 5), (6, 5)),
    'pairwise_distance': (lambda lib, x, y: lib.nn.functional.pairwise_distance(x, y, keepdim=True), (6, 5),
                          (6, 5)),
    'normalize': (lambda lib, x: lib.nn.functional.normalize(x, dim=0), (6, 5)),
}


@pytest.mark.parametrize('name', list(CASES))
def test_values_and_gradients(name):
    fn, *shapes = CASES[name]
    check(fn, *shapes)


@pytest.mark.parametrize('name', ['ce', 'ce_mean_ignore_weight', 'ce_smoothing', 'ce_probs', 'bce_logits_pw',
                                  'smooth_l1', 'huber', 'kl_batchmean', 'triplet', 'cosine_embedding'])
def test_gradcheck(name):
    fn, *shapes = CASES[name]
    check_gradcheck(fn, *shapes, gradgrad=name in ('ce', 'smooth_l1', 'bce_logits_pw'))


def test_one_hot():
    check(lambda lib, t: lib.nn.functional.one_hot(t, 7), np.array([[0, 3], [6, 2]]), grad=False)
    check(lambda lib, t: lib.nn.functional.one_hot(t), np.array([1, 4]), grad=False)
    check_raises(lambda lib, t: lib.nn.functional.one_hot(t, 3), np.array([1, 4]))


def test_errors_match_torch():
    check_raises(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0, 1, 7])), (3, 5))
    check_raises(lambda lib, x: lib.nn.functional.nll_loss(x, lib.tensor([0, 1])), (3, 5))
    check_raises(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0.5, 1.0, 0.0])), (3, 5))
    check_raises(lambda lib, x: lib.nn.functional.binary_cross_entropy(x, x * 0), np.array([1.5, 0.2], np.float32))
    check_raises(lambda lib, x: lib.nn.functional.mse_loss(x, x, reduction='avg'), (3,))
    check_raises(lambda lib, x: lib.nn.functional.mse_loss(x, x, weight=x[:2]), (3,))
    check_raises(lambda lib, x: lib.nn.functional.l1_loss(x, x, weight=x, reduction='avg'), (3,))


MODULES = [
    lambda nn: nn.L1Loss(), lambda nn: nn.MSELoss(reduction='sum'), lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1),
    lambda nn: nn.NLLLoss(ignore_index=2), lambda nn: nn.BCELoss(), lambda nn: nn.BCEWithLogitsLoss(),
    lambda nn: nn.SmoothL1Loss(beta=0.5), lambda nn: nn.HuberLoss(delta=2.0), lambda nn: nn.KLDivLoss('batchmean'),
    lambda nn: nn.PoissonNLLLoss(), lambda nn: nn.GaussianNLLLoss(), lambda nn: nn.MarginRankingLoss(0.1),
    lambda nn: nn.CosineEmbeddingLoss(), lambda nn: nn.HingeEmbeddingLoss(), lambda nn: nn.SoftMarginLoss(),
    lambda nn: nn.MultiLabelSoftMarginLoss(), lambda nn: nn.TripletMarginLoss(), lambda nn: nn.PairwiseDistance(),
    lambda nn: nn.CosineSimilarity(),
]


@pytest.mark.parametrize('make', MODULES)
def test_modules_print_like_torch(make):
    e, t = make(ember.nn), make(torch.nn)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())


def test_cross_entropy_module_with_weight_matches():
    check(lambda lib, x: lib.nn.CrossEntropyLoss(weight=T(lib, W5), ignore_index=1)(x, T(lib, TGT)), (6, 5))


# ---- the fused cross entropy over large vocabularies ---------------------------------------------------

V = 1000
TGT_V = rng.integers(0, V, (12,))
TGT_V_IGN = np.where(np.arange(12) % 4 == 1, -100, TGT_V)
TGT_V_IGN7 = np.where(np.arange(12) % 5 == 0, 7, TGT_V)
W_V = rng.uniform(0.2, 2.0, (V,)).astype(np.float32)
NEG_INF = rng.uniform(-2, 2, (4, 9)).astype(np.float32)
NEG_INF[:, ::3] = -np.inf  # masked classes (never targets)
F = 'nn.functional.cross_entropy'


def ce(lib, x, t, **kw):
    return lib.nn.functional.cross_entropy(x, T(lib, t), **{k: T(lib, v) if isinstance(v, np.ndarray) else v
                                                             for k, v in kw.items()})


CE_CASES = {
    'mean': (lambda lib, x: ce(lib, x, TGT_V), (12, V)),
    'sum_weight': (lambda lib, x: ce(lib, x, TGT_V, weight=W_V, reduction='sum'), (12, V)),
    'none_ignore_index': (lambda lib, x: ce(lib, x, TGT_V_IGN7, ignore_index=7, reduction='none'), (12, V)),
    'mean_ignore_weight': (lambda lib, x: ce(lib, x, TGT_V_IGN, weight=W_V), (12, V)),
    'smooth_mean': (lambda lib, x: ce(lib, x, TGT_V_IGN, label_smoothing=0.1), (12, V)),
    'smooth_weight_mean': (lambda lib, x: ce(lib, x, TGT_V_IGN, weight=W_V, label_smoothing=0.25), (12, V)),
    'smooth_weight_sum': (lambda lib, x: ce(lib, x, TGT_V_IGN, weight=W_V, label_smoothing=0.4, reduction='sum'),
                          (12, V)),
    'smooth_none': (lambda lib, x: ce(lib, x, TGT_V_IGN, label_smoothing=1.0, reduction='none'), (12, V)),
    'transposed': (lambda lib, x: ce(lib, x.t(), TGT_V_IGN, weight=W_V), (V, 12)),
    'strided': (lambda lib, x: ce(lib, x[:, ::2], TGT_V, label_smoothing=0.2), (12, 2 * V)),
    'uint8_target': (lambda lib, x: ce(lib, x, np.array([3, 0, 255, 9], np.uint8)), (4, 256)),
    'unbatched': (lambda lib, x: ce(lib, x, np.array(5), weight=W_V, label_smoothing=0.3), (V,)),
    'unbatched_none': (lambda lib, x: ce(lib, x, np.array(5), reduction='none'), (V,)),
    'all_ignored_mean': (lambda lib, x: ce(lib, x, np.full(3, -100)), (3, 5)),
    'all_ignored_smooth': (lambda lib, x: ce(lib, x, np.full(3, -100), label_smoothing=0.2), (3, 5)),
    'zero_weights': (lambda lib, x: ce(lib, x, TGT[:3], weight=np.zeros(5, np.float32)), (3, 5)),
    'empty_batch': (lambda lib, x: ce(lib, x, np.zeros(0, np.int64)), (0, 5)),
    'empty_batch_sum': (lambda lib, x: ce(lib, x, np.zeros(0, np.int64), reduction='sum'), (0, 5)),
    'neg_inf_logits': (lambda lib, x: ce(lib, x, np.array([1, 2, 4, 8]), label_smoothing=0.0), NEG_INF),
    'nll_all_ignored': (lambda lib, x: lib.nn.functional.nll_loss(x, T(lib, np.full(3, -100))), (3, 5)),
    'nll_none_unbatched': (lambda lib, x: lib.nn.functional.nll_loss(x, T(lib, np.array(2)), reduction='none'),
                           (5,)),
}


@pytest.mark.parametrize('name', list(CE_CASES))
def test_cross_entropy_fused(name):
    fn, *shapes = CE_CASES[name]
    check(fn, *shapes)


@pytest.mark.parametrize('kw', [dict(weight=W_V.astype(np.float64)), dict(reduction='none', label_smoothing=0.5),
                                dict(weight=W_V.astype(np.float64), label_smoothing=0.2, reduction='sum')])
def test_cross_entropy_fused_float64(kw):
    check(lambda lib, x: ce(lib, x, TGT_V_IGN, **kw), (12, V), dtype=np.float64)


@pytest.mark.parametrize('kw', [dict(), dict(weight=W5, label_smoothing=0.3), dict(reduction='none'),
                                dict(weight=W5, reduction='sum', label_smoothing=0.5)])
def test_cross_entropy_fused_double_backward(kw):
    check_gradcheck(lambda lib, x: ce(lib, x, TGT_IGN, **kw), (6, 5))


def test_cross_entropy_backward_twice_with_retain_graph():
    for lib in (ember, torch):
        x = lib.tensor(np.random.default_rng(3).standard_normal((6, 5)).astype(np.float32), requires_grad=True)
        loss = ce(lib, x * 1, TGT_IGN, weight=W5, label_smoothing=0.1)
        loss.backward(retain_graph=True)
        first = x.grad.clone()
        loss.backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * first.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match='backward through the graph a second time'):
        x = ember.randn(3, 5, requires_grad=True)
        loss = ce(ember, x, TGT[:3])
        loss.backward()
        loss.backward()


def test_cross_entropy_logits_modified_after_forward():
    for lib in (ember, torch):  # the loss keeps what it needs: no in-place check on the logits
        x = lib.tensor(np.ones((2, 4), np.float32), requires_grad=True)
        y = x * 2
        loss = ce(lib, y, np.array([0, 3]))
        with lib.no_grad():
            y.add_(1)
        loss.backward()
        np.testing.assert_allclose(x.grad.numpy(), np.array([[-0.75, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, -0.75]])
                                   * 2 / 2, rtol=1e-6)


@pytest.mark.parametrize('fn', [
    lambda lib, x: ce(lib, x, np.array([0, 1, 2], np.int32)),
    lambda lib, x: ce(lib, x, np.array([0, 1])),
    lambda lib, x: ce(lib, x, np.array(1)),
    lambda lib, x: ce(lib, x, np.array([0, 1, V])),
    lambda lib, x: ce(lib, x, np.array([0, -1, 2])),
    lambda lib, x: ce(lib, x, np.array([0, 1, 2]), weight=np.ones(3, np.float32)),
    lambda lib, x: ce(lib, x, np.array([0, 1, 2]), reduction='avg'),
    lambda lib, x: ce(lib, x, np.array([0, 1, 2]), label_smoothing=1.5),
    lambda lib, x: lib.nn.functional.nll_loss(x, T(lib, np.array([0, 1, 2], np.int16))),
])
def test_cross_entropy_fused_errors(fn):
    check_raises(fn, (3, V))


@pytest.mark.filterwarnings('ignore:Using a target size')
@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_mse_loss_is_one_node_like_torch(reduction):
    out = check(lambda lib, x, y: lib.nn.functional.mse_loss(x, y, reduction=reduction), (4, 3), (3,))
    assert type(out[0].grad_fn).__name__ == type(out[1].grad_fn).__name__ == 'MseLossBackward0'
    check(lambda lib, x, y: lib.nn.functional.mse_loss(x, y.detach(), reduction=reduction), (0, 3), (0, 3))
    check_gradcheck(lambda lib, x, y: lib.nn.functional.mse_loss(x, y, reduction=reduction), (4, 3), (3,))
