"""Tensor creation: ``tensor``, ``as_tensor``, ``from_numpy``, ``zeros``/``ones``/``empty``/``full``
(and ``_like``), ``arange``, ``linspace``, ``logspace``, ``eye``."""
import math

import numpy as np

from . import _dtype
from ._device import check_device
from ._tensor import Tensor, _wrap


def _infer_dtype(data):
    """PyTorch's dtype for nested Python data: bool < int64 < default float."""
    cat = -1
    stack = [data]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, Tensor):
            kind = v._data.dtype.kind
            cat = max(cat, 2 if kind == 'f' else 0 if kind == 'b' else 1)
        elif isinstance(v, (bool, np.bool_)):
            cat = max(cat, 0)
        elif isinstance(v, (int, np.integer)):
            cat = max(cat, 1)
        elif isinstance(v, (float, np.floating)):
            cat = 2
        elif isinstance(v, complex):
            raise TypeError('complex tensors are not supported by Ember')
        else:
            raise TypeError(f"new(): invalid data type '{type(v).__name__}'")
    return (_dtype.bool_, _dtype.int64, _dtype._default[0])[cat] if cat >= 0 else _dtype._default[0]


def _to_array(data, dtype):
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data):
        arr = np.array([_to_array(v, None) for v in data])
    else:
        arr = np.asarray(data)
    if dtype is not None:
        return arr.astype(dtype.np, copy=False)
    if arr.dtype.kind in 'fiub' and arr.dtype in _dtype._BY_NP:
        return arr
    if arr.dtype.kind in 'OUS':
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    return arr.astype(_dtype.dtype_of(arr).np)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor copying ``data`` (nested lists, numbers, ndarrays or tensors)."""
    check_device(device)
    if dtype is not None:
        dtype = _dtype.to_dtype(dtype)
    elif not isinstance(data, (np.ndarray, Tensor)):
        dtype = _infer_dtype(data)
    elif isinstance(data, np.ndarray) and data.dtype not in _dtype._BY_NP:
        _dtype.dtype_of(data)
    arr = np.array(_to_array(data, dtype), copy=True, order='C')
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a tensor or ndarray when no conversion is needed."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        if dtype is None or _dtype.to_dtype(dtype).np == data.dtype:
            return from_numpy(data)
        return _wrap(data.astype(_dtype.to_dtype(dtype).np))
    return tensor(data, dtype=dtype)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    t = tensor(obj, dtype=dtype) if copy else as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray`` (writes to either show in both)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f'expected np.ndarray (got {type(ndarray).__name__})')
    _dtype.dtype_of(ndarray)
    if any(s < 0 for s in ndarray.strides):
        raise ValueError('At least one stride in the given numpy array is negative, and tensors with negative '
                         'strides are not currently supported. (You can probably work around this by making a '
                         'copy of your array  with array.copy().) ')
    return _wrap(ndarray)


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = size[0]
    shape = tuple(int(s) for s in size)
    for s in shape:
        if s < 0:
            raise RuntimeError(f'Trying to create tensor with negative dimension {s}: {list(shape)}')
    return shape


def _finish(arr, requires_grad, device):
    check_device(device)
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _resolve(dtype):
    return _dtype._default[0].np if dtype is None else _dtype.to_dtype(dtype).np


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of zeros of shape ``size`` (default dtype float32)."""
    return _out(_finish(np.zeros(_shape(size), _resolve(dtype)), requires_grad, device), out)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of ones of shape ``size``."""
    return _out(_finish(np.ones(_shape(size), _resolve(dtype)), requires_grad, device), out)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An uninitialised tensor of shape ``size``."""
    return _out(_finish(np.empty(_shape(size), _resolve(dtype)), requires_grad, device), out)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of shape ``size`` filled with ``fill_value`` (dtype inferred from it when not given)."""
    if dtype is None:
        if isinstance(fill_value, Tensor):
            fill_value = fill_value.item()
        dtype = _infer_dtype(fill_value)
    d = _dtype.to_dtype(dtype).np
    return _out(_finish(np.full(_shape((size,)), fill_value, d), requires_grad, device), out)


def _like(input, dtype):
    return input._data.dtype if dtype is None else _dtype.to_dtype(dtype).np


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.zeros(input._data.shape, _like(input, dtype)), requires_grad, device)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.ones(input._data.shape, _like(input, dtype)), requires_grad, device)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.empty(input._data.shape, _like(input, dtype)), requires_grad, device)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    return _finish(np.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad, device)


def _out(t, out):
    if out is None:
        return t
    from .ops._operands import write_out
    return write_out(out, t)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless any argument is a float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError('step must be nonzero')
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError('upper bound and larger bound inconsistent with step sign')
    if dtype is None:
        dtype = _dtype._default[0] if any(isinstance(v, float) for v in vals) else _dtype.int64
    d = _dtype.to_dtype(dtype)
    n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    arr = (vals[0] + np.arange(n, dtype=np.float64 if d.is_floating_point else np.int64) * vals[2]).astype(d.np)
    return _out(_finish(arr, requires_grad, device), out)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated ``torch.range``: like ``arange`` but includes ``end``, float by default."""
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    d = _resolve(dtype)
    return _finish((start + np.arange(n, dtype=np.float64) * step).astype(d), requires_grad, device)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise RuntimeError('number of steps must be non-negative')
    d = _resolve(dtype)
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    # PyTorch fills the first half from start and the second half from end (symmetric rounding).
    idx = np.arange(steps, dtype=np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    half = steps // 2
    arr = np.where(idx < half, start + step * idx, end - step * (steps - 1 - idx))
    if np.dtype(d).kind in 'iu':
        arr = np.trunc(arr)
    return _out(_finish(arr.astype(d), requires_grad, device), out)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    exps = linspace(start, end, steps, dtype=_dtype.float64)._data
    return _out(_finish(np.power(base, exps).astype(_resolve(dtype)), requires_grad, device), out)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A 2-D tensor with ones on the diagonal (``n`` x ``m``)."""
    return _out(_finish(np.eye(n, n if m is None else m, dtype=_resolve(dtype)), requires_grad, device), out)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.asarray(s, _resolve(dtype)), requires_grad, device)


__all__ = ['tensor', 'as_tensor', 'asarray', 'from_numpy', 'zeros', 'ones', 'empty', 'full', 'zeros_like',
           'ones_like', 'empty_like', 'full_like', 'arange', 'linspace', 'logspace', 'eye', 'scalar_tensor']
