"""Indexing against PyTorch: ``x[key]``, ``x[key] = value``, gather/scatter, index_*, masked_*,
where/nonzero, take/put, index_put; values, dtypes, gradients, errors and gradcheck."""
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import check, check_gradcheck, check_raises


def T(lib, data, dtype=None):
    return lib.tensor(data, dtype=getattr(lib, dtype) if dtype else None)


def check_or_raises(fn, *specs, **kw):
    """``check`` when PyTorch accepts the inputs, else ``check_raises`` (same exception type)."""
    try:
        fn(torch, *[torch.tensor(s) if isinstance(s, np.ndarray) else torch.zeros(s) if isinstance(s, tuple)
                    else s for s in specs])
    except (RuntimeError, IndexError, ValueError):
        check_raises(fn, *specs, dtype=kw.get('dtype', np.float32))
        return
    check(fn, *specs, **kw)


# ---- getitem --------------------------------------------------------------------------------------

KEYS = [
    ('int', lambda lib: 1),
    ('neg_int', lambda lib: -1),
    ('slice', lambda lib: slice(1, None)),
    ('slice_step', lambda lib: slice(None, None, 2)),
    ('slice_neg', lambda lib: slice(-2, None)),
    ('slice_out_of_range', lambda lib: slice(5, 10)),
    ('tuple', lambda lib: (1, slice(None), 0)),
    ('ellipsis', lambda lib: Ellipsis),
    ('ellipsis_int', lambda lib: (Ellipsis, 1)),
    ('int_ellipsis_slice', lambda lib: (0, Ellipsis, slice(0, 2))),
    ('none', lambda lib: None),
    ('none_mid', lambda lib: (slice(None), None, 1)),
    ('none_ellipsis_none', lambda lib: (None, Ellipsis, None)),
    ('true', lambda lib: True),
    ('false', lambda lib: False),
    ('empty_tuple', lambda lib: ()),
    ('list', lambda lib: [0, 2, 0]),
    ('list_neg', lambda lib: [-1, 0]),
    ('tensor_long', lambda lib: T(lib, [2, 0, 1, 2])),
    ('tensor_int32', lambda lib: T(lib, [1, 1], 'int32')),
    ('tensor_2d', lambda lib: T(lib, [[0, 1], [2, 2]])),
    ('tensor_0d', lambda lib: T(lib, 1)),
    ('tensor_empty', lambda lib: T(lib, [], 'int64')),
    ('mask_full', lambda lib: T(lib, np.arange(24).reshape(3, 2, 4) % 3 == 0)),
    ('mask_lead', lambda lib: T(lib, [True, False, True])),
    ('mask_2d', lambda lib: T(lib, [[True, False], [False, False], [True, True]])),
    ('mask_uint8', lambda lib: T(lib, [1, 0, 1], 'uint8')),
    ('mask_after_slice', lambda lib: (slice(None), T(lib, [True, False]))),
    ('mask_and_index', lambda lib: (T(lib, [True, False, True]), slice(None), T(lib, [0, 3]))),
    ('two_lists', lambda lib: ([0, 2], [1, 0])),
    ('list_broadcast', lambda lib: (T(lib, [[0], [2]]), slice(None), T(lib, [1, 3, 0]))),
    ('adv_separated', lambda lib: ([0, 1], slice(None), [1, 3])),
    ('adv_adjacent', lambda lib: (slice(None), [0, 1], [1, 3])),
    ('int_then_adv', lambda lib: (0, slice(None), [1, 3])),
    ('int_adv_adjacent', lambda lib: (slice(None), 1, [1, 3])),
    ('adv_none', lambda lib: ([0, 1], None, [0, 1])),
    ('slice_adv_slice', lambda lib: (slice(1, 3), [1, 0], slice(None, None, 2))),
    ('ellipsis_adv', lambda lib: (Ellipsis, [0, 3])),
    ('nested_list_tuple', lambda lib: [[0, 1], [1, 0]]),
    ('list_of_tensors', lambda lib: [T(lib, [0, 1]), T(lib, [1, 1])]),
    ('list_with_slice', lambda lib: [slice(None), 1]),
    ('tensor_in_slice', lambda lib: slice(T(lib, 1), T(lib, 3))),
]


