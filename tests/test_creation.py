"""Tensor creation against PyTorch: values, dtypes and shapes exactly, and the same errors."""
import warnings

import numpy as np
import pytest
import torch

import ember

DTYPES = ['float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8']


def same(fn):
    """``fn(lib)`` gives the same dtype, shape and values (bit for bit) in both, or raises the same
    exception type in both."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            t = fn(torch)
        except Exception as exc:
            with pytest.raises(type(exc)):
                fn(ember)
            return
        e = fn(ember)
    assert isinstance(e, ember.Tensor), type(e)
    assert str(e.dtype).split('.')[-1] == str(t.dtype).split('.')[-1], (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
    assert e.requires_grad == t.requires_grad


def D(name):
    return (lambda L: getattr(L, name)) if name else (lambda L: None)


RANGES = [(0, 10, 1), (0, 1, 0.1), (-3.7, 11.3, 0.37), (1e-3, 7e3, 1.1), (5, -5, -0.3), (0, 5, 1.5),
          (0.5, 100.5, 1), (10, 1000, 7), (0, 10, 0), (0, 300, 1), (10, 0, 1), (0, float('inf'), 1), (0, 10, 0.5)]


@pytest.mark.parametrize('dtype', DTYPES + [None])
@pytest.mark.parametrize('args', RANGES)
def test_arange(args, dtype):
    same(lambda L: L.arange(*args, dtype=D(dtype)(L)))


@pytest.mark.parametrize('threads', [1, 2])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_arange_long_float_ranges(dtype, threads):
    # Vectorised chunks and the per-thread split of long ranges round differently.
    before = torch.get_num_threads(), ember.get_num_threads()
    torch.set_num_threads(threads)
    ember.set_num_threads(threads)
    try:
        same(lambda L: L.arange(0, 100_000, 0.7, dtype=getattr(L, dtype)))
        same(lambda L: L.arange(-1.3, 7e4 + 0.1, 0.91, dtype=getattr(L, dtype)))
    finally:
        torch.set_num_threads(before[0])
        ember.set_num_threads(before[1])


@pytest.mark.parametrize('args', [(5,), (2.5,), (1, 4), (1, 4.), (0, 10, 3), (0, -10, -3), (-5, 5, 2)])
def test_arange_inference(args):
    same(lambda L: L.arange(*args))


@pytest.mark.parametrize('fn', [
    lambda L: L.arange(L.tensor(5)),
    lambda L: L.arange(L.tensor(5.)),
    lambda L: L.arange(3, dtype=L.bool),
    lambda L: L.arange(5, out=L.empty(2, dtype=L.int64)),
    lambda L: L.arange(0, 10, 0.5, dtype=L.int64),
])
def test_arange_cases(fn):
    same(fn)


@pytest.mark.parametrize('dtype', DTYPES + [None])
@pytest.mark.parametrize('bounds', [(0, 1), (0.1, 3), (-3.7, 11.3), (0, 255), (5, -5), (1e-3, 7e3), (-2, 2),
                                    (-1, 11.3), (0, 1e300)])
@pytest.mark.parametrize('steps', [0, 1, 2, 3, 7, 20, 33, 1001])
def test_linspace(bounds, steps, dtype):
    same(lambda L: L.linspace(*bounds, steps, dtype=D(dtype)(L)))


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'int64', 'uint8', None])
@pytest.mark.parametrize('args', [(0, 1, 10), (-3.7, 3.3, 10), (0, 10, 2), (1, -2, 2.5), (0, 3, 7), (-1, 1, 2)])
@pytest.mark.parametrize('steps', [0, 1, 2, 5, 33, 100])
def test_logspace(args, steps, dtype):
    a, b, base = args
    same(lambda L: L.logspace(a, b, steps, base, dtype=D(dtype)(L)))


@pytest.mark.parametrize('fn', [
    lambda L: L.linspace(L.tensor(0), L.tensor(1.), 5),
    lambda L: L.linspace(0, 1, -1),
    lambda L: L.linspace(0, 1, 3, dtype=L.bool),
    lambda L: L.linspace(0, 1, 3.5),
    lambda L: L.linspace(0, 1, 5, out=L.empty(2)),
    lambda L: L.logspace(0, 2, 3, out=L.empty(0, dtype=L.float64)),
    lambda L: L.linspace(0, 1, 4, requires_grad=True),
])
def test_space_cases(fn):
    same(fn)


@pytest.mark.parametrize('dtype', DTYPES + ['bool'])
@pytest.mark.parametrize('fn', [
    lambda L, d: L.eye(3, 4, dtype=d),
    lambda L, d: L.eye(2, dtype=d),
    lambda L, d: L.full((2, 3), 7, dtype=d),
    lambda L, d: L.full((2,), -2.7, dtype=d),
    lambda L, d: L.full((2,), 300, dtype=d),
    lambda L, d: L.full((2,), -1, dtype=d),
    lambda L, d: L.full((2,), float('nan'), dtype=d),
    lambda L, d: L.zeros(2, 3, dtype=d),
    lambda L, d: L.ones((2, 3), dtype=d),
    lambda L, d: L.tensor([[1, 2.7], [-3, 0.]], dtype=d),
    lambda L, d: L.tensor([300], dtype=d),
    lambda L, d: L.tensor([-1, 2], dtype=d),
    lambda L, d: L.tensor([-1.5], dtype=d),
    lambda L, d: L.tensor([float('nan')], dtype=d),
    lambda L, d: L.tensor([True, False], dtype=d),
    lambda L, d: L.tensor(np.array([1.7, -2.2]), dtype=d),
    lambda L, d: L.scalar_tensor(3, dtype=d),
    lambda L, d: L.zeros_like(L.ones(2, 3, dtype=L.int32), dtype=d),
    lambda L, d: L.full_like(L.ones(2, 3), 2.7, dtype=d),
    lambda L, d: L.empty(2, 3, dtype=d).fill_(1),
])
def test_filled(fn, dtype):
    same(lambda L: fn(L, getattr(L, dtype)))


@pytest.mark.parametrize('value', [True, 3, 3.5, -0.0, 2 ** 40])
def test_full_infers_dtype(value):
    same(lambda L: L.full((2,), value))
    same(lambda L: L.full((2,), L.tensor(value)))
    same(lambda L: L.tensor(value))
    same(lambda L: L.scalar_tensor(value))


DATA = [
    [1, 2.5, True], [True, False], [[1, 2], [3, 4]], [], [[]], [[], []], (1, 2), range(3), [[1, 2], [3]],
    [[1, 2], 3], [1, [2, 3]], [[1], [2, 3]], 2 ** 63, -2 ** 63 - 1, [1, 2 ** 63], 'a', ['a'], None,
    [np.float32(1), 2.], [np.int32(1), 2], np.float64(1), np.float32(2), np.bool_(1), [np.uint8(1), np.int8(1)],
    np.array([1, 2], np.int32), np.array([1.5]), [np.array([1, 2]), np.array([3, 4])], [2 ** 62, 1.5],
    np.array(3.5), [[[1.5]]], ((1, 2), [3, 4]),
]


@pytest.mark.parametrize('data', DATA, ids=[repr(d)[:30] for d in DATA])
def test_tensor_from_data(data):
    same(lambda L: L.tensor(data))


@pytest.mark.parametrize('fn', [
    lambda L: L.tensor([L.tensor(1.), L.tensor(2.)]),
    lambda L: L.tensor([L.tensor([1.]), L.tensor([2.])]),
    lambda L: L.tensor([L.tensor(1, dtype=L.int32), L.tensor(2, dtype=L.int32)]),
    lambda L: L.tensor([L.tensor(1, dtype=L.int32), 2]),
    lambda L: L.tensor([L.tensor(1, dtype=L.uint8), L.tensor(1, dtype=L.int8)]),
    lambda L: L.tensor([L.tensor([1, 2]), L.tensor([3, 4])]),
    lambda L: L.tensor(L.tensor([1, 2], dtype=L.int32)),
    lambda L: L.tensor(L.tensor([1, 2], dtype=L.int32), dtype=L.float64),
    lambda L: L.tensor([1, 2], requires_grad=True),
    lambda L: L.tensor([1., 2.], requires_grad=True),
    lambda L: L.tensor([[1, 2]], dtype=L.float64, requires_grad=True),
    lambda L: L.zeros(2, dtype=L.int64, requires_grad=True),
    lambda L: L.ones(2, requires_grad=True),
    lambda L: L.zeros(2, 3.5),
    lambda L: L.zeros(2, -3),
    lambda L: L.zeros(L.Size([2, 3])),
    lambda L: L.zeros([2, 3]),
    lambda L: L.zeros(()),
    lambda L: L.zeros(2, 3, layout=L.strided),
    lambda L: L.ones(2, 3, out=L.empty(1)),
    lambda L: L.full(2, 3.),
    lambda L: L.full((2, 2), True, dtype=L.float32),
    lambda L: L.tril_indices(4, 3, 1),
    lambda L: L.triu_indices(4, 3, -1),
    lambda L: L.tril_indices(3, 3, dtype=L.int32),
    lambda L: L.tril_indices(3, 3, dtype=L.float32),
    lambda L: L.tril_indices(-1, 3),
    lambda L: L.triu_indices(3, 5, 10),
    lambda L: L.tril_indices(5, 3, -7),
    lambda L: L.tril_indices(0, 0),
    lambda L: L.eye(-1),
    lambda L: L.eye(3, out=L.empty(0)),
    lambda L: L.ones_like(L.ones(2, 3, dtype=L.int32), dtype=L.float64),
    lambda L: L.empty_like(L.ones(2, 3)).fill_(1),
    lambda L: L.zeros_like(L.ones(2, 3), requires_grad=True),
    lambda L: L.empty_strided((2, 3), (1, 2)).fill_(2),
])
def test_creation_cases(fn):
    same(fn)


def test_like_preserves_layout():
    x = ember.ones(3, 4).t()
    for name in ('zeros_like', 'ones_like', 'empty_like', 'rand_like', 'randn_like'):
        assert getattr(ember, name)(x).stride() == getattr(torch, name)(torch.ones(3, 4).t()).stride() == (1, 4)
    assert ember.zeros_like(x, memory_format=ember.contiguous_format).stride() == (3, 1)
    assert ember.zeros_like(x[::2]).stride() == torch.zeros_like(torch.ones(3, 4).t()[::2]).stride() == (1, 2)
    assert ember.empty_strided((2, 3), (1, 2)).stride() == (1, 2)


@pytest.mark.parametrize('fn', [
    lambda L: L.from_numpy(np.array([1], np.longdouble)),
    lambda L: L.from_numpy([1]),
    lambda L: L.from_numpy(np.arange(4)[::-1]),
    lambda L: L.from_numpy(np.array([1, 2], '>i4')),
    lambda L: L.from_numpy(np.array(['a'])),
    lambda L: L.from_numpy(np.arange(6.).reshape(2, 3)[:, ::2]),
    lambda L: L.as_tensor([1, 2], dtype=L.float64),
    lambda L: L.as_tensor(np.arange(3)),
    lambda L: L.asarray([1, 2.5]),
    lambda L: L.asarray(np.arange(3.), dtype=L.float32, copy=False),
    lambda L: L.asarray(3.5),
    lambda L: L.asarray(np.arange(3), requires_grad=False),
    lambda L: L.asarray([1., 2.], requires_grad=True),
])
def test_numpy_interop(fn):
    same(fn)


def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6.).reshape(2, 3)
    t = ember.from_numpy(a)
    a[0, 0] = 10
    assert t[0, 0].item() == 10
    t[1, 2] = -1
    assert a[1, 2] == -1
    assert t.stride() == (3, 1)
    v = ember.from_numpy(a[:, ::2])
    assert v.stride() == (3, 2)
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)


def test_as_tensor_and_asarray_memory_rules():
    a = np.arange(3.)
    assert np.shares_memory(ember.as_tensor(a).numpy(), a)
    assert not np.shares_memory(ember.as_tensor(a, dtype=ember.float32).numpy(), a)
    assert not np.shares_memory(ember.tensor(a).numpy(), a)
    t = ember.ones(3)
    assert ember.as_tensor(t) is t
    assert ember.as_tensor(t, dtype=ember.float64) is not t
    assert np.shares_memory(ember.asarray(a).numpy(), a)
    assert not np.shares_memory(ember.asarray(a, copy=True).numpy(), a)
    assert np.shares_memory(ember.asarray(t).numpy(), t.numpy())
    with pytest.raises(ValueError, match="can't alias tensor with dtype 'Double' into dtype 'Float'"):
        ember.asarray(a, dtype=ember.float32, copy=False)
    lst = [1., 2.]
    assert ember.asarray(lst).dtype == ember.float32


@pytest.mark.parametrize('fn', [
    lambda L: L.tensor([1, 2]).new_tensor([3.7, 4]),
    lambda L: L.tensor([1, 2]).new_tensor([3, 4], dtype=L.float16),
    lambda L: L.tensor([1., 2]).new_zeros(2, 3),
    lambda L: L.tensor([1., 2]).new_zeros((2, 3)),
    lambda L: L.tensor([1, 2]).new_ones(2),
    lambda L: L.tensor([1, 2], dtype=L.int32).new_full((2,), 3.5),
    lambda L: L.tensor([1., 2], dtype=L.float64).new_empty(3).fill_(0),
    lambda L: L.tensor([1., 2]).new_tensor(np.array([1, 2])),
    lambda L: L.tensor([1., 2]).new_tensor(L.tensor([1, 2])),
    lambda L: L.tensor([1., 2]).new_zeros(2, requires_grad=True),
    lambda L: L.tensor([1., 2], dtype=L.float64).new_tensor(3),
    lambda L: L.tensor([1, 2]).new_ones(2, dtype=L.bool),
    lambda L: L.tensor([1, 2]).new_zeros(2, requires_grad=True),
])
def test_new_methods(fn):
    same(fn)


@pytest.mark.parametrize('fn', [
    lambda L: L.Tensor(),
    lambda L: L.Tensor(L.Size([2, 3])).fill_(1),
    lambda L: L.Tensor((2, 3)),
    lambda L: L.Tensor([1, 2]),
    lambda L: L.Tensor(2, 3).fill_(1),
    lambda L: L.Tensor(L.tensor([1, 2])),
    lambda L: L.Tensor(2.5),
    lambda L: L.Tensor(np.array([1, 2])),
    lambda L: L.Tensor(-1),
    lambda L: L.Tensor([[1, 2], [3, 4]], device='cpu'),
])
def test_legacy_constructor(fn):
    same(fn)


def test_default_dtype_effects():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for fn in (lambda L: L.tensor([1.5]), lambda L: L.zeros(2), lambda L: L.full((2,), 1.5),
                   lambda L: L.arange(0, 1, 0.25), lambda L: L.linspace(0, 1, 3), lambda L: L.Tensor([1]),
                   lambda L: L.tensor([1, 2]), lambda L: L.tensor([]), lambda L: L.rand(2).new_zeros(1)):
            same(fn)
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


def test_device_and_layout_arguments():
    assert ember.zeros(2, device='cpu').device == ember.device('cpu')
    assert ember.tensor([1], device=ember.device('cpu')).device.type == 'cpu'
    for fn in (lambda: ember.zeros(2, device='cuda'), lambda: ember.tensor([1], device='cuda:0'),
               lambda: ember.arange(3, device='cuda'), lambda: ember.ones(2).cuda()):
        with pytest.raises(AssertionError, match='CUDA'):
            fn()
    with pytest.raises(RuntimeError, match='no meta backend'):
        ember.zeros(2, device='meta')
    with pytest.raises(NotImplementedError, match='strided'):
        ember.zeros(2, layout=ember.sparse_coo)


def test_complex_is_rejected_clearly():
    for fn in (lambda: ember.tensor(1 + 2j), lambda: ember.tensor([1, 2j]), lambda: ember.full((2,), 1j),
               lambda: ember.zeros(2, dtype=complex)):
        with pytest.raises(TypeError, match='complex'):
            fn()


def test_ragged_error_messages():
    with pytest.raises(ValueError, match=r'expected sequence of length 2 at dim 1 \(got 1\)'):
        ember.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match='not a sequence'):
        ember.tensor([[1, 2], 3])
    with pytest.raises(RuntimeError, match='value cannot be converted to type uint8 without overflow'):
        ember.tensor([300], dtype=ember.uint8)
    with pytest.raises(RuntimeError, match='upper bound and lower bound inconsistent with step sign'):
        ember.arange(10, 0)


@pytest.mark.parametrize('fn', [
    lambda L: L.zeros(size=(2, 3)),
    lambda L: L.ones(size=[2]),
    lambda L: L.empty(size=(0, 2)).fill_(1),
    lambda L: L.ones(2).new_zeros(size=(2, 3)),
    lambda L: L.zeros((2,), size=(3,)),
])
def test_size_keyword(fn):
    same(fn)
