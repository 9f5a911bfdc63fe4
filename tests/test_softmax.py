"""softmax and log_softmax against PyTorch: values, stability, dtypes, gradients, double backward."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_gradcheck, check_raises

F = np.float32
inf = float('inf')

EXTREME = np.array([[1000., 1001., -1000.], [-inf, 0., 1.], [-50., -50., -50.]], F)
ALL_NEG_INF = np.array([[-inf, -inf], [inf, 1.]], F)

CASES = [
    (lambda lib, x: (x.softmax(1), x.log_softmax(1)), (3, 5)),
    (lambda lib, x: (lib.softmax(x, 0), lib.log_softmax(x, 0)), (3, 5)),
    (lambda lib, x: (x.softmax(-1), x.log_softmax(1), x.softmax(0)), (2, 3, 4)),
    (lambda lib, x: (x.t().softmax(1), x.t().log_softmax(0)), (3, 5)),
    (lambda lib, x: (x[:, ::2].softmax(1), x[:, ::2].log_softmax(1)), (3, 8)),
    (lambda lib, x: (x.softmax(1, dtype=lib.float64), lib.log_softmax(x, 1, dtype=lib.float64)), (3, 5)),
    (lambda lib, x: (x.softmax(0), x.log_softmax(-1)), ()),
    (lambda lib, x: (x.softmax(1), x.log_softmax(0)), (0, 3)),
    (lambda lib, x: (x.softmax(1), x.log_softmax(1)), EXTREME),
    (lambda lib, x: (x.softmax(1), x.log_softmax(1)), ALL_NEG_INF),
    (lambda lib, x: (x.softmax(1), x.log_softmax(1)), (4, 1)),
]


@pytest.mark.parametrize('fn,specs', [(c[0], c[1:]) for c in CASES])
def test_values_and_grads(fn, specs):
    check(fn, *specs)


@pytest.mark.parametrize('dtype', [np.float16, np.float64])
def test_float_dtypes(dtype):
    check(lambda lib, x: (x.softmax(1), x.log_softmax(0)), (4, 6), dtype=dtype)


@pytest.mark.parametrize('dtype', [np.int32, np.int64, np.uint8, np.bool_])
def test_integer_input(dtype):
    x = np.random.default_rng(0).integers(0, 2, (2, 3)).astype(dtype)
    check(lambda lib, x: (x.softmax(1, dtype=lib.float32), x.log_softmax(0, lib.float64)), x)
    check_raises(lambda lib, x: x.softmax(1), x, match='softmax_lastdim_kernel_impl')
    check_raises(lambda lib, x: lib.log_softmax(x, 0), x, match='log_softmax_kernel_impl')


@pytest.mark.parametrize('fn,match', [
    (lambda lib, x: x.softmax(2), 'Dimension out of range'),
    (lambda lib, x: x.log_softmax(-3), 'Dimension out of range'),
    (lambda lib, x: x.softmax(), None),
])
def test_errors(fn, match):
    check_raises(fn, (2, 3), match=match)


def test_rows_sum_to_one_and_grad_fn_names():
    x = ember.randn(4, 7, requires_grad=True)
    y = x.softmax(1)
    np.testing.assert_allclose(y.sum(1).detach().numpy(), np.ones(4), rtol=1e-6)
    assert y.grad_fn.name() == 'SoftmaxBackward0'
    assert x.log_softmax(0).grad_fn.name() == 'LogSoftmaxBackward0'


@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
def test_double_backward_vs_torch(name):
    data = np.random.default_rng(1).standard_normal((3, 4))
    results = []
    for lib in (ember, torch):
        x = lib.tensor(data, requires_grad=True)
        y = getattr(x, name)(1)
        w = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4))
        g, = lib.autograd.grad((y * w).sum(), x, create_graph=True)
        gg, = lib.autograd.grad((g * g.sin()).sum(), x)
        results.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('fn', [
    lambda lib, x: x.softmax(1),
    lambda lib, x: x.log_softmax(0),
    lambda lib, x: x.softmax(-1, dtype=lib.float64),
])
def test_gradcheck(fn):
    check_gradcheck(fn, (3, 4))


@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
def test_result_is_contiguous(name):
    a = np.random.default_rng(0).standard_normal((3, 4, 2))
    e = getattr(ember.tensor(a).transpose(0, 2), name)(1)
    t = getattr(torch.tensor(a).transpose(0, 2), name)(1)
    assert e.stride() == t.stride() and e.is_contiguous()