@pytest.mark.parametrize('name,key', KEYS, ids=[k[0] for k in KEYS])
def test_getitem(name, key):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        check(lambda lib, x: x[key(lib)], (3, 2, 4))
        check(lambda lib, x: (x * 1).t()[key(lib)] if x.ndim == 2 else x.transpose(0, 2)[key(lib)], (4, 2, 3))


@pytest.mark.parametrize('name,key', KEYS, ids=[k[0] for k in KEYS])
def test_getitem_int_dtypes(name, key):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        for dt in (np.int64, np.uint8, np.bool_, np.float16):
            check(lambda lib, x: x[key(lib)], (np.arange(24).reshape(3, 2, 4) % 5).astype(dt), grad=False)


def test_getitem_views_share_memory():
    for key in ((1,), (slice(1, 3), 0), (None, Ellipsis), (Ellipsis,), (0, None, slice(None, None, 2)), ()):
        outs = []
        for lib in (ember, torch):
            x = lib.arange(24.).reshape(2, 3, 4)
            v = x[key]
            outs.append((v._base is x, v.stride(), v.storage_offset(), type(v.grad_fn).__name__))
            v.add_(1)
            assert x._version == 1
        assert outs[0] == outs[1]


@pytest.mark.parametrize('key', [(0,), (slice(1, None),), (None,), (Ellipsis,), (0, slice(1, None)), (slice(None), 0),
                                 ([0, 1],), (T(torch, [True, False, True]),)])
def test_getitem_grad_fn_names(key):
    names = []
    for lib in (ember, torch):
        k = tuple(T(lib, v.tolist()) if isinstance(v, torch.Tensor) else v for v in key)
        x = lib.ones(3, 4, requires_grad=True) * 1
        names.append(type(x[k].grad_fn).__name__)
    assert names[0] == names[1]


def test_getitem_0d():
    check(lambda lib, x: (x[...], x[None], x[()]), ())
    check_raises(lambda lib, x: x[0], ())


GET_ERRORS = [
    lambda lib, x: x[5],
    lambda lib, x: x[0, 5],
    lambda lib, x: x[-4],
    lambda lib, x: x[T(lib, [5])],
    lambda lib, x: x[T(lib, [-5])],
    lambda lib, x: x[:, T(lib, [4])],
    lambda lib, x: x[[0], [9]],
    lambda lib, x: x[T(lib, [0.5])],
    lambda lib, x: x[0, 0, 0],
    lambda lib, x: x[..., ..., 0, 0, 0],
    lambda lib, x: x[x[:2] > 0],
    lambda lib, x: x[T(lib, [True, False])],
    lambda lib, x: x[::-1],
    lambda lib, x: x[:, ::0],
    lambda lib, x: x[[0, 1], [0, 1, 2]],
    lambda lib, x: x[1.5],
    lambda lib, x: x['a'],
]


@pytest.mark.parametrize('i', range(len(GET_ERRORS)))
def test_getitem_errors(i):
    e, t = check_raises(GET_ERRORS[i], (3, 4))
    if i not in (15,):
        assert str(e) == str(t)


# ---- setitem ----------------------------------------------------------------------------------------

SETS = [
    ('int_number', lambda lib: 1, lambda lib, v: 5.0),
    ('int_tensor', lambda lib: 1, lambda lib, v: v[0]),
    ('slice_broadcast', lambda lib: (slice(None), 1), lambda lib, v: v[:, :1, 0]),
    ('slice_step', lambda lib: (slice(None, None, 2), Ellipsis, 1), lambda lib, v: v[0, 0, :2]),
    ('ellipsis', lambda lib: Ellipsis, lambda lib, v: v[:1, 0]),
    ('none', lambda lib: (None, 0), lambda lib, v: v[0, 0]),
    ('leading_ones', lambda lib: 0, lambda lib, v: v[:1, :1]),
    ('mask_number', lambda lib: T(lib, [True, False, True]), lambda lib, v: -1.0),
    ('mask_tensor', lambda lib: T(lib, [True, False, True]), lambda lib, v: v[0]),
    ('mask_full', lambda lib: T(lib, np.arange(24).reshape(3, 2, 4) % 3 == 0), lambda lib, v: v[0, 0, 0]),
    ('list', lambda lib: [0, 2], lambda lib, v: v[:2]),
    ('list_dup', lambda lib: [0, 0], lambda lib, v: 3.0),
    ('adv_pair', lambda lib: ([0, 2], slice(None), [1, 3]), lambda lib, v: v[0, :, :1]),
    ('int_then_adv', lambda lib: (1, slice(None), [0, 3]), lambda lib, v: v[0, 0, :2]),
    ('tensor_index_0d', lambda lib: T(lib, 2), lambda lib, v: v[0]),
    ('scalar_tensor_value', lambda lib: (0, 0), lambda lib, v: v[0, 0, :]),
    ('false', lambda lib: False, lambda lib, v: 1.0),
]


