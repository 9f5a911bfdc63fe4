"""Downloading, verifying and unpacking dataset files (torchvision.datasets.utils' API).

``download_url`` fetches one file into a folder unless a verified copy is already there, writing to
``<file>.part`` and renaming only after the whole file arrived, so an interrupted download never
passes for the real file. Progress goes to a tqdm bar when tqdm is installed, else to one stderr line
rewritten in place. ``extract_archive`` unpacks ``.tar[.gz|.bz2|.xz]``, ``.tgz``, ``.zip`` and
decompresses ``.gz``/``.bz2``/``.xz`` files; tar members that would land outside the target folder
(absolute paths, ``..``, links out) are refused.

Every failure to fetch a file raises ``RuntimeError`` naming the URL and the folder where the file
can be put by hand, which is the way to use these datasets on a machine without network access.
"""
import bz2
import gzip
import hashlib
import lzma
import os
import pathlib
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from typing import IO, TypeVar

__all__ = ['calculate_md5', 'check_md5', 'check_integrity', 'download_url', 'download_and_extract_archive',
           'extract_archive', 'list_dir', 'list_files', 'verify_str_arg', 'iterable_to_str']

USER_AGENT = 'pytorch/vision'


def calculate_md5(fpath: str | pathlib.Path, chunk_size: int = 1024 * 1024) -> str:
    """The hex MD5 digest of the file at ``fpath`` (read in ``chunk_size`` blocks)."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, 'rb') as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: str | pathlib.Path, md5: str, **kwargs) -> bool:
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath: str | pathlib.Path, md5: str | None = None) -> bool:
    """True when ``fpath`` is a file and, if ``md5`` is given, its MD5 digest equals it."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


class _Progress:
    """A byte counter shown with tqdm when installed, else as one stderr line rewritten in place."""

    def __init__(self, total, desc):
        self.total, self.done, self.desc = total, 0, desc
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=total, unit='B', unit_scale=True, desc=desc)

    def update(self, n):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        else:
            of = f' / {self.total / 1e6:.1f} MB' if self.total else ' MB'
            sys.stderr.write(f'\r{self.desc}: {self.done / 1e6:.1f}{of}')
            sys.stderr.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        else:
            sys.stderr.write('\n')


def _urlopen(url: str, max_redirect_hops: int = 3):
    """Open ``url`` (http, https, ftp or file) following at most ``max_redirect_hops`` redirects."""
    handler = type('_Redirects', (urllib.request.HTTPRedirectHandler,), {'max_redirections': max_redirect_hops})
    opener = urllib.request.build_opener(handler)
    return opener.open(urllib.request.Request(url, headers={'User-Agent': USER_AGENT}), timeout=60)


def _urlretrieve(url: str, fpath: str, max_redirect_hops: int = 3, chunk_size: int = 1024 * 32) -> None:
    part = fpath + '.part'
    try:
        with _urlopen(url, max_redirect_hops) as response, open(part, 'wb') as fh:
            total = getattr(response, 'length', None)
            progress = _Progress(total, os.path.basename(fpath))
            try:
                while chunk := response.read(chunk_size):
                    fh.write(chunk)
                    progress.update(len(chunk))
            finally:
                progress.close()
        os.replace(part, fpath)
    finally:
        if os.path.exists(part):
            os.remove(part)


def download_url(url: str, root: str | pathlib.Path, filename: str | pathlib.Path | None = None,
                 md5: str | None = None, max_redirect_hops: int = 3) -> None:
    """Download ``url`` to ``root/filename`` (``filename`` defaults to the URL's basename).

    Nothing is fetched when the file is already there and matches ``md5`` (or exists, with no
    ``md5``). A failed transfer raises ``RuntimeError`` naming the URL and the folder to put the file
    in by hand; a file whose checksum differs raises ``RuntimeError`` too.
    """
    root = os.path.expanduser(root)
    if not filename:
        filename = os.path.basename(url)
    fpath = os.fspath(os.path.join(root, filename))
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    try:
        try:
            _urlretrieve(url, fpath, max_redirect_hops)
        except (urllib.error.URLError, OSError):
            if not url.startswith('https:'):
                raise
            url = url.replace('https:', 'http:', 1)
            _urlretrieve(url, fpath, max_redirect_hops)
    except (urllib.error.URLError, OSError) as e:
        raise RuntimeError(f"Failed to download {url}: {e}. Without network access, download the file by hand "
                           f"and put it in {root} as {os.path.basename(fpath)}.") from e
    if not check_integrity(fpath, md5):
        raise RuntimeError(f'File not found or corrupted: {fpath} does not match the MD5 checksum {md5} '
                           f'(downloaded from {url}).')


def list_dir(root: str | pathlib.Path, prefix: bool = False) -> list[str]:
    """The directories in ``root`` (as paths under ``root`` when ``prefix``)."""
    root = os.path.expanduser(root)
    directories = [p for p in os.listdir(root) if os.path.isdir(os.path.join(root, p))]
    return [os.path.join(root, d) for d in directories] if prefix else directories


def list_files(root: str | pathlib.Path, suffix: str | tuple[str, ...], prefix: bool = False) -> list[str]:
    """The files in ``root`` whose names end with ``suffix`` (as paths under ``root`` when ``prefix``)."""
    root = os.path.expanduser(root)
    files = [p for p in os.listdir(root) if os.path.isfile(os.path.join(root, p)) and p.endswith(suffix)]
    return [os.path.join(root, d) for d in files] if prefix else files


def _extract_tar(from_path, to_path, compression):
    with tarfile.open(from_path, f'r:{compression[1:]}' if compression else 'r') as tar:
        # The 'data' filter refuses members that escape to_path or are devices, as tarfile will by default.
        tar.extractall(to_path, filter='data')


