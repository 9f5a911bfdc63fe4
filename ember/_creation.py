"""Tensor creation: ``tensor``, ``as_tensor``/``asarray``, ``from_numpy``, ``zeros``/``ones``/``empty``/
``full`` (and ``_like``), ``arange``, ``linspace``, ``logspace``, ``eye``, ``tril_indices``/``triu_indices``,
and the ``Tensor.new_*`` methods.

Values follow PyTorch's CPU kernels exactly: dtype inference from Python data (bool < int64 <
the default float dtype), its overflow checks, and the formulas of ``arange``/``linspace``/
``logspace``, whose compiled loops fuse ``a * b + c`` into one rounding (emulated here).
"""
import math

import numpy as np

from . import _dtype
from ._device import check_device
from ._dtype import check_layout
from ._tensor import Tensor, _wrap

# ---- dtype inference and conversion of Python data ---------------------------------------------

def _infer_dtype(data):
    """PyTorch's dtype for ``data``: promotion over its items (bool < int64 < default float; tensors,
    NumPy arrays and NumPy scalars bring their own dtype)."""
    if isinstance(data, Tensor):
        return _dtype._BY_NP[data._data.dtype]
    if isinstance(data, (np.ndarray, np.generic)):
        return _dtype.dtype_of(np.asarray(data))
    if isinstance(data, bool):
        return _dtype.bool_
    if isinstance(data, float):
        return _dtype._default[0]
    if isinstance(data, int):
        return _dtype.int64
    if isinstance(data, complex):
        raise TypeError('complex tensors are not supported by Ember')
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if isinstance(data, (list, tuple, range)):
        if len(data) == 0:
            return _dtype._default[0]
        fast = _python_scalars_dtype(data)
        if fast is not None:
            return fast
        result = None
        for item in data:
            if item is data:
                raise TypeError('new(): self-referential lists are incompatible')
            if isinstance(item, str):
                # PyTorch reads a string as a sequence of strings without end.
                raise ValueError("too many dimensions 'str'")
            d = _infer_dtype(item)
            result = d if result is None else _dtype.promote_types(result, d)
        return result
    raise RuntimeError(f'Could not infer dtype of {type(data).__name__}')


_SCALAR_TYPES = {bool: 0, int: 1, float: 2}


def _python_scalars_dtype(data):
    """The dtype of nested lists of Python bools/ints/floats only, found at C speed (None otherwise)."""
    try:
        with np.errstate(all='ignore'):
            flat = np.array(data, dtype=object)
    except Exception:  # ragged data, or items NumPy cannot take apart: the slow path decides
        return None
    if flat.dtype != object or flat.size == 0:
        return None
    cats = [_SCALAR_TYPES.get(t) for t in set(map(type, flat.reshape(-1).tolist()))]
    if None in cats:
        return None
    return (_dtype.bool_, _dtype.int64, _dtype._default[0])[max(cats)]


def _sizes(data):
    """The shape PyTorch reads from nested sequences: the lengths along the first elements."""
    sizes = []
    while isinstance(data, (list, tuple, range, np.ndarray)):
        sizes.append(len(data))
        if not len(data):
            break
        data = data[0]
    if isinstance(data, str):
        if sizes:
            raise ValueError(f"too many dimensions '{type(data).__name__}'")
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    return sizes


def _check_nested(data, sizes, dim=0):
    """Raise PyTorch's errors for ragged or mixed nesting (called only when NumPy disagrees)."""
    if dim == len(sizes):
        if isinstance(data, (list, tuple, range)):
            raise TypeError(f"'{type(data).__name__}' object cannot be interpreted as an integer")
        if isinstance(data, Tensor) and data._data.size != 1:
            if data._data.dtype.kind in 'iub':
                raise TypeError('only integer tensors of a single element can be converted to an index')
            raise ValueError('only one element tensors can be converted to Python scalars')
        return
    if not isinstance(data, (list, tuple, range, np.ndarray)):
        raise TypeError('not a sequence')
    if len(data) != sizes[dim]:
        raise ValueError(f'expected sequence of length {sizes[dim]} at dim {dim} (got {len(data)})')
    for item in data:
        _check_nested(item, sizes, dim + 1)


