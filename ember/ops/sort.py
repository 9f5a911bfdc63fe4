"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
unique, unique_consecutive.

Every op sorts with NumPy's stable sort along the dimension. NaN orders after every number
(as PyTorch), so it comes first in descending order and is the "largest" for ``topk``. A
descending stable sort is an ascending stable sort of the reversed slice, reversed back: equal
elements keep their original order, as in PyTorch.

Values picked at indices send their gradient back to those indices (``_ValueSelectingBackward``
in ``reduce.py``). ``median()`` without ``dim`` splits it evenly among elements equal to the median.
Among equal values, ``median(dim)`` returns the index PyTorch returns (the stable order's), and
``sort(stable=True)`` the same order. PyTorch's default sort, ``mode``, ``kthvalue`` and
``topk`` order ties as their unstable algorithms leave them (for slices of more than 16
elements, where the sort stops being an insertion sort); Ember always uses the stable order:
first occurrence first, and for ``mode`` the last occurrence. ``mode`` counts NaNs as
distinct values sorted last.
"""
import numpy as np

from .. import return_types
from ..autograd.graph import Node, grad_edge
from .reduce import (_I64, _TYPE_NAMES, _ValueSelectingBackward, _WeightedBackward, _attach, _check_nonempty,
                     _even_weights, _one_dim, _records, _result, _results, _selected, _value_selecting_node, _wrap,
                     _wrap_array)


class SortBackward0(_ValueSelectingBackward):
    __slots__ = ()


class TopkBackward0(_ValueSelectingBackward):
    __slots__ = ()


class KthvalueBackward0(_ValueSelectingBackward):
    __slots__ = ()


class MedianBackward1(_ValueSelectingBackward):
    __slots__ = ()


class NanmedianBackward1(_ValueSelectingBackward):
    __slots__ = ()


class ModeBackward0(_ValueSelectingBackward):
    __slots__ = ()


class MedianBackward0(_WeightedBackward):
    __slots__ = ()


class NanmedianBackward0(_WeightedBackward):
    __slots__ = ()


def _order(x, d, descending=False):
    """Stable sorting permutation of ``x`` along ``d`` (NaN last ascending, first descending)."""
    if not descending:
        return np.argsort(x, axis=d, kind='stable')
    n = x.shape[d]
    idx = np.argsort(np.flip(x, d), axis=d, kind='stable')
    return (n - 1) - np.flip(idx, d)


def _not_implemented(kernel, x):
    return NotImplementedError(f'"{kernel}" not implemented for \'{_TYPE_NAMES[x.dtype.name]}\'')


def sort(input, dim=-1, descending=False, *, stable=False, out=None):
    """Named tuple (values, indices) sorted along ``dim``; always stable (equal values keep their order,
    which ``stable=False`` permits)."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    scalar = x.ndim == 0
    a = x.reshape(1) if scalar else x
    idx = _order(a, d, descending)
    values = np.take_along_axis(a, idx, d)
    v = _wrap_array(_layout_like(values.reshape(x.shape), x))
    if _records(input, values):
        _attach(v, _value_selecting_node(SortBackward0, input, idx, d, a.shape))
    indices = _wrap_array(_layout_like(idx.reshape(x.shape).astype(_I64, copy=False), x))
    return _results(return_types.sort, v, indices, out)


def _layout_like(arr, src):
    """``arr`` in the memory order of ``src``: PyTorch's sort writes into a clone of its input."""
    if src.flags.c_contiguous or arr.ndim < 2:
        return arr
    res = np.empty_like(src, dtype=arr.dtype)
    res[...] = arr
    return res


def argsort(input, dim=-1, descending=False, *, stable=False):
    """Indices that sort ``input`` along ``dim`` (stable)."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    a = x.reshape(1) if x.ndim == 0 else x
    return _wrap_array(_layout_like(_order(a, d, descending).reshape(x.shape).astype(_I64, copy=False), x))


def msort(input, *, out=None):
    """``input`` sorted along its first dimension (values only)."""
    return _result(sort(input, 0).values, out)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """Named tuple (values, indices) of the ``k`` largest (or smallest) elements along ``dim``.

    The result is always sorted (PyTorch leaves the order unspecified when ``sorted=False``).
    """
    x = input._data
    if x.dtype == np.bool_:
        raise RuntimeError('"topk_cpu" not implemented for \'Bool\'')
    d = _one_dim(dim, x.ndim)
    a = x.reshape(1) if x.ndim == 0 else x
    n = a.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError('selected index k out of range')
    if x.ndim == 0:
        k = 1  # PyTorch returns the element of a 0-d tensor for k = 0 too
    if 0 < k and k * 4 <= n:
        idx = _top_indices(a, k, d, largest)
    else:
        idx = np.take(_order(a, d, largest), np.arange(k, like=a), axis=d)
    values = np.take_along_axis(a, idx, d)
    if x.ndim == 0:
        values, idx_out = values.reshape(()), idx.reshape(())
    else:
        idx_out = idx
    v = _wrap(values)
    if _records(input, values):
        _attach(v, _value_selecting_node(TopkBackward0, input, idx, d, a.shape))
    return _results(return_types.topk, v, _wrap(idx_out.astype(_I64, copy=False)), out)


def _top_indices(a, k, d, largest):
    """Indices of the ``k`` best elements along ``d`` in O(n): the same result as the first ``k`` of
    the stable sort, found by partitioning around the k-th best value ``v`` and taking every element
    better than ``v`` plus the earliest elements equal to it."""
    a = np.moveaxis(a, d, -1)
    n = a.shape[-1]
    kth = n - k if largest else k - 1
    v = np.partition(a, kth, axis=-1)[..., kth:kth + 1]
    if a.dtype.kind == 'f':
        a_nan, v_nan = np.isnan(a), np.isnan(v)
        # NaN ranks above every number, as in the sort.
        better = ((a > v) | (a_nan & ~v_nan)) if largest else ((a < v) | (~a_nan & v_nan))
        equal = (a == v) | (a_nan & v_nan)
    else:
        better = a > v if largest else a < v
        equal = a == v
    need = k - np.add.reduce(better, axis=-1, keepdims=True, dtype=np.int32)
    if (np.add.reduce(equal, axis=-1, keepdims=True, dtype=np.int32) == need).all():
        chosen = better | equal  # no surplus ties at the threshold (the usual case)
    else:
        chosen = better | (equal & (np.cumsum(equal, axis=-1, dtype=np.int32) <= need))
    cols = np.nonzero(chosen.reshape(-1, n))[1].reshape(a.shape[:-1] + (k,))
    order = _order(np.take_along_axis(a, cols, -1), -1, largest)
    return np.moveaxis(np.take_along_axis(cols, order, -1), -1, d)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """Named tuple (values, indices): the ``k``-th smallest element (1-based) along ``dim``."""
    x = input._data
    if x.dtype == np.bool_:
        raise _not_implemented('kthvalue_cpu', x)
    d = _one_dim(dim, x.ndim)
    scalar = x.ndim == 0
    a = x.reshape(1) if scalar else x
    _check_nonempty('kthvalue', a, d)
    if not 1 <= k <= a.shape[d]:
        raise RuntimeError(f'kthvalue(): selected number k out of range for dimension {d}')
    idx = np.take(_order(a, d), [k - 1], axis=d)
    return _selected(return_types.kthvalue, KthvalueBackward0, input, a, idx, d, keepdim, out, scalar)


def _median_all(input, name, ignore_nan):
    x = input._data
    if x.dtype == np.bool_:
        raise _not_implemented(f'{name}_cpu', x)
    flat = x.reshape(-1)
    if flat.dtype.kind == 'f':
        nan = np.isnan(flat)
        if nan.any():
            flat = flat[~nan] if ignore_nan else flat[:0]
    if flat.size:
        k = (flat.size - 1) // 2
        r_arr = np.asarray(np.partition(flat, k)[k], like=flat)
    else:
        # Empty input: nan, or for integers the lowest value (what PyTorch's kernel returns).
        r_arr = np.full((), np.nan if x.dtype.kind == 'f' else np.iinfo(x.dtype).min, x.dtype, like=x)
    r = _wrap(r_arr)
    if _records(input, r_arr):
        node = (NanmedianBackward0 if ignore_nan else MedianBackward0)((grad_edge(input),))
        node.weights = _even_weights(x, r_arr.reshape((1,) * x.ndim), tuple(range(x.ndim)))
        node.red_shape = (1,) * x.ndim
        _attach(r, node)
    return r


def _median_dim(input, dim, keepdim, out, ignore_nan):
    x = input._data
    name = 'nanmedian' if ignore_nan else 'median'
    if x.dtype == np.bool_:
        raise _not_implemented('median_out', x)
    d = _one_dim(dim, x.ndim)
    scalar = x.ndim == 0
    a = x.reshape(1) if scalar else x
    _check_nonempty('median', a, d)
    n = a.shape[d]
    order = _order(a, d)
    if a.dtype.kind == 'f':
        nans = np.add.reduce(np.isnan(a), axis=d, keepdims=True)
        # median: the first NaN (stable order puts NaNs last, in order); nanmedian: lower median of the rest,
        # or of the whole slice when it is all NaN.
        if ignore_nan:
            pos = np.where(nans < n, (n - nans - 1) // 2, (n - 1) // 2)
        else:
            pos = np.where(nans > 0, n - nans, (n - 1) // 2)
    else:
        pos = np.full(a.shape[:d] + (1,) + a.shape[d + 1:], (n - 1) // 2, _I64, like=a)
    idx = np.take_along_axis(order, pos.astype(_I64, copy=False), d)
    return _selected(getattr(return_types, name), NanmedianBackward1 if ignore_nan else MedianBackward1, input, a,
                     idx, d, keepdim, out, scalar)


def median(input, dim=None, keepdim=False, *, out=None):
    """``median(input)``: the lower median of all elements (nan if any is NaN; gradient split among ties).
    ``median(input, dim, keepdim=False)``: named tuple (values, indices) along ``dim``."""
    if dim is None:
        return _result(_median_all(input, 'median', False), out)
    return _median_dim(input, dim, keepdim, out, False)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """``median`` ignoring NaN (nan only where every element is NaN)."""
    if dim is None:
        return _result(_median_all(input, 'nanmedian', True), out)
    return _median_dim(input, dim, keepdim, out, True)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """Named tuple (values, indices): the most frequent value along ``dim`` (the smallest among equally
    frequent ones) and the index of its last occurrence. NaNs count as distinct values."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    scalar = x.ndim == 0
    a = x.reshape(1) if scalar else x
    _check_nonempty('mode', a, d)
    if a.size == 0:
        idx = np.zeros(a.shape[:d] + (1,) + a.shape[d + 1:], _I64, like=a)
        return _selected(return_types.mode, ModeBackward0, input, a, idx, d, keepdim, out, scalar)
    order = np.moveaxis(_order(a, d), d, -1)
    s = np.take_along_axis(np.moveaxis(a, d, -1), order, -1)
    n = s.shape[-1]
    pos = np.arange(n, like=a)
    starts = np.ones(s.shape, bool, like=s)
    starts[..., 1:] = s[..., 1:] != s[..., :-1]
    ends = np.ones(s.shape, bool, like=s)
    ends[..., :-1] = starts[..., 1:]
    run_start = np.maximum.accumulate(np.where(starts, pos, 0), axis=-1)
    # Run length at each run's last element; argmax takes the first (smallest) of the longest runs, and
    # the stable sort puts that value's last occurrence at the run's end.
    best = np.argmax(np.where(ends, pos - run_start + 1, 0), axis=-1)[..., None]
    idx = np.moveaxis(np.take_along_axis(order, best, -1), -1, d).astype(_I64, copy=False)
    return _selected(return_types.mode, ModeBackward0, input, a, idx, d, keepdim, out, scalar)


class Unique2Backward0(Node):
    """``unique`` has no derivative (as in PyTorch its output requires grad but backward raises)."""

    __slots__ = ()
    _op = '_unique2'

    def backward(self, g):
        raise NotImplementedError(f"the derivative for '{self._op}' is not implemented.")


class UniqueConsecutiveBackward0(Unique2Backward0):
    __slots__ = ()
    _op = 'unique_consecutive'


def _unique_flags(input, node_cls, values, inverse, counts, return_inverse, return_counts):
    v = _wrap(values)
    if _records(input, values):
        _attach(v, node_cls((grad_edge(input),)))
    out = (v,)
    if return_inverse:
        out += (_wrap(inverse.astype(_I64, copy=False)),)
    if return_counts:
        out += (_wrap(counts.astype(_I64, copy=False)),)
    return out[0] if len(out) == 1 else out


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The unique elements (or slices along ``dim``) in ascending order, optionally with the inverse
    indices (shaped like ``input``, or ``input.size(dim)``) and the counts. NaNs stay distinct.
    Results are always sorted, as PyTorch's CPU kernel returns them."""
    x = input._data
    if dim is None:
        flat = x.reshape(-1)
        vals, inv, cnt = np.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
        return _unique_flags(input, Unique2Backward0, vals, inv.reshape(x.shape), cnt, return_inverse,
                             return_counts)
    if x.ndim == 0:
        raise IndexError(f'Dimension specified as {dim} but tensor has no dimensions')
    d = _one_dim(dim, x.ndim)
    if x.shape[d] == 0:
        vals = x.copy()
        inv = cnt = np.zeros(0, _I64, like=x)
    else:
        vals, inv, cnt = np.unique(x, return_inverse=True, return_counts=True, axis=d)
    return _unique_flags(input, Unique2Backward0, vals, inv.reshape(-1), cnt, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``), keeping the order."""
    x = input._data
    if dim is None:
        rows = x.reshape(-1, 1)
        moved = None
    else:
        if x.ndim == 0:
            raise IndexError(f'Dimension specified as {dim} but tensor has no dimensions')
        d = _one_dim(dim, x.ndim)
        moved = np.moveaxis(x, d, 0)
        rows = moved.reshape(moved.shape[0], -1)
    n = rows.shape[0]
    starts = np.ones(n, bool, like=rows)
    if n > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1) if rows.shape[1] else False
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, n))
    inverse = np.cumsum(starts) - 1
    if dim is None:
        values = x.reshape(-1)[first]
        inverse = inverse.reshape(x.shape)
    else:
        values = np.moveaxis(moved[first], 0, d)
    return _unique_flags(input, UniqueConsecutiveBackward0, np.ascontiguousarray(values, like=values), inverse, counts,
                         return_inverse, return_counts)


__all__ = ['sort', 'argsort', 'msort', 'topk', 'kthvalue', 'median', 'nanmedian', 'mode', 'unique',
           'unique_consecutive']
METHODS = {name: globals()[name] for name in __all__}
