"""``ember.load``: PyTorch checkpoints (zip and legacy formats) read into Ember objects.

Zip format: ``data.pkl`` is unpickled; each persistent id ``('storage', StorageType, key,
location, numel)`` is answered by reading (or memory-mapping) record ``data/<key>`` once, and
the rebuild functions make tensors that view it, so tensors that shared a storage when saved
share memory again. Legacy format: a header of three pickles, the object's pickle, the list of
storage keys, then every storage's raw bytes in that order; storages are allocated while
unpickling and filled afterwards, exactly as PyTorch does.

Every size taken from the file is checked against the bytes actually present before memory
is allocated for it.
"""
import io
import mmap as _mmap
import os
import struct
import sys
from pickle import UnpicklingError

import numpy as np

from .._device import device
from .._storage import TypedStorage, UntypedStorage
from . import _rebuild
from ._save import MAGIC_NUMBER, PROTOCOL_VERSION
from ._unpickler import WeightsUnpickler
from ._zip import ZipReader

_CUDA_MESSAGE = ('Attempting to deserialize object on a CUDA device but ember.cuda.is_available() is False. If you '
                 'are running on a CPU-only machine, please use ember.load with map_location=ember.device(\'cpu\') '
                 'to map your storages to the CPU.')


def _text(v, what):
    if isinstance(v, bytes):
        try:
            v = v.decode('ascii')
        except UnicodeDecodeError:
            raise UnpicklingError(f'corrupted checkpoint: {what} is not ASCII') from None
    if not isinstance(v, str):
        raise UnpicklingError(f'corrupted checkpoint: {what} must be a string, got {type(v).__name__}')
    return v


def default_restore_location(storage, location):
    """Keep CPU storages; any other device raises, since Ember has only a CPU backend."""
    location = _text(location, 'storage location')
    kind = location.split(':', 1)[0]
    if kind == 'cpu':
        return storage
    if kind == 'cuda':
        raise RuntimeError(_CUDA_MESSAGE)
    raise RuntimeError(f"don't know how to restore data location of ember.UntypedStorage (tagged with {location}): "
                       f"Ember has no {kind} backend; pass map_location='cpu' to load it on the CPU")


def restore_location_fn(map_location):
    """``storage, location -> storage`` for each ``map_location`` form ``torch.load`` accepts."""
    if map_location is None:
        return default_restore_location
    if isinstance(map_location, dict):
        return lambda s, loc: default_restore_location(s, map_location.get(loc, loc))
    if isinstance(map_location, (str, bytes)):
        return lambda s, loc: default_restore_location(s, map_location)
    if isinstance(map_location, device):
        return lambda s, loc: default_restore_location(s, str(map_location))
    if callable(map_location):
        def restore(s, loc):
            r = map_location(s, loc)
            if r is None:
                return default_restore_location(s, loc)
            if not isinstance(r, (UntypedStorage, TypedStorage)):
                raise RuntimeError(f'map_location must return a storage or None, got {type(r).__name__}')
            return r if isinstance(r, UntypedStorage) else r._untyped_storage
        return restore
    raise TypeError(f'map_location must be None, a str, an ember.device, a dict or a callable, got '
                    f'{type(map_location).__name__}')


class _Bounded:
    """File reader that never asks for more bytes than remain in the file (no giant buffers)."""

    def __init__(self, f, end):
        self.f = f
        self.end = end

    def remaining(self):
        return self.end - self.f.tell()

    def read(self, n=-1):
        left = self.remaining()
        return self.f.read(left if n is None or n < 0 else min(n, left))

    def readline(self, limit=-1):
        left = self.remaining()
        return self.f.readline(left if limit is None or limit < 0 else min(limit, left))

    def readinto(self, buf):
        return self.f.readinto(buf)


def _unrestricted_unpickler(pickle_module, file, persistent_load, load_args):
    """The caller's Unpickler, with PyTorch's names resolved to Ember's."""
    table = _rebuild.torch_globals()

    class Unpickler(pickle_module.Unpickler):
        def find_class(self, module, name):
            full = f'{module}.{name}'
            if full in table:
                return table[full]
            if full in _rebuild.UNSUPPORTED:
                raise UnpicklingError(f'the checkpoint uses {full}: Ember does not support '
                                      f'{_rebuild.UNSUPPORTED[full]}')
            if module == 'torch' or module.startswith('torch.'):
                try:
                    return super().find_class('ember' + module[5:], name)
                except (ImportError, AttributeError):
                    raise UnpicklingError(f'the checkpoint uses {full}, which has no Ember equivalent') from None
            return super().find_class(module, name)

    u = Unpickler(file, **load_args)
    u.persistent_load = persistent_load
    return u