def _overflow(name):
    return RuntimeError(f'value cannot be converted to type {name} without overflow')


def _int_bounds(np_dtype, from_float=False):
    """The values PyTorch's checked conversion to an integer type accepts: the type's range, and for
    unsigned types converted from an integer also -max..-1 (which wrap around)."""
    info = np.iinfo(np_dtype)
    if info.min == 0 and not from_float:
        return -int(info.max), int(info.max)
    return int(info.min), int(info.max)


def _from_python(data, d):
    """Nested Python data (numbers, sequences, 1-element tensors) as a new array of dtype ``d``.

    Values are read at their own precision (bool, int64 or double, as PyTorch unpacks them) and
    then converted, with PyTorch's overflow check for integer results.
    """
    sizes = _sizes(data)
    src = _infer_dtype(data)
    wide = np.bool_ if src is _dtype.bool_ else np.int64 if not src.is_floating_point else np.float64
    try:
        arr = np.array(data, dtype=wide)
    except OverflowError:
        raise ValueError('Overflow when unpacking long long') from None
    except (ValueError, TypeError):
        _check_nested(data, sizes)
        raise
    if arr.shape != tuple(sizes):
        _check_nested(data, sizes)
        arr = np.array([_scalar_of(v) for v in _flatten(data)], dtype=wide).reshape(sizes)
    if d.np.kind in 'iu':
        lo, hi = _int_bounds(d.np, arr.dtype.kind == 'f')
        if arr.size and arr.dtype.kind != 'b' and not (np.all(arr >= lo) and np.all(arr <= hi)):
            # Python ints and floats have different bounds (negative ints wrap into unsigned types).
            for v in _flatten(data):
                v = _scalar_of(v)
                lo, hi = _int_bounds(d.np, isinstance(v, (float, np.floating)))
                if not lo <= v <= hi:
                    raise _overflow(d.name)
        return np.trunc(arr).astype(np.int64).astype(d.np) if arr.dtype.kind == 'f' else arr.astype(d.np)
    if d is _dtype.float16:
        arr = arr.astype(np.float64).astype(np.float32)
    elif d is _dtype.float32:
        arr = arr.astype(np.float64)
    return arr.astype(d.np)


def _flatten(data):
    if isinstance(data, (list, tuple, range, np.ndarray)):
        for v in data:
            yield from _flatten(v)
    else:
        yield data


def _scalar_of(v):
    return v._data.reshape(()).item() if isinstance(v, Tensor) else v


# ---- arguments shared by the factories ---------------------------------------------------------

def _shape(size):
    """A shape from ``(2, 3)``, ``((2, 3),)`` or ``(Size,)`` varargs; PyTorch's errors for bad sizes."""
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = size[0]
    shape = []
    for i, s in enumerate(size):
        if isinstance(s, (bool, float)) or not hasattr(s, '__index__'):
            raise TypeError(f"argument 'size' failed to unpack the object at pos {i + 1} with error \"type must "
                            f'be tuple of ints,but got {type(s).__name__}"')
        shape.append(s.__index__())
    for s in shape:
        if s < 0:
            raise RuntimeError(f'Trying to create tensor with negative dimension {s}: {shape}')
    return tuple(shape)


def _resolve(dtype):
    return _dtype._default[0].np if dtype is None else _dtype.to_dtype(dtype).np


def _finish(arr, requires_grad, device, layout=None, pin_memory=False):
    """Wrap a freshly made array, validating ``device``/``layout``/``pin_memory``/``requires_grad``."""
    check_device(device)
    check_layout(layout)
    if pin_memory:
        raise RuntimeError('Cannot access accelerator device when none is available.')
    t = _wrap(arr)
    if requires_grad:
        if arr.dtype.kind != 'f':
            raise RuntimeError('Only Tensors of floating point and complex dtype can require gradients')
        t._requires_grad = True
    return t


def _out(t, out):
    if out is None:
        return t
    from .ops._operands import write_out
    return write_out(out, t)


# ---- tensor / as_tensor / asarray / from_numpy --------------------------------------------------

