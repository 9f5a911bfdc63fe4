"""Sorting and order statistics against PyTorch: values, indices (ties, NaN), gradients, errors."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_gradcheck, check_raises

F = np.float32
nan = float('nan')

TIES = np.array([[3., 1., 3., 2., 1., 3.], [0., 0., 0., 0., 0., 0.], [5., -1., 2., 2., 7., -1.]], F)
NANS = np.array([[1., nan, 3., nan, 0.], [nan, nan, nan, nan, nan], [2., 1., nan, 4., 3.]], F)
DISTINCT = np.random.default_rng(3).permutation(24).reshape(4, 6).astype(F) - 12


def ints(shape, dtype, seed=0, high=4):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    lo = 0 if np.dtype(dtype).kind == 'u' else -3
    return rng.integers(lo, high, shape).astype(dtype)


CASES = [
    # sort / argsort / msort: stable, NaN last ascending and first descending
    (lambda lib, x: (x.sort(), x.sort(0), x.sort(descending=True), x.sort(0, True)), (4, 5)),
    (lambda lib, x: (x.sort(), x.sort(descending=True), x.sort(0, descending=True)), TIES),
    (lambda lib, x: (lib.sort(x, stable=True), lib.sort(x, dim=0, descending=True, stable=True)), TIES),
    (lambda lib, x: (x.sort(), x.sort(descending=True), x.sort(0)), NANS),
    (lambda lib, x: (x.argsort(), x.argsort(0, descending=True), lib.argsort(x, descending=True)), TIES),
    (lambda lib, x: (x.argsort(), x.argsort(descending=True)), NANS),
    (lambda lib, x: (lib.msort(x), x.msort()), TIES),
    (lambda lib, x: x.t().sort(1), (4, 5)),
    (lambda lib, x: x[:, ::2].sort(descending=True), (3, 8)),
    (lambda lib, x: (x.sort(), x.sort(0, descending=True), x.argsort()), ()),
    (lambda lib, x: (x.sort(), x.sort(0), x.argsort(0)), (0, 3)),
    # topk
    (lambda lib, x: (x.topk(2), x.topk(3, 0), x.topk(2, largest=False), x.topk(1, 0, False, True)), DISTINCT),
    (lambda lib, x: (x.topk(6), x.topk(6, largest=False), x.topk(0)), DISTINCT),
    (lambda lib, x: (x.topk(2), x.topk(3, largest=False)), NANS[[0, 2]]),
    (lambda lib, x: lib.topk(x, 2, dim=0), (5, 3)),
    (lambda lib, x: (x.topk(3), x.topk(4, largest=False), x.topk(2, 0), x.t().topk(1, 0, largest=False)), (5, 40)),
    (lambda lib, x: (x.topk(3).values.detach(), x.topk(5, largest=False).values.detach()),
     np.where(np.arange(60).reshape(3, 20) % 7 == 0, nan, np.arange(60).reshape(3, 20) % 5).astype(F)),
    (lambda lib, x: x.t().topk(2), (5, 3)),
    (lambda lib, x: (x.topk(1), x.topk(0, 0)), ()),
    (lambda lib, x: (x.topk(0), x.topk(0, 0)), (0, 3)),
    # kthvalue
    (lambda lib, x: (x.kthvalue(1), x.kthvalue(3, 0), x.kthvalue(6, keepdim=True), x.kthvalue(2, -1)), DISTINCT),
    (lambda lib, x: (x.kthvalue(2), x.kthvalue(4)), NANS[[0, 2]]),
    (lambda lib, x: x.kthvalue(1, 0), ()),
    (lambda lib, x: x.kthvalue(1, 0), (2, 0)),
    (lambda lib, x: x.t().kthvalue(2, 1), (5, 3)),
    # median / nanmedian: lower median; ties and NaN as PyTorch
    (lambda lib, x: (x.median(), x.median(1), x.median(0, keepdim=True)), (4, 5)),
    (lambda lib, x: (x.median(), x.median(0), x.median(1), x.median(-1, True)), TIES),
    (lambda lib, x: (x.median(), x.median(0), x.median(1), x.nanmedian(), x.nanmedian(0), x.nanmedian(1)), NANS),
    (lambda lib, x: (x.nanmedian(), x.nanmedian(1)), TIES),
    (lambda lib, x: (x.median(), x.median(0), x.nanmedian(), x.nanmedian(0)), ()),
    (lambda lib, x: (x.median(), x.nanmedian(), x.median(1), x.nanmedian(1)), (0, 3)),
    (lambda lib, x: (x.t().median(1), x[:, ::2].median(0)), (4, 6)),
    (lambda lib, x: lib.median(x, dim=1), (3, 6)),
    # mode: smallest of the most frequent values, index of its last occurrence
    (lambda lib, x: (x.mode(), x.mode(0), x.mode(1, keepdim=True)), TIES),
    (lambda lib, x: (x.mode(), x.mode(0)), DISTINCT),
    (lambda lib, x: (x.mode(), x.mode(0)), ()),
    (lambda lib, x: x.mode(1), (0, 3)),
    (lambda lib, x: x.t().mode(1), TIES),
]


@pytest.mark.parametrize('fn,specs', [(c[0], c[1:]) for c in CASES])
def test_values_indices_and_grads(fn, specs):
    check(fn, *specs)


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('n', [3, 8, 16, 31])
def test_ties_match_torch(seed, n):
    """Many random slices with repeated values: indices of median(dim), stable sorts (and of the default
    sort and mode up to 16 elements, where PyTorch's sort happens to be stable) must match exactly."""
    x = ints((40, n), np.float32, seed, high=3)
    small = n <= 16
    check(lambda lib, x: (x.median(1), x.sort(dim=1, stable=True), x.sort(dim=1, descending=True, stable=True),
                          lib.argsort(x, dim=1, stable=True), x.median(), x.cummax(1),
                          x.sort(1) if small else x.sort(1).values.detach(),
                          x.mode(1) if small else x.mode(1).values.detach()), x)


@pytest.mark.parametrize('dtype', [np.uint8, np.int8, np.int16, np.int32, np.int64])
def test_integers(dtype):
    x = ints((4, 7), dtype, 1, high=5)
    check(lambda lib, x: (x.sort(), x.sort(0, True), x.argsort(descending=True), x.msort(), x.median(),
                          x.median(1), x.mode(1), x.unique(), x.unique(return_inverse=True, return_counts=True),
                          x.unique(dim=1), x.unique_consecutive(return_counts=True)), x, grad=False)
    distinct = np.random.default_rng(0).permutation(28).reshape(4, 7).astype(dtype)
    check(lambda lib, x: (x.topk(3), x.topk(2, 0, False), x.kthvalue(3), x.kthvalue(2, 0, True)), distinct)


def test_bool():
    x = ints((3, 5), np.bool_)
    check(lambda lib, x: (x.sort(), x.sort(descending=True), x.argsort(0), x.mode(1), x.msort(), x.unique(),
                          x.unique(dim=0, return_counts=True), x.unique_consecutive(return_inverse=True)), x)


UNIQUE = [
    (lambda lib, x: (x.unique(), lib.unique(x, return_inverse=True), lib.unique(x, return_counts=True)), TIES),
    (lambda lib, x: lib.unique(x, sorted=False, return_inverse=True, return_counts=True), TIES),
    (lambda lib, x: (x.unique(dim=0, return_inverse=True, return_counts=True), x.unique(dim=1)), TIES),
    (lambda lib, x: x.unique(return_inverse=True, return_counts=True), NANS),
    (lambda lib, x: (x.unique(), x.unique(return_inverse=True), x.unique_consecutive(return_inverse=True)), ()),
    (lambda lib, x: (x.unique(return_inverse=True, return_counts=True), x.unique(dim=0, return_counts=True)),
     np.zeros((0, 3), F)),
    (lambda lib, x: x.t().unique(dim=1, return_inverse=True), TIES),
    (lambda lib, x: (x.unique_consecutive(), x.unique_consecutive(return_inverse=True, return_counts=True)),
     np.array([[1., 1., 2.], [2., 3., 1.], [1., 1., 1.]], F)),
    (lambda lib, x: (lib.unique_consecutive(x, dim=0, return_inverse=True, return_counts=True),
                     x.unique_consecutive(dim=1, return_counts=True)),
     np.array([[1., 1., 2., 2.], [1., 1., 2., 2.], [0., 0., 3., 4.]], F)),
    (lambda lib, x: x.unique_consecutive(return_counts=True), NANS),
]


@pytest.mark.parametrize('fn,specs', [(c[0], c[1:]) for c in UNIQUE])
def test_unique(fn, specs):
    check(fn, *specs, grad=False)


@pytest.mark.parametrize('fn,specs,match', [
    (lambda lib, x: x.topk(7), (DISTINCT,), 'selected index k out of range'),
    (lambda lib, x: x.topk(-1), (DISTINCT,), 'selected index k out of range'),
    (lambda lib, x: x.topk(1), (np.array([True, False]),), 'Bool'),
    (lambda lib, x: x.kthvalue(0), (DISTINCT,), 'kthvalue\\(\\): selected number k out of range for dimension 1'),
    (lambda lib, x: x.kthvalue(7), (DISTINCT,), 'out of range'),
    (lambda lib, x: x.kthvalue(1), ((0,),), 'Expected reduction dim 0 to have non-zero size'),
    (lambda lib, x: x.kthvalue(1), (np.array([True]),), 'kthvalue_cpu'),
    (lambda lib, x: x.median(1), ((2, 0),), 'median\\(\\): Expected reduction dim 1 to have non-zero size'),
    (lambda lib, x: x.nanmedian(1), ((2, 0),), 'non-zero size'),
    (lambda lib, x: x.median(), (np.array([True]),), 'median_cpu'),
    (lambda lib, x: x.median(0), (np.array([True]),), 'median_out'),
    (lambda lib, x: x.mode(0), ((0,),), 'mode\\(\\): Expected reduction dim 0 to have non-zero size'),
    (lambda lib, x: x.sort(2), ((2, 3),), 'Dimension out of range'),
    (lambda lib, x: x.unique(dim=0), (np.array(1., F),), 'Dimension specified as 0 but tensor has no dimensions'),
    (lambda lib, x: x.unique(dim=2), ((2, 3),), 'Dimension out of range'),
])
def test_errors(fn, specs, match):
    check_raises(fn, *specs, match=match)


def test_named_tuples_and_out():
    x = ember.tensor(TIES)
    for op, args in (('sort', ()), ('topk', (2,)), ('kthvalue', (2,)), ('median', (1,)), ('nanmedian', (1,)),
                     ('mode', (1,))):
        r = getattr(x, op)(*args)
        assert type(r) is getattr(ember.return_types, op) and r.values is r[0] and r.indices is r[1]
        values, indices = ember.zeros(1), ember.zeros(1, dtype=ember.int64)
        r2 = getattr(ember, op)(x, *args, out=(values, indices))
        assert r2.values is values and r2.indices is indices
        assert np.array_equal(values.numpy(), r.values.numpy()) and np.array_equal(indices.numpy(), r.indices.numpy())
    out = ember.zeros(3, 6)
    assert ember.msort(x, out=out) is out
    out = ember.zeros(())
    assert ember.median(x, out=out) is out and out.item() == 1.0


def test_unique_has_no_derivative():
    x = ember.tensor(TIES, requires_grad=True)
    for y in (x.unique(), x.unique_consecutive()):
        assert y.requires_grad
        with pytest.raises(NotImplementedError, match='the derivative for .* is not implemented'):
            y.sum().backward()


GRADCHECK = [
    (lambda lib, x: x.sort(1).values, DISTINCT),
    (lambda lib, x: x.sort(0, descending=True).values, DISTINCT),
    (lambda lib, x: x.topk(2).values, DISTINCT),
    (lambda lib, x: x.kthvalue(2, 0).values, DISTINCT),
    (lambda lib, x: (x.median(), x.median(1).values, x.nanmedian(0).values), DISTINCT),
    (lambda lib, x: x.mode(1).values, DISTINCT),
    (lambda lib, x: lib.msort(x), DISTINCT),
]


@pytest.mark.parametrize('fn,specs', [(c[0], c[1:]) for c in GRADCHECK])
def test_gradcheck(fn, specs):
    check_gradcheck(fn, *[np.asarray(s, np.float64) for s in specs])


@pytest.mark.parametrize('fn', [
    lambda lib, x: x.sort(0).values, lambda lib, x: x.sort(1).indices, lambda lib, x: x.argsort(2),
    lambda lib, x: lib.msort(x), lambda lib, x: x[:, ::2].sort(0).values, lambda lib, x: x.topk(2, 1).values,
    lambda lib, x: x.median(1).values, lambda lib, x: x.mode(1).indices, lambda lib, x: x.kthvalue(1, 1).values,
])
def test_result_layout_like_torch(fn):
    """sort keeps its input's memory order (it sorts a clone); the order statistics are contiguous."""
    a = np.random.default_rng(0).standard_normal((3, 4, 2))
    e, t = fn(ember, ember.tensor(a).transpose(0, 2)), fn(torch, torch.tensor(a).transpose(0, 2))
    assert tuple(s for s, n in zip(e.stride(), e.shape) if n > 1) == \
        tuple(s for s, n in zip(t.stride(), t.shape) if n > 1)