@pytest.mark.parametrize('name,key,val', SETS, ids=[s[0] for s in SETS])
def test_setitem(name, key, val):
    def f(lib, x, v):
        y = x * 1
        y[key(lib)] = val(lib, v)
        return y
    if name == 'list_dup':
        check(f, (3, 2, 4), (3, 2, 4))
        return
    check(f, (3, 2, 4), (3, 2, 4))


@pytest.mark.parametrize('name,key,val', SETS, ids=[s[0] for s in SETS])
def test_setitem_no_grad_and_int(name, key, val):
    def f(lib, x, v):
        x = x.clone()
        x[key(lib)] = val(lib, v)
        return x
    check(f, (3, 2, 4), (3, 2, 4), grad=False)
    for dt in (np.int64, np.uint8, np.bool_):
        a = (np.arange(24).reshape(3, 2, 4) % 4).astype(dt)
        check_or_raises(f, a, a[::-1].copy(), grad=False)


def test_setitem_casts_value():
    def f(lib, x):
        x = x.clone()
        x[0] = 2.7
        x[1] = lib.tensor([1.9, -1.9, 3.0])
        return x
    check(f, np.zeros((2, 3), np.int64), grad=False)
    check(f, np.zeros((2, 3), np.float16), grad=False)


def test_setitem_value_requires_grad_into_plain_tensor():
    def f(lib, v):
        x = lib.zeros(3, 4)
        x[1:, ::2] = v * 2
        x[0, [1, 3]] = v[0].sum()
        return x
    check(f, (2, 2))


def test_setitem_records_copyslices():
    for lib in (ember, torch):
        x = lib.zeros(3, 4, requires_grad=True).clone()
        x[0] = 1.0
        y = lib.zeros(3, 4, requires_grad=True).clone()
        y[[0, 1]] = 1.0
        names = (type(x.grad_fn).__name__, type(y.grad_fn).__name__)
        if lib is ember:
            e = names
    assert e == names == ('CopySlices', 'IndexPutBackward0')


SET_ERRORS = [
    lambda lib, x: x.__setitem__(0, lib.zeros(5)),
    lambda lib, x: x.__setitem__([0, 1], lib.zeros(3)),
    lambda lib, x: x.__setitem__(5, 1.0),
    lambda lib, x: x.__setitem__(T(lib, [True]), 1.0),
    lambda lib, x: x.__setitem__(0, [1.0, 2.0, 3.0, 4.0]),
    lambda lib, x: x.__setitem__(slice(None, None, -1), 1.0),
    lambda lib, x: x.expand(2, 3, 4).__setitem__((slice(None), 0), 1.0),
    lambda lib, x: lib.zeros(3, 4, requires_grad=True).__setitem__(0, 1.0),
    lambda lib, x: lib.zeros(3, 4, requires_grad=True).__setitem__([0], 1.0),
]


@pytest.mark.parametrize('i', range(len(SET_ERRORS)))
def test_setitem_errors(i):
    e, t = check_raises(SET_ERRORS[i], (3, 4))
    if i in (0, 1, 2, 5, 6, 7, 8):
        assert str(e) == str(t)


# ---- named indexing ops ---------------------------------------------------------------------------