def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor (own memory) holding ``data``: a number, nested sequences, an ndarray or a tensor.

    The dtype is inferred as PyTorch does (Python bools -> bool, ints -> int64, floats -> the
    default dtype; ndarrays and tensors keep theirs); ragged lists raise PyTorch's ValueError.
    """
    d = None if dtype is None else _dtype.to_dtype(dtype)
    if isinstance(data, Tensor):
        import warnings
        warnings.warn('To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or '
                      'sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).',
                      UserWarning, stacklevel=2)
        arr = data._data if d is None else data._data.astype(d.np)
    elif isinstance(data, np.ndarray):
        _check_numpy(data)
        arr = data if d is None else data.astype(d.np)
    elif data is None:
        raise RuntimeError('Could not infer dtype of NoneType')
    else:
        arr = _from_python(data, d or _infer_dtype(data))
    return _finish(np.array(arr, copy=True, order='C'), requires_grad, device, pin_memory=pin_memory)


def _check_numpy(arr):
    if not arr.dtype.isnative:
        raise ValueError('given numpy array has byte order different from the native byte order. Conversion '
                         'between byte orders is currently not supported.')
    _dtype.dtype_of(arr)


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray``: writes through either show in both."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f'expected np.ndarray (got {type(ndarray).__name__})')
    _check_numpy(ndarray)
    if any(s < 0 for s in ndarray.strides):
        raise ValueError('At least one stride in the given numpy array is negative, and tensors with negative '
                         'strides are not currently supported. (You can probably work around this by making a '
                         'copy of your array  with array.copy().) ')
    if any(s % ndarray.itemsize for s in ndarray.strides):
        raise ValueError('given numpy array strides not a multiple of the element byte size. Copy the numpy array '
                         'to reallocate the memory.')
    return _wrap(ndarray)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a tensor or ndarray when no dtype conversion is needed."""
    check_device(device)
    d = None if dtype is None else _dtype.to_dtype(dtype)
    if isinstance(data, Tensor):
        return data if d is None or d.np == data._data.dtype else data.to(d)
    if isinstance(data, np.ndarray):
        if d is None or d.np == data.dtype:
            return from_numpy(data)
        _check_numpy(data)
        return _wrap(data.astype(d.np))
    return tensor(data, dtype=d)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``obj`` as a tensor, sharing memory when possible (``copy=None``), always (``copy=False``,
    which raises if a copy is needed) or never (``copy=True``)."""
    check_device(device)
    d = None if dtype is None else _dtype.to_dtype(dtype)
    if isinstance(obj, (Tensor, np.ndarray)):
        arr = obj._data if isinstance(obj, Tensor) else obj
        if isinstance(obj, np.ndarray):
            _check_numpy(obj)
        needs_cast = d is not None and d.np != arr.dtype
        if copy is False and needs_cast:
            raise ValueError(f"can't alias tensor with dtype '{_dtype._LEGACY_SCALAR_NAMES[_dtype.dtype_of(arr).name]}'"
                             f" into dtype '{_dtype._LEGACY_SCALAR_NAMES[d.name]}'.")
        if copy:
            t = _wrap(np.array(arr, dtype=d.np if d else None, copy=True))
        elif needs_cast:
            t = _wrap(arr.astype(d.np))
        else:
            t = obj if isinstance(obj, Tensor) else from_numpy(obj)
    else:
        if copy is False and not isinstance(obj, (np.generic,)) and hasattr(obj, '__array__'):
            t = from_numpy(np.asarray(obj))
        else:
            t = tensor(obj, dtype=d)
    if requires_grad:
        t = t if t.grad_fn is None and not t._requires_grad else t.detach()
        t.requires_grad_(True)
    return t


# ---- filled tensors ---------------------------------------------------------------------------------

def _sizes_arg(name, sizes, size):
    """The shape from ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``."""
    if size is None:
        return _shape(sizes)
    if sizes:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    return _shape((size,))


def zeros(*sizes, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of zeros of shape ``size`` (the default dtype unless given)."""
    arr = np.zeros(_sizes_arg('zeros', sizes, size), _resolve(dtype))
    return _out(_finish(arr, requires_grad, device, layout, pin_memory), out)


