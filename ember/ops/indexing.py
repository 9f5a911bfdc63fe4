"""Indexing: ``tensor[key]``, ``tensor[key] = value`` and the named indexing ops (``gather``,
``scatter``, ``index_select``, ``masked_fill``, ``where``, ``nonzero``, ``take``, ``index_put``, ...).

A key is applied as PyTorch does: first its basic part (ints select, slices with positive
step, None and True insert dims, ``...``), which gives a view; then, if any remain, the
advanced indices (integer and bool tensors, lists) on that view, which copy, with NumPy's
placement rules (adjacent advanced indices keep their place, separated ones go first).
Assignment writes through the same view, with ``copy_`` or ``index_put_`` semantics, so a
write to a view of a tensor is recorded as ``CopySlices`` on its base.
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap, _wrap_dim
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge
from ._inplace import check_no_partial_overlap, check_writable, inplace_variant
from ._node import CopyBackwards, SavedOutputNode, reduce_grad
from ._operands import array_of, binary_operands, write_out
from ._views import make_view

_INTS = (int, np.integer)
_NUMBERS = (int, float, bool, np.number, np.bool_)


def _type_name(d):
    return {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int', 'int64': 'Long',
            'float16': 'Half', 'float32': 'Float', 'float64': 'Double'}[np.dtype(d).name]


def _shape_str(s):
    return '[' + ', '.join(str(v) for v in s) + ']'


# ---- keys ---------------------------------------------------------------------------------------

def _as_tuple_key(key):
    """PyTorch's rule for a list key: a tuple of indices if it holds tensors, sequences, slices,
    None or ``...`` (and is short), else one index array."""
    if isinstance(key, tuple):
        return key
    if isinstance(key, list) and len(key) < 32:
        for k in key:
            if k is None or k is Ellipsis or isinstance(k, (Tensor, list, tuple, slice, np.ndarray)):
                return tuple(key)
    return (key,)


def _index_array(k):
    """An index item as an ndarray (bool for masks, intp for integer indices), else None."""
    if isinstance(k, Tensor):
        a = k._data
    elif isinstance(k, (list, np.ndarray, range)):
        a = np.asarray(k)
        if a.size == 0 and a.dtype.kind == 'f':
            a = a.astype(np.int64)
    else:
        return None
    if a.dtype == np.bool_ or a.dtype == np.uint8:
        return a.astype(np.bool_, copy=False)
    if a.dtype.kind in 'iu':
        return a
    raise IndexError('tensors used as indices must be long, int, byte or bool tensors')


class _Key:
    """A parsed key: ``basic`` (a NumPy basic-indexing tuple ending in ``...``, or None when the
    basic part changes nothing), ``adv`` (a NumPy key for the advanced part, applied to the
    basic view, or None) and ``name`` (the grad node of the basic part)."""

    __slots__ = ('basic', 'adv', 'name', 'new_dims')


def parse_key(key, shape):
    """Split a PyTorch index into its basic and advanced parts, with PyTorch's errors."""
    items = _as_tuple_key(key)
    ndim = len(shape)
    arrays = [_index_array(k) for k in items]
    consumed = 0
    for k, a in zip(items, arrays):
        if a is not None:
            consumed += a.ndim if a.dtype == np.bool_ else 1
        elif k is not Ellipsis and k is not None and not isinstance(k, (bool, np.bool_)):
            consumed += 1
    if consumed > ndim:
        raise IndexError(f'too many indices for tensor of dimension {ndim}')
    basic = []
    adv = []
    has_adv = False
    changed = False
    name = 'AliasBackward0'
    dim = 0
    adv_dim = 0
    new_dims = []  # (position in the basic result, input dim following it) of each inserted dim
    for k, a in zip(items, arrays):
        if a is not None:
            if a.dtype == np.bool_:
                want = tuple(shape[dim:dim + a.ndim])
                if a.shape != want:
                    for i, (m, s) in enumerate(zip(a.shape, want)):
                        if m != s:
                            raise IndexError(f'The shape of the mask {_shape_str(a.shape)} at index {i} does not '
                                             f'match the shape of the indexed tensor {_shape_str(shape)} at index '
                                             f'{dim + i}')
                basic.extend([slice(None)] * a.ndim)
                dim += a.ndim
                adv_dim += a.ndim
            else:
                size = shape[dim]
                if a.size:
                    hi, lo = a.max(), a.min()
                    if hi >= size or lo < -size:
                        bad = hi if hi >= size else lo
                        raise IndexError(f'index {bad} is out of bounds for dimension {adv_dim} with size {size}')
                basic.append(slice(None))
                dim += 1
                adv_dim += 1
            adv.append(a)
            has_adv = True
        elif k is None or (isinstance(k, (bool, np.bool_)) and k):
            new_dims.append((_result_dim(basic), dim))
            basic.append(None)
            adv.append(slice(None))
            changed = True
            name = 'UnsqueezeBackward0'
        elif isinstance(k, (bool, np.bool_)):
            new_dims.append((_result_dim(basic), dim))
            basic.append(None)
            adv.append(np.zeros(0, np.int64))
            changed = has_adv = True
        elif k is Ellipsis:
            n = ndim - consumed
            basic.extend([slice(None)] * n)
            adv.extend([slice(None)] * n)
            dim += n
        elif isinstance(k, slice):
            step = k.step
            if step is not None and int(step) == 0:
                raise ValueError('slice step cannot be zero')
            if step is not None and int(step) < 0:
                raise ValueError('step must be greater than zero')
            basic.append(k)
            adv.append(slice(None))
            dim += 1
            changed = True
            name = 'SliceBackward0'
        elif isinstance(k, _INTS) or (hasattr(k, '__index__') and not isinstance(k, float)):
            k = int(k.__index__()) if not isinstance(k, _INTS) else int(k)
            size = shape[dim]
            if not -size <= k < size:
                raise IndexError(f'index {k} is out of bounds for dimension {dim} with size {size}')
            basic.append(k)
            dim += 1
            changed = True
            name = 'SelectBackward0'
        elif isinstance(k, str):
            raise TypeError(f"new(): invalid data type '{type(k).__name__}'")
        else:
            raise IndexError('only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are '
                             f'valid indices (got {type(k).__name__})')
    if has_adv:
        ints = [a if a.dtype != np.bool_ else np.empty(int(a.sum()), like=a) for a in adv if isinstance(a, np.ndarray)]
        try:
            np.broadcast_shapes(*[a.shape for a in ints])
        except ValueError:
            raise IndexError('shape mismatch: indexing tensors could not be broadcast together with shapes '
                             + ', '.join(_shape_str(a.shape) for a in ints)) from None
        while adv and isinstance(adv[-1], slice):
            adv.pop()
    pk = _Key()
    pk.new_dims = tuple(new_dims)
    pk.basic = tuple(basic) + (Ellipsis,) if changed or not has_adv else None
    pk.adv = tuple(adv) if has_adv else None
    pk.name = name
    return pk


