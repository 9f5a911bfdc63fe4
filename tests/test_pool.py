"""Pooling against PyTorch: max/avg/adaptive/lp pooling and max_unpool in 1-3 dims — values,
indices, gradients (first max on ties), ceil_mode edge cases, double backward, errors."""
import types

import numpy as np
import pytest
import torch

import ember
from ember.ops import pool as _pool
from oracle import check, check_gradcheck, check_raises

EF = types.SimpleNamespace(**{n: getattr(_pool, n) for n in dir(_pool) if not n.startswith('_')})


def F(lib):
    return EF if lib is ember else torch.nn.functional


# input, kernel, stride, padding, dilation, ceil_mode
MAX2D = [
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((2, 3, 9, 7), 2, None, 0, 1, True),
    ((2, 3, 9, 8), 3, 2, 1, 1, False),
    ((2, 3, 9, 8), 3, 2, 1, 1, True),
    ((1, 2, 10, 9), (3, 2), (2, 1), (1, 0), (2, 1), True),
    ((2, 2, 6, 6), 3, 3, 1, 1, True),      # ceil_mode: the last window would start in the padding, dropped
    ((2, 2, 5, 5), 2, 2, 1, 1, True),
    ((1, 1, 4, 4), 4, 1, 2, 1, False),
    ((3, 4, 7, 7), 3, 1, 1, 1, False),     # overlapping windows: gradients add up
    ((2, 2, 11, 11), 2, 3, 0, 3, True),
    ((2, 3, 32, 32), 2, 2, 0, 1, False),   # CIFAR CNN
]


@pytest.mark.parametrize('xs,k,s,p,d,ceil', MAX2D)
def test_max_pool2d(xs, k, s, p, d, ceil):
    check(lambda lib, x: F(lib).max_pool2d(x, k, s, p, d, ceil, return_indices=True), xs)
    check(lambda lib, x: F(lib).max_pool2d(x, k, s, p, d, ceil), xs, dtype=np.float64)


@pytest.mark.parametrize('xs,k,s,p,d,ceil', [
    ((2, 3, 9), 2, None, 0, 1, False),
    ((2, 3, 10), 3, 2, 1, 1, True),
    ((1, 2, 11), 3, 2, 1, 2, True),
    ((3, 8), 4, 3, 2, 1, True),
])
def test_max_pool1d(xs, k, s, p, d, ceil):
    check(lambda lib, x: F(lib).max_pool1d(x, k, s, p, d, ceil, return_indices=True), xs)


@pytest.mark.parametrize('xs,k,s,p,d,ceil', [
    ((2, 2, 4, 5, 6), 2, None, 0, 1, False),
    ((1, 2, 5, 5, 5), 3, 2, 1, 1, True),
    ((2, 3, 4, 5), (2, 3, 2), (1, 2, 2), (1, 1, 0), (1, 1, 2), False),
])
def test_max_pool3d(xs, k, s, p, d, ceil):
    check(lambda lib, x: F(lib).max_pool3d(x, k, s, p, d, ceil, return_indices=True), xs)


def test_max_pool_ties_and_nan():
    """The gradient goes to the first maximum (ties from repeated values), and NaN wins."""
    x = np.array([[[[1., 1., 2., 2.], [1., 1., 2., 2.], [0., 3., 3., 0.], [3., 3., 0., 0.]]]], np.float32)
    check(lambda lib, x: F(lib).max_pool2d(x, 2, return_indices=True), x)
    check(lambda lib, x: F(lib).max_pool2d(x, 3, 1, 1, return_indices=True), x)
    y = x.copy()
    y[0, 0, 1, 1] = np.nan
    y[0, 0, 3, 2] = np.nan
    check(lambda lib, x: F(lib).max_pool2d(x, 2, return_indices=True), y)
    check(lambda lib, x: F(lib).max_pool2d(x, 3, 1, 1, return_indices=True), y)


def test_max_pool_inf_gradient_and_integers():
    check(lambda lib, x: F(lib).max_pool2d(x, 2) * float('inf'), (1, 2, 4, 4), grad=False)
    x = np.arange(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) % 11
    for dt in (np.int64, np.int32, np.uint8, np.int16, np.int8):
        check(lambda lib, x: F(lib).max_pool2d(x, 2, 2, 1, return_indices=True), x.astype(dt))


