"""Activations (functional and modules) against PyTorch: values, gradients, gradcheck, printing."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_gradcheck, check_raises

F_CASES = {
    'relu6': lambda lib, x: lib.nn.functional.relu6(x),
    'hardtanh': lambda lib, x: lib.nn.functional.hardtanh(x, -0.5, 1.2),
    'leaky_relu': lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2),
    'elu': lambda lib, x: lib.nn.functional.elu(x, 0.7),
    'selu': lambda lib, x: lib.nn.functional.selu(x),
    'celu': lambda lib, x: lib.nn.functional.celu(x, 1.3),
    'gelu': lambda lib, x: lib.nn.functional.gelu(x),
    'gelu_tanh': lambda lib, x: lib.nn.functional.gelu(x, approximate='tanh'),
    'silu': lambda lib, x: lib.nn.functional.silu(x),
    'mish': lambda lib, x: lib.nn.functional.mish(x),
    'hardsigmoid': lambda lib, x: lib.nn.functional.hardsigmoid(x),
    'hardswish': lambda lib, x: lib.nn.functional.hardswish(x),
    'softplus': lambda lib, x: lib.nn.functional.softplus(x, beta=2, threshold=3),
    'softsign': lambda lib, x: lib.nn.functional.softsign(x),
    'threshold': lambda lib, x: lib.nn.functional.threshold(x, 0.3, -2.0),
    'tanhshrink': lambda lib, x: lib.nn.functional.tanhshrink(x),
    'logsigmoid': lambda lib, x: lib.nn.functional.logsigmoid(x),
    'softshrink': lambda lib, x: lib.nn.functional.softshrink(x, 0.4),
    'hardshrink': lambda lib, x: lib.nn.functional.hardshrink(x, 0.4),
    'glu': lambda lib, x: lib.nn.functional.glu(x, 0),
    'softmin': lambda lib, x: lib.nn.functional.softmin(x, 1),
    'prelu': lambda lib, x: lib.nn.functional.prelu(x, lib.tensor([0.1, -0.2, 0.3, 0.5, 0.25])),
    'rrelu_eval': lambda lib, x: lib.nn.functional.rrelu(x),
    'sigmoid': lambda lib, x: lib.nn.functional.sigmoid(x),
    'tanh': lambda lib, x: lib.nn.functional.tanh(x),
}


@pytest.mark.parametrize('name', list(F_CASES))
def test_values_and_gradients(name):
    check(F_CASES[name], (4, 5), low=-5, high=5)


@pytest.mark.parametrize('name', ['relu6', 'leaky_relu', 'elu', 'gelu', 'hardswish', 'threshold', 'softplus'])
def test_non_contiguous_0d_and_empty(name):
    check(lambda lib, x: F_CASES[name](lib, x.t()), (5, 4), low=-5, high=5)
    check(F_CASES[name], np.array(0.7, np.float32))
    check(F_CASES[name], np.zeros((0, 3), np.float32))


def test_boundaries_follow_torch_subgradients():
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 0.4, -0.4], np.float32)
    for name in ('relu6', 'hardtanh', 'hardsigmoid', 'hardswish', 'leaky_relu', 'elu', 'threshold',
                 'softshrink', 'hardshrink', 'celu'):
        check(F_CASES[name], x)


@pytest.mark.parametrize('name', [n for n in F_CASES if n not in ('rrelu_eval', 'prelu', 'glu', 'threshold',
                                                                  'hardshrink', 'softshrink')])
def test_gradcheck(name):
    # Inputs kept away from the kinks, where finite differences are meaningless.
    rng = np.random.default_rng(3)
    x = rng.uniform(0.2, 2.5, (3, 4)) * rng.choice([-1, 1], (3, 4))
    check_gradcheck(F_CASES[name], x.astype(np.float64))


def test_inplace_forms_match():
    for name, kw in (('relu', {}), ('leaky_relu', {'negative_slope': 0.3}), ('elu', {}), ('hardtanh', {}),
                     ('silu', {}), ('hardswish', {})):
        check(lambda lib, x: getattr(lib.nn.functional, name)(x * 1, inplace=True, **kw), (3, 4), low=-4, high=4)


MODULES = [
    lambda nn: nn.ReLU(), lambda nn: nn.ReLU(inplace=True), lambda nn: nn.ReLU6(), lambda nn: nn.LeakyReLU(0.2),
    lambda nn: nn.PReLU(5, 0.1), lambda nn: nn.ELU(), lambda nn: nn.CELU(0.5), lambda nn: nn.SELU(),
    lambda nn: nn.GELU(), lambda nn: nn.GELU('tanh'), lambda nn: nn.SiLU(), lambda nn: nn.Mish(),
    lambda nn: nn.Sigmoid(), lambda nn: nn.Tanh(), lambda nn: nn.Hardtanh(-2, 2), lambda nn: nn.Hardsigmoid(),
    lambda nn: nn.Hardswish(), lambda nn: nn.Softplus(2, 10), lambda nn: nn.Softsign(), lambda nn: nn.Softmax(1),
    lambda nn: nn.LogSoftmax(1), lambda nn: nn.Softmin(1), lambda nn: nn.Threshold(0.1, 20), lambda nn: nn.Tanhshrink(),
    lambda nn: nn.GLU(), lambda nn: nn.LogSigmoid(), lambda nn: nn.Softshrink(), lambda nn: nn.Hardshrink(),
    lambda nn: nn.RReLU().eval(), lambda nn: nn.Softmax2d(),
]


@pytest.mark.parametrize('make', MODULES)
def test_modules_print_and_compute_like_torch(make):
    e, t = make(ember.nn), make(torch.nn)
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    check(lambda lib, x: (make(lib.nn) if lib is ember else t)(x * 1), (2, 5, 3, 4), low=-4, high=4)


def test_rrelu_training_slopes_in_range():
    x = -ember.ones(1000)
    y = ember.nn.functional.rrelu(x, 0.1, 0.3, training=True)
    assert float(y.max()) <= -0.1 + 1e-6 and float(y.min()) >= -0.3 - 1e-6


def test_errors_match_torch():
    check_raises(lambda lib, x: lib.nn.functional.glu(x, 1), (2, 3))
    check_raises(lambda lib, x: lib.nn.functional.gelu(x, approximate='bad'), (2, 3))
    check_raises(lambda lib, x: lib.nn.functional.prelu(x, lib.ones(4)), (2, 3))