_ZIP_COMPRESSION_MAP = {'.bz2': zipfile.ZIP_BZIP2, '.xz': zipfile.ZIP_LZMA}


def _extract_zip(from_path, to_path, compression):
    with zipfile.ZipFile(from_path, 'r',
                         compression=_ZIP_COMPRESSION_MAP[compression] if compression else zipfile.ZIP_STORED) as z:
        z.extractall(to_path)


_ARCHIVE_EXTRACTORS: dict[str, Callable] = {'.tar': _extract_tar, '.zip': _extract_zip}
_COMPRESSED_FILE_OPENERS: dict[str, Callable[..., IO]] = {'.bz2': bz2.open, '.gz': gzip.open, '.xz': lzma.open}
_FILE_TYPE_ALIASES = {'.tbz': ('.tar', '.bz2'), '.tbz2': ('.tar', '.bz2'), '.tgz': ('.tar', '.gz')}


def _detect_file_type(file) -> tuple[str, str | None, str | None]:
    """``(suffix, archive type, compression)`` of ``file`` from its name, e.g. ``('.tar.gz', '.tar', '.gz')``."""
    suffixes = pathlib.Path(file).suffixes
    if not suffixes:
        raise RuntimeError(f"File '{file}' has no suffixes that could be used to detect the archive type and "
                           "compression.")
    suffix = suffixes[-1]
    if suffix in _FILE_TYPE_ALIASES:
        return (suffix, *_FILE_TYPE_ALIASES[suffix])
    if suffix in _ARCHIVE_EXTRACTORS:
        return suffix, suffix, None
    if suffix in _COMPRESSED_FILE_OPENERS:
        if len(suffixes) > 1 and suffixes[-2] in _ARCHIVE_EXTRACTORS:
            return suffixes[-2] + suffix, suffixes[-2], suffix
        return suffix, None, suffix
    valid_suffixes = sorted(set(_FILE_TYPE_ALIASES) | set(_ARCHIVE_EXTRACTORS) | set(_COMPRESSED_FILE_OPENERS))
    raise RuntimeError(f"Unknown compression or archive type: '{suffix}'.\nKnown suffixes are: '{valid_suffixes}'.")


def _decompress(from_path, to_path=None, remove_finished=False) -> pathlib.Path:
    suffix, archive_type, compression = _detect_file_type(from_path)
    if not compression:
        raise RuntimeError(f"Couldn't detect a compression from suffix {suffix}.")
    if to_path is None:
        to_path = pathlib.Path(os.fspath(from_path).replace(suffix, archive_type if archive_type is not None else ''))
    with _COMPRESSED_FILE_OPENERS[compression](from_path, 'rb') as rfh, open(to_path, 'wb') as wfh:
        while chunk := rfh.read(1 << 20):
            wfh.write(chunk)
    if remove_finished:
        os.remove(from_path)
    return pathlib.Path(to_path)


def extract_archive(from_path: str | pathlib.Path, to_path: str | pathlib.Path | None = None,
                    remove_finished: bool = False) -> str | pathlib.Path:
    """Extract the archive (or decompress the file) ``from_path`` into the folder ``to_path``.

    The type comes from the file name (``.tar``, ``.zip``, ``.tar.gz``, ``.tgz``, ``.gz``, ``.xz``,
    ``.bz2`` ...); ``to_path`` defaults to ``from_path``'s folder; ``remove_finished`` deletes the
    archive afterwards. Returns the folder (for a plain compressed file: the decompressed file's
    path), as a ``str`` when ``from_path`` is one.
    """
    def path_or_str(ret_path):
        return os.fspath(ret_path) if isinstance(from_path, str) else ret_path

    if to_path is None:
        to_path = os.path.dirname(from_path)
    suffix, archive_type, compression = _detect_file_type(from_path)
    if not archive_type:
        out = os.path.join(to_path, os.path.basename(from_path).replace(suffix, ''))
        return path_or_str(_decompress(from_path, out, remove_finished=remove_finished))
    _ARCHIVE_EXTRACTORS[archive_type](from_path, to_path, compression)
    if remove_finished:
        os.remove(from_path)
    return path_or_str(pathlib.Path(to_path))


def download_and_extract_archive(url: str, download_root: str | pathlib.Path,
                                 extract_root: str | pathlib.Path | None = None,
                                 filename: str | pathlib.Path | None = None, md5: str | None = None,
                                 remove_finished: bool = False) -> None:
    """``download_url(url, download_root, filename, md5)`` then ``extract_archive`` into ``extract_root``
    (default ``download_root``)."""
    download_root = os.path.expanduser(download_root)
    if extract_root is None:
        extract_root = download_root
    if not filename:
        filename = os.path.basename(url)
    download_url(url, download_root, filename, md5)
    extract_archive(os.path.join(download_root, filename), extract_root, remove_finished)


def iterable_to_str(iterable: Iterable) -> str:
    return "'" + "', '".join([str(item) for item in iterable]) + "'"


T = TypeVar('T', str, bytes)


def verify_str_arg(value: T, arg: str | None = None, valid_values: Iterable[T] | None = None,
                   custom_msg: str | None = None) -> T:
    """Return ``value`` if it is a ``str`` among ``valid_values``; else raise torchvision's ``ValueError``."""
    if not isinstance(value, str):
        msg = ('Expected type str, but got type {type}.' if arg is None
               else 'Expected type str for argument {arg}, but got type {type}.')
        raise ValueError(msg.format(type=type(value), arg=arg))
    if valid_values is None:
        return value
    if value not in valid_values:
        msg = custom_msg if custom_msg is not None else (
            f'Unknown value \'{value}\' for argument {arg}. Valid values are {{{iterable_to_str(valid_values)}}}.')
        raise ValueError(msg)
    return value