def _result_dim(basic):
    """The dim of the basic-indexing result that the next item of ``basic`` produces."""
    return sum(1 for k in basic if not isinstance(k, _INTS))


def _basic_array(x, basic, new_dims):
    """``x[basic]`` with PyTorch's strides for inserted dims (``unsqueeze``'s rule, not NumPy's 0)."""
    arr = x[basic]
    if new_dims or not arr.size:
        from ._views import storage_offset, strided_view
        item = x.itemsize
        strides = [st // item for st in arr.strides]
        for p, d in new_dims:
            strides[p] = x.shape[d] * x.strides[d] // item if d < x.ndim else 1
        if not arr.size:
            # NumPy normalises empty slices (start, step); PyTorch keeps the slice's start and step.
            offset = storage_offset(x)
            d = p = 0
            for k in basic:
                if k is Ellipsis:
                    break
                if k is None:
                    p += 1
                    continue
                n = x.shape[d]
                if isinstance(k, slice):
                    start, _, step = k.indices(n) if n else (0, 0, k.step or 1)
                    strides[p] = x.strides[d] // item * step
                    p += 1
                else:
                    start = k % n
                offset += start * x.strides[d] // item
                d += 1
            arr = strided_view(x, arr.shape, strides, offset)
        elif tuple(st * item for st in strides) != arr.strides:
            arr = strided_view(x, arr.shape, strides, storage_offset(arr))
    return arr


class _BasicKey:
    """``t[key]`` for a basic key, as a callable for backward nodes."""

    __slots__ = ('key',)

    def __init__(self, key):
        self.key = key

    def __call__(self, t):
        return getitem(t, self.key)


_SLICE_NODES = {}


def _slice_node(name):
    cls = _SLICE_NODES.get(name)
    if cls is None:
        from .shape import SliceBackward0
        cls = _SLICE_NODES[name] = type(name, (SliceBackward0,), {'__slots__': ()})
    return cls


def _basic_view(input, basic, name, new_dims=()):
    out = make_view(input, _basic_array(input._data, basic, new_dims), '__getitem__', (basic,))
    if input._requires_grad and _grad_enabled():
        node = _slice_node(name)((grad_edge(input),))
        node.shape = input._data.shape
        node.dtype = input._data.dtype
        node.apply = _BasicKey(basic)
        out.grad_fn = node
        out._requires_grad = True
    return out


class IndexBackward0(Node):
    """Gradient of advanced indexing: ``g`` summed into zeros at the indexed places."""

    __slots__ = ('shape', 'dtype', 'key')

    def backward(self, g):
        return (_index_add_zeros(g, self.shape, self.dtype, self.key),)


class _IndexAddZerosBackward(Node):
    __slots__ = ('key',)

    def backward(self, gg):
        return (_advanced(gg, self.key),)


def _index_add_zeros(g, shape, dtype, key):
    """Zeros of ``shape`` with ``g`` added at advanced ``key`` (repeated indices accumulate)."""
    z = np.zeros(shape, dtype, like=g._data)
    np.add.at(z, key, g._data)
    out = _wrap(z)
    if _grad_enabled() and g._requires_grad:
        node = _IndexAddZerosBackward((grad_edge(g),))
        node.key = key
        out.grad_fn = node
        out._requires_grad = True
    return out


def _advanced(input, key):
    """``input[key]`` for a NumPy advanced key (a copy)."""
    x = input._data
    r = x[key]
    if not isinstance(r, np.ndarray):
        r = np.asarray(r, like=x)
    if np.may_share_memory(r, x):
        r = r.copy()
    out = _wrap(r)
    if input._requires_grad and _grad_enabled():
        node = IndexBackward0((grad_edge(input),))
        node.shape = x.shape
        node.dtype = x.dtype
        node.key = key
        out.grad_fn = node
        out._requires_grad = True
    return out


def getitem(input, key):
    """``input[key]``: a view for basic indexing, a copy when advanced indices are present."""
    x = input._data
    tk = type(key)
    if tk is int:
        size = x.shape[0] if x.ndim else 0
        if not x.ndim:
            raise IndexError('invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` '
                             'in C++ to convert a 0-dim tensor to a number')
        if not -size <= key < size:
            raise IndexError(f'index {key} is out of bounds for dimension 0 with size {size}')
        return _basic_view(input, (key, Ellipsis), 'SelectBackward0')
    if tk is slice or tk is tuple and len(key) <= x.ndim and all(type(k) is int or type(k) is slice for k in key):
        basic = _simple_key((key,) if tk is slice else key, x.shape)
        if basic is not None:
            return _basic_view(input, basic, 'SelectBackward0' if type(basic[-2]) is int else 'SliceBackward0')
    pk = parse_key(key, x.shape)
    v = input if pk.basic is None else _basic_view(input, pk.basic, pk.name, pk.new_dims)
    if pk.adv is None:
        return v
    return _advanced(v, pk.adv)


def _simple_key(key, shape):
    """Fast path for keys made only of ints and slices: the NumPy key, or None to take the
    general path (which raises the errors)."""
    for k, n in zip(key, shape):
        if type(k) is int:
            if not -n <= k < n:
                return None
        elif k.step is not None and (type(k.step) is not int or k.step <= 0):
            return None
    return key + (Ellipsis,) if key else None


def _strip_leading_ones(v, ndim):
    """PyTorch drops leading size-1 dims of an assigned value that has more dims than the target."""
    s = v._data.shape
    k = 0
    while len(s) - k > ndim and s[k] == 1:
        k += 1
    return v.reshape(s[k:]) if k else v


def _assigned(input, value):
    """``value`` broadcast and cast to ``input``'s shape and dtype (the result of ``input.copy_(value)``)."""
    from .shape import _expand_shape
    x = input._data
    value = _strip_leading_ones(value, x.ndim)
    _expand_shape(value, x.shape)
    r = _wrap(np.broadcast_to(value._data, x.shape).astype(x.dtype, copy=True))
    if _grad_enabled() and (input._requires_grad or value._requires_grad):
        node = CopyBackwards((grad_edge(input), grad_edge(value)))
        node.src_meta = (value._data.shape, value._data.dtype)
        r.grad_fn = node
        r._requires_grad = True
    return r


_assign_ = inplace_variant(_assigned, '_assign_')


_C_TYPES = {'uint8': 'uint8_t', 'int8': 'int8_t', 'int16': 'int16_t', 'int32': 'int', 'int64': 'int64_t',
            'float16': 'c10::Half'}


def scalar_to(value, dtype):
    """A Python number as a 0-d array of ``dtype``, with PyTorch's overflow error."""
    dtype = np.dtype(dtype)
    if dtype.kind in 'iu' and not isinstance(value, (bool, np.bool_)):
        v = value
        if isinstance(v, (float, np.floating)) and np.isfinite(v):
            v = int(v)
        info = np.iinfo(dtype)
        if not (isinstance(v, (int, np.integer)) and info.min <= v <= info.max):
            raise RuntimeError(f'value cannot be converted to type {_C_TYPES[dtype.name]} without overflow')
    elif dtype == np.float16 and isinstance(value, (int, float, np.number)) and np.isfinite(value) \
            and abs(float(value)) > 65504:
        raise RuntimeError('value cannot be converted to type at::Half without overflow')
    return np.array(value).astype(dtype)


def _value_tensor(value, dtype):
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _NUMBERS):
        return _wrap(scalar_to(value, dtype))
    raise TypeError(f"can't assign a {type(value).__name__} to a {_legacy_name(dtype)}")