def test_max_pool_non_contiguous_and_names():
    check(lambda lib, x: F(lib).max_pool2d(x.transpose(2, 3), 2), (2, 3, 8, 6))
    check(lambda lib, x: F(lib).max_pool2d(x[:, :, ::2], 3, 2, 1), (2, 3, 13, 7))
    x = ember.ones(1, 1, 4, 4, requires_grad=True)
    assert type(EF.max_pool2d(x, 2).grad_fn).__name__ == 'MaxPool2DWithIndicesBackward0'
    assert type(EF.avg_pool2d(x, 2).grad_fn).__name__ == 'AvgPool2DBackward0'
    assert type(EF.adaptive_avg_pool2d(x, 3).grad_fn).__name__ == 'AdaptiveAvgPool2DBackward0'
    assert ember.max_pool2d is _pool.max_pool2d and ember.avg_pool1d is _pool.avg_pool1d
    v, i = ember.adaptive_max_pool1d(ember.ones(1, 2, 5), 2)  # torch.adaptive_max_pool1d returns both
    assert tuple(i.shape) == (1, 2, 2)


# input, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
AVG2D = [
    ((2, 3, 8, 8), 2, None, 0, False, True, None),
    ((2, 3, 9, 8), 3, 2, 1, False, True, None),
    ((2, 3, 9, 8), 3, 2, 1, False, False, None),
    ((2, 3, 9, 8), 3, 2, 1, True, True, None),
    ((2, 3, 9, 8), 3, 2, 1, True, False, None),
    ((2, 2, 6, 6), 3, 3, 1, True, True, None),
    ((2, 2, 5, 7), (2, 3), (1, 2), (1, 1), True, False, None),
    ((2, 3, 8, 8), 2, 2, 1, False, True, 3),
    ((2, 3, 7, 7), 3, 1, 1, False, False, 5),
    ((2, 3, 8, 8), 8, None, 0, False, True, None),   # a large window takes the reshape path
    ((2, 3, 13, 10), 5, None, 0, False, True, None),
    ((3, 9, 9), 2, None, 1, True, False, None),       # unbatched
]


@pytest.mark.parametrize('xs,k,s,p,ceil,cip,div', AVG2D)
def test_avg_pool2d(xs, k, s, p, ceil, cip, div):
    check(lambda lib, x: F(lib).avg_pool2d(x, k, s, p, ceil, cip, div), xs)


@pytest.mark.parametrize('xs,k,s,p,ceil,cip', [
    ((2, 3, 9), 2, None, 0, False, True),
    ((2, 3, 10), 3, 2, 1, True, False),
    ((2, 3, 10), 4, 3, 2, True, True),
    ((3, 7), 3, 1, 1, False, False),
])
def test_avg_pool1d(xs, k, s, p, ceil, cip):
    check(lambda lib, x: F(lib).avg_pool1d(x, k, s, p, ceil, cip), xs)


@pytest.mark.parametrize('xs,k,s,p,ceil,cip,div', [
    ((2, 2, 4, 5, 6), 2, None, 0, False, True, None),
    ((1, 2, 5, 5, 5), 3, 2, 1, True, False, None),
    ((2, 2, 4, 4, 4), 2, 1, 1, False, True, 4),
])
def test_avg_pool3d(xs, k, s, p, ceil, cip, div):
    check(lambda lib, x: F(lib).avg_pool3d(x, k, s, p, ceil, cip, div), xs)


def test_avg_pool_integers():
    x = np.array([[[1, 2, 4, 5, -3, -4, 7]]], np.int64)
    check(lambda lib, x: F(lib).avg_pool1d(x, 2), x)
    check(lambda lib, x: F(lib).avg_pool1d(x, 3, 2, 1, True, True), x)
    check(lambda lib, x: F(lib).avg_pool2d(x, 2, 1, 1, False, False), np.arange(-8, 17).reshape(1, 1, 5, 5))
    check_raises(lambda lib, x: F(lib).avg_pool2d(x, 2), np.ones((1, 1, 4, 4), np.int32), match='not implemented')