I = np.array
IDX2 = I([[0, 1, 2, 0], [2, 0, 1, 1]])
OPS = [
    ('index_select', lambda lib, x: x.index_select(0, T(lib, [2, 0, 2])), (3, 4)),
    ('index_select_dim1', lambda lib, x: lib.index_select(x, 1, T(lib, [3, 1])), (3, 4)),
    ('index_select_int32', lambda lib, x: x.index_select(-1, T(lib, [0], 'int32')), (3, 4)),
    ('index_select_0d_index', lambda lib, x: x.index_select(0, T(lib, 1)), (3, 4)),
    ('index_select_0d', lambda lib, x: x.index_select(0, T(lib, [0])), ()),
    ('index_select_empty', lambda lib, x: x.index_select(0, T(lib, [], 'int64')), (3, 4)),
    ('gather', lambda lib, x: x.gather(0, T(lib, IDX2)), (3, 4)),
    ('gather_dim1', lambda lib, x: lib.gather(x, 1, T(lib, [[3, 3, 0], [1, 0, 2], [0, 0, 0]])), (3, 4)),
    ('gather_small', lambda lib, x: x.gather(1, T(lib, [[0], [2]])), (3, 4)),
    ('gather_0d', lambda lib, x: x.gather(0, T(lib, 0)), ()),
    ('scatter_src', lambda lib, x, s: x.scatter(0, T(lib, [[0, 1, 2, 0], [2, 0, 1, 1]]), s), (3, 4), (2, 4)),
    ('scatter_src_big', lambda lib, x, s: x.scatter(1, T(lib, [[0, 1], [3, 2]]), s.detach()), (3, 4), (3, 5)),
    ('scatter_value', lambda lib, x: x.scatter(1, T(lib, [[0, 1], [3, 2]]), 1.5), (3, 4)),
    ('scatter_value_kw', lambda lib, x: lib.scatter(x, 1, T(lib, [[0, 1], [3, 2]]), value=-2), (3, 4)),
    ('scatter_add', lambda lib, x, s: x.scatter_add(0, T(lib, [[0, 0, 2, 0], [0, 0, 1, 1]]), s), (3, 4), (2, 4)),
    ('scatter_add_fn', lambda lib, x, s: lib.scatter_add(x, 1, T(lib, [[0, 0], [3, 3]]), s), (3, 4), (2, 2)),
    ('index_add', lambda lib, x, s: x.index_add(0, T(lib, [0, 2, 0]), s), (3, 4), (3, 4)),
    ('index_add_alpha', lambda lib, x, s: lib.index_add(x, 1, T(lib, [1, 1]), s, alpha=-2.5), (3, 4), (3, 2)),
    ('index_copy', lambda lib, x, s: x.index_copy(0, T(lib, [2, 0]), s), (3, 4), (2, 4)),
    ('index_copy_dim1', lambda lib, x, s: lib.index_copy(x, 1, T(lib, [3]), s), (3, 4), (3, 1)),
    ('index_fill', lambda lib, x: x.index_fill(1, T(lib, [0, 2]), -1.0), (3, 4)),
    ('index_fill_neg', lambda lib, x: x.index_fill(0, T(lib, [-1]), 2.0), (3, 4)),
    ('index_fill_tensor', lambda lib, x, v: x.index_fill(0, T(lib, [1]), v.sum()), (3, 4), (2,)),
    ('index_put', lambda lib, x, v: x.index_put((T(lib, [0, 2]), T(lib, [1, 3])), v), (3, 4), (2,)),
    ('index_put_broadcast', lambda lib, x, v: lib.index_put(x, (T(lib, [0, 2]),), v), (3, 4), (4,)),
    ('index_put_acc', lambda lib, x, v: x.index_put((T(lib, [0, 0, 1]),), v, accumulate=True), (3, 4), (3, 4)),
    ('index_put_mask', lambda lib, x, v: x.index_put((x > 0,), v), (3, 4), ()),
    ('index_put_neg', lambda lib, x, v: x.index_put((T(lib, [-1]),), v), (3, 4), ()),
    ('take', lambda lib, x: x.take(T(lib, [[0, 11], [-1, 5]])), (3, 4)),
    ('take_noncontig', lambda lib, x: lib.take(x.t(), T(lib, [0, 1, 2])), (3, 4)),
    ('take_along_dim', lambda lib, x: lib.take_along_dim(x, T(lib, [[0], [2], [1]]), 1), (3, 4)),
    ('take_along_dim_bcast', lambda lib, x: x.take_along_dim(T(lib, [[0, 1, 3]]), dim=1), (3, 4)),
    ('take_along_dim_flat', lambda lib, x: lib.take_along_dim(x, T(lib, [0, 11, 5])), (3, 4)),
    ('take_along_dim_argsort', lambda lib, x: lib.take_along_dim(x, x.argsort(1), 1), (3, 4)),
    ('put', lambda lib, x, s: x.put(T(lib, [0, 5, -1]), s), (3, 4), (3,)),
    ('put_acc', lambda lib, x, s: x.put(T(lib, [[0, 0], [5, 5]]), s, accumulate=True), (3, 4), (2, 2)),
    ('masked_fill', lambda lib, x: x.masked_fill(x > 0, 0.5), (3, 4)),
    ('masked_fill_bcast_mask', lambda lib, x: x.masked_fill(T(lib, [True, False, True, False]), -1), (3, 4)),
    ('masked_fill_grow', lambda lib, x: lib.masked_fill(x, T(lib, [[True], [False]]), 2.0), (3,)),
    ('masked_fill_tensor', lambda lib, x, v: x.masked_fill(x > 0, v.sum()), (3, 4), (2,)),
    ('masked_scatter', lambda lib, x, s: x.masked_scatter(x > 0, s), (3, 4), (13,)),
    ('masked_scatter_bcast', lambda lib, x, s: x.masked_scatter(T(lib, [True, False, True, True]), s), (3, 4),
     (3, 4)),
    ('masked_select', lambda lib, x: x.masked_select(x > 0), (3, 4)),
    ('masked_select_bcast', lambda lib, x: lib.masked_select(x, T(lib, [[True], [False], [True]])), (3, 4)),
    ('masked_select_grow', lambda lib, x: lib.masked_select(x, T(lib, [[True], [False]])), (3,)),
    ('where', lambda lib, x, y: lib.where(x > 0, x, y), (3, 4), (3, 4)),
    ('where_bcast', lambda lib, x, y: lib.where(x > y, x, y), (3, 1), (4,)),
    ('where_scalar', lambda lib, x: lib.where(x > 0, x, 0.0), (3, 4)),
    ('where_scalar_first', lambda lib, x: lib.where(x > 0, -1, x), (3, 4)),
    ('where_method', lambda lib, x, y: x.where(x > 0, y), (3, 4), (4,)),
    ('where_scalars', lambda lib, x: lib.where(x > 0, 1.0, 0), (3, 4)),
    ('where_int_scalars', lambda lib, x: lib.where(x > 0, 1, 0), (3, 4)),
    ('where_1arg', lambda lib, x: lib.where(x > 0), (3, 4)),
    ('where_0d', lambda lib, x, y: lib.where(x > 0, x, y), (), (2,)),
    ('nonzero', lambda lib, x: (x > 0).nonzero(), (3, 4)),
    ('nonzero_tuple', lambda lib, x: lib.nonzero(x > 0, as_tuple=True), (3, 4)),
    ('nonzero_0d', lambda lib, x: (x > 0).nonzero(), ()),
    ('nonzero_0d_tuple', lambda lib, x: (x > -10).nonzero(as_tuple=True), ()),
    ('nonzero_float', lambda lib, x: lib.nonzero(lib.relu(x)), (2, 3)),
    ('argwhere', lambda lib, x: lib.argwhere(x > 0), (2, 3, 2)),
    ('scatter_reduce_sum', lambda lib, x, s: x.scatter_reduce(0, T(lib, [0, 2, 0, 0]), s, 'sum'), (3,), (4,)),
]
REDUCES = ['sum', 'prod', 'mean', 'amax', 'amin']
for _r in REDUCES:
    for _inc in (True, False):
        OPS.append((f'scatter_reduce_{_r}_{_inc}',
                    lambda lib, x, s, r=_r, inc=_inc: x.scatter_reduce(1, T(lib, [[0, 2, 0, 0], [1, 1, 3, 1]]), s, r,
                                                                       include_self=inc), (2, 4), (2, 4)))


