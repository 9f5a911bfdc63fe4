"""The container of PyTorch checkpoints: an uncompressed zip archive with 64-byte aligned records.

``ZipWriter`` writes each record as a local header, the raw bytes and nothing else; the padding
that puts the data on a 64-byte boundary (so storages can be memory-mapped) is an extra field
with PyTorch's id ``FB``. Zip64 fields appear only when a size or offset reaches 4 GiB.

``ZipReader`` reads any zip archive written that way or by PyTorch (stored or deflated records,
Zip64). Every count, size and offset read from the file is checked against the file's length
before it is used, so a truncated or corrupted archive raises ``RuntimeError`` naming the
problem instead of seeking or allocating absurdly.
"""
import struct
import zlib

_LOCAL = struct.Struct('<4sHHHHHLLLHH')
_CENTRAL = struct.Struct('<4sHHHHHHLLLHHHHHLL')
_EOCD = struct.Struct('<4sHHHHLLH')
_EOCD64 = struct.Struct('<4sQHHLLQQQQ')
_LOCATOR = struct.Struct('<4sLQL')
_U32 = 0xFFFFFFFF
_U16 = 0xFFFF
# Sizes and offsets at or above this use Zip64 fields (a module constant so tests can lower it).
ZIP64_LIMIT = _U32
_UTF8 = 0x800
_DOS_DATE = 0x21  # 1980-01-01, the zip epoch
_CHUNK = 1 << 30


def _crc32(data):
    crc = 0
    for i in range(0, len(data), _CHUNK):
        crc = zlib.crc32(data[i:i + _CHUNK], crc)
    return crc


class ZipWriter:
    """Write records to the binary file ``f`` (only ``f.write`` is used) under ``archive_name/``."""

    def __init__(self, f, archive_name, alignment=64):
        self._f = f
        self._prefix = archive_name + '/'
        self._align = alignment
        self._pos = 0
        self._central = []

    def _write(self, data):
        self._f.write(data)
        self._pos += len(data)

    def write_record(self, name, data):
        """Append record ``name`` holding ``data`` (bytes or a contiguous uint8 array)."""
        data = memoryview(data).cast('B')
        size = data.nbytes
        crc = _crc32(data)
        fname = (self._prefix + name).encode('utf-8')
        offset = self._pos
        big = size >= ZIP64_LIMIT
        extra = struct.pack('<HHQQ', 1, 16, size, size) if big else b''
        pad = -(offset + _LOCAL.size + len(fname) + len(extra) + 4) % self._align
        extra += b'FB' + struct.pack('<H', pad) + b'Z' * pad
        field = _U32 if big else size
        self._write(_LOCAL.pack(b'PK\x03\x04', 45 if big else 20, _UTF8, 0, 0, _DOS_DATE, crc, field, field,
                                len(fname), len(extra)))
        self._write(fname)
        self._write(extra)
        if size:
            self._write(data)
        self._central.append((fname, crc, size, offset))

    def close(self):
        """Write the central directory and end records."""
        cd_start = self._pos
        for fname, crc, size, offset in self._central:
            z64 = b''
            if size >= ZIP64_LIMIT:
                z64 += struct.pack('<QQ', size, size)
            if offset >= ZIP64_LIMIT:
                z64 += struct.pack('<Q', offset)
            extra = struct.pack('<HH', 1, len(z64)) + z64 if z64 else b''
            field = _U32 if size >= ZIP64_LIMIT else size
            ver = 45 if z64 else 20
            self._write(_CENTRAL.pack(b'PK\x01\x02', ver, ver, _UTF8, 0, 0, _DOS_DATE, crc, field, field, len(fname),
                                      len(extra), 0, 0, 0, 0, _U32 if offset >= ZIP64_LIMIT else offset))
            self._write(fname)
            self._write(extra)
        cd_size = self._pos - cd_start
        n = len(self._central)
        if n >= _U16 or cd_start >= ZIP64_LIMIT or cd_size >= ZIP64_LIMIT:
            eocd64 = self._pos
            self._write(_EOCD64.pack(b'PK\x06\x06', _EOCD64.size - 12, 45, 45, 0, 0, n, n, cd_size, cd_start))
            self._write(_LOCATOR.pack(b'PK\x06\x07', 0, eocd64, 1))
            self._write(_EOCD.pack(b'PK\x05\x06', 0, 0, _U16, _U16, _U32, _U32, 0))
        else:
            self._write(_EOCD.pack(b'PK\x05\x06', 0, 0, n, n, cd_size, cd_start, 0))