@pytest.mark.parametrize('xs,out', [
    ((2, 3, 8, 8), 4), ((2, 3, 8, 7), (3, 2)), ((2, 3, 7, 9), 1), ((2, 3, 5, 5), (7, 8)),
    ((3, 6, 10), (None, 4)),
])
def test_adaptive_avg_pool2d(xs, out):
    check(lambda lib, x: F(lib).adaptive_avg_pool2d(x, out), xs)


@pytest.mark.parametrize('xs,out', [
    ((2, 3, 8, 8), 4), ((2, 3, 8, 7), (3, 2)), ((2, 3, 7, 9), 1), ((2, 3, 5, 5), (7, 8)), ((3, 6, 10), (2, None)),
])
def test_adaptive_max_pool2d(xs, out):
    check(lambda lib, x: F(lib).adaptive_max_pool2d(x, out, True), xs)


def test_adaptive_1d_3d():
    check(lambda lib, x: F(lib).adaptive_avg_pool2d(x, (0, 2)), (2, 3, 6, 6), grad=False)
    check(lambda lib, x: F(lib).adaptive_avg_pool1d(x, 4), (2, 3, 10))
    check(lambda lib, x: F(lib).adaptive_avg_pool1d(x, 5), (3, 10))
    check(lambda lib, x: F(lib).adaptive_max_pool1d(x, 3, True), (2, 3, 10))
    check(lambda lib, x: F(lib).adaptive_max_pool1d(x, 5, True), (2, 3, 10))
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x, (2, 3, 2)), (2, 3, 5, 7, 4))
    check(lambda lib, x: F(lib).adaptive_avg_pool3d(x, 2), (2, 3, 4, 4, 4))
    check(lambda lib, x: F(lib).adaptive_max_pool3d(x, (2, 3, 1), True), (2, 3, 5, 7, 4))
    check(lambda lib, x: F(lib).adaptive_max_pool3d(x, 2, True), (1, 4, 4, 4))


@pytest.mark.parametrize('nd,xs,k,s,p,default_ok', [
    (2, (2, 3, 9, 8), 2, None, 0, True),
    (2, (2, 3, 9, 8), 3, 2, 1, False),
    (1, (2, 3, 9), 2, None, 0, True),
    (3, (1, 2, 4, 5, 4), 2, None, 0, False),
])
def test_max_unpool(nd, xs, k, s, p, default_ok):
    def fn(lib, x):
        y, i = getattr(F(lib), f'max_pool{nd}d')(x, k, s, p, return_indices=True)
        return getattr(F(lib), f'max_unpool{nd}d')(y * 2, i, k, s, p, output_size=x.shape[2:])
    check(fn, xs)

    def default_size(lib, x):
        y, i = getattr(F(lib), f'max_pool{nd}d')(x, k, s, p, return_indices=True)
        return getattr(F(lib), f'max_unpool{nd}d')(y, i, k, s, p)
    if default_ok:
        check(default_size, xs)
    else:  # indices past the default output size
        check_raises(default_size, xs, match='Found an invalid max index')


@pytest.mark.parametrize('nd,xs,pn,k,s,ceil', [
    (2, (2, 3, 8, 7), 2, 3, 2, True),
    (2, (2, 3, 8, 8), 3, 2, None, False),
    (1, (2, 3, 9), 2, 3, 2, False),
    (3, (1, 2, 4, 4, 4), 2, 2, None, False),
])
def test_lp_pool(nd, xs, pn, k, s, ceil):
    check(lambda lib, x: getattr(F(lib), f'lp_pool{nd}d')(x, pn, k, s, ceil), xs, low=0.1, high=2.0)


@pytest.mark.parametrize('fn,xs', [
    (lambda x: EF.max_pool2d(x, 3, 2, 1, 1, True), (1, 2, 6, 5)),
    (lambda x: EF.max_pool1d(x, 2, 1, 1, 2), (1, 2, 6)),
    (lambda x: EF.max_pool3d(x, 2), (1, 1, 4, 2, 4)),
    (lambda x: EF.avg_pool2d(x, 3, 2, 1, True, False), (1, 2, 6, 5)),
    (lambda x: EF.avg_pool2d(x, 2, 1, 1, False, True, 3), (1, 2, 4, 4)),
    (lambda x: EF.avg_pool3d(x, 2, 1, 1), (1, 1, 3, 2, 3)),
    (lambda x: EF.adaptive_avg_pool2d(x, (3, 2)), (1, 2, 5, 5)),
    (lambda x: EF.adaptive_avg_pool1d(x, 2), (1, 2, 6)),
    (lambda x: EF.adaptive_max_pool2d(x, (3, 2)), (1, 2, 5, 5)),
    (lambda x: EF.adaptive_max_pool2d(x, 2), (1, 2, 4, 4)),
    (lambda x: EF.max_unpool2d(*EF.max_pool2d(x, 2, return_indices=True), 2), (1, 2, 4, 4)),
    (lambda x: EF.lp_pool2d(x, 2, 2), (1, 2, 4, 4)),
])
def test_gradcheck(fn, xs):
    check_gradcheck(lambda lib, x: fn(x), xs, low=0.5, high=2.0)