@pytest.mark.parametrize('name,fn,shapes', [(o[0], o[1], o[2:]) for o in OPS], ids=[o[0] for o in OPS])
def test_ops(name, fn, shapes):
    check(fn, *shapes)


@pytest.mark.parametrize('name,fn,shapes', [(o[0], o[1], o[2:]) for o in OPS], ids=[o[0] for o in OPS])
def test_ops_noncontiguous(name, fn, shapes):
    if any(len(s) < 2 for s in shapes[:1]):
        pytest.skip('needs a matrix to transpose')

    def f(lib, x, *rest):
        xt = x.transpose(-1, -2).contiguous().transpose(-1, -2)
        return fn(lib, xt, *rest)
    check_or_raises(f, *shapes)


@pytest.mark.parametrize('name,fn,shapes', [(o[0], o[1], o[2:]) for o in OPS if 'mean' not in o[0]],
                         ids=[o[0] for o in OPS if 'mean' not in o[0]])
def test_ops_int(name, fn, shapes):
    arrays = [np.asarray((np.arange(int(np.prod(s, dtype=int))).reshape(s) * 7 % 5 - 2).astype(np.int64))
              for s in shapes]
    check_or_raises(fn, *arrays, grad=False)


def test_scatter_reduce_ties_and_zeros():
    x = np.array([[1., 0., 2., 2.], [3., 3., 0., 1.]], np.float32)
    s = np.array([[2., 0., 2., 1.], [3., 0., 3., 3.]], np.float32)
    for r in REDUCES:
        for inc in (True, False):
            check(lambda lib, x, s: x.scatter_reduce(1, T(lib, [[0, 2, 0, 0], [1, 1, 3, 1]]), s, r, include_self=inc),
                  x, s)


