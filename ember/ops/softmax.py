"""``softmax`` and ``log_softmax`` along one dimension: fused NumPy kernels.

Forward subtracts the maximum along ``dim`` before exponentiating, so large inputs never
overflow (a slice of all ``-inf`` gives nan, as in PyTorch). Both ops keep their output for
backward, with PyTorch's formulas:

    softmax:      grad_in = y * (g - sum(g * y, dim))
    log_softmax:  grad_in = g - exp(y) * sum(g, dim)

A plain backward runs them as NumPy expressions; under ``create_graph`` they are written with
Ember ops so that double backward works. float16 is computed in float32 and rounded once.
"""
import numpy as np

from .. import _dtype
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import grad_edge
from ._node import SavedOutputNode
from .reduce import _F16, _F32, _TYPE_NAMES, _acc, _attach, _one_dim, _records, _wrap


def _kernel(x, d, log):
    """softmax (or log_softmax) of float array ``x`` along axis ``d``."""
    a = x.astype(_F32) if x.dtype == _F16 else x
    if a.ndim == 0:
        a = a.reshape(1)
    if a.size == 0:
        return x.copy()
    m = a.max(axis=d, keepdims=True)
    if np.isfinite(m).all():
        y = _shifted(a, m, d, log)
    else:
        with np.errstate(invalid='ignore', divide='ignore'):  # inf - inf: such slices are nan, as in PyTorch
            y = _shifted(a, m, d, log)
    y = y.reshape(x.shape)
    return y if y.dtype == x.dtype else y.astype(x.dtype)


def _shifted(a, m, d, log):
    y = a - m
    if log:
        y -= np.log(np.add.reduce(np.exp(y), axis=d, keepdims=True))
    else:
        np.exp(y, out=y)
        y /= np.add.reduce(y, axis=d, keepdims=True)
    return y


class SoftmaxBackward0(SavedOutputNode):
    __slots__ = ('dim',)

    def backward(self, g):
        y = self.saved_output()
        d = self.dim
        if not _grad_enabled():
            ya, ga = y._data, g._data
            axis = d if ya.ndim else None
            gy = np.multiply(ga, ya, out=np.empty_like(ya, dtype=np.result_type(ga.dtype, ya.dtype)))
            s = np.add.reduce(gy, axis=axis, keepdims=True, dtype=_acc(gy.dtype)).astype(gy.dtype)
            np.subtract(ga, s, out=gy)
            gy *= ya
            return (_wrap(gy),)
        return (y * (g - (g * y).sum(d, keepdim=True)),)


class LogSoftmaxBackward0(SavedOutputNode):
    __slots__ = ('dim',)

    def backward(self, g):
        y = self.saved_output()
        d = self.dim
        if not _grad_enabled():
            ya, ga = y._data, g._data
            axis = d if ya.ndim else None
            s = np.add.reduce(ga, axis=axis, keepdims=True, dtype=_acc(ga.dtype)).astype(ga.dtype)
            r = np.exp(ya, out=np.empty_like(ya, dtype=np.result_type(ga.dtype, ya.dtype)))
            r *= s
            np.subtract(ga, r, out=r)
            return (_wrap(r),)
        return (g - y.exp() * g.sum(d, keepdim=True),)


def _op(name, node_cls, input, dim, dtype, log):
    if dtype is not None:
        input = input.to(_dtype.to_dtype(dtype))
    x = input._data
    d = _one_dim(dim, x.ndim)
    if x.dtype.kind != 'f':
        kernel = f'{name}_lastdim_kernel_impl' if x.ndim == 0 or d == x.ndim - 1 else f'{name}_kernel_impl'
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_TYPE_NAMES[x.dtype.name]}\'')
    r_arr = _kernel(x, d, log)
    r = _wrap(r_arr)
    if _records(input, r_arr):
        node = node_cls((grad_edge(input),))
        node.save_output(r)
        node.dim = d
        _attach(r, node)
    return r


def softmax(input, dim, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``; ``dtype`` casts the input first. Same shape as ``input``."""
    return _op('softmax', SoftmaxBackward0, input, dim, dtype, False)


def log_softmax(input, dim, dtype=None):
    """``x - logsumexp(x)`` along ``dim`` (stable); ``dtype`` casts the input first."""
    return _op('log_softmax', LogSoftmaxBackward0, input, dim, dtype, True)


__all__ = ['softmax', 'log_softmax']
METHODS = {'softmax': softmax, 'log_softmax': log_softmax}
