"""``ember.save``: PyTorch's checkpoint formats written from Ember objects.

The pickle names PyTorch's globals, not Ember's, so that ``torch.load`` (weights-only included)
reads it: a tensor is ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, OrderedDict())`` where ``storage`` is the persistent id ``('storage',
torch.FloatStorage, key, 'cpu', numel)``; dtypes are ``torch.float32``; an ``ember.nn.Parameter``
is ``torch._utils._rebuild_parameter``. Those modules need not be importable here, so the
pickler (Python's pure-Python one, which lets a subclass emit opcodes) writes these names
itself through ``_TorchName`` markers.

Tensors whose arrays share one owning array (``x``, ``x[1:]``, ``x.t()``) share one storage,
written once, so they stay views of each other after loading, as in PyTorch.
"""
import io
import os
import pickle
import secrets
import struct
import sys
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from .. import _dtype
from .._device import device
from .._size import Size
from .._storage import TypedStorage, UntypedStorage, _STORAGE_NAMES, raw_view, root_of, span_bytes
from .._tensor import Tensor
from ._zip import ZipWriter

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001
DEFAULT_PROTOCOL = 2


class _TorchName:
    """Stands for the global ``module.name`` of PyTorch in a pickle being written."""

    __slots__ = ('module', 'name')

    def __init__(self, module, name):
        self.module = module
        self.name = name

    def __call__(self, *args):
        raise TypeError(f'{self.module}.{self.name} is a placeholder for pickling')

    def __repr__(self):
        return f'{self.module}.{self.name}'


_NAMES = {}


def _name(module, name):
    key = (module, name)
    if key not in _NAMES:
        _NAMES[key] = _TorchName(module, name)
    return _NAMES[key]


_REBUILD_V2 = _name('torch._utils', '_rebuild_tensor_v2')
_REBUILD_PARAMETER = _name('torch._utils', '_rebuild_parameter')
_REBUILD_PARAMETER_STATE = _name('torch._utils', '_rebuild_parameter_with_state')
_REBUILD_FROM_TYPE = _name('torch._tensor', '_rebuild_from_type_v2')
_TORCH_TENSOR = _name('torch', 'Tensor')
_TORCH_DEVICE = _name('torch', 'device')
_TORCH_SIZE = _name('torch', 'Size')
_UNTYPED = _name('torch.storage', 'UntypedStorage')
_GET_LAYOUT = _name('torch.serialization', '_get_layout')
_LAYOUT = getattr(_dtype, 'layout', None)


class _Storage:
    """One storage to write: the memory of ``root`` from address ``ptr``, ``nbytes`` long."""

    __slots__ = ('key', 'root', 'ptr', 'nbytes', 'dtype')

    def __init__(self, key, root, ptr, nbytes, dtype):
        self.key = key
        self.root = root
        self.ptr = ptr
        self.nbytes = nbytes
        self.dtype = dtype

    def data(self):
        return raw_view(self.root, self.ptr, self.nbytes)


class _StorageRef:
    """A tensor's reference to a storage, turned into a persistent id by the pickler."""

    __slots__ = ('storage', 'type_name', 'numel')

    def __init__(self, storage, type_name, numel):
        self.storage = storage
        self.type_name = type_name
        self.numel = numel


def _is_parameter(cls):
    return any(c.__name__ == 'Parameter' and c.__module__.startswith('ember.nn') for c in cls.__mro__)


def _public_state(t):
    return {k: v for k, v in t.__dict__.items() if isinstance(k, str) and not k.startswith('_')}