def test_scatter_reduce_int_mean():
    x = np.zeros(3, np.int32)
    s = np.array([-1, -2, -4], np.int32)
    for inc in (True, False):
        check(lambda lib, x, s: x.scatter_reduce(0, T(lib, [0, 0, 1]), s, 'mean', include_self=inc), x, s, grad=False)


def test_scatter_reduce_legacy():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        for r in ('add', 'multiply'):
            check(lambda lib, x, s: x.scatter(0, T(lib, [[0, 0, 1, 0]]), s, reduce=r), (2, 4), (1, 4), grad=False)
            check(lambda lib, x: x.scatter(0, T(lib, [[0, 0, 1, 0]]), 3.0, reduce=r), (2, 4), grad=False)
        check_raises(lambda lib, x, s: (x * 1).scatter(0, T(lib, [[0]]), s, reduce='add').sum().backward(),
                     (2, 4), (1, 1))


INPLACE = [
    ('scatter_', lambda lib, x, s: x.scatter_(0, T(lib, [[0, 1, 2, 0]]), s), (3, 4), (1, 4)),
    ('scatter_value_', lambda lib, x: x.scatter_(1, T(lib, [[0], [1], [3]]), 2.0), (3, 4)),
    ('scatter_add_', lambda lib, x, s: x.scatter_add_(0, T(lib, [[0, 0, 2, 0]]), s), (3, 4), (1, 4)),
    ('scatter_reduce_', lambda lib, x, s: x.scatter_reduce_(0, T(lib, [[0, 0, 2, 0]]), s, 'amax'), (3, 4), (1, 4)),
    ('index_add_', lambda lib, x, s: x.index_add_(0, T(lib, [0, 0]), s, alpha=2), (3, 4), (2, 4)),
    ('index_copy_', lambda lib, x, s: x.index_copy_(1, T(lib, [2]), s), (3, 4), (3, 1)),
    ('index_fill_', lambda lib, x: x.index_fill_(0, T(lib, [1]), 0.25), (3, 4)),
    ('index_put_', lambda lib, x, v: x.index_put_((T(lib, [0, 1]), T(lib, [2, 2])), v, accumulate=True), (3, 4),
     (2,)),
    ('index_put_fn', lambda lib, x, v: lib.index_put_(x, (T(lib, [1]),), v), (3, 4), (4,)),
    ('masked_fill_', lambda lib, x: x.masked_fill_(x < 0, 9.0), (3, 4)),
    ('masked_fill_tensor_', lambda lib, x, v: x.masked_fill_(x < 0, v[0]), (3, 4), (2,)),
    ('masked_scatter_', lambda lib, x, s: x.masked_scatter_(x < 0, s), (3, 4), (12,)),
    ('put_', lambda lib, x, s: x.put_(T(lib, [1, 5]), s), (3, 4), (2,)),
    ('put_acc_', lambda lib, x, s: x.put_(T(lib, [1, 1]), s, accumulate=True), (3, 4), (2,)),
    ('tril_', lambda lib, x: x.tril_(), (3, 4)),
]


@pytest.mark.parametrize('name,fn,shapes', [(o[0], o[1], o[2:]) for o in INPLACE], ids=[o[0] for o in INPLACE])
def test_inplace(name, fn, shapes):
    def on_copy(lib, x, *rest):
        y = x * 1
        r = fn(lib, y, *rest)
        assert r is y and y._version == 1
        return y

    def on_view(lib, x, *rest):
        base = lib.cat([x, x * 2], 1) * 1
        v = base[:, ::2]
        fn(lib, v, *rest)
        return base, v
    check(on_copy, *shapes)
    check(on_view, *shapes)