def ones(*sizes, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of ones of shape ``size``."""
    arr = np.ones(_sizes_arg('ones', sizes, size), _resolve(dtype))
    return _out(_finish(arr, requires_grad, device, layout, pin_memory), out)


def empty(*sizes, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An uninitialised tensor of shape ``size``."""
    arr = np.empty(_sizes_arg('empty', sizes, size), _resolve(dtype))
    return _out(_finish(arr, requires_grad, device, layout, pin_memory), out)


def _fill_dtype(fill_value):
    if isinstance(fill_value, Tensor):
        return _dtype._BY_NP[fill_value._data.dtype]
    return _infer_dtype(fill_value)


def _fill_array(shape, fill_value, d):
    v = fill_value._data.reshape(()).item() if isinstance(fill_value, Tensor) else _number(fill_value, 'fill_value')
    return np.full(shape, _checked_cast(v, d), d.np)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """A tensor of shape ``size`` filled with ``fill_value``; the dtype follows the value when not
    given (bool -> bool, int -> int64, float -> the default dtype)."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    d = _fill_dtype(fill_value) if dtype is None else _dtype.to_dtype(dtype)
    arr = _fill_array(_shape((size,)), fill_value, d)
    return _out(_finish(arr, requires_grad, device, layout, pin_memory), out)


def _like(input, dtype):
    if not isinstance(input, Tensor):
        raise TypeError(f"argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return _dtype._BY_NP[input._data.dtype] if dtype is None else _dtype.to_dtype(dtype)


def _like_array(input, d, memory_format, fill):
    """A new array shaped like ``input``; ``preserve_format`` keeps a dense input's stride order."""
    x = input._data
    keep = memory_format is None or memory_format is _dtype.preserve_format
    order = 'K' if keep and x.ndim > 1 and not x.flags.c_contiguous else 'C'
    arr = np.empty_like(x, dtype=d.np, order=order) if order == 'K' else np.empty(x.shape, d.np)
    if fill is not None:
        arr[...] = fill
    return arr


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Zeros shaped like ``input`` (its dtype unless given)."""
    return _finish(_like_array(input, _like(input, dtype), memory_format, 0), requires_grad, device, layout)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Ones shaped like ``input``."""
    return _finish(_like_array(input, _like(input, dtype), memory_format, 1), requires_grad, device, layout)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """An uninitialised tensor shaped like ``input``."""
    return _finish(_like_array(input, _like(input, dtype), memory_format, None), requires_grad, device, layout)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    """``fill_value`` everywhere, shaped like ``input`` (its dtype unless given)."""
    d = _like(input, dtype)
    arr = _like_array(input, d, memory_format, None)
    arr[...] = _fill_array((), fill_value, d)
    return _finish(arr, requires_grad, device, layout)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialised tensor with the given ``size`` and ``stride`` (in elements)."""
    shape = _shape((size,))
    d = np.dtype(_resolve(dtype))
    if len(stride) != len(shape):
        raise RuntimeError('mismatch in length of strides and shape')
    span = 1 + sum((n - 1) * s for n, s in zip(shape, stride)) if all(shape) else 0
    base = np.empty(max(span, 0), d)
    arr = np.lib.stride_tricks.as_strided(base, shape, tuple(s * d.itemsize for s in stride))
    return _finish(arr, requires_grad, device, layout, pin_memory)


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A 0-d tensor holding the number ``s`` (the default dtype unless given)."""
    d = _dtype._default[0] if dtype is None else _dtype.to_dtype(dtype)
    return _finish(_fill_array((), s, d), requires_grad, device, layout, pin_memory)


# ---- ranges ----------------------------------------------------------------------------------------
# PyTorch's range kernels are compiled with FMA contraction: ``start + step * i`` rounds once.

def _fma(a, b, c, np_dtype):
    from ._random import _fma32, _fma64
    if np_dtype == np.float32:
        return _fma32(np.asarray(a, np.float32), np.float32(b), np.asarray(c, np.float32))
    return _fma64(np.asarray(a, np.float64), b, np.asarray(c, np.float64))


def _number(v, name):
    if isinstance(v, Tensor):
        if v._data.size != 1:
            raise RuntimeError(f'{name} must be a 0-dimensional tensor, got {v._data.ndim} dims')
        return v._data.reshape(()).item()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, complex):
        raise TypeError('complex numbers are not supported by Ember')
    return v