def _legacy_name(dtype):
    return 'torch.' + {'float32': 'FloatTensor', 'float64': 'DoubleTensor', 'float16': 'HalfTensor',
                       'int64': 'LongTensor', 'int32': 'IntTensor', 'int16': 'ShortTensor', 'int8': 'CharTensor',
                       'uint8': 'ByteTensor', 'bool': 'BoolTensor'}[np.dtype(dtype).name]


def setitem(self, key, value):
    """``self[key] = value`` in place: ``value`` (a number or tensor) is broadcast and cast to
    ``self``'s dtype; basic keys copy into the view, advanced keys use ``index_put_``."""
    x = self._data
    pk = parse_key(key, x.shape)
    value = _value_tensor(value, x.dtype)
    if pk.adv is None:
        check_no_partial_overlap(x if pk.basic is None else _basic_array(x, pk.basic, pk.new_dims), value._data)
    if _grad_enabled() and (self._requires_grad or value._requires_grad):
        v = self if pk.basic is None else _basic_view(self, pk.basic, pk.name, pk.new_dims)
        if value._data.dtype != x.dtype:
            value = value.to(_dtype._BY_NP[x.dtype])
        if pk.adv is None:
            _assign_(v, value)
        else:
            _index_put_(v, pk.adv, value, False)
        return
    target = x if pk.basic is None else x[pk.basic]
    check_writable(target, pk.adv is not None)
    v = value._data
    if pk.adv is None:
        from .shape import _expand_shape
        value = _strip_leading_ones(value, target.ndim)
        _expand_shape(value, target.shape)
        target[...] = value._data
    else:
        _put_at(target, pk.adv, v, False)
    self._vc[0] += 1


def _put_at(arr, key, v, accumulate):
    """``arr[key] = v`` (``+=`` with repeats summed when ``accumulate``), with PyTorch's shape error."""
    want = arr[key].shape
    vs = v.shape
    k = 0
    while len(vs) - k > len(want) and vs[k] == 1:
        k += 1
    v = v.reshape(vs[k:])
    try:
        np.broadcast_to(v, want)
    except ValueError:
        raise RuntimeError(f'shape mismatch: value tensor of shape {_shape_str(vs)} cannot be broadcast to indexing '
                           f'result of shape {_shape_str(want)}') from None
    if accumulate:
        np.add.at(arr, key, v.astype(arr.dtype, copy=False))
    else:
        arr[key] = v


# ---- index_put ------------------------------------------------------------------------------------

class IndexPutBackward0(Node):
    __slots__ = ('key', 'accumulate', 'value_meta')

    def backward(self, g):
        gx = gv = None
        if self.next_functions[0][0] is not None:
            zero = _wrap(np.zeros((), g._data.dtype, like=g._data))
            gx = g if self.accumulate else _index_put(g, self.key, zero, False)
        if self.next_functions[1][0] is not None:
            gv = reduce_grad(_advanced(g, self.key), *self.value_meta)
        return gx, gv


def _index_put(input, key, values, accumulate):
    """Out-of-place ``input[key] = values`` for a NumPy advanced key."""
    x = input._data
    if values._data.dtype != x.dtype:
        raise RuntimeError(f'Index put requires the source and destination dtypes match, got '
                           f'{_type_name(x.dtype)} for the destination and {_type_name(values._data.dtype)} for the '
                           'source.')
    r = x.copy(order='K')
    _put_at(r, key, values._data, accumulate)
    out = _wrap(r)
    if _grad_enabled() and (input._requires_grad or values._requires_grad):
        node = IndexPutBackward0((grad_edge(input), grad_edge(values)))
        node.key = key
        node.accumulate = accumulate
        node.value_meta = (values._data.shape, values._data.dtype)
        out.grad_fn = node
        out._requires_grad = True
    return out


_index_put_ = inplace_variant(_index_put, 'index_put_', overlap_ok=True)


def _indices_key(input, indices):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f'expected Tensor as element {i} in argument 0, but got {type(t).__name__}')
    pk = parse_key(tuple(indices), input._data.shape)
    return pk.adv if pk.adv is not None else (Ellipsis,)


