"""Storages: the flat block of memory that a tensor and its views index into.

A tensor's array may be a NumPy view of a larger array. Its storage is the whole memory of the
array that ultimately owns it (its *root*, found by following ``.base``), as in PyTorch, where
``x[1:]`` and ``x.t()`` share ``x``'s storage and saving a view saves the whole storage.
``UntypedStorage`` is that memory as bytes; ``TypedStorage`` pairs it with a dtype (what
``torch.load`` hands to tensor rebuild functions and what legacy code calls ``FloatStorage``).
"""
import numpy as np
from numpy.lib.array_utils import byte_bounds

from . import _dtype
from ._device import cpu as _cpu


class _Span:
    """Exposes ``nbytes`` bytes at address ``ptr`` of ``base`` (an ndarray) as a uint8 array.

    Like NumPy's own ``as_strided`` helper it keeps ``base`` as an attribute, so ``root_of``
    follows it back to the owning array.
    """

    __slots__ = ('base', '__array_interface__')

    def __init__(self, base, ptr, nbytes, readonly):
        self.base = base
        self.__array_interface__ = {'data': (ptr, readonly), 'shape': (nbytes,), 'typestr': '|u1', 'version': 3}


def root_of(arr):
    """The ndarray that owns ``arr``'s memory (``arr`` itself when it is not a view)."""
    root = arr
    while True:
        b = root.base
        if isinstance(b, np.ndarray):
            root = b
        elif b is not None and hasattr(b, '__array_interface__') and isinstance(getattr(b, 'base', None), np.ndarray):
            root = b.base  # as_strided (or _Span) wrapper around an array
        else:
            return root


def span_bytes(root):
    """``(address, nbytes)`` of the memory that ``root``'s elements occupy."""
    if root.size == 0:
        return root.__array_interface__['data'][0], 0
    lo, hi = byte_bounds(root)
    return lo, hi - lo


def raw_view(root, ptr, nbytes):
    """A uint8 array over ``nbytes`` bytes of ``root``'s memory starting at address ``ptr`` (no copy)."""
    if nbytes == 0:
        return np.empty(0, np.uint8)
    return np.asarray(_Span(root, ptr, nbytes, not root.flags.writeable))


class UntypedStorage:
    """Bytes behind one or more tensors (``torch.UntypedStorage``); ``_raw`` is a 1-D uint8 array."""

    __slots__ = ('_raw', '__weakref__')

    def __init__(self, size=0, *, device=None):
        from ._device import check_device
        check_device(device)
        if isinstance(size, (list, tuple)):
            self._raw = np.array(size, dtype=np.uint8)
        else:
            self._raw = np.zeros(int(size), np.uint8)

    @classmethod
    def _wrap(cls, raw):
        s = object.__new__(cls)
        s._raw = raw
        return s

    @classmethod
    def _of(cls, tensor):
        """The storage of ``tensor``: all the memory of the array owning its data."""
        root = root_of(tensor._data)
        return cls._wrap(raw_view(root, *span_bytes(root)))

    def nbytes(self):
        return self._raw.nbytes

    def size(self):
        return self._raw.nbytes

    def __len__(self):
        return self._raw.nbytes

    def element_size(self):
        return 1

    @property
    def dtype(self):
        return _dtype.uint8

    @property
    def device(self):
        return _cpu

    @property
    def is_cuda(self):
        return False

    def data_ptr(self):
        return self._raw.__array_interface__['data'][0] if self._raw.nbytes else 0

    def is_shared(self):
        return False

    def is_pinned(self, device='cuda'):
        return False

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        from .cuda import _lazy_init
        _lazy_init()

    def untyped(self):
        return self

    def tolist(self):
        return self._raw.tolist()

    def __iter__(self):
        return iter(self.tolist())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return UntypedStorage._wrap(self._raw[idx])
        return int(self._raw[idx])

    def __setitem__(self, idx, value):
        self._raw[idx] = value

    def fill_(self, value):
        self._raw[...] = value
        return self

    def copy_(self, source, non_blocking=None):
        src = source._raw if isinstance(source, UntypedStorage) else source._untyped_storage._raw
        if src.nbytes != self._raw.nbytes:
            raise RuntimeError(f'size mismatch: copying {src.nbytes} bytes into a storage of {self._raw.nbytes}')
        self._raw[...] = src
        return self

    def clone(self):
        return UntypedStorage._wrap(self._raw.copy())

    def __repr__(self):
        body = '\n'.join(f' {v}' for v in self._raw[:20].tolist())
        more = '\n ...' if self._raw.nbytes > 20 else ''
        return f'{body}{more}\n[ember.storage.UntypedStorage(device=cpu) of size {self._raw.nbytes}]'


class TypedStorage:
    """An ``UntypedStorage`` read as elements of ``dtype`` (``torch.storage.TypedStorage``)."""

    __slots__ = ('_untyped_storage', 'dtype')

    def __init__(self, *args, wrap_storage=None, dtype=None, device=None):
        self.dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        if wrap_storage is not None:
            if args:
                raise TypeError('TypedStorage(): wrap_storage cannot be combined with positional arguments')
            self._untyped_storage = wrap_storage
        elif args and isinstance(args[0], (list, tuple)):
            arr = np.array(args[0], dtype=self.dtype.np)
            self._untyped_storage = UntypedStorage._wrap(arr.view(np.uint8))
        else:
            n = int(args[0]) if args else 0
            self._untyped_storage = UntypedStorage(n * self.dtype.itemsize, device=device)

    def _array(self):
        raw = self._untyped_storage._raw
        if raw.nbytes % self.dtype.itemsize:
            raise RuntimeError(f'a storage of {raw.nbytes} bytes cannot be viewed as {self.dtype} elements')
        return raw.view(self.dtype.np)

    def size(self):
        return self._untyped_storage.nbytes() // self.dtype.itemsize

    _size = size
    __len__ = size

    def nbytes(self):
        return self._untyped_storage.nbytes()

    def element_size(self):
        return self.dtype.itemsize

    @property
    def device(self):
        return _cpu

    @property
    def is_cuda(self):
        return False

    def data_ptr(self):
        return self._untyped_storage.data_ptr()

    def untyped(self):
        return self._untyped_storage

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        from .cuda import _lazy_init
        _lazy_init()

    def tolist(self):
        return self._array().tolist()

    def __iter__(self):
        return iter(self.tolist())

    def __getitem__(self, idx):
        return self._array()[idx].tolist()

    def __setitem__(self, idx, value):
        self._array()[idx] = value

    def _pickle_storage_type(self):
        return _STORAGE_NAMES[self.dtype]

    def __repr__(self):
        body = '\n'.join(f' {v}' for v in self._array()[:20].tolist())
        more = '\n ...' if self.size() > 20 else ''
        return f'{body}{more}\n[ember.storage.TypedStorage(dtype={self.dtype}, device=cpu) of size {self.size()}]'


# PyTorch's legacy storage class names, used in checkpoints to carry a storage's dtype.
_STORAGE_NAMES = {
    _dtype.float64: 'DoubleStorage', _dtype.float32: 'FloatStorage', _dtype.float16: 'HalfStorage',
    _dtype.int64: 'LongStorage', _dtype.int32: 'IntStorage', _dtype.int16: 'ShortStorage',
    _dtype.int8: 'CharStorage', _dtype.uint8: 'ByteStorage', _dtype.bool_: 'BoolStorage',
}
