"""Joining tensors: ``cat`` (``concat``, ``concatenate``), ``stack`` and the ``hstack``/``vstack``/
``dstack``/``column_stack`` family. Inputs are promoted to a common dtype as in PyTorch; the
gradient of each input is its slice of the output's gradient.
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap, _wrap_dim
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge
from ._operands import write_out


class CatBackward0(Node):
    """Each input gets its slice of ``g`` along ``dim`` (cast back to its dtype)."""

    __slots__ = ('dim', 'sizes', 'dtypes')

    def backward(self, g):
        grads = []
        start = 0
        for (fn, _), n, dt in zip(self.next_functions, self.sizes, self.dtypes):
            if fn is None:
                grads.append(None)
            elif n is None:  # a skipped legacy empty tensor
                grads.append(_wrap(np.zeros((0,), dt, like=g._data)))
            else:
                gi = g.narrow(self.dim, start, n)
                if gi._data.dtype != dt:
                    gi = gi.to(_dtype._BY_NP[dt])
                grads.append(gi)
            if n is not None:
                start += n
        return tuple(grads)


class StackBackward0(Node):
    __slots__ = ('dim', 'dtypes')

    def backward(self, g):
        grads = []
        for i, ((fn, _), dt) in enumerate(zip(self.next_functions, self.dtypes)):
            if fn is None:
                grads.append(None)
                continue
            gi = g.select(self.dim, i)
            if gi._data.dtype != dt:
                gi = gi.to(_dtype._BY_NP[dt])
            grads.append(gi)
        return tuple(grads)


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f'{type(tensors).__name__}')
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f'expected Tensor as element {i} in argument 0, but got {type(t).__name__}')
    return list(tensors)


def _result_dtype(tensors):
    d = _dtype._BY_NP[tensors[0]._data.dtype]
    for t in tensors[1:]:
        d = _dtype.promote_types(d, _dtype._BY_NP[t._data.dtype])
    return d.np


def _record(out, node, inputs):
    if _grad_enabled() and any(t._requires_grad for t in inputs):
        node.next_functions = tuple(grad_edge(t) for t in inputs)
        out.grad_fn = node
        out._requires_grad = True
    return out


def cat(tensors, dim=0, *, out=None):
    """Concatenate ``tensors`` along the existing dimension ``dim``.

    All must have the same shape except along ``dim``; 1-D empty tensors are skipped (legacy
    behaviour PyTorch keeps). The result has the promoted dtype of all inputs.
    """
    tensors = _tensor_list(tensors, 'cat')
    if not tensors:
        raise ValueError('torch.cat(): expected a non-empty list of Tensors')
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f'zero-dimensional tensor (at position {i}) cannot be concatenated')
    keep = [not (t._data.ndim == 1 and t._data.shape[0] == 0) for t in tensors]
    kept = [t for t, k in zip(tensors, keep) if k]
    ref = kept[0] if kept else tensors[0]
    ndim = ref._data.ndim
    d = _wrap_dim(dim, ndim)
    for i, t in enumerate(tensors):
        if keep[i] and t is not ref:
            s = t._data.shape
            if len(s) != ndim:
                raise RuntimeError(f'Tensors must have same number of dimensions: got {ndim} and {len(s)}')
            for k in range(ndim):
                if k != d and s[k] != ref._data.shape[k]:
                    raise RuntimeError(f'Sizes of tensors must match except in dimension {d}. Expected size '
                                       f'{ref._data.shape[k]} but got size {s[k]} for tensor number {i} in the list.')
    rdt = _result_dtype(tensors)
    if kept:
        arr = np.concatenate([t._data for t in kept], axis=d, dtype=rdt)
    else:
        arr = np.zeros((0,), rdt, like=tensors[0]._data)
    r = _wrap(arr)
    node = CatBackward0(())
    node.dim = d
    node.sizes = tuple(t._data.shape[d] if k else None for t, k in zip(tensors, keep))
    node.dtypes = tuple(t._data.dtype for t in tensors)
    _record(r, node, tensors)
    if out is not None:
        return write_out(out, r)
    return r


def concat(tensors, dim=0, *, out=None):
    """Alias of ``cat``."""
    return cat(tensors, dim, out=out)


def concatenate(tensors, axis=0, out=None):
    """Alias of ``cat`` (NumPy's spelling: ``axis``)."""
    return cat(tensors, axis, out=out)


def stack(tensors, dim=0, *, out=None):
    """Join equally-shaped ``tensors`` along a new dimension ``dim``."""
    tensors = _tensor_list(tensors, 'stack')
    if not tensors:
        raise RuntimeError('stack expects a non-empty TensorList')
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != shape:
            raise RuntimeError(f'stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and '
                               f'{list(t._data.shape)} at entry {i}')
    d = _wrap_dim(dim, len(shape) + 1)
    r = _wrap(np.stack([t._data for t in tensors], axis=d, dtype=_result_dtype(tensors)))
    node = StackBackward0(())
    node.dim = d
    node.dtypes = tuple(t._data.dtype for t in tensors)
    _record(r, node, tensors)
    if out is not None:
        return write_out(out, r)
    return r


def hstack(tensors, *, out=None):
    """Concatenate along dimension 1 (dimension 0 for 1-D inputs); 0-d inputs become 1-D."""
    from .shape import atleast_1d
    ts = atleast_1d(_tensor_list(tensors, 'hstack'))
    return cat(ts, 0 if ts and ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Concatenate along dimension 0 after making every input at least 2-D (row vectors)."""
    from .shape import atleast_2d
    return cat(atleast_2d(_tensor_list(tensors, 'vstack')), 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    """Concatenate along dimension 2 after making every input at least 3-D."""
    from .shape import atleast_3d
    return cat(atleast_3d(_tensor_list(tensors, 'dstack')), 2, out=out)


def column_stack(tensors, *, out=None):
    """Concatenate along dimension 1; 0-d and 1-D inputs become columns first."""
    ts = [t.reshape(t._data.size, 1) if t._data.ndim <= 1 else t for t in _tensor_list(tensors, 'column_stack')]
    return cat(ts, 1, out=out)


__all__ = ['cat', 'concat', 'concatenate', 'stack', 'hstack', 'vstack', 'row_stack', 'dstack', 'column_stack']
METHODS = {}