def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` written at ``input[indices]`` (a tuple of integer/bool
    tensors); with ``accumulate``, added instead (repeated indices sum)."""
    return _index_put(input, _indices_key(input, indices), values, accumulate)


def index_put_(input, indices, values, accumulate=False):
    """In-place ``index_put``; returns ``input``."""
    return _index_put_(input, _indices_key(input, indices), values, accumulate)


# ---- dim-wise index checks ----------------------------------------------------------------------------

def _index_data(index, what, allow_int32=True, message=None):
    if not isinstance(index, Tensor):
        raise TypeError(f"{what}: argument 'index' must be Tensor, not {type(index).__name__}")
    a = index._data
    if a.dtype != np.int64 and not (allow_int32 and a.dtype == np.int32):
        raise (IndexError if message is None else RuntimeError)(
            message or f'{what}: Expected dtype int64 for index.')
    return a


def _check_bounds(a, size, dim, exc=RuntimeError, prefix=''):
    if a.size:
        hi, lo = a.max(), a.min()
        if hi >= size or lo < 0:
            bad = hi if hi >= size else lo
            raise exc(f'{prefix}index {bad} is out of bounds for dimension {dim} with size {size}')


def _coords(index, dim):
    """Index arrays addressing, for every position of ``index``, its element with coordinate
    ``index[pos]`` along ``dim`` (``gather``/``scatter``'s addressing)."""
    n = index.ndim
    out = []
    for d in range(n):
        if d == dim:
            out.append(index)
        else:
            shape = [1] * n
            shape[d] = index.shape[d]
            out.append(np.arange(index.shape[d], like=index).reshape(shape))
    return tuple(out)


def _check_gather(x, dim, idx, what, src=None):
    if idx.ndim != x.ndim and not (idx.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError('Index tensor must have the same number of dimensions as '
                           + ('input tensor' if what == 'gather' else 'self tensor'))
    if src is not None and src.ndim != idx.ndim and not (idx.ndim <= 1 and src.ndim <= 1):
        raise RuntimeError('Index tensor must have the same number of dimensions as src tensor')
    ishape = idx.shape if idx.ndim else (1,)
    xshape = x.shape if x.ndim else (1,)
    for d in range(len(ishape)):
        if d != dim and ishape[d] > xshape[d]:
            if what == 'gather':
                raise RuntimeError(f'Size does not match at dimension {d} expected index {_shape_str(ishape)} to be '
                                   f'no larger than self {_shape_str(xshape)} apart from dimension {dim}')
            msg = (f'Expected index {_shape_str(ishape)} to be no larger than self {_shape_str(xshape)} apart from '
                   f'dimension {dim}')
            if src is not None:
                msg += f' and to be no larger size than src {_shape_str(src.shape if src.ndim else (1,))}'
            raise RuntimeError(msg)
    if src is not None:
        sshape = src.shape if src.ndim else (1,)
        for d in range(len(ishape)):
            if ishape[d] > sshape[d]:
                raise RuntimeError(f'Expected index {_shape_str(ishape)} to be no larger than self '
                                   f'{_shape_str(xshape)} apart from dimension {dim} and to be no larger size than '
                                   f'src {_shape_str(sshape)}')
    _check_bounds(idx, xshape[dim], dim)


def _promote_1d(*arrays):
    return tuple(a.reshape(1) if a.ndim == 0 else a for a in arrays)


# ---- gather, scatter ----------------------------------------------------------------------------------

class GatherBackward0(Node):
    __slots__ = ('dim', 'index', 'shape')

    def backward(self, g):
        z = _wrap(np.zeros(self.shape, g._data.dtype, like=g._data))
        return (scatter_add(z, self.dim, _wrap(self.index), g),)


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """``out[i][j] = input[index[i][j]][j]`` for ``dim == 0`` (and likewise for other dims)."""
    x = input._data
    d = _wrap_dim(dim, x.ndim)
    idx = _index_data(index, 'gather()', message='gather(): Expected dtype int64 for index')
    _check_gather(x, d, idx, 'gather')
    x1, idx1 = _promote_1d(x, idx)
    r = _wrap(np.ascontiguousarray(x1[_coords(idx1, d)], like=idx).reshape(idx.shape))
    if input._requires_grad and _grad_enabled():
        node = GatherBackward0((grad_edge(input),))
        node.dim, node.index, node.shape = d, idx, x.shape
        r.grad_fn = node
        r._requires_grad = True
    return write_out(out, r) if out is not None else r


class ScatterBackward0(Node):
    """``scatter`` of ``src``: overwritten places get no gradient; ``src`` gets ``g`` gathered."""

    __slots__ = ('dim', 'index', 'src_shape')

    def backward(self, g):
        gx = gs = None
        index = _wrap(self.index)
        if self.next_functions[0][0] is not None:
            gx = scatter(g, self.dim, index, 0)
        if self.next_functions[1][0] is not None:
            gs = _to_src_shape(gather(g, self.dim, index), self.src_shape)
        return gx, gs


def _to_src_shape(g, shape):
    """Zero-pad a gradient shaped like the index up to ``src``'s shape (``src`` may be larger)."""
    gshape = g._data.shape if g._data.ndim else (1,)
    if tuple(gshape) == tuple(shape if len(shape) else (1,)):
        return g.reshape(shape) if g._data.shape != tuple(shape) else g
    from .pad import pad
    amounts = []
    for n, m in zip(reversed(gshape), reversed(shape)):
        amounts += [0, m - n]
    return pad(g, amounts)


class ScatterBackward1(Node):
    __slots__ = ('dim', 'index')

    def backward(self, g):
        return (scatter(g, self.dim, _wrap(self.index), 0),)


class ScatterAddBackward0(Node):
    __slots__ = ('dim', 'index', 'src_shape')

    def backward(self, g):
        gs = None
        if self.next_functions[1][0] is not None:
            gs = _to_src_shape(gather(g, self.dim, _wrap(self.index)), self.src_shape)
        return g, gs


class _NotImplementedBackward(Node):
    __slots__ = ('what',)

    def backward(self, g):
        raise RuntimeError(f'derivative for aten::{self.what} is not implemented')


_UFUNC_AT = {'add': np.add, 'sum': np.add, 'multiply': np.multiply, 'prod': np.multiply, 'amax': np.maximum,
             'amin': np.minimum, 'mean': np.add}


def _scatter_src(input, dim, index, src, what, reduce=None, value=False):
    x = input._data
    d = _wrap_dim(dim, x.ndim)
    idx = _index_data(index, f'{what}()', message=f'{what}(): Expected dtype int64 for index')
    s = src._data
    if s.dtype != x.dtype:
        raise RuntimeError(f'{what}(): Expected self.dtype to be equal to src.dtype')
    _check_gather(x, d, idx, what, None if value else s)
    r = x.copy(order='K')
    r1, idx1, s1 = _promote_1d(r, idx, s)
    coords = _coords(idx1, d)
    vals = s1[tuple(slice(0, n) for n in idx1.shape)]
    if reduce is None:
        r1[coords] = vals
    else:
        _UFUNC_AT[reduce].at(r1, coords, vals)
    return _wrap(r), d, idx


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src[i][j]`` (or the number ``value``) written at
    ``[index[i][j]][j]`` for ``dim == 0``; ``reduce='add'``/``'multiply'`` combines instead."""
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if reduce is not None and reduce not in ('add', 'multiply'):
        raise RuntimeError('reduce argument must be either add or multiply.')
    if src is None:
        if value is None:
            raise TypeError('scatter() missing required argument: src or value')
        x = input._data
        fill = _wrap(np.broadcast_to(np.array(value, like=x).astype(x.dtype),
                                     index._data.shape if isinstance(index, Tensor) else ()))
        r, d, idx = _scatter_src(input, dim, index, fill, 'scatter', reduce, value=True)
        if input._requires_grad and _grad_enabled():
            node = (ScatterBackward1 if reduce is None else _NotImplementedBackward)((grad_edge(input),))
            node.dim, node.index = d, idx
            if reduce is not None:
                node.what = 'scatter'
            r.grad_fn = node
            r._requires_grad = True
        return r
    r, d, idx = _scatter_src(input, dim, index, src, 'scatter', reduce)
    if _grad_enabled() and (input._requires_grad or src._requires_grad):
        if reduce is None:
            node = ScatterBackward0((grad_edge(input), grad_edge(src)))
            node.dim, node.index, node.src_shape = d, idx, src._data.shape
        else:
            node = _NotImplementedBackward((grad_edge(input), grad_edge(src)))
            node.what = 'scatter'
        r.grad_fn = node
        r._requires_grad = True
    return r


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src[i][j]`` added at ``[index[i][j]][j]`` (dim 0); repeats sum."""
    r, d, idx = _scatter_src(input, dim, index, src, 'scatter_add', 'add')
    if _grad_enabled() and (input._requires_grad or src._requires_grad):
        node = ScatterAddBackward0((grad_edge(input), grad_edge(src)))
        node.dim, node.index, node.src_shape = d, idx, src._data.shape
        r.grad_fn = node
        r._requires_grad = True
    return r


class ScatterReduceBackward0(SavedOutputNode):
    """PyTorch's ``scatter_reduce`` gradients (ties in amax/amin share the gradient evenly)."""

    __slots__ = ('dim', 'index', 'reduce', 'include_self', 'src_shape')

    def backward(self, g):
        d, reduce, include_self = self.dim, self.reduce, self.include_self
        index = _wrap(self.index)
        src_shape = self.src_shape
        if reduce in ('prod', 'amax', 'amin'):
            x, src = self.saved()
            result = self.saved_output()
            if len(src_shape):
                src = src[tuple(slice(0, n) for n in self.index.shape)]
        if reduce == 'sum':
            gx = g
            gs = gather(g, d, index)
        elif reduce == 'mean':
            n = _wrap((np.ones if include_self else np.zeros)(g._data.shape, g._data.dtype, like=g._data))
            n = scatter_add(n, d, index, _wrap(np.ones(self.index.shape, g._data.dtype, like=g._data)))
            n = masked_fill(n, n == 0, 1)
            gx = g / n
            gs = gather(g, d, index) / gather(n, d, index)
        elif reduce == 'prod':
            masked_x = masked_fill(x, x == 0, 1)
            masked_x_result = scatter_reduce(masked_x, d, index, src, 'prod', include_self=include_self)
            gx = g * masked_x_result / masked_x
            src_zero = src == 0
            zeros_like = _wrap(np.zeros(g._data.shape, g._data.dtype, like=g._data))
            src_num_zeros = gather(scatter_add(zeros_like, d, index, src_zero.to(_dtype._BY_NP[g._data.dtype])), d,
                                   index)
            src_single_zero = src_zero & (src_num_zeros == 1)
            masked_src = masked_fill(src, src_single_zero, 1)
            masked_src_result = scatter_reduce(x, d, index, masked_src, 'prod', include_self=include_self)
            gs = where(src_single_zero, gather(g * masked_src_result, d, index),
                       gather(g * result, d, index) / masked_fill(src, src_zero, 1))
        else:
            value = gather(result, d, index)
            x_is = (x == result).to(_dtype._BY_NP[g._data.dtype])
            src_is = (src == value).to(_dtype._BY_NP[g._data.dtype])
            n = scatter_add(x_is, d, index, src_is)
            gd = g / n
            gx = x_is * gd
            gs = src_is * gather(gd, d, index)
        if not include_self:
            gx = scatter(gx, d, index, 0)
        return (gx if self.next_functions[0][0] is not None else None,
                _to_src_shape(gs, src_shape) if self.next_functions[1][0] is not None else None)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with the ``src`` values reduced into ``[index[i][j]][j]`` (dim 0) by ``reduce``:
    'sum', 'prod', 'mean', 'amax' or 'amin'; ``include_self=False`` ignores ``input``'s values
    at the places written to."""
    if reduce not in ('sum', 'prod', 'mean', 'amax', 'amin'):
        raise RuntimeError(f'reduce argument must be either sum, prod, mean, amax or amin, got {reduce}')
    x = input._data
    d = _wrap_dim(dim, x.ndim)
    idx = _index_data(index, 'scatter_reduce()', message='scatter_reduce(): Expected dtype int64 for index')
    s = src._data
    if s.dtype != x.dtype:
        raise RuntimeError('scatter_reduce(): Expected self.dtype to be equal to src.dtype')
    _check_gather(x, d, idx, 'scatter_reduce', s)
    r = x.copy(order='K')
    r1, idx1, s1 = _promote_1d(r, idx, s)
    coords = _coords(idx1, d)
    vals = s1[tuple(slice(0, n) for n in idx1.shape)]
    if not include_self:
        if reduce in ('sum', 'mean'):
            ident = 0
        elif reduce == 'prod':
            ident = 1
        elif x.dtype.kind == 'f':
            ident = -np.inf if reduce == 'amax' else np.inf
        elif x.dtype == np.bool_:
            ident = reduce == 'amin'
        else:
            info = np.iinfo(x.dtype)
            ident = info.min if reduce == 'amax' else info.max
        r1[coords] = ident
    _UFUNC_AT[reduce].at(r1, coords, vals)
    if reduce == 'mean':
        n = np.zeros(r1.shape, np.int64, like=r1)
        np.add.at(n, coords, 1)
        if include_self:
            n += 1
        n = np.maximum(n, 1)
        if x.dtype.kind == 'f':
            r1[...] = r1 / n
        else:
            r1[...] = np.floor_divide(r1, n)
    out = _wrap(r)
    if _grad_enabled() and (input._requires_grad or src._requires_grad):
        node = ScatterReduceBackward0((grad_edge(input), grad_edge(src)))
        node.dim, node.index, node.reduce, node.include_self, node.src_shape = d, idx, reduce, include_self, s.shape
        if reduce in ('prod', 'amax', 'amin'):
            node.save(input, src)
            node.save_output(out)
        out.grad_fn = node
        out._requires_grad = True
    return out


# ---- index_select, index_add, index_copy, index_fill -----------------------------------------------

def _dim_index(index, what, allow_int32=True):
    if not isinstance(index, Tensor):
        raise TypeError(f"{what}(): argument 'index' must be Tensor, not {type(index).__name__}")
    a = index._data
    if a.ndim > 1:
        raise IndexError(f'{what}(): Index is supposed to be a vector')
    if a.dtype != np.int64 and not (allow_int32 and a.dtype == np.int32):
        if what == 'index_select':
            raise RuntimeError('index_select(): Expected dtype int32 or int64 for index')
        raise IndexError(f'{what}_(): Expected dtype int64 for index.')
    return a.reshape(-1)


def _take_dim(x, d, idx):
    if x.ndim == 0:
        return x.reshape(1)[idx].reshape(idx.shape if idx.size != 1 else ())
    return np.take(x, idx, axis=d)


class IndexSelectBackward0(Node):
    __slots__ = ('dim', 'index', 'shape')

    def backward(self, g):
        z = _wrap(np.zeros(self.shape, g._data.dtype, like=g._data))
        return (index_add(z, self.dim, _wrap(self.index), g),)


def index_select(input, dim, index, *, out=None):
    """The entries of ``input`` at positions ``index`` (a 1-D integer tensor) along ``dim``."""
    x = input._data
    d = _wrap_dim(dim, x.ndim)
    idx = _dim_index(index, 'index_select')
    size = x.shape[d] if x.ndim else 1
    if x.ndim == 0 and idx.size != 1:
        raise RuntimeError(f'index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)')
    if idx.size and (idx.max() >= size or idx.min() < 0):
        raise IndexError('index out of range in self')
    if x.ndim == 0:
        r = _wrap(x.copy())
    else:
        r = _wrap(np.take(x, idx, axis=d))
    if input._requires_grad and _grad_enabled():
        node = IndexSelectBackward0((grad_edge(input),))
        node.dim, node.index, node.shape = d, idx, x.shape
        r.grad_fn = node
        r._requires_grad = True
    return write_out(out, r) if out is not None else r


def _check_index_source(x, d, idx, s, what):
    if s.ndim and d >= s.ndim:
        raise RuntimeError(f'{what}_(): Indexing dim {d} is out of bounds of the source tensor with dim {s.ndim}')
    n = s.shape[d] if s.ndim else 1
    if idx.size != n:
        raise RuntimeError(f'{what}_(): Number of indices ({idx.size}) should be equal to source.size(dim): ({n}), '
                           f'for dim: {d}')
    xs = list(x.shape)
    ss = list(s.shape)
    if x.ndim and s.ndim and (len(xs) != len(ss) or any(a != b for i, (a, b) in enumerate(zip(xs, ss)) if i != d)):
        raise RuntimeError(f'source tensor shape must match self tensor shape, excluding the specified dimension. '
                           f'Got self.shape = {_shape_str(xs)} source.shape = {_shape_str(ss)}')


def _dim_key(ndim, d, idx):
    return (slice(None),) * d + (idx,)


class IndexAddBackward0(Node):
    __slots__ = ('dim', 'index', 'alpha', 'source_shape')

    def backward(self, g):
        gs = None
        if self.next_functions[1][0] is not None:
            gs = index_select(g, self.dim, _wrap(self.index)) if g._data.ndim else g.reshape(1)
            if self.alpha != 1:
                gs = gs * self.alpha
            gs = gs.reshape(self.source_shape)
        return g, gs


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` added at positions ``index`` along ``dim``
    (repeated indices accumulate)."""
    x = input._data
    d = _wrap_dim(dim, x.ndim)
    idx = _dim_index(index, 'index_add')
    s = source._data
    if s.dtype != x.dtype:
        raise RuntimeError(f'index_add_(): self ({_type_name(x.dtype)}) and source ({_type_name(s.dtype)}) must have '
                           'the same scalar type')
    _check_index_source(x, d, idx, s, 'index_add')
    size = x.shape[d] if x.ndim else 1
    _check_bounds(idx, size, d)
    r = x.copy(order='K')
    if alpha != 1 and x.dtype.kind in 'iub':
        alpha = int(alpha)
    vals = s if alpha == 1 else (s * alpha).astype(x.dtype)
    if x.ndim == 0:
        r1 = r.reshape(1)
        np.add.at(r1, idx, vals.reshape(-1))
    else:
        np.add.at(r, _dim_key(x.ndim, d, idx), vals if s.ndim else vals.reshape(1))
    out = _wrap(r)
    if _grad_enabled() and (input._requires_grad or source._requires_grad):
        node = IndexAddBackward0((grad_edge(input), grad_edge(source)))
        node.dim, node.index, node.alpha, node.source_shape = d, idx, alpha, s.shape
        out.grad_fn = node
        out._requires_grad = True
    return out


class IndexCopyBackward0(Node):
    __slots__ = ('dim', 'index', 'source_shape')

    def backward(self, g):
        index = _wrap(self.index)
        gx = index_fill(g, self.dim, index, 0) if self.next_functions[0][0] is not None else None
        gs = None
        if self.next_functions[1][0] is not None:
            gs = index_select(g, self.dim, index).reshape(self.source_shape)
        return gx, gs


def index_copy(input, dim, index, source):
    """A copy of ``input`` with the slices of ``source`` written at positions ``index`` along ``dim``."""
    x = input._data
    d = _wrap_dim(dim, x.ndim)
    idx = _dim_index(index, 'index_copy', allow_int32=False)
    s = source._data
    if s.dtype != x.dtype:
        raise RuntimeError(f'index_copy_(): self and source expected to have the same dtype, but got (self) '
                           f'{_type_name(x.dtype)} and (source) {_type_name(s.dtype)}')
    _check_index_source(x, d, idx, s, 'index_copy')
    size = x.shape[d] if x.ndim else 1
    _check_bounds(idx, size, d, IndexError, 'index_copy_(): ')
    r = x.copy(order='K')
    if x.ndim == 0:
        r.reshape(1)[idx] = s.reshape(-1)
    else:
        r[_dim_key(x.ndim, d, idx)] = s if s.ndim else s.reshape(1)
    out = _wrap(r)
    if _grad_enabled() and (input._requires_grad or source._requires_grad):
        node = IndexCopyBackward0((grad_edge(input), grad_edge(source)))
        node.dim, node.index, node.source_shape = d, idx, s.shape
        out.grad_fn = node
        out._requires_grad = True
    return out


class IndexFillBackward0(Node):
    __slots__ = ('dim', 'index')

    def backward(self, g):
        index = _wrap(self.index)
        gx = index_fill(g, self.dim, index, 0) if self.next_functions[0][0] is not None else None
        gv = None
        if self.next_functions[1][0] is not None:
            gv = index_select(g, self.dim, index).sum() if g._data.ndim else g.sum()
        return gx, gv


def index_fill(input, dim, index, value):
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) at positions ``index`` along ``dim``."""
    x = input._data
    d = _wrap_dim(dim, x.ndim)
    idx = _dim_index(index, 'index_fill', allow_int32=False)
    size = x.shape[d] if x.ndim else 1
    if idx.size and (idx.max() >= size or idx.min() < -size):
        bad = idx.max() if idx.max() >= size else idx.min()
        raise IndexError(f'index {bad} is out of bounds for dimension {d} with size {size}')
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt._data.ndim:
        raise RuntimeError(f'index_fill_ only supports a 0-dimensional value tensor, but got tensor with '
                           f'{vt._data.ndim} dimension(s).')
    v = np.array(vt._data if vt is not None else value, like=x).astype(x.dtype)
    r = x.copy(order='K')
    if x.ndim == 0:
        r.reshape(1)[idx] = v
    else:
        r[_dim_key(x.ndim, d, idx)] = v
    out = _wrap(r)
    if _grad_enabled() and (input._requires_grad or (vt is not None and vt._requires_grad)):
        node = IndexFillBackward0((grad_edge(input), grad_edge(vt) if vt is not None else (None, 0)))
        node.dim, node.index = d, idx
        out.grad_fn = node
        out._requires_grad = True
    return out


