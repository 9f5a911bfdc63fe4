"""Turning op arguments into arrays: type promotion, scalars, ``out=``.

Every binary op calls ``binary_operands`` to get its two operands as arrays (or Python
scalars) already converted to the result dtype under PyTorch's promotion rules, so a
kernel never sees NumPy's own promotion (which differs: int64 + 1.5 is float64 there).
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor

_SCALARS = (float, int, bool)
_CATEGORY = {bool: 0, int: 1, float: 2}
_CAST_CATEGORY = {'b': 0, 'u': 1, 'i': 1, 'f': 2}


def array_of(*vals):
    """The first array among ``vals`` (arrays or Python scalars): the ``like=`` reference for new arrays."""
    for v in vals:
        if isinstance(v, np.ndarray) or hasattr(v, '__array_function__'):
            return v
    return None


def as_tensor_arg(x, name='input'):
    """Accept a Tensor (returned as is) or raise PyTorch's TypeError naming the argument."""
    if isinstance(x, Tensor):
        return x
    raise TypeError(f"{name} must be a Tensor, not {type(x).__name__}")


def scalar_value(x):
    """A Python scalar for a Python or NumPy scalar, else None."""
    t = type(x)
    if t in _CATEGORY:
        return x
    if isinstance(x, np.generic) and x.dtype.kind in 'biuf':
        return x.item()
    return None


def binary_operands(a, b):
    """``(x, y, ta, tb)`` for a binary op.

    ``x``/``y`` are the operands as arrays or Python scalars of the result dtype; ``ta``/``tb``
    are the operands that are Tensors (else None). At least one operand must be a Tensor.
    """
    ta = a if isinstance(a, Tensor) else None
    tb = b if isinstance(b, Tensor) else None
    if ta is not None and tb is not None:
        x = a._data
        y = b._data
        if x.dtype is not y.dtype and x.dtype != y.dtype:
            da = _dtype._BY_NP[x.dtype]
            db = _dtype._BY_NP[y.dtype]
            r = _dtype.result_type(da, x.ndim, db, y.ndim).np
            if x.dtype != r:
                x = x.astype(r)
            if y.dtype != r:
                y = y.astype(r)
        return x, y, ta, tb
    if ta is not None:
        x = a._data
        y = _scalar_for(x, b)
        if type(y) is np.ndarray:
            return _promote_pair(x, y, ta, None)
        cat = _CATEGORY[type(y)]
        if cat > _dtype._BY_NP[x.dtype]._category:
            x = x.astype(_dtype.get_default_dtype().np if cat == 2 else np.int64)
        return x, y, ta, None
    if tb is not None:
        y = b._data
        x = _scalar_for(y, a)
        if type(x) is np.ndarray:
            return _promote_pair(x, y, None, tb)
        cat = _CATEGORY[type(x)]
        if cat > _dtype._BY_NP[y.dtype]._category:
            y = y.astype(_dtype.get_default_dtype().np if cat == 2 else np.int64)
        return x, y, None, tb
    raise TypeError(f'expected at least one Tensor operand, got {type(a).__name__} and {type(b).__name__}')


def _scalar_for(arr, s):
    v = scalar_value(s)
    if v is not None:
        if type(v) is int and arr.dtype.kind in 'iu':
            info = np.iinfo(arr.dtype)
            if not info.min <= v <= info.max:
                # PyTorch wraps out-of-range integer scalars around the tensor's dtype.
                return np.array(v, like=arr).astype(arr.dtype)[()].item()
        return v
    if isinstance(s, np.ndarray):
        return s
    if isinstance(s, (list, tuple)):
        from .._creation import tensor
        return tensor(s)._data
    raise TypeError(f'unsupported operand type: {type(s).__name__}')


def _promote_pair(x, y, ta, tb):
    dx = _dtype.dtype_of(x)
    dy = _dtype.dtype_of(y)
    r = _dtype.result_type(dx, x.ndim, dy, y.ndim).np
    return x.astype(r, copy=False), y.astype(r, copy=False), ta, tb


def write_out(out, result):
    """Implement ``out=``: resize ``out`` to the result's shape if needed and copy the values in."""
    if not isinstance(out, Tensor):
        raise TypeError(f'out must be a Tensor, not {type(out).__name__}')
    if out._requires_grad and out.grad_fn is None:
        from ..autograd.grad_mode import _enabled
        if _enabled[0]:
            raise RuntimeError('out=... arguments don\'t support automatic differentiation, but one of the '
                               'arguments requires grad.')
    arr = result._data
    if out._data.dtype != arr.dtype:
        if _CAST_CATEGORY[arr.dtype.kind] > _CAST_CATEGORY[out._data.dtype.kind]:  # PyTorch's canCast
            raise RuntimeError(f'result type {_dtype.dtype_of(arr).name.capitalize()} can\'t be cast to the desired '
                               f'output type {out.dtype.name.capitalize()}')
    if out._data.shape != arr.shape:
        out._data = np.empty(arr.shape, out._data.dtype, like=arr)
    out._data[...] = arr
    out._vc[0] += 1
    return out