def _unpickler(weights_only, pickle_module, file, persistent_load, load_args):
    if weights_only:
        extra = set(load_args) - {'encoding', 'errors'}
        if extra:
            raise TypeError(f'weights_only loading accepts only the encoding and errors pickle arguments, got '
                            f'{sorted(extra)}')
        return WeightsUnpickler(file, persistent_load, **load_args)
    return _unrestricted_unpickler(pickle_module, file, persistent_load, load_args)


def _storage_pid(pid, n):
    if not isinstance(pid, tuple) or len(pid) != n or _text(pid[0], 'persistent id') != 'storage':
        raise UnpicklingError(f'corrupted checkpoint: unexpected persistent id {pid!r:.200}')
    stype = pid[1]
    if not isinstance(stype, _rebuild.StorageType):
        raise UnpicklingError(f'corrupted checkpoint: {stype!r:.100} is not a storage type')
    numel = pid[4]
    if type(numel) is not int or numel < 0:
        raise UnpicklingError(f'corrupted checkpoint: storage size {numel!r:.100} is not a count')
    return stype, numel


def _finish_storage(raw, stype, swap):
    """Byte-swap and widen bfloat16 as needed; returns the array the storage will hold."""
    if swap and stype.file_itemsize > 1:
        raw.view(np.dtype(f'u{stype.file_itemsize}')).byteswap(inplace=True)
    if stype.file_itemsize != stype.dtype.itemsize:
        _rebuild.warn_bfloat16()
        widened = raw.view(np.uint16).astype(np.uint32) << 16
        raw = widened.view(np.uint8)
    return raw


def load_zip(fh, name, path, restore, weights_only, pickle_module, load_args, use_mmap):
    z = ZipReader(fh, name)
    if z.has_record('constants.pkl'):
        raise RuntimeError(f'{name} is a TorchScript archive, which ember.load cannot read (it holds compiled code, '
                           'not only weights)')
    byteorder = z.read('byteorder') if z.has_record('byteorder') else b'little'
    if byteorder not in (b'little', b'big'):
        raise ValueError(f'Unknown endianness type: {byteorder[:20]!r} in {name}')
    swap = byteorder.decode() != sys.byteorder
    mapping = None
    if use_mmap:
        if path is None:
            raise ValueError('f must be a file path in order to use the mmap argument')
        with open(path, 'rb') as mf:
            mapping = _mmap.mmap(mf.fileno(), 0, access=_mmap.ACCESS_COPY)
    loaded = {}

    def persistent_load(pid):
        stype, numel = _storage_pid(pid, 5)
        key = _text(pid[2], 'storage key')
        location = pid[3]
        if key not in loaded:
            record = f'data/{key}'
            nbytes = numel * stype.file_itemsize
            size = z.record_size(record)
            if size != nbytes:
                raise RuntimeError(f'corrupted checkpoint {name}: record {record} holds {size} bytes but its '
                                   f'storage needs {nbytes}')
            if mapping is not None and z.is_stored(record) and nbytes:
                raw = np.frombuffer(mapping, np.uint8, nbytes, z.data_offset(record))
            else:
                raw = z.read(record, out=np.empty(nbytes, np.uint8), check_crc=False)
            storage = restore(UntypedStorage._wrap(_finish_storage(raw, stype, swap)), location)
            loaded[key] = storage
        storage = loaded[key]
        if stype.name == 'UntypedStorage':
            return storage
        return TypedStorage(wrap_storage=storage, dtype=stype.dtype)

    data = z.read('data.pkl')
    return _unpickler(weights_only, pickle_module, io.BytesIO(data), persistent_load, load_args).load()


def _load_header(reader, load_args):
    """Magic number, protocol version and system info of a legacy checkpoint (plain values only)."""
    def value(what):
        try:
            return WeightsUnpickler(reader, None, **{k: v for k, v in load_args.items()
                                                     if k in ('encoding', 'errors')}).load()
        except (UnpicklingError, ValueError) as e:
            raise RuntimeError(f'Invalid magic number; corrupt file? ({what}: {e})') from None

    if value('magic number') != MAGIC_NUMBER:
        raise RuntimeError('Invalid magic number; corrupt file? (neither a zip checkpoint nor a legacy one)')
    version = value('protocol version')
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f'Invalid protocol version: {version!r:.100}')
    info = value('system info')
    if not isinstance(info, dict):
        raise RuntimeError('corrupted checkpoint: legacy system info is not a dict')
    return info