# ---- take, take_along_dim, put ------------------------------------------------------------------------

def _flat_index(index, numel, what):
    if not isinstance(index, Tensor):
        raise TypeError(f"{what}(): argument 'index' must be Tensor, not {type(index).__name__}")
    a = index._data
    if a.dtype != np.int64:
        if what == 'put_':
            raise RuntimeError(f'put_(): Expected a long tensor for index, but got {_type_name(a.dtype)}')
        raise RuntimeError(f'{what}(): Expected a long tensor for index, but got {_type_name(a.dtype)}')
    if a.size and (a.max() >= numel or a.min() < -numel):
        bad = a.max() if a.max() >= numel else a.min()
        raise IndexError(f'out of range: tried to access index {bad} on a tensor of {numel} elements.')
    return np.where(a < 0, a + numel, a)


class TakeBackward0(Node):
    __slots__ = ('index', 'shape')

    def backward(self, g):
        z = _wrap(np.zeros(self.shape, g._data.dtype, like=g._data))
        return (put(z, _wrap(self.index), g, accumulate=True),)


def take(input, index):
    """``input`` treated as 1-D, read at ``index`` (any shape; negative counts from the end)."""
    x = input._data
    idx = _flat_index(index, x.size, 'take')
    r = _wrap(x.reshape(-1)[idx] if x.flags.c_contiguous else np.ravel(x)[idx])
    if input._requires_grad and _grad_enabled():
        node = TakeBackward0((grad_edge(input),))
        node.index, node.shape = idx, x.shape
        r.grad_fn = node
        r._requires_grad = True
    return r


