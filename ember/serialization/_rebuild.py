"""Ember's counterparts of the globals that PyTorch checkpoints name.

A checkpoint's pickle calls ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``
for every tensor, names dtypes as ``torch.float32`` and storages as ``torch.FloatStorage``.
``torch_globals()`` maps each such name that Ember can honour to its Ember equivalent; it is
both the allow-list of the weights-only unpickler and the translation table of the unrestricted
one. Every rebuild function checks that the view it makes lies inside its storage, so a
corrupted checkpoint raises ``RuntimeError`` instead of reading outside an allocation.
"""
import codecs
import warnings
from collections import Counter, OrderedDict

import numpy as np

from .. import _dtype
from .._device import device
from .._size import Size
from .._storage import TypedStorage, UntypedStorage, _STORAGE_NAMES
from .._tensor import Tensor, _wrap

# Largest dimension accepted in a saved size: anything bigger is a corrupted header.
_MAX_DIM = 1 << 62


class StorageType:
    """What ``torch.FloatStorage`` (and friends) resolve to on load: the dtype of a stored storage.

    ``file_itemsize`` is the element size in the file; it differs from ``dtype.itemsize`` only for
    bfloat16, which Ember widens to float32 on load.
    """

    __slots__ = ('name', 'dtype', 'file_itemsize')

    def __init__(self, name, dtype, file_itemsize=None):
        self.name = name
        self.dtype = dtype
        self.file_itemsize = dtype.itemsize if file_itemsize is None else file_itemsize

    def __repr__(self):
        return f'StorageType(dtype={self.dtype})'


def warn_bfloat16():
    warnings.warn('the checkpoint holds bfloat16 data, which Ember loads as float32 (Ember has no bfloat16 dtype)',
                  UserWarning, stacklevel=4)


def parameter_class():
    """``ember.nn.Parameter`` when ``ember.nn`` is available, else None."""
    try:
        from ..nn import Parameter
    except ImportError:
        return None
    return Parameter


def _ints(seq, what):
    if not isinstance(seq, (tuple, list)):
        raise RuntimeError(f'corrupted checkpoint: tensor {what} must be a tuple of ints, got {type(seq).__name__}')
    out = []
    for v in seq:
        if type(v) is bool or not isinstance(v, int):
            raise RuntimeError(f'corrupted checkpoint: tensor {what} must hold ints, got {type(v).__name__}')
        if not 0 <= v <= _MAX_DIM:
            raise RuntimeError(f'corrupted checkpoint: tensor {what} {list(seq)} has an out-of-range entry {v}')
        out.append(int(v))
    return tuple(out)


def tensor_from_storage(storage, storage_offset, size, stride, dtype=None):
    """A tensor viewing ``storage`` as PyTorch's ``Tensor.set_(storage, offset, size, stride)`` does."""
    if isinstance(storage, TypedStorage):
        untyped, dt = storage._untyped_storage, storage.dtype
    elif isinstance(storage, UntypedStorage):
        untyped, dt = storage, _dtype.uint8
    else:
        raise RuntimeError(f'corrupted checkpoint: expected a storage to rebuild a tensor from, got '
                           f'{type(storage).__name__}')
    if dtype is not None:
        if type(dtype) is not _dtype.dtype:
            raise RuntimeError(f'corrupted checkpoint: expected a dtype, got {type(dtype).__name__}')
        dt = dtype
    size = _ints(size, 'size')
    stride = _ints(stride, 'stride')
    (offset,) = _ints((storage_offset,), 'storage offset')
    if len(size) != len(stride):
        raise RuntimeError(f'corrupted checkpoint: tensor size {list(size)} and stride {list(stride)} differ in '
                           'length')
    raw = untyped._raw
    item = dt.itemsize
    numel = 1
    for s in size:
        numel *= s
    if numel == 0:
        return _wrap(np.empty(size, dt.np))
    last = offset + sum((s - 1) * st for s, st in zip(size, stride))
    if last >= raw.nbytes // item:
        raise RuntimeError(f'corrupted checkpoint: a tensor of size {list(size)}, stride {list(stride)} and offset '
                           f'{offset} does not fit in its storage of {raw.nbytes // item} elements')
    arr = np.ndarray(size, dt.np, buffer=raw, offset=offset * item, strides=tuple(st * item for st in stride))
    return _wrap(arr)


def _set_state(t, state):
    """Restore Python attributes saved with a tensor (never its internal slots)."""
    if state is None:
        return t
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    for part in (state, slots):
        if part is None:
            continue
        if not isinstance(part, dict):
            raise RuntimeError(f'corrupted checkpoint: tensor state must be a dict, got {type(part).__name__}')
        for k, v in part.items():
            if isinstance(k, str) and k not in _TENSOR_SLOTS and not k.startswith('__'):
                t.__dict__[k] = v
    return t