class _SaverMixin:
    """Persistent ids for storages and PyTorch's names for tensors, dtypes, devices and sizes."""

    def _init_saver(self, legacy):
        self._legacy = legacy
        self.storages = []
        self._by_root = {}

    def _storage_of(self, root, dt):
        ptr, nbytes = span_bytes(root)
        entry = self._by_root.get(id(root))
        if entry is None:
            entry = _Storage(str(len(self.storages)), root, ptr, nbytes, dt)
            self.storages.append(entry)
            self._by_root[id(root)] = entry
        elif entry.dtype is not dt:
            raise RuntimeError('Cannot save multiple tensors or storages that view the same data as different types')
        return entry

    def _tensor_storage(self, arr):
        """(storage, element offset) of array ``arr``; copies it when its layout has no PyTorch equivalent."""
        dt = _dtype.dtype_of(arr)
        item = arr.itemsize
        root = root_of(arr)
        ptr, nbytes = span_bytes(root)
        a_ptr = arr.__array_interface__['data'][0]
        a_lo, a_n = span_bytes(arr)
        ok = (all(s >= 0 and s % item == 0 for s in arr.strides) and nbytes % item == 0
              and (a_ptr - ptr) % item == 0 and ptr <= a_lo and a_lo + a_n <= ptr + nbytes)
        if not ok:
            arr = np.ascontiguousarray(arr)
            root, a_ptr = arr, arr.__array_interface__['data'][0]
            ptr, nbytes = span_bytes(arr)
        return self._storage_of(root, dt), (a_ptr - ptr) // item, arr

    def _reduce_tensor(self, t):
        cls = type(t)
        if _is_parameter(cls):
            state = _public_state(t)
            if state:
                return _REBUILD_PARAMETER_STATE, (t.detach(), t.requires_grad, OrderedDict(), state)
            return _REBUILD_PARAMETER, (t.detach(), t.requires_grad, OrderedDict())
        storage, offset, arr = self._tensor_storage(t._data)
        dt = storage.dtype
        item = arr.itemsize
        ref = _StorageRef(storage, _STORAGE_NAMES[dt], storage.nbytes // dt.itemsize)
        args = (ref, offset, tuple(arr.shape), tuple(s // item for s in arr.strides), t.requires_grad, OrderedDict())
        state = _public_state(t)
        # Ember's own subclasses (e.g. nn.Buffer) are plain tensors to PyTorch.
        if cls.__module__.startswith('ember.') or cls is Tensor:
            if not state:
                return _REBUILD_V2, args
            cls = _TORCH_TENSOR
        return _REBUILD_FROM_TYPE, (_REBUILD_V2, cls, args, state)

    def persistent_id(self, obj):
        t = type(obj)
        if t is _StorageRef:
            s = obj.storage
            return self._pid(_name('torch', obj.type_name), s, obj.numel)
        if t is TypedStorage:
            s = self._storage_of(root_of(obj._untyped_storage._raw), obj.dtype)
            return self._pid(_name('torch', _STORAGE_NAMES[obj.dtype]), s, obj.size())
        if t is UntypedStorage:
            s = self._storage_of(root_of(obj._raw), _dtype.uint8)
            return self._pid(_UNTYPED, s, s.nbytes)
        return None

    def _pid(self, type_name, s, numel):
        if self._legacy:
            return ('storage', type_name, s.key, 'cpu', numel, None)
        return ('storage', type_name, s.key, 'cpu', numel)

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        t = type(obj)
        if t is device:
            return _TORCH_DEVICE, (str(obj),)
        if t is Size:
            return _TORCH_SIZE, (tuple(obj),)
        if t is _LAYOUT:
            return _GET_LAYOUT, ('torch.' + obj.name,)
        return NotImplemented

    def _save_name(self, module, name, obj):
        if self.proto >= 4:
            self.save(module)
            self.save(name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f'{module}\n{name}\n'.encode('utf-8'))
        self.memoize(obj)


@lru_cache(maxsize=None)
def _pickler_class(base):
    if not hasattr(base, 'dispatch') or not hasattr(base, 'memoize'):
        raise TypeError(f'pickle_module.Pickler ({base.__name__}) must be a pure-Python pickler (a subclass of '
                        'pickle._Pickler) for ember.save')
    dispatch = dict(base.dispatch)
    dispatch[_TorchName] = lambda self, obj: self._save_name(obj.module, obj.name, obj)
    dispatch[_dtype.dtype] = lambda self, obj: self._save_name('torch', obj.name, obj)
    return type('EmberPickler', (_SaverMixin, base), {'dispatch': dispatch})


def _pickler(pickle_module, f, protocol, legacy):
    if protocol < 1:
        raise ValueError(f'pickle_protocol must be at least 1 for checkpoints, got {protocol}')
    base = pickle._Pickler if pickle_module is pickle else getattr(pickle_module, '_Pickler', pickle_module.Pickler)
    p = _pickler_class(base)(f, protocol=protocol)
    p._init_saver(legacy)
    return p


def archive_name(f):
    """PyTorch's folder name inside the zip: the file's name without extension, or ``archive``."""
    if isinstance(f, (str, os.PathLike)):
        name = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        if name:
            return name
    return 'archive'


def save_zip(obj, f, name, pickle_module, protocol):
    buf = io.BytesIO()
    pickler = _pickler(pickle_module, buf, protocol, legacy=False)
    pickler.dump(obj)
    z = ZipWriter(f, name)
    z.write_record('data.pkl', buf.getbuffer())
    z.write_record('.format_version', b'1')
    z.write_record('.storage_alignment', b'64')
    z.write_record('byteorder', sys.byteorder.encode())
    for s in pickler.storages:
        z.write_record(f'data/{s.key}', s.data())
    z.write_record('version', b'3\n')
    z.write_record('.data/serialization_id', f'{secrets.randbits(128):040d}'.encode())
    z.close()


def save_legacy(obj, f, pickle_module, protocol):
    """The pre-1.6 format: header pickles, the object's pickle, its storage keys, then each storage raw."""
    sys_info = {'protocol_version': PROTOCOL_VERSION, 'little_endian': sys.byteorder == 'little',
                'type_sizes': {'short': 2, 'int': 4, 'long': 4}}
    pickle_module.dump(MAGIC_NUMBER, f, protocol=protocol)
    pickle_module.dump(PROTOCOL_VERSION, f, protocol=protocol)
    pickle_module.dump(sys_info, f, protocol=protocol)
    pickler = _pickler(pickle_module, f, protocol, legacy=True)
    pickler.dump(obj)
    by_key = {s.key: s for s in pickler.storages}
    keys = sorted(by_key)
    pickle_module.dump(keys, f, protocol=protocol)
    for key in keys:
        s = by_key[key]
        f.write(struct.pack('<q', s.nbytes // s.dtype.itemsize))
        if s.nbytes:
            f.write(s.data())
