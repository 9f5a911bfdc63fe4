"""``tensor[key]`` and ``tensor[key] = value``, plus masked fills.

Basic keys (ints, slices with positive step, None, ``...``) give views; integer and boolean
tensors (advanced indexing) give copies, with NumPy's placement rules, which PyTorch shares.
"""
import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _enabled
from ..autograd.graph import Node, grad_edge
from ._inplace import check_inplace, commit, inplace_variant
from ._node import sum_to_shape
from ._views import make_view


def normalize_key(key, shape):
    """``(numpy_key, is_advanced)`` for a PyTorch index, with PyTorch's errors for bad indices."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    advanced = False
    dim = 0
    ndim = len(shape)
    n_consuming = sum(1 for k in key if k is not None and k is not Ellipsis and not
                      (isinstance(k, Tensor) and k._data.dtype == np.bool_) and not isinstance(k, bool))
    for k in key:
        if isinstance(k, Tensor):
            a = k._data
            if a.dtype == np.bool_:
                _check_mask(a, shape, dim)
                dim += a.ndim
            elif a.dtype.kind in 'iu':
                _check_range(a, shape, dim)
                dim += 1
            else:
                raise IndexError('tensors used as indices must be long, int, byte or bool tensors')
            out.append(a)
            advanced = True
        elif k is None:
            out.append(None)
        elif k is Ellipsis:
            out.append(Ellipsis)
            dim = ndim - (n_consuming - dim) if n_consuming <= ndim else dim
        elif isinstance(k, slice):
            if k.step is not None and int(k.step) <= 0:
                raise ValueError('step must be greater than zero')
            out.append(k)
            dim += 1
        elif isinstance(k, bool):
            out.append(None if k else np.zeros(0, np.int64))
            advanced = advanced or not k
        elif isinstance(k, (int, np.integer)):
            if dim >= ndim:
                raise IndexError(f'too many indices for tensor of dimension {ndim}')
            size = shape[dim]
            if not -size <= k < size:
                raise IndexError(f'index {k} is out of bounds for dimension {dim} with size {size}')
            out.append(int(k))
            dim += 1
        elif isinstance(k, (list, np.ndarray, range)):
            a = np.asarray(k)
            if a.dtype == np.bool_:
                _check_mask(a, shape, dim)
                dim += a.ndim
            elif a.dtype.kind in 'iu' or a.size == 0:
                a = a.astype(np.int64)
                _check_range(a, shape, dim)
                dim += 1
            else:
                raise IndexError('tensors used as indices must be long, int, byte or bool tensors')
            out.append(a)
            advanced = True
        else:
            raise IndexError(f'only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are '
                             f'valid indices (got {type(k).__name__})')
    if dim > ndim:
        raise IndexError(f'too many indices for tensor of dimension {ndim}')
    return tuple(out), advanced


def _check_range(a, shape, dim):
    if dim >= len(shape):
        raise IndexError(f'too many indices for tensor of dimension {len(shape)}')
    size = shape[dim]
    if a.size and (a.max() >= size or a.min() < -size):
        bad = a.max() if a.max() >= size else a.min()
        raise IndexError(f'index {bad} is out of bounds for dimension {dim} with size {size}')


def _check_mask(a, shape, dim):
    want = shape[dim:dim + a.ndim]
    if a.shape != tuple(want):
        for i, (m, s) in enumerate(zip(a.shape, want)):
            if m != s:
                raise IndexError(f'The shape of the mask [{", ".join(map(str, a.shape))}] at index {i} does not '
                                 f'match the shape of the indexed tensor [{", ".join(map(str, shape))}] at index '
                                 f'{dim + i}')
        raise IndexError(f'too many indices for tensor of dimension {len(shape)}')


class SliceBackward0(Node):
    """Backward of basic indexing (and of advanced indexing, as ``IndexBackward0``)."""

    __slots__ = ('shape', 'dtype', 'key', 'advanced')

    def backward(self, g):
        return (_scatter_zeros(g, self.shape, self.dtype, self.key, self.advanced),)


class IndexBackward0(SliceBackward0):
    __slots__ = ()


def getitem(input, key):
    """``input[key]``: a view for basic indexing, a copy for advanced indexing."""
    x = input._data
    npkey, advanced = normalize_key(key, x.shape)
    if advanced:
        out = _wrap(np.array(x[npkey], copy=True))
        cls = IndexBackward0
    else:
        out = make_view(input, x[npkey], '__getitem__', (key,))
        cls = SliceBackward0
    if _enabled[0] and input._requires_grad:
        node = cls((grad_edge(input),))
        node.shape = x.shape
        node.dtype = x.dtype
        node.key = npkey
        node.advanced = advanced
        out.grad_fn = node
        out._requires_grad = True
    return out


class _ScatterZerosBackward(Node):
    __slots__ = ('key',)

    def backward(self, gg):
        return (_wrap(gg._data[self.key]) if not gg._requires_grad else gg[_as_torch_key(self.key)],)


def _as_torch_key(npkey):
    return tuple(_wrap(k) if isinstance(k, np.ndarray) else k for k in npkey)


def _scatter_zeros(g, shape, dtype, key, advanced):
    """Zeros of ``shape`` with ``g`` added at ``key`` (repeated advanced indices accumulate)."""
    z = np.zeros(shape, dtype)
    if advanced:
        np.add.at(z, key, g._data)
    else:
        z[key] = g._data
    out = _wrap(z)
    if _enabled[0] and g._requires_grad:
        node = _ScatterZerosBackward((grad_edge(g),))
        node.key = key
        out.grad_fn = node
        out._requires_grad = True
    return out


class IndexPutBackward0(Node):
    __slots__ = ('key', 'value_meta')

    def backward(self, g):
        mask = np.ones(g._data.shape, g._data.dtype)
        mask[self.key] = 0
        gx = g * _wrap(mask)
        gv = None
        if self.value_meta is not None:
            shape, dtype = self.value_meta
            gv = _wrap(g._data[self.key]) if not g._requires_grad else g[_as_torch_key(self.key)]
            gv = sum_to_shape(gv, shape)
            if gv._data.dtype != dtype:
                gv = _wrap(gv._data.astype(dtype))
        return gx, gv


def index_put_copy(input, key, value):
    """Out-of-place ``input[key] = value``: a copy of ``input`` with ``value`` written at ``key``."""
    x = input._data
    npkey, _ = normalize_key(key, x.shape)
    v = value._data if isinstance(value, Tensor) else value
    r = x.copy()
    try:
        r[npkey] = v
    except ValueError:
        target = x[npkey].shape
        raise RuntimeError(f'shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast to '
                           f'indexing result of shape {list(target)}') from None
    out = _wrap(r)
    vt = value if isinstance(value, Tensor) else None
    if _enabled[0] and (input._requires_grad or (vt is not None and vt._requires_grad)):
        node = IndexPutBackward0((grad_edge(input), grad_edge(vt) if vt is not None else (None, 0)))
        node.key = npkey
        node.value_meta = (vt._data.shape, vt._data.dtype) if vt is not None else None
        out.grad_fn = node
        out._requires_grad = True
    return out


def setitem(self, key, value):
    """``self[key] = value`` in place (value broadcast and cast to ``self``'s dtype)."""
    check_inplace(self)
    if _enabled[0] and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
        commit(self, index_put_copy(self, key, value))
        return
    x = self._data
    npkey, _ = normalize_key(key, x.shape)
    v = value._data if isinstance(value, Tensor) else value
    try:
        x[npkey] = v
    except ValueError:
        raise RuntimeError(f'shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast to '
                           f'indexing result of shape {list(x[npkey].shape)}') from None
    self._vc[0] += 1


class MaskedFillBackward0(Node):
    __slots__ = ('mask', 'value_meta')

    def backward(self, g):
        m = _wrap(self.mask)
        gx = g * m.logical_not()
        gv = None
        if self.value_meta is not None:
            gv = (g * m).sum().to(self.value_meta)
        return gx, gv


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or 0-d tensor) where the bool ``mask`` (broadcast) is True."""
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise RuntimeError(f'masked_fill_ only supports boolean masks, but got mask with dtype '
                           f'{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}')
    x = input._data
    m = mask._data
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt._data.ndim != 0:
        raise RuntimeError(f'masked_fill_ only supports a 0-dimensional value tensor, but got tensor with '
                           f'{vt._data.ndim} dimension(s).')
    v = vt._data if vt is not None else value
    try:
        r = np.where(m, np.asarray(v).astype(x.dtype), x)
    except ValueError:
        raise RuntimeError(f'The size of tensor a ({x.shape}) must match the size of tensor b ({m.shape})') from None
    if r.shape != x.shape:
        r = r.copy()
    out = _wrap(r)
    if _enabled[0] and (input._requires_grad or (vt is not None and vt._requires_grad)):
        node = MaskedFillBackward0((grad_edge(input), grad_edge(vt) if vt is not None else (None, 0)))
        node.mask = m
        node.value_meta = vt.dtype if vt is not None else None
        out.grad_fn = node
        out._requires_grad = True
    return out


masked_fill_ = inplace_variant(masked_fill, 'masked_fill_')


__all__ = ['masked_fill']
METHODS = {'__getitem__': getitem, '__setitem__': setitem, 'masked_fill': masked_fill,
           'masked_fill_': masked_fill_}