_SCALAR_TO_NAMES = {'uint8': 'uint8_t', 'int8': 'int8_t', 'int16': 'int16_t', 'int32': 'int', 'int64': 'int64_t',
                    'float16': 'c10::Half', 'float32': 'float'}


def _checked_cast(v, d):
    """``Scalar.to<T>()``: PyTorch's overflow-checked conversion of a Python number."""
    if isinstance(v, complex):
        raise TypeError('complex numbers are not supported by Ember')
    if d.np.kind in 'iu':
        lo, hi = _int_bounds(d.np, isinstance(v, float))
        if not lo <= v <= hi:  # false for NaN
            raise _overflow(_SCALAR_TO_NAMES[d.name])
        return np.array(math.trunc(v)).astype(d.np)[()]
    if d is _dtype.bool_:
        return np.bool_(v)
    fv = float(v)
    if math.isfinite(fv) and d is not _dtype.float64 and abs(fv) > np.finfo(d.np).max:
        raise _overflow(_SCALAR_TO_NAMES[d.name])
    return d.np.type(np.float32(fv)) if d is _dtype.float16 else d.np.type(fv)


def _arange_values(start, step, n, d):
    """``arange``'s values: each vector of ``lanes`` elements starts at ``start + step * i`` (rounded
    to the result dtype) and adds ``k * step``; the last ``< 2 * lanes`` elements of each thread's
    chunk take ``start + step * i`` directly."""
    acc = np.float32 if d is _dtype.float16 else np.float64
    lanes = {'float16': 16, 'float32': 8, 'float64': 4}[d.name]
    # PyTorch splits ranges longer than its grain size over its intra-op threads (``get_num_threads``),
    # each vectorising its own chunk.
    from ._threads import get_num_threads
    chunks = min(get_num_threads(), -(-n // 32768)) if n > 32768 else 1
    size = -(-n // chunks) if n else 1
    out = np.empty(n, d.np)
    k = np.arange(lanes)
    for b in range(0, n, size):
        m = min(size, n - b)
        mv = m - m % (2 * lanes)
        if mv:
            base = _fma(np.arange(b, b + mv, lanes), step, start, acc).astype(d.np).astype(acc)
            offsets = np.broadcast_to(k, (len(base), lanes)).reshape(-1)
            out[b:b + mv] = _fma(offsets, step, np.repeat(base, lanes), acc)
        if m > mv:
            out[b + mv:b + m] = _fma(np.arange(b + mv, b + m), step, start, acc)
    return out


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
           pin_memory=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``: int64 for integer arguments, else the
    default dtype. The length is ``ceil((end - start) / step)`` in double precision."""
    if end is None:
        start, end = 0, start
    vals = [_number(v, n) for v, n in ((start, 'start'), (end, 'end'), (step, 'step'))]
    if dtype is None:
        if any(isinstance(v, float) for v in vals):
            d = _dtype._default[0]
        elif any(isinstance(v, Tensor) for v in (start, end, step)):
            ts = [_dtype._BY_NP[v._data.dtype] for v in (start, end, step) if isinstance(v, Tensor)]
            d = _dtype.int64 if all(not t.is_floating_point for t in ts) else _dtype._default[0]
        else:
            d = _dtype.int64
    else:
        d = _dtype.to_dtype(dtype)
    if d is _dtype.bool_:
        raise NotImplementedError('"arange_cpu" not implemented for \'Bool\'')
    s, e, st = vals
    if st == 0:
        raise RuntimeError('step must be nonzero')
    if not (math.isfinite(s) and math.isfinite(e)):
        raise RuntimeError(f'unsupported range: {s:g} -> {e:g}')
    if not ((st > 0 and e >= s) or (st < 0 and e <= s)):
        raise RuntimeError('upper bound and lower bound inconsistent with step sign')
    if d.np.kind in 'iu':
        # Integer results use the bounds and step truncated to integers.
        s, e, st = math.trunc(s), math.trunc(e), math.trunc(st)
    if d is _dtype.int64:
        if st == 0:
            raise ValueError('step must be nonzero')
        sgn = (st > 0) - (st < 0)
        num = e - s + st - sgn
        n = abs(num) // abs(st) * (1 if (num >= 0) == (st > 0) else -1)
    else:
        n = math.ceil((float(vals[1]) - float(vals[0])) / float(vals[2]))
    n = max(int(n), 0)
    if d.is_floating_point:
        arr = _arange_values(float(s), float(st), n, d)
    else:
        arr = (s + st * np.arange(n, dtype=object)).astype(np.int64) if n and (abs(s) + abs(st) * n >= 2 ** 62) \
            else s + st * np.arange(n, dtype=np.int64)
        arr = np.asarray(arr, np.int64).astype(d.np)
    return _out(_finish(arr, requires_grad, device, layout, pin_memory), out)


def _space_args(start, end, steps):
    if isinstance(steps, bool) or not hasattr(steps, '__index__'):
        raise TypeError(f"linspace(): argument 'steps' (position 3) must be int, not {type(steps).__name__}")
    steps = steps.__index__()
    if steps < 0:
        raise RuntimeError('number of steps must be non-negative')
    return _number(start, 'start'), _number(end, 'end'), steps


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (default dtype unless given).

    As PyTorch: ``step = (end - start) / (steps - 1)`` in the result dtype (double for integers);
    the first half is ``start + step * i``, the second ``end - step * (steps - 1 - i)``; integers
    truncate.
    """
    s, e, steps = _space_args(start, end, steps)
    d = _dtype._default[0] if dtype is None else _dtype.to_dtype(dtype)
    if d is _dtype.bool_:
        raise NotImplementedError('"linspace_cpu" not implemented for \'Bool\'')
    if steps <= 1:
        arr = np.full(steps, _checked_cast(s, d) if steps else 0, d.np)
    else:
        s, e = _checked_cast(s, d), _checked_cast(e, d)
        idx = np.arange(steps)
        back = steps - idx - 1
        first = idx < steps // 2
        if d is _dtype.float16:
            h = np.float16
            step = (e - s) / h(steps - 1)
            arr = np.where(first, s + step * idx.astype(h), e - step * back.astype(h))
        elif d.is_floating_point:
            step = (e - s) / d.np.type(steps - 1)
            arr = np.where(first, _fma(idx, step, s, d.np), _fma(back, -step, e, d.np))
        else:
            step = (float(e) - float(s)) / (steps - 1)
            arr = np.where(first, _fma(idx, step, float(s), np.float64), _fma(back, -step, float(e), np.float64))
            arr = np.trunc(arr)
        arr = arr.astype(d.np)
    return _out(_finish(arr, requires_grad, device, layout, pin_memory), out)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """``base ** linspace(start, end, steps)``, with PyTorch's double-precision exponents."""
    s, e, steps = _space_args(start, end, steps)
    d = _dtype._default[0] if dtype is None else _dtype.to_dtype(dtype)
    if d is _dtype.bool_:
        raise NotImplementedError('"logspace_cpu" not implemented for \'Bool\'')
    base = float(_number(base, 'base'))
    if steps == 1:
        v = np.power(base, float(s))
        arr = np.full(1, v, np.float32 if d is _dtype.float16 else np.float64)
    elif steps:
        s, e = _checked_cast(s, d), _checked_cast(e, d)
        # ``end - start`` in the result type (C++ promotes small integers to int first).
        step = float(int(e) - int(s) if d.np.kind in 'iu' else e - s) / (steps - 1)
        i = np.arange(steps)
        ex = np.where(i < steps // 2, float(s) + step * i, float(e) - step * (steps - i - 1))
        arr = np.power(base, ex)
    else:
        arr = np.zeros(0)
    if d is _dtype.float16:
        arr = arr.astype(np.float32)
    with np.errstate(invalid='ignore', over='ignore'):
        arr = arr.astype(d.np)
    return _out(_finish(arr, requires_grad, device, layout, pin_memory), out)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A 2-D ``n`` x ``m`` tensor with ones on the diagonal."""
    n = int(n)
    m = n if m is None else int(m)
    if n < 0:
        raise RuntimeError(f'n must be greater or equal to 0, got {n}')
    if m < 0:
        raise RuntimeError(f'm must be greater or equal to 0, got {m}')
    return _out(_finish(np.eye(n, m, dtype=_resolve(dtype)), requires_grad, device, layout, pin_memory), out)


def _tri_indices(row, col, offset, dtype, device, layout, lower):
    if row < 0:
        raise RuntimeError(f'row must be non-negative, got{row}')
    if col < 0:
        raise RuntimeError(f'col must be non-negative, got{col}')
    d = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    if d.np.kind not in 'iu':
        name = 'tril_indices' if lower else 'triu_indices'
        raise NotImplementedError(f'"{name}" not implemented for \'{_dtype._LEGACY_SCALAR_NAMES[d.name]}\'')
    r, c = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return _finish(np.stack([r, c]).astype(d.np).reshape(2, -1), False, device, layout)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The 2 x N (row, column) indices of the lower triangle of a ``row`` x ``col`` matrix, row-major."""
    return _tri_indices(row, col, offset, dtype, device, layout, True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The 2 x N (row, column) indices of the upper triangle of a ``row`` x ``col`` matrix, row-major."""
    return _tri_indices(row, col, offset, dtype, device, layout, False)


# ---- Tensor.new_* ---------------------------------------------------------------------------------
# New tensors that take ``self``'s dtype (and device) unless told otherwise.

def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """``ember.tensor(data)`` with ``self``'s dtype unless ``dtype`` is given."""
    d = self.dtype if dtype is None else dtype
    if isinstance(data, Tensor):
        import warnings
        warnings.warn('To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or '
                      'sourceTensor.detach().clone().requires_grad_(True), rather than '
                      'tensor.new_tensor(sourceTensor).', UserWarning, stacklevel=2)
        return _finish(data._data.astype(_dtype.to_dtype(d).np, copy=True), requires_grad, device, layout)
    return tensor(data, dtype=d, device=device, requires_grad=requires_grad)


def new_zeros(self, *sizes, size=None, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """Zeros of shape ``size`` with ``self``'s dtype unless ``dtype`` is given."""
    return zeros(*sizes, size=size, dtype=self.dtype if dtype is None else dtype, device=device,
                 requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)


def new_ones(self, *sizes, size=None, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """Ones of shape ``size`` with ``self``'s dtype unless ``dtype`` is given."""
    return ones(*sizes, size=size, dtype=self.dtype if dtype is None else dtype, device=device,
                requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)


def new_empty(self, *sizes, size=None, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """An uninitialised tensor of shape ``size`` with ``self``'s dtype unless ``dtype`` is given."""
    return empty(*sizes, size=size, dtype=self.dtype if dtype is None else dtype, device=device,
                 requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    """``fill_value`` everywhere in shape ``size``, with ``self``'s dtype unless ``dtype`` is given."""
    return full(size, fill_value, dtype=self.dtype if dtype is None else dtype, device=device,
                requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)


def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                      pin_memory=False):
    """``empty_strided`` with ``self``'s dtype unless ``dtype`` is given."""
    return empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype, device=device,
                         requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)


METHODS = {'new_tensor': new_tensor, 'new_zeros': new_zeros, 'new_ones': new_ones, 'new_empty': new_empty,
           'new_full': new_full, 'new_empty_strided': new_empty_strided}
for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)

__all__ = ['tensor', 'as_tensor', 'asarray', 'from_numpy', 'zeros', 'ones', 'empty', 'full', 'zeros_like',
           'ones_like', 'empty_like', 'full_like', 'empty_strided', 'arange', 'linspace', 'logspace', 'eye',
           'scalar_tensor', 'tril_indices', 'triu_indices']
