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
    'mse_sum': (lambda lib, x, y: lib.nn.functional.mse_loss(x, y, reduction='sum'), (4, 3), (4, 3)),
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
