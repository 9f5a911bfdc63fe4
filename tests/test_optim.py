"""Optimizers: 50 steps on the same model, data and initial weights end where PyTorch's do."""
import numpy as np
import pytest
import torch

import ember


def _model(lib, seed=0):
    rng = np.random.default_rng(seed)
    w1 = rng.uniform(-0.5, 0.5, (8, 5)).astype(np.float32)
    b1 = rng.uniform(-0.5, 0.5, (8,)).astype(np.float32)
    w2 = rng.uniform(-0.5, 0.5, (1, 8)).astype(np.float32)
    params = [lib.nn.Parameter(lib.tensor(a)) for a in (w1, b1, w2)]
    return params


def _loss(lib, params, x, y):
    w1, b1, w2 = params
    h = (x @ w1.t() + b1).tanh()
    return ((h @ w2.t() - y) ** 2).mean()


def _train(lib, make_opt, steps=50, closure=False):
    rng = np.random.default_rng(1)
    x = lib.tensor(rng.standard_normal((16, 5)).astype(np.float32))
    y = lib.tensor(rng.standard_normal((16, 1)).astype(np.float32))
    params = _model(lib)
    opt = make_opt(lib, params)
    losses = []
    for _ in range(steps):
        def fn():
            opt.zero_grad()
            loss = _loss(lib, params, x, y)
            loss.backward()
            return loss
        if closure:
            losses.append(float(opt.step(fn)))
        else:
            losses.append(float(fn()))
            opt.step()
    return params, losses, opt


CASES = {
    'sgd': lambda lib, p: lib.optim.SGD(p, lr=0.1),
    'sgd_momentum': lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9),
    'sgd_dampening_wd': lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01),
    'sgd_nesterov': lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    'sgd_maximize': lambda lib, p: lib.optim.SGD(p, lr=0.01, momentum=0.5, maximize=True),
    'adam': lambda lib, p: lib.optim.Adam(p, lr=0.01),
    'adam_amsgrad_wd': lambda lib, p: lib.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.1),
    'adam_maximize': lambda lib, p: lib.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, maximize=True),
    'adamw': lambda lib, p: lib.optim.AdamW(p, lr=0.01),
    'adamw_amsgrad': lambda lib, p: lib.optim.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True),
    'param_groups': lambda lib, p: lib.optim.SGD([{'params': p[:2]}, {'params': p[2:], 'lr': 0.01}], lr=0.1,
                                                 momentum=0.5),
}


@pytest.mark.parametrize('name', list(CASES))
def test_matches_torch_after_50_steps(name):
    pe, le, _ = _train(ember, CASES[name])
    pt, lt, _ = _train(torch, CASES[name])
    np.testing.assert_allclose(le, lt, rtol=1e-4, atol=1e-6)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_closure_returns_loss():
    _, le, _ = _train(ember, CASES['adam'], steps=5, closure=True)
    _, lt, _ = _train(torch, CASES['adam'], steps=5, closure=True)
    np.testing.assert_allclose(le, lt, rtol=1e-5)


@pytest.mark.parametrize('name', ['sgd_momentum', 'adam_amsgrad_wd', 'adamw', 'param_groups'])
def test_state_dict_layout_matches_torch(name):
    _, _, oe = _train(ember, CASES[name], steps=3)
    _, _, ot = _train(torch, CASES[name], steps=3)
    se, st = oe.state_dict(), ot.state_dict()
    assert se['param_groups'] == st['param_groups']
    assert list(se['state']) == list(st['state'])
    for k in st['state']:
        assert list(se['state'][k]) == list(st['state'][k])
        for key, v in st['state'][k].items():
            assert se['state'][k][key].dtype.name == str(v.dtype).split('.')[-1]
            np.testing.assert_allclose(se['state'][k][key].numpy(), v.numpy(), rtol=1e-5, atol=1e-7)


def test_resume_from_state_dict_continues_identically():
    _, _, reference = _train(ember, CASES['adam'], steps=6)
    params = _model(ember)
    opt = CASES['adam'](ember, params)
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((16, 5)).astype(np.float32))
    y = ember.tensor(rng.standard_normal((16, 1)).astype(np.float32))
    for step in range(6):
        if step == 3:
            saved = opt.state_dict()
            opt = CASES['adam'](ember, params)
            opt.load_state_dict(saved)
        opt.zero_grad()
        _loss(ember, params, x, y).backward()
        opt.step()
    ref_params = reference.param_groups[0]['params']
    for a, b in zip(params, ref_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize('make', [
    lambda lib, p: lib.optim.SGD(p, lr=-1),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, nesterov=True),
    lambda lib, p: lib.optim.Adam(p, betas=(1.0, 0.9)),
    lambda lib, p: lib.optim.Adam(p, eps=-1),
    lambda lib, p: lib.optim.SGD([], lr=0.1),
    lambda lib, p: lib.optim.SGD([{'params': p}, {'params': p[:1]}], lr=0.1),
])
def test_bad_hyper_parameters_raise_like_torch(make):
    for lib in (ember, torch):
        with pytest.raises(ValueError):
            make(lib, _model(lib))


def test_non_leaf_and_non_tensor_params_rejected():
    for lib in (ember, torch):
        p = lib.ones(2, requires_grad=True)
        with pytest.raises(ValueError, match="non-leaf"):
            lib.optim.SGD([p * 2], lr=0.1)
        with pytest.raises(TypeError):
            lib.optim.SGD([1.0], lr=0.1)