def test_double_backward_matches_torch():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 3, 7, 6))
    res = {}
    for lib in (ember, torch):
        f = F(lib)
        x = lib.tensor(a.copy(), requires_grad=True)
        y = (f.max_pool2d(x, 3, 2, 1) * 2).sum() + (f.avg_pool2d(x * x, 2, 1, 1) ** 2).sum() + \
            (f.adaptive_avg_pool2d(x, (4, 3)) ** 3).sum() + (f.adaptive_max_pool2d(x.sin(), (3, 4)) ** 2).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        res[lib.__name__] = (g.detach().numpy(), gg.numpy())
    for e, t in zip(res['ember'], res['torch']):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-9)


def test_second_backward_raises():
    x = ember.ones(1, 1, 4, 4, requires_grad=True)
    y = EF.max_pool2d(x, 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match='second time'):
        y.backward()


@pytest.mark.parametrize('fn,specs,match', [
    (lambda lib, x: F(lib).max_pool2d(x, 2, padding=2), ((1, 3, 5, 5),),
     'pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1'),
    (lambda lib, x: F(lib).avg_pool2d(x, 2, padding=2), ((1, 3, 5, 5),), 'pad should be at most half'),
    (lambda lib, x: F(lib).max_pool2d(x, 3), ((1, 3, 2, 2),),
     r'Given input size: \(3x2x2\). Calculated output size: \(3x0x0\). Output size is too small'),
    (lambda lib, x: F(lib).max_pool2d(x, 2), ((5, 5),), 'tensor expected for input'),
    (lambda lib, x: F(lib).max_pool1d(x, 2), ((5,),), 'Expected 2D or 3D'),
    (lambda lib, x: F(lib).max_pool2d(x, 2, stride=0), ((1, 3, 5, 5),), 'stride should not be zero'),
    (lambda lib, x: F(lib).max_pool2d(x, 2, dilation=0), ((1, 3, 5, 5),), 'dilation should be greater than zero'),
    (lambda lib, x: F(lib).max_pool2d(x > 0, 2), ((1, 3, 4, 4),), '"max_pool2d" not implemented for \'Bool\''),
    (lambda lib, x: F(lib).avg_pool2d(x, 2, divisor_override=0), ((1, 3, 4, 4),), 'divisor must be not zero'),
    (lambda lib, x: F(lib).avg_pool1d(x, 2), ((5,),), 'Expected 2 to 3 dimensions'),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x, 2), ((5,),), r'Expected 3D or 4D tensor, but got \[5\]'),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x, 2), ((1, 3, 0, 4),), 'dimension 2 being empty'),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x.long(), 2), ((1, 3, 4, 4),), 'not implemented for \'Long\''),
    (lambda lib, x: F(lib).adaptive_max_pool2d(x, (2, 2, 2)), ((1, 3, 4, 4),), 'output_size.size'),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x, -1), ((1, 3, 4, 4),), 'greater than or equal to 0'),
    (lambda lib, x: F(lib).max_unpool2d(x, (x * 0 + 100).long(), 2), ((1, 3, 2, 2),),
     r'Found an invalid max index: 100 \(output volumes are of size 4x4\)'),
    (lambda lib, x: F(lib).max_unpool2d(x, x[:, :, :1].long(), 2), ((1, 3, 2, 2),), 'Expected shape of indices'),
    (lambda lib, x: F(lib).max_unpool2d(x, x.long(), 2, output_size=(7, 7)), ((1, 3, 2, 2),),
     'invalid output_size'),
])
def test_errors(fn, specs, match):
    check_raises(fn, *specs, match=match)