class PutBackward0(Node):
    __slots__ = ('index', 'accumulate', 'source_shape')

    def backward(self, g):
        index = _wrap(self.index)
        gx = gs = None
        if self.next_functions[0][0] is not None:
            gx = g if self.accumulate else put(g, index, _wrap(np.zeros(self.index.shape, g._data.dtype, like=g._data)))
        if self.next_functions[1][0] is not None:
            gs = take(g, index).reshape(self.source_shape)
        return gx, gs


def put(input, index, source, accumulate=False):
    """A copy of ``input`` (as 1-D) with ``source`` written at ``index`` (added when ``accumulate``)."""
    x = input._data
    idx = _flat_index(index, x.size, 'put_')
    s = source._data
    if s.dtype != x.dtype:
        raise RuntimeError(f'put_(): self and source expected to have the same dtype, but got self.dtype = '
                           f'{_type_name(x.dtype)} and source.dtype = {_type_name(s.dtype)}.')
    if s.size != idx.size:
        raise IndexError(f'put_(): Expected source and index to have the same number of elements, but got '
                         f'source.numel() = {s.size}, index.numel() = {idx.size}')
    r = x.copy()
    flat = r.reshape(-1)
    if accumulate:
        np.add.at(flat, idx.reshape(-1), s.reshape(-1))
    else:
        flat[idx.reshape(-1)] = s.reshape(-1)
    out = _wrap(r)
    if _grad_enabled() and (input._requires_grad or source._requires_grad):
        node = PutBackward0((grad_edge(input), grad_edge(source)))
        node.index, node.accumulate, node.source_shape = idx, accumulate, s.shape
        out.grad_fn = node
        out._requires_grad = True
    return out


