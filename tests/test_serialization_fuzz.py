"""Corrupted checkpoints: ember.load either loads them or raises a clear error, quickly, never crashes.

Real files made by torch.save and ember.save (zip and legacy formats) are truncated at random
lengths and have random bytes flipped (anywhere, and concentrated in the headers and the zip
directory, where sizes and offsets live). Every case must load or raise RuntimeError,
pickle.UnpicklingError or ValueError within a time bound; what loads is then read in full, so a
view outside its storage would show up here (as a crash) rather than in a user's program.
"""
import io
import pickle
import struct
import time
import tracemalloc
import warnings
import zipfile
import zlib
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember

EXPECTED = (RuntimeError, pickle.UnpicklingError, ValueError)
CASES_PER_FILE = 500
TIME_LIMIT = 10.0  # seconds for one load: far above a normal load, far below a hang


def _payload(lib):
    x = lib.arange(24, dtype=lib.float32).reshape(4, 6)
    sd = OrderedDict([('w', x), ('t', x.t()), ('rows', x[1:]), ('i', lib.arange(5, dtype=lib.int64)),
                      ('h', lib.ones(3, dtype=lib.float16)), ('b', lib.tensor([True, False])),
                      ('s', lib.tensor(3, dtype=lib.int16))])
    return {'epoch': 5, 'model': sd, 'opt': {'state': {0: {'step': lib.tensor(2.)}}, 'param_groups': [{'lr': 0.1}]},
            'loss': 0.25, 'names': ['a', 'b'], 'shape': (2, 3)}


def _bytes(save, obj, **kw):
    b = io.BytesIO()
    save(obj, b, **kw)
    return b.getvalue()


FILES = {
    'torch_zip': _bytes(torch.save, _payload(torch)),
    'torch_legacy': _bytes(torch.save, _payload(torch), _use_new_zipfile_serialization=False),
    'ember_zip': _bytes(ember.save, _payload(ember)),
    'ember_legacy': _bytes(ember.save, _payload(ember), _use_new_zipfile_serialization=False),
    'ember_zip_proto4': _bytes(ember.save, _payload(ember), pickle_protocol=4),
    'ember_zip_bare_tensor': _bytes(ember.save, ember.arange(10.)),
    'torch_zip_parameter': _bytes(torch.save, {'p': torch.nn.Parameter(torch.ones(2, 2))}),
    'torch_zip_bfloat16': _bytes(torch.save, {'p': torch.ones(3, dtype=torch.bfloat16)}),
}


def _touch(obj, depth=0):
    """Read every tensor's every element (and walk containers) of a loaded object."""
    if depth > 50:
        return
    if isinstance(obj, ember.Tensor):
        np.asarray(obj._data).sum()
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _touch(k, depth + 1)
            _touch(v, depth + 1)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            _touch(v, depth + 1)


