"""Copies and conversions: ``clone``, ``contiguous``, ``to``, dtype casts, ``copy_``."""
import numpy as np

from .. import _dtype
from .._device import check_device, device as _device
from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _enabled
from ..autograd.graph import Node, grad_edge
from ._inplace import check_inplace, commit
from ._node import CopyBackwards


class CloneBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return (g,)


def clone(input, *, memory_format=None):
    """A copy with its own memory that stays in the graph (gradient passes through unchanged).

    Like PyTorch's default ``preserve_format``, the copy keeps the input's stride order (a clone
    of ``x.t()`` is transposed too); ``memory_format=ember.contiguous_format`` gives a C-ordered copy.
    """
    keep = memory_format is None or memory_format is _dtype.preserve_format
    out = _wrap(np.array(input._data, copy=True, order='K' if keep else 'C', like=input._data))
    if _enabled[0] and input._requires_grad:
        out.grad_fn = CloneBackward0((grad_edge(input),))
        out._requires_grad = True
    return out


def contiguous(input, memory_format=None):
    """``input`` itself if C-contiguous, else a contiguous copy (``clone``)."""
    if input._data.flags.c_contiguous:
        return input
    return clone(input, memory_format=_dtype.contiguous_format)


class ToCopyBackward0(Node):
    __slots__ = ('dtype',)

    def backward(self, g):
        return (_cast(g, self.dtype),)


def _cast(input, d):
    """``input`` converted to ember dtype ``d`` (recorded; float -> int casts cut the graph)."""
    x = input._data
    if x.dtype == d.np:
        return input
    out = _wrap(x.astype(d.np))
    if _enabled[0] and input._requires_grad and d.is_floating_point:
        node = ToCopyBackward0((grad_edge(input),))
        node.dtype = _dtype._BY_NP[x.dtype]
        out.grad_fn = node
        out._requires_grad = True
    return out


def to(input, *args, dtype=None, device=None, non_blocking=False, copy=False, memory_format=None):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``: a converted tensor, or
    ``input`` itself when nothing changes and ``copy`` is False."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype if dtype is None else dtype
        elif isinstance(a, (str, _device)) and (not isinstance(a, str) or _looks_like_device(a)):
            device = a
        elif isinstance(a, int) and not isinstance(a, bool):
            device = a
        else:
            dtype = a
    if device is not None:
        check_device(device)
    if dtype is None:
        return clone(input) if copy else input
    d = _dtype.to_dtype(dtype)
    if d.np == input._data.dtype:
        return clone(input) if copy else input
    return _cast(input, d)


def _looks_like_device(s):
    return s.split(':')[0] in ('cpu', 'cuda', 'mps', 'meta', 'xpu')


def _caster(d, name):
    def method(self, memory_format=None):
        return _cast(self, d)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f'``self.to({d!r})``.'
    return method


def type_as(input, other):
    return to(input, other.dtype)


def view_dtype(input, dtype):
    """Reinterpret the bytes as ``dtype`` (same item size: a view; otherwise the last dim rescales)."""
    d = _dtype.to_dtype(dtype)
    x = input._data
    if d.itemsize != x.itemsize and (x.ndim == 0 or not x.flags.c_contiguous):
        raise RuntimeError('self.stride(-1) must be 1 to view ' + str(input.dtype) + ' as ' + str(d) +
                           ' (different element sizes), or must be contiguous')
    from ._views import make_view
    return make_view(input, x.view(d.np), 'view', (d,))


def _copy(self, src):
    # The "out-of-place copy": ``src`` broadcast and cast into a tensor shaped like ``self``.
    if not isinstance(src, Tensor):
        from .._creation import tensor
        src = tensor(src)
    try:
        arr = np.broadcast_to(src._data, self._data.shape)
    except ValueError:
        raise RuntimeError(f'The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must match '
                           f'the size of tensor b ({src._data.shape[-1] if src._data.ndim else 1}) at non-singleton '
                           f'dimension') from None
    out = _wrap(arr.astype(self._data.dtype, copy=True))
    if _enabled[0] and (self._requires_grad or src._requires_grad):
        node = CopyBackwards((grad_edge(self), grad_edge(src)))
        node.src_meta = (src._data.shape, src._data.dtype)
        out.grad_fn = node
        out._requires_grad = True
    return out


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast) into ``self`` in place; gradient flows to ``src``."""
    check_inplace(self)
    if not _enabled[0] or not (self._requires_grad or (isinstance(src, Tensor) and src._requires_grad)):
        arr = self._data
        s = src._data if isinstance(src, Tensor) else np.asarray(src, like=self._data)
        try:
            np.copyto(arr, s, casting='unsafe')
        except ValueError:
            raise RuntimeError(f'output with shape {list(arr.shape)} doesn\'t match the broadcast shape '
                               f'{list(np.broadcast_shapes(arr.shape, s.shape))}') from None
        self._vc[0] += 1
        return self
    return commit(self, _copy(self, src))


__all__ = ['clone']
METHODS = {
    'clone': clone, 'contiguous': contiguous, 'to': to, 'type_as': type_as, 'copy_': copy_,
    'float': _caster(_dtype.float32, 'float'), 'double': _caster(_dtype.float64, 'double'),
    'half': _caster(_dtype.float16, 'half'), 'long': _caster(_dtype.int64, 'long'),
    'int': _caster(_dtype.int32, 'int'), 'short': _caster(_dtype.int16, 'short'),
    'char': _caster(_dtype.int8, 'char'), 'byte': _caster(_dtype.uint8, 'byte'),
    'bool': _caster(_dtype.bool_, 'bool'),
}