def take_along_dim(input, indices, dim=None, *, out=None):
    """``gather`` along ``dim`` after broadcasting ``input`` and ``indices`` in the other dims
    (over the flattened tensor when ``dim`` is None)."""
    a = indices._data
    if a.dtype != np.int64:
        raise RuntimeError(f'torch.take_along_dim(): dtype of indices should be Long but got {_type_name(a.dtype)}')
    if dim is None:
        r = gather(input.view(-1), 0, indices.view(-1))
        return write_out(out, r) if out is not None else r
    x = input._data
    if x.ndim != a.ndim:
        raise RuntimeError(f'torch.take_along_dim(): input and indices should have the same number of dimensions, '
                           f'but got {x.ndim} dimensions for input, and {a.ndim} dimensions for indices')
    d = _wrap_dim(dim, x.ndim)
    xs = list(x.shape)
    ids = list(a.shape)
    xs[d] = ids[d] = 1
    bshape = list(np.broadcast_shapes(tuple(xs), tuple(ids)))
    xb, ib = list(bshape), list(bshape)
    xb[d] = x.shape[d]
    ib[d] = a.shape[d]
    r = gather(input.expand(xb), d, indices.expand(ib))
    return write_out(out, r) if out is not None else r


# ---- masked ops ---------------------------------------------------------------------------------------

def _broadcast_error(a, b):
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    for i in range(n - 1, -1, -1):
        if a[i] != b[i] and a[i] != 1 and b[i] != 1:
            return RuntimeError(f'The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at '
                                f'non-singleton dimension {i}')
    return RuntimeError('shapes cannot be broadcast together')