class ZipReader:
    """Random access to the records of the zip archive that starts at ``f``'s current position.

    ``f`` must be seekable. ``name`` (the file's name) is used in error messages. Record names
    are looked up without the archive's top folder (``data.pkl`` finds ``archive/data.pkl``).
    """

    def __init__(self, f, name='<buffer>'):
        self._f = f
        self.name = name
        self._start = f.tell()
        self._end = f.seek(0, 2)
        self._records = {}
        self.prefix = ''
        self._read_directory()

    def _fail(self, msg):
        raise RuntimeError(f'failed reading zip archive {self.name}: {msg} (the file is truncated, corrupted or not '
                           'a checkpoint)')

    def _read_at(self, pos, n):
        """``n`` bytes at offset ``pos`` of the archive; fails unless they all lie inside the file."""
        if pos < 0 or n < 0 or self._start + pos + n > self._end:
            self._fail(f'a record points {n} bytes at offset {pos}, past the end of the file')
        self._f.seek(self._start + pos)
        data = self._f.read(n)
        if len(data) != n:
            self._fail('unexpected end of file')
        return data

    def _read_directory(self):
        size = self._end - self._start
        tail_len = min(size, _EOCD.size + _U16)
        tail = self._read_at(size - tail_len, tail_len)
        i = tail.rfind(b'PK\x05\x06')
        while i >= 0 and i + _EOCD.size > len(tail):
            i = tail.rfind(b'PK\x05\x06', 0, i)
        if i < 0:
            self._fail('failed finding central directory')
        eocd_pos = size - tail_len + i
        _, disk, cd_disk, _, n, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, i)
        dir_end = eocd_pos
        if n == _U16 or cd_size == _U32 or cd_offset == _U32:
            if eocd_pos < _LOCATOR.size:
                self._fail('Zip64 end of central directory locator missing')
            sig, _, eocd64_pos, _ = _LOCATOR.unpack(self._read_at(eocd_pos - _LOCATOR.size, _LOCATOR.size))
            if sig != b'PK\x06\x07' or eocd64_pos + _EOCD64.size > eocd_pos - _LOCATOR.size:
                self._fail('bad Zip64 end of central directory locator')
            rec = _EOCD64.unpack(self._read_at(eocd64_pos, _EOCD64.size))
            if rec[0] != b'PK\x06\x06':
                self._fail('bad Zip64 end of central directory record')
            n, cd_size, cd_offset = rec[7], rec[8], rec[9]
            dir_end = eocd64_pos
        if disk or cd_disk:
            self._fail('multi-disk archives are not supported')
        if cd_offset + cd_size > dir_end or n > cd_size // _CENTRAL.size:
            self._fail('central directory size or offset out of range')
        cd = self._read_at(cd_offset, cd_size)
        self._dir_start = cd_offset
        pos = 0
        for _ in range(n):
            if pos + _CENTRAL.size > len(cd):
                self._fail('central directory truncated')
            (sig, _, _, flags, method, _, _, crc, csize, usize, nlen, elen, clen, _, _, _,
             offset) = _CENTRAL.unpack_from(cd, pos)
            if sig != b'PK\x01\x02':
                self._fail('bad central directory entry')
            pos += _CENTRAL.size
            if pos + nlen + elen + clen > len(cd):
                self._fail('central directory entry truncated')
            raw_name = cd[pos:pos + nlen]
            extra = cd[pos + nlen:pos + nlen + elen]
            pos += nlen + elen + clen
            try:
                name = raw_name.decode('utf-8' if flags & _UTF8 else 'cp437')
            except UnicodeDecodeError:
                self._fail(f'record name {raw_name!r} is not valid UTF-8')
            usize, csize, offset = self._zip64_fields(extra, usize, csize, offset)
            if flags & 1:
                self._fail(f'record {name} is encrypted')
            if offset + _LOCAL.size > cd_offset or csize > cd_offset:
                self._fail(f'record {name} lies outside the archive')
            if not self.prefix:
                self.prefix = name.split('/', 1)[0] + '/' if '/' in name else ''
            key = name[len(self.prefix):] if name.startswith(self.prefix) else name
            self._records.setdefault(key, (method, crc, csize, usize, offset))

    def _zip64_fields(self, extra, usize, csize, offset):
        pos = 0
        while pos + 4 <= len(extra):
            tag, ln = struct.unpack_from('<HH', extra, pos)
            pos += 4
            if tag == 1:
                body = extra[pos:pos + ln]
                vals = [struct.unpack_from('<Q', body, j)[0] for j in range(0, len(body) - 7, 8)]
                if usize == _U32:
                    usize = vals.pop(0) if vals else self._fail('bad Zip64 extra field')
                if csize == _U32:
                    csize = vals.pop(0) if vals else self._fail('bad Zip64 extra field')
                if offset == _U32:
                    offset = vals.pop(0) if vals else self._fail('bad Zip64 extra field')
                break
            pos += ln
        return usize, csize, offset

    def has_record(self, name):
        return name in self._records

    def get_all_records(self):
        return list(self._records)

    def record_size(self, name):
        return self._entry(name)[3]

    def _entry(self, name):
        entry = self._records.get(name)
        if entry is None:
            self._fail(f'failed locating file {name}: file not found')
        return entry

    def data_offset(self, name):
        """Offset of record ``name``'s first data byte from the start of the file (for mmap)."""
        method, _, csize, usize, offset = self._entry(name)
        hdr = self._read_at(offset, _LOCAL.size)
        sig, _, _, _, _, _, _, _, _, nlen, elen = _LOCAL.unpack(hdr)
        if sig != b'PK\x03\x04':
            self._fail(f'bad local header for record {name}')
        data = offset + _LOCAL.size + nlen + elen
        if data + csize > self._dir_start:
            self._fail(f'record {name} runs past the central directory')
        return self._start + data

    def is_stored(self, name):
        """True when record ``name`` is stored uncompressed (so it can be memory-mapped)."""
        method, _, csize, usize, _ = self._entry(name)
        return method == 0 and csize == usize

    def read(self, name, out=None, check_crc=True):
        """Record ``name`` as bytes, or read into ``out`` (a writable uint8 array of its size)."""
        method, crc, csize, usize, _ = self._entry(name)
        start = self.data_offset(name) - self._start
        if out is not None and out.nbytes != usize:
            self._fail(f'record {name} holds {usize} bytes, expected {out.nbytes}')
        if method == 0:
            if csize != usize:
                self._fail(f'stored record {name} has inconsistent sizes')
            if out is None:
                data = self._read_at(start, usize)
            else:
                self._f.seek(self._start + start)
                data = out
                if self._f.readinto(memoryview(out).cast('B')) != usize:
                    self._fail('unexpected end of file')
        elif method == 8:
            # Deflate expands at most ~1032:1; a larger declared size is corruption, not data.
            if usize > 1032 * csize + 64:
                self._fail(f'record {name} declares an impossible uncompressed size')
            try:
                d = zlib.decompressobj(-15)
                data = d.decompress(self._read_at(start, csize), usize)
            except zlib.error as e:
                self._fail(f'record {name} is not valid deflate data ({e})')
            if len(data) != usize:
                self._fail(f'record {name} decompresses to the wrong size')
            if out is not None:
                memoryview(out).cast('B')[:] = data
                data = out
        else:
            self._fail(f'record {name} uses unsupported compression method {method}')
        if check_crc and crc and _crc32(memoryview(data).cast('B')) != crc:
            self._fail(f'CRC-32 mismatch in record {name}')
        return data