_TENSOR_SLOTS = frozenset(Tensor.__slots__)


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return tensor_from_storage(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """``torch._utils._rebuild_tensor_v2``. Hooks and conj/neg metadata do not apply to Ember tensors."""
    return _finish(tensor_from_storage(storage, storage_offset, size, stride), requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    return _finish(tensor_from_storage(storage, storage_offset, size, stride, dtype), requires_grad)


def _make_parameter(data, requires_grad):
    if not isinstance(data, Tensor):
        raise RuntimeError(f'corrupted checkpoint: Parameter data must be a tensor, got {type(data).__name__}')
    cls = parameter_class()
    if cls is None:
        return _finish(data.detach(), requires_grad)
    return cls(data, bool(requires_grad))


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return _make_parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_state(_make_parameter(data, requires_grad), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor subclass or a tensor with Python attributes: rebuild with ``func``, then restore the type."""
    if not isinstance(args, tuple):
        raise RuntimeError('corrupted checkpoint: rebuild arguments must be a tuple')
    ret = func(*args)
    if not isinstance(ret, Tensor):
        raise RuntimeError(f'corrupted checkpoint: rebuild function returned {type(ret).__name__}, not a tensor')
    if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
        raise RuntimeError(f'corrupted checkpoint: {new_type!r} is not a tensor type')
    if type(ret) is not new_type:
        requires_grad = ret._requires_grad
        ret = ret.as_subclass(new_type)
        ret._requires_grad = requires_grad
    return _set_state(ret, state)


def _check_cpu(dev):
    d = device(dev) if not isinstance(dev, device) else dev
    if d.type != 'cpu':
        raise RuntimeError(f"the checkpoint holds a tensor on '{d}', which Ember cannot restore: it runs on the CPU "
                           'only')


def _rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    _check_cpu(device)
    return _finish(data.detach().to(dtype), requires_grad)


def _rebuild_device_tensor_from_numpy(data, dtype, device, requires_grad):
    _check_cpu(device)
    return _finish(_wrap(np.asarray(data, dtype=dtype.np)), requires_grad)


def _rebuild_tensor_for_pickle(data, requires_grad, cls=None):
    """Plain pickling (``copy``, ``multiprocessing``): a tensor owning the pickled array."""
    t = _wrap(data)
    if cls is not None and cls is not Tensor:
        t = t.as_subclass(cls)
    t._requires_grad = bool(requires_grad)
    return t


def _rebuild_parameter_for_pickle(data, requires_grad):
    return _make_parameter(_wrap(data), requires_grad)


def _encode(obj, encoding='utf-8', errors='strict'):
    """``_codecs.encode`` as protocol-2 pickles use it for bytes; only text encodings are honoured."""
    if not isinstance(obj, str) or codecs.lookup(encoding).name not in ('iso8859-1', 'utf-8', 'ascii', 'latin-1'):
        raise RuntimeError(f'corrupted checkpoint: unexpected _codecs.encode({type(obj).__name__}, {encoding!r})')
    return codecs.encode(obj, encoding, errors)


def _bytes(*args):
    """``bytes()`` of a string or bytes only: an int argument would allocate a buffer of that size."""
    if args and not isinstance(args[0], (str, bytes, bytearray, list)):
        raise RuntimeError(f'corrupted checkpoint: unexpected bytes({type(args[0]).__name__})')
    return bytes(*args)


def _bytearray(*args):
    if args and not isinstance(args[0], (str, bytes, bytearray, list)):
        raise RuntimeError(f'corrupted checkpoint: unexpected bytearray({type(args[0]).__name__})')
    return bytearray(*args)


def _get_layout(name):
    if name != 'torch.strided':
        raise RuntimeError(f'Ember supports only strided tensors, the checkpoint names layout {name}')
    return getattr(_dtype, 'strided', 'strided')


def torch_globals():
    """Names a checkpoint may use (``module.qualname``) -> their Ember equivalents."""
    g = {
        'collections.OrderedDict': OrderedDict,
        'collections.Counter': Counter,
        'torch.Size': Size,
        'torch.Tensor': Tensor,
        'torch.device': device,
        '_codecs.encode': _encode,
        'builtins.bytes': _bytes,
        'builtins.bytearray': _bytearray,
        'builtins.set': set,
        'builtins.frozenset': frozenset,
        'builtins.complex': complex,
        'torch.serialization._get_layout': _get_layout,
        'torch._tensor._rebuild_from_type_v2': _rebuild_from_type_v2,
    }
    for f in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
              _rebuild_parameter_with_state, _rebuild_device_tensor_from_cpu_tensor,
              _rebuild_device_tensor_from_numpy):
        g['torch._utils.' + f.__name__] = f
    for d in _dtype._ALL:
        g['torch.' + d.name] = d
    g['torch.bfloat16'] = _dtype.float32
    for d, name in _STORAGE_NAMES.items():
        g['torch.' + name] = g['torch.cuda.' + name] = StorageType(name, d)
    g['torch.BFloat16Storage'] = g['torch.cuda.BFloat16Storage'] = StorageType('BFloat16Storage', _dtype.float32, 2)
    g['torch.storage.UntypedStorage'] = g['torch.UntypedStorage'] = StorageType('UntypedStorage', _dtype.uint8)
    param = parameter_class()
    if param is not None:
        g['torch.nn.parameter.Parameter'] = param
    return g


# Names PyTorch allows in checkpoints that Ember recognises but cannot represent.
UNSUPPORTED = {
    'torch._utils._rebuild_qtensor': 'quantized tensors',
    'torch._utils._rebuild_sparse_tensor': 'sparse tensors',
    'torch._utils._rebuild_nested_tensor': 'nested tensors',
    'torch._utils._rebuild_meta_tensor_no_storage': "tensors on the 'meta' device",
    'torch._utils._rebuild_wrapper_subclass': 'wrapper tensor subclasses (such as DTensor)',
}
for _name in ('complex32', 'complex64', 'complex128', 'cfloat', 'cdouble', 'qint8', 'qint32', 'quint8', 'quint4x2',
              'quint2x4', 'uint16', 'uint32', 'uint64', 'float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz',
              'float8_e5m2fnuz', 'float8_e8m0fnu', 'float4_e2m1fn_x2'):
    UNSUPPORTED['torch.' + _name] = f'the dtype torch.{_name}'
for _name in ('ComplexFloatStorage', 'ComplexDoubleStorage', 'QInt8Storage', 'QInt32Storage', 'QUInt8Storage',
              'QUInt4x2Storage', 'QUInt2x4Storage'):
    UNSUPPORTED['torch.' + _name] = UNSUPPORTED['torch.cuda.' + _name] = f'storages of type {_name}'