def _broadcast_shape(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        raise _broadcast_error(a, b) from None


def _check_mask(mask, what):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{what}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask._data.dtype != np.bool_:
        names = {'uint8': 'unsigned char', 'int64': 'long int', 'int32': 'int', 'int16': 'short int',
                 'int8': 'signed char', 'float32': 'float', 'float64': 'double', 'float16': 'c10::Half'}
        raise RuntimeError(f'{what} only supports boolean masks, but got mask with dtype '
                           f'{names.get(mask._data.dtype.name, mask._data.dtype.name)}')
    return mask._data


class MaskedFillBackward0(Node):
    __slots__ = ('mask', 'shape', 'dtype')

    def backward(self, g):
        m = _wrap(self.mask)
        gx = gv = None
        if self.next_functions[0][0] is not None:
            gx = reduce_grad(masked_fill(g, m, 0), self.shape, self.dtype)
        if self.next_functions[1][0] is not None:
            gv = masked_fill(g, m.logical_not(), 0).sum()
        return gx, gv


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or 0-d tensor) where the bool ``mask`` (broadcast) is True."""
    m = _check_mask(mask, 'masked_fill_')
    x = input._data
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt._data.ndim != 0:
        raise RuntimeError(f'masked_fill_ only supports a 0-dimensional value tensor, but got tensor with '
                           f'{vt._data.ndim} dimension(s).')
    v = np.array(vt._data if vt is not None else value, like=x).astype(x.dtype)
    shape = _broadcast_shape(m.shape, x.shape)
    r = np.where(m, v, x)
    if r.shape != shape:
        r = np.broadcast_to(r, shape).copy()
    out = _wrap(r)
    if _grad_enabled() and (input._requires_grad or (vt is not None and vt._requires_grad)):
        node = MaskedFillBackward0((grad_edge(input), grad_edge(vt) if vt is not None else (None, 0)))
        node.mask, node.shape, node.dtype = m, x.shape, x.dtype
        out.grad_fn = node
        out._requires_grad = True
    return out


class MaskedScatterBackward0(Node):
    __slots__ = ('mask', 'shape', 'dtype', 'source_shape')

    def backward(self, g):
        m = _wrap(self.mask)
        gx = gs = None
        if self.next_functions[0][0] is not None:
            gx = reduce_grad(masked_fill(g, m, 0), self.shape, self.dtype)
        if self.next_functions[1][0] is not None:
            from .join import cat
            sel = masked_select(g, m)
            n = int(np.prod(self.source_shape, dtype=np.int64))
            rest = n - sel._data.size
            if rest:
                sel = cat([sel, _wrap(np.zeros(rest, g._data.dtype, like=g._data))])
            gs = sel.reshape(self.source_shape)
        return gx, gs


def masked_scatter(input, mask, source):
    """``input`` with the first elements of ``source`` (in order) copied where ``mask`` is True."""
    m = _check_mask(mask, 'masked_scatter_')
    x = input._data
    s = source._data
    if s.dtype != x.dtype:
        raise RuntimeError(f'masked_scatter: expected self and source to have same dtypes but got'
                           f'{_type_name(x.dtype)} and {_type_name(s.dtype)}')
    shape = _broadcast_shape(m.shape, x.shape)
    mb = np.broadcast_to(m, shape)
    count = int(mb.sum())
    if s.size < count:
        raise RuntimeError('Number of elements of source < number of ones in mask')
    r = np.array(np.broadcast_to(x, shape), copy=True, like=x)
    r[mb] = s.reshape(-1)[:count]
    out = _wrap(r)
    if _grad_enabled() and (input._requires_grad or source._requires_grad):
        node = MaskedScatterBackward0((grad_edge(input), grad_edge(source)))
        node.mask, node.shape, node.dtype, node.source_shape = m, x.shape, x.dtype, s.shape
        out.grad_fn = node
        out._requires_grad = True
    return out


class MaskedSelectBackward0(Node):
    __slots__ = ('mask', 'shape', 'dtype', 'full')

    def backward(self, g):
        z = _wrap(np.zeros(self.full, g._data.dtype, like=g._data))
        return (reduce_grad(masked_scatter(z, _wrap(np.broadcast_to(self.mask, self.full)), g), self.shape,
                            self.dtype),)


def masked_select(input, mask, *, out=None):
    """The elements of ``input`` where ``mask`` is True (both broadcast), as a 1-D tensor."""
    m = _check_mask(mask, 'masked_select')
    x = input._data
    shape = _broadcast_shape(m.shape, x.shape)
    r = _wrap(np.broadcast_to(x, shape)[np.broadcast_to(m, shape)])
    if input._requires_grad and _grad_enabled():
        node = MaskedSelectBackward0((grad_edge(input),))
        node.mask, node.shape, node.dtype, node.full = m, x.shape, x.dtype, shape
        r.grad_fn = node
        r._requires_grad = True
    return write_out(out, r) if out is not None else r


# ---- where, nonzero ------------------------------------------------------------------------------------

class WhereBackward0(Node):
    __slots__ = ('cond', 'meta')

    def backward(self, g):
        c = _wrap(self.cond)
        ga = gb = None
        if self.next_functions[0][0] is not None:
            ga = reduce_grad(masked_fill(g, c.logical_not(), 0), *self.meta[0])
        if self.next_functions[1][0] is not None:
            gb = reduce_grad(masked_fill(g, c, 0), *self.meta[1])
        return ga, gb


def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` is True, else ``other`` (tensors or numbers, broadcast and
    promoted). With only ``condition``: ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' must be Tensor, not {type(condition).__name__}")
    c = condition._data
    if c.dtype != np.bool_:
        raise RuntimeError(f'where expected condition to be a boolean tensor, but got a tensor with dtype '
                           f'{_type_name(c.dtype)}')
    if isinstance(input, Tensor) or isinstance(other, Tensor):
        a, b, ta, tb = binary_operands(input, other)
        npd = (a if isinstance(a, np.ndarray) else b).dtype
        a, b = np.asarray(a, npd, like=array_of(a, b)), np.asarray(b, npd, like=array_of(a, b))
    else:
        cats = [2 if isinstance(v, float) else 0 if isinstance(v, bool) else 1 for v in (input, other)]
        npd = (np.bool_, np.int64, _dtype.get_default_dtype().np)[max(cats)]
        a, b, ta, tb = np.array(input, npd, like=c), np.array(other, npd, like=c), None, None
    a = np.asarray(a, like=array_of(a, c))
    b = np.asarray(b, dtype=a.dtype, like=a)
    shape = c.shape
    for s in (a.shape, b.shape):
        shape = _broadcast_shape(tuple(shape), s)
    r = np.where(c, a, b)
    if r.shape != tuple(shape):
        r = np.broadcast_to(r, shape).copy()
    res = _wrap(r)
    if _grad_enabled() and ((ta is not None and ta._requires_grad) or (tb is not None and tb._requires_grad)):
        node = WhereBackward0((grad_edge(ta) if ta is not None else (None, 0),
                               grad_edge(tb) if tb is not None else (None, 0)))
        node.cond = c
        node.meta = (None if ta is None else (ta._data.shape, ta._data.dtype),
                     None if tb is None else (tb._data.shape, tb._data.dtype))
        res.grad_fn = node
        res._requires_grad = True
    return write_out(out, res) if out is not None else res


def _where_method(self, condition, other):
    """``Tensor.where(condition, other)``: ``where(condition, self, other)``."""
    return where(condition, self, other)


def nonzero(input, *, out=None, as_tuple=False):
    """Indices of the non-zero elements: an int64 tensor of shape (n, ndim), or with ``as_tuple``
    one 1-D tensor per dimension (a 0-d input counts as 1-D)."""
    x = input._data
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(x if x.ndim else x.reshape(1)))
    r = _wrap(np.argwhere(x).astype(np.int64))
    return write_out(out, r) if out is not None else r


def argwhere(input):
    """``nonzero(input)``: indices of the non-zero elements, shape (n, ndim)."""
    return nonzero(input)


# ---- in-place variants -----------------------------------------------------------------------------------

scatter_ = inplace_variant(scatter, 'scatter_')
scatter_add_ = inplace_variant(scatter_add, 'scatter_add_')
scatter_reduce_ = inplace_variant(scatter_reduce, 'scatter_reduce_')
masked_fill_ = inplace_variant(masked_fill, 'masked_fill_', overlap_ok=True)
masked_scatter_ = inplace_variant(masked_scatter, 'masked_scatter_')
index_add_ = inplace_variant(index_add, 'index_add_')
index_copy_ = inplace_variant(index_copy, 'index_copy_')
index_fill_ = inplace_variant(index_fill, 'index_fill_', overlap_ok=True)
put_ = inplace_variant(put, 'put_')

__all__ = ['gather', 'scatter', 'scatter_add', 'scatter_reduce', 'index_select', 'index_add', 'index_copy',
           'index_fill', 'index_put', 'index_put_', 'take', 'take_along_dim', 'put', 'masked_fill', 'masked_scatter',
           'masked_select', 'where', 'nonzero', 'argwhere']
METHODS = {name: globals()[name] for name in __all__}
METHODS.update({
    '__getitem__': getitem, '__setitem__': setitem, 'where': _where_method, 'scatter_': scatter_,
    'scatter_add_': scatter_add_,
    'scatter_reduce_': scatter_reduce_, 'masked_fill_': masked_fill_, 'masked_scatter_': masked_scatter_,
    'index_add_': index_add_, 'index_copy_': index_copy_, 'index_fill_': index_fill_, 'put_': put_,
})