@pytest.mark.parametrize('name,fn,shapes', [(o[0], o[1], o[2:]) for o in INPLACE], ids=[o[0] for o in INPLACE])
def test_inplace_on_leaf_raises(name, fn, shapes):
    def f(lib, x, *rest):
        return fn(lib, x.requires_grad_(), *rest)
    e, t = check_raises(f, *shapes)
    assert str(e) == str(t)


IDX_ERRORS = [
    lambda lib, x: x.index_select(0, T(lib, [3])),
    lambda lib, x: x.index_select(0, T(lib, [-1])),
    lambda lib, x: x.index_select(0, T(lib, [[0]])),
    lambda lib, x: x.index_select(0, T(lib, [0.0])),
    lambda lib, x: x.gather(0, T(lib, [[3]])),
    lambda lib, x: x.gather(0, T(lib, [[-1]])),
    lambda lib, x: x.gather(0, T(lib, [0])),
    lambda lib, x: x.gather(1, T(lib, [[0]] * 4)),
    lambda lib, x: x.scatter(0, T(lib, [[3]]), 1.0),
    lambda lib, x: x.scatter(0, T(lib, [[0]]), T(lib, [[1]])),
    lambda lib, x: x.scatter(0, T(lib, [[0, 0, 0, 0, 0]]), 5.0),
    lambda lib, x: x.scatter(0, T(lib, [[0]]), lib.ones(1, 0)),
    lambda lib, x: x.scatter(0, T(lib, [[0]]), lib.ones(1, 1), reduce='foo'),
    lambda lib, x: x.scatter_reduce(0, T(lib, [[0]]), lib.ones(1, 1), 'foo'),
    lambda lib, x: x.masked_fill(x > 0, T(lib, [1.0, 2.0])),
    lambda lib, x: x.masked_fill(T(lib, [1, 0, 0, 0]), 1.0),
    lambda lib, x: x.masked_fill(T(lib, [True, False]), 1.0),
    lambda lib, x: x.masked_fill_(lib.ones(2, 3, 4, dtype=lib.bool), 1.0),
    lambda lib, x: x.masked_select(T(lib, [True, False])),
    lambda lib, x: x.masked_scatter(x > -10, lib.ones(3)),
    lambda lib, x: x.masked_scatter(x > 0, lib.ones(20, dtype=lib.float64)),
    lambda lib, x: x.take(T(lib, [12])),
    lambda lib, x: x.take(T(lib, [-13])),
    lambda lib, x: x.put_(T(lib, [12]), T(lib, [1.0])),
    lambda lib, x: x.put_(T(lib, [0], 'int32'), T(lib, [1.0])),
    lambda lib, x: x.put_(T(lib, [0]), T(lib, [1.0, 2.0])),
    lambda lib, x: x.index_add(0, T(lib, [0]), lib.ones(2, 4)),
    lambda lib, x: x.index_add(0, T(lib, [5]), lib.ones(1, 4)),
    lambda lib, x: x.index_add(0, T(lib, [-1]), lib.ones(1, 4)),
    lambda lib, x: x.index_add(0, T(lib, [0]), lib.ones(1, 3)),
    lambda lib, x: x.index_add(0, T(lib, [0]), lib.ones(1, 4, dtype=lib.float64)),
    lambda lib, x: x.index_add(1, T(lib, [0]), lib.ones(3)),
    lambda lib, x: x.index_copy(0, T(lib, [0]), lib.ones(1, 4, dtype=lib.float64)),
    lambda lib, x: x.index_copy(0, T(lib, [-1]), lib.ones(1, 4)),
    lambda lib, x: x.index_fill(0, T(lib, [7]), 1.0),
    lambda lib, x: x.index_fill(0, T(lib, [0], 'int32'), 1.0),
    lambda lib, x: x.index_put_((T(lib, [5]),), T(lib, 1.0)),
    lambda lib, x: x.index_put_((T(lib, [0]),), T(lib, [1.0, 2.0])),
    lambda lib, x: x.index_put_((T(lib, [0]),), T(lib, 1.0, 'float64')),
    lambda lib, x: lib.where(x > 0, x, T(lib, [1.0, 2.0])),
    lambda lib, x: lib.where(T(lib, [1, 0, 0, 0]), x, 0.0),
    lambda lib, x: lib.take_along_dim(x, T(lib, [0]), 1),
    lambda lib, x: lib.take_along_dim(x, T(lib, [[0]], 'int32'), 1),
]