def load_legacy(fh, name, restore, weights_only, pickle_module, load_args):
    start = fh.tell()
    end = fh.seek(0, 2)
    fh.seek(start)
    if end - start >= 262:
        fh.seek(start + 257)
        is_tar = fh.read(5) == b'ustar'
        fh.seek(start)
        if is_tar:
            raise RuntimeError(f'{name} is a PyTorch < 0.4 tar checkpoint, a format ember.load does not read')
    reader = _Bounded(fh, end)
    info = _load_header(reader, load_args)
    little = info.get('little_endian', True)
    swap = (sys.byteorder == 'little') != bool(little)
    storages = {}   # key -> (StorageType, numel), in the order the pickle uses them
    loaded = {}     # key -> restored storage, filled once the pickle is read
    reserved = [0]

    def persistent_load(pid):
        if not weights_only and isinstance(pid, tuple) and pid and _text(pid[0], 'persistent id') == 'module':
            return pid[1]  # a whole nn.Module class saved by old PyTorch: the class itself
        stype, numel = _storage_pid(pid, 6)
        key = _text(pid[2], 'storage key')
        if key not in storages:
            reserved[0] += numel * stype.file_itemsize
            if reserved[0] > reader.remaining():
                raise RuntimeError(f'corrupted checkpoint {name}: its storages need more bytes than the file holds')
            storages[key] = (stype, numel)
            loaded[key] = restore(UntypedStorage._wrap(np.empty(numel * stype.dtype.itemsize, np.uint8)), pid[3])
        storage = loaded[key]
        view = pid[5]
        if view is not None:
            if not (isinstance(view, tuple) and len(view) == 3 and all(type(v) is int and v >= 0 for v in view[1:])):
                raise UnpicklingError('corrupted checkpoint: bad storage view metadata')
            item = stype.dtype.itemsize
            storage = UntypedStorage._wrap(storage._raw[view[1] * item:(view[1] + view[2]) * item])
        return TypedStorage(wrap_storage=storage, dtype=stype.dtype)

    result = _unpickler(weights_only, pickle_module, reader, persistent_load, load_args).load()
    keys = WeightsUnpickler(reader, None).load()
    if not isinstance(keys, list):
        raise RuntimeError('corrupted checkpoint: legacy storage key list is not a list')
    for key in keys:
        if key not in storages:
            raise RuntimeError(f'corrupted checkpoint {name}: storage {key!r:.50} is listed but never used')
        stype, numel = storages[key]
        head = reader.read(8)
        if len(head) != 8:
            raise RuntimeError(f'corrupted checkpoint {name}: file truncated in storage data')
        (count,) = struct.unpack('<q' if little else '>q', head)
        if count != numel:
            raise RuntimeError(f'corrupted checkpoint {name}: storage {key} holds {count} elements, expected {numel}')
        target = loaded[key]._raw
        widen = stype.file_itemsize != stype.dtype.itemsize
        raw = np.empty(numel * stype.file_itemsize, np.uint8) if widen else target
        if raw.nbytes != numel * stype.file_itemsize:
            raise RuntimeError(f'map_location returned a storage of {raw.nbytes} bytes for storage {key} of '
                               f'{numel * stype.file_itemsize}')
        if raw.nbytes and (reader.remaining() < raw.nbytes or reader.readinto(memoryview(raw)) != raw.nbytes):
            raise RuntimeError(f'corrupted checkpoint {name}: file truncated in storage data')
        out = _finish_storage(raw, stype, swap)
        if out is not target:
            target[...] = out
    return result


def open_source(f):
    """(file object, display name, path or None, whether we opened it) for a path or a file object."""
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        return open(path, 'rb'), repr(path), path, True
    if not hasattr(f, 'read'):
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'read' attribute, got "
                             f'{type(f).__name__}')
    if not (hasattr(f, 'seekable') and f.seekable()):
        f = io.BytesIO(f.read())
    return f, getattr(f, 'name', '<buffer>'), None, False


def load(f, map_location, pickle_module, weights_only, use_mmap, load_args):
    restore = restore_location_fn(map_location)
    fh, name, path, owned = open_source(f)
    try:
        start = fh.tell()
        is_zip = fh.read(4) == b'PK\x03\x04'
        fh.seek(start)
        if is_zip:
            return load_zip(fh, name, path, restore, weights_only, pickle_module, load_args, use_mmap)
        if use_mmap:
            raise RuntimeError('mmap can only be used with files saved with '
                               '`ember.save(..., _use_new_zipfile_serialization=True)`, please save your checkpoint '
                               'with this option in order to use mmap.')
        return load_legacy(fh, name, restore, weights_only, pickle_module, load_args)
    finally:
        if owned:
            fh.close()