def _pickle_span(data):
    """(start, end, central directory CRC offset) of data.pkl in zip ``data``, or None for legacy files."""
    if not data.startswith(b'PK'):
        return None
    z = zipfile.ZipFile(io.BytesIO(data))
    info = z.infolist()[0]
    nlen, elen = struct.unpack('<HH', data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + nlen + elen
    return start, start + info.file_size, z.start_dir + 16  # data.pkl is the first directory entry


def _flip_pickle(data, span, rng):
    """Flip bytes inside data.pkl and fix its CRC, so the unpickler (not the CRC check) meets the damage."""
    start, end, crc_at = span
    buf = bytearray(data)
    for p in rng.integers(start, end, int(rng.integers(1, 5))):
        buf[p] ^= int(rng.integers(1, 256))
    buf[crc_at:crc_at + 4] = struct.pack('<L', zlib.crc32(bytes(buf[start:end])))
    return bytes(buf)


def _mutations(data, rng, n):
    """``n`` corrupted copies of ``data``: truncations, byte flips anywhere, in headers/tail, in the pickle."""
    size = len(data)
    span = _pickle_span(data)
    for i in range(n):
        kind = i % 5
        if kind == 4:
            if span is not None:
                yield _flip_pickle(data, span, rng)
                continue
            kind = 1
        if kind == 0:
            yield data[:int(rng.integers(0, size))]
            continue
        buf = bytearray(data)
        flips = int(rng.integers(1, 9))
        if kind == 1:
            positions = rng.integers(0, size, flips)
        elif kind == 2:
            positions = rng.integers(0, min(size, 512), flips)
        else:
            positions = rng.integers(max(0, size - 400), size, flips)
        for p in positions:
            buf[p] ^= int(rng.integers(1, 256))
        yield bytes(buf)


def _check(data):
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            obj = ember.load(io.BytesIO(data))
        _touch(obj)
        outcome = 'loaded'
    except EXPECTED:
        outcome = 'raised'
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_LIMIT, f'load took {elapsed:.2f}s'
    return outcome


@pytest.mark.parametrize('name', sorted(FILES))
def test_corrupted_checkpoints(name):
    data = FILES[name]
    _check(data)
    rng = np.random.default_rng(sorted(FILES).index(name))
    outcomes = [_check(d) for d in _mutations(data, rng, CASES_PER_FILE)]
    assert outcomes.count('raised') > CASES_PER_FILE // 4


def test_case_count():
    assert len(FILES) * CASES_PER_FILE >= 2000


@pytest.mark.parametrize('name', ['torch_zip', 'ember_legacy'])
def test_corrupted_files_on_disk(tmp_path, name):
    """The path code path (real file reads, mmap) with a few corrupted files."""
    rng = np.random.default_rng(7)
    path = tmp_path / 'c.pt'
    for data in _mutations(FILES[name], rng, 40):
        path.write_bytes(data)
        for kw in ({}, {'mmap': True}):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    _touch(ember.load(path, **kw))
            except EXPECTED:
                pass


def _patch_central_sizes(data, record, size):
    """Zip bytes ``data`` with record ``record``'s sizes in the central directory set to ``size``."""
    buf = bytearray(data)
    pos = buf.find(b'PK\x01\x02')
    while pos >= 0:
        nlen = int.from_bytes(buf[pos + 28:pos + 30], 'little')
        if buf[pos + 46:pos + 46 + nlen].endswith(record):
            buf[pos + 20:pos + 28] = size.to_bytes(4, 'little') * 2
        pos = buf.find(b'PK\x01\x02', pos + 1)
    return bytes(buf)


def test_absurd_sizes_do_not_allocate():
    """Headers claiming huge storages, records or strings fail fast instead of allocating."""
    legacy = _bytes(ember.save, ember.arange(3.), _use_new_zipfile_serialization=False)
    zipped = _bytes(ember.save, ember.arange(3.))
    huge = b'J\xff\xff\xff\x7f'
    src = zipfile.ZipFile(io.BytesIO(zipped))
    big_pid = io.BytesIO()
    with zipfile.ZipFile(big_pid, 'w') as z:
        for n in src.namelist():
            z.writestr(n, src.read(n).replace(b'K\x03t', huge + b't') if n.endswith('data.pkl') else src.read(n))
    cases = [legacy.replace(b'K\x03N', huge + b'N'), big_pid.getvalue(),
             _patch_central_sizes(zipped, b'data/0', 0xFFFFFFF0), _patch_central_sizes(zipped, b'data.pkl', 0x7FFFFFFF),
             b'\x80\x02X\xff\xff\xff\x7f' + b'a' * 10, b'\x80\x04\x8e' + (2 ** 62).to_bytes(8, 'little') + b'a']
    assert cases[0] != legacy and huge in zipfile.ZipFile(big_pid).read('archive/data.pkl')
    assert cases[2] != zipped and cases[3] != zipped
    for data in cases:
        start = time.perf_counter()
        tracemalloc.start()
        try:
            with pytest.raises(EXPECTED):
                ember.load(io.BytesIO(data))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 16 << 20, f'loading allocated {peak} bytes'
        assert time.perf_counter() - start < TIME_LIMIT
