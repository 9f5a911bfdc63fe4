"""Reductions: sum, mean, ... over ``dim`` (int or tuple) with ``keepdim``."""
import numpy as np

from .. import _dtype
from .._tensor import _wrap, _wrap_dim
from ..autograd.grad_mode import _enabled
from ..autograd.graph import Node, grad_edge
from ._operands import write_out


def normalize_dims(dim, ndim):
    """``dim`` (None, int, or sequence) as a sorted tuple of non-negative axes; None means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (_wrap_dim(int(dim), ndim),)
    dims = tuple(_wrap_dim(int(d), ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f'dim {dims[0]} appears multiple times in the list of dims')
    if not dims:
        return tuple(range(ndim))
    return tuple(sorted(dims))


def _keep_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _sum_dtype(arr, dtype):
    """PyTorch sums integers and bools in int64 unless ``dtype`` is given."""
    if dtype is not None:
        return _dtype.to_dtype(dtype).np
    if arr.dtype.kind in 'biu':
        return np.dtype(np.int64)
    return arr.dtype


class SumBackward0(Node):
    __slots__ = ('shape', 'dims', 'dtype')

    def backward(self, g):
        if g._data.ndim != len(self.shape):
            g = g.reshape(_keep_shape(self.shape, self.dims))
        g = g.expand(self.shape)
        if g._data.dtype != self.dtype:
            g = g.to(_dtype._BY_NP[self.dtype])
        return (g,)


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of ``input`` over ``dim`` (all dims when None); ints and bools accumulate in int64."""
    x = input._data
    dims = normalize_dims(dim, x.ndim)
    r = _wrap(np.sum(x, axis=dims, keepdims=keepdim, dtype=_sum_dtype(x, dtype)))
    if _enabled[0] and input._requires_grad:
        node = SumBackward0((grad_edge(input),))
        node.shape = x.shape
        node.dims = dims
        node.dtype = x.dtype
        r.grad_fn = node
        r._requires_grad = True
    if out is not None:
        return write_out(out, r)
    return r


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over ``dim``; floating dtypes only (PyTorch's error for integer input)."""
    x = input._data
    if dtype is not None:
        input = input.to(dtype)
    elif x.dtype.kind not in 'fc':
        raise RuntimeError(f'mean(): could not infer output dtype. Input dtype must be either a floating point or '
                           f'complex dtype. Got: {_type_name(input.dtype)}')
    dims = normalize_dims(dim, x.ndim)
    n = 1
    for d in dims:
        n *= x.shape[d]
    r = sum(input, dims, keepdim) / n if n else sum(input, dims, keepdim) * float('nan')
    if out is not None:
        return write_out(out, r)
    return r


def _type_name(d):
    return d.name.capitalize() if d.name != 'int64' else 'Long'


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (which ``input`` must be broadcastable from)."""
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = tuple(size[0])
    from ._node import sum_to_shape
    if not _expandable(tuple(size), input._data.shape):
        raise RuntimeError(f'size {{{", ".join(map(str, size))}}} is not expandable to size '
                           f'{{{", ".join(map(str, input.shape))}}}.')
    return sum_to_shape(input, tuple(size))


def _expandable(small, big):
    if len(small) > len(big):
        return False
    for s, b in zip(reversed(small), reversed(big)):
        if s != 1 and s != b:
            return False
    return True


__all__ = ['sum', 'mean']
METHODS = {'sum': sum, 'mean': mean, 'sum_to_size': sum_to_size}