@pytest.mark.parametrize('i', range(len(IDX_ERRORS)))
def test_op_errors(i):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        e, t = check_raises(IDX_ERRORS[i], (3, 4))
    if i not in (3, 6, 12, 17):
        assert str(e) == str(t)


# ---- gradcheck (float64, with double backward) -------------------------------------------------------

GRADCHECK = [
    (lambda lib, x: x[1:, ::2] ** 2, (3, 4)),
    (lambda lib, x: x[[0, 2, 0]] ** 2, (3, 4)),
    (lambda lib, x: x[x.detach() > 0] ** 2, (3, 4)),
    (lambda lib, x: x[:, None, [1, 1, 3]] ** 2, (3, 4)),
    (lambda lib, x: x.index_select(1, T(lib, [0, 0, 3])) ** 2, (3, 4)),
    (lambda lib, x: x.gather(1, T(lib, [[0, 0], [3, 1], [2, 2]])) ** 2, (3, 4)),
    (lambda lib, x, s: x.scatter(1, T(lib, [[0, 1], [3, 2], [2, 0]]), s) ** 2, (3, 4), (3, 2)),
    (lambda lib, x, s: x.scatter_add(1, T(lib, [[0, 0], [3, 2], [2, 0]]), s) ** 2, (3, 4), (3, 2)),
    (lambda lib, x, s: x.index_add(0, T(lib, [0, 0, 2]), s, alpha=2) ** 2, (3, 4), (3, 4)),
    (lambda lib, x, s: x.index_copy(0, T(lib, [2, 0]), s) ** 2, (3, 4), (2, 4)),
    (lambda lib, x, v: x.index_fill(1, T(lib, [1]), v.sum()) ** 2, (3, 4), (2,)),
    (lambda lib, x, v: x.index_put((T(lib, [0, 0, 2]), T(lib, [1, 1, 3])), v, accumulate=True) ** 2, (3, 4), (3,)),
    (lambda lib, x, v: x.index_put((T(lib, [0, 2]),), v) ** 2, (3, 4), (4,)),
    (lambda lib, x: x.take(T(lib, [[0, 0], [5, 11]])) ** 2, (3, 4)),
    (lambda lib, x, s: x.put(T(lib, [1, 1, 7]), s, accumulate=True) ** 2, (3, 4), (3,)),
    (lambda lib, x, s: x.put(T(lib, [1, 7]), s) ** 2, (3, 4), (2,)),
    (lambda lib, x, v: x.masked_fill(T(lib, [True, False, False, True]), v.sum()) ** 2, (3, 4), (2,)),
    (lambda lib, x, s: x.masked_scatter(T(lib, [True, False, False, True]), s) ** 2, (3, 4), (7,)),
    (lambda lib, x: x.masked_select(T(lib, [[True], [False], [True]])) ** 2, (3, 4)),
    (lambda lib, x, y: lib.where(x.detach() > y.detach(), x, y) ** 2, (3, 1), (4,)),
    (lambda lib, x: lib.take_along_dim(x, T(lib, [[0, 2]]), 1) ** 2, (3, 4)),
]
for _r in REDUCES:
    GRADCHECK.append((lambda lib, x, s, r=_r: x.scatter_reduce(1, T(lib, [[0, 2, 0], [1, 1, 3], [0, 0, 0]]), s, r,
                                                                include_self=r != 'amin') ** 2, (3, 4), (3, 3)))


@pytest.mark.parametrize('i', range(len(GRADCHECK)))
def test_gradcheck(i):
    fn, *shapes = GRADCHECK[i]
    check_gradcheck(fn, *shapes, low=0.5, high=2.0, gradgrad=i < 21 or 'prod' not in str(i))


def test_setitem_gradcheck():
    def f(lib, x, v):
        y = x * 1
        y[1:, ::2] = v ** 2
        y[0, [0, 3]] = v[0] * 3
        y[y.detach() > 1.5] = 0.0
        return y * y
    check_gradcheck(f, (3, 4), (2, 2), low=0.5, high=2.0)
