"""``ember.save`` / ``ember.load``: checkpoints interchangeable with PyTorch's.

``save`` writes PyTorch's zip format (or, with ``_use_new_zipfile_serialization=False``, the
pre-1.6 legacy format); ``torch.load`` reads the result, and ``load`` reads what ``torch.save``
writes. Loading is safe by default (``weights_only=True``): the pickle may only name tensors,
containers, numbers, strings and the globals allowed with ``add_safe_globals``.

The format lives in small modules: ``_zip`` (the archive), ``_save`` (the pickler that writes
PyTorch's names), ``_unpickler`` (the weights-only unpickler), ``_rebuild`` (Ember's versions
of PyTorch's rebuild functions) and ``_load``.
"""
import contextlib
import os
import pickle
import pickletools
import secrets
import stat

from . import _load, _save
from ._load import default_restore_location
from ._rebuild import _rebuild_parameter_for_pickle, _rebuild_tensor_for_pickle, torch_globals
from ._save import DEFAULT_PROTOCOL
from ._unpickler import (add_safe_globals, clear_safe_globals, compat_name, get_safe_globals, safe_globals,
                         user_globals)
from ._zip import ZipReader

__all__ = ['save', 'load', 'add_safe_globals', 'safe_globals', 'get_safe_globals', 'clear_safe_globals',
           'get_unsafe_globals_in_checkpoint', 'default_restore_location', 'DEFAULT_PROTOCOL']

_ = (_rebuild_parameter_for_pickle, _rebuild_tensor_for_pickle)  # referenced by name from pickles


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True):
    """Save ``obj`` (tensors, Parameters, state dicts, containers of them) to ``f`` as PyTorch does.

    ``f`` is a path (``str`` or ``os.PathLike``) or a binary file object with ``write``. Saving
    to a path is atomic: the data goes to a temporary file in the same folder, which replaces
    ``f`` only once it is complete and synced, so an error mid-save leaves any previous file
    intact. Tensors that share memory (views) are saved once and load as views again.
    ``pickle_module`` must provide a pure-Python ``Pickler`` (``pickle``, ``dill``).
    """
    def write(fh, name):
        if _use_new_zipfile_serialization:
            _save.save_zip(obj, fh, name, pickle_module, pickle_protocol)
        else:
            _save.save_legacy(obj, fh, pickle_module, pickle_protocol)

    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        _atomic_write(path, lambda fh: write(fh, _save.archive_name(path)))
    elif hasattr(f, 'write'):
        write(f, 'archive')
    else:
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'write' attribute, got "
                             f'{type(f).__name__}')


def _atomic_write(path, write):
    directory = os.path.dirname(os.path.abspath(path))
    while True:
        tmp = os.path.join(directory, f'.{os.path.basename(path)}.{secrets.token_hex(6)}.tmp')
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_BINARY', 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, 'wb') as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # Make the rename itself durable (POSIX only; directories cannot be opened on Windows).
    with contextlib.suppress(OSError, AttributeError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=False, **pickle_load_args):
    """Load an object saved with ``ember.save`` or ``torch.save`` (zip or legacy format).

    ``f``: a path or a binary file object (``io.BytesIO`` too).
    ``map_location``: ``'cpu'``, an ``ember.device``, a dict ``{saved location: new location}`` or a
    callable ``(storage, location) -> storage or None``. Ember runs on the CPU only: a storage
    that would land on another device raises ``RuntimeError`` naming the fix.
    ``weights_only``: when True (the default) no code from the file runs; the pickle may name
    only PyTorch's tensor machinery, containers, numbers and strings, plus the globals allowed
    with ``add_safe_globals``/``safe_globals`` (else ``pickle.UnpicklingError`` naming the
    global). With False, arbitrary objects are unpickled (only for files you trust).
    ``mmap``: memory-map the storages of a zip checkpoint at path ``f`` (copy-on-write)
    instead of reading them.
    ``pickle_load_args``: passed to the unpickler (``encoding``, default ``'utf-8'``).
    """
    if weights_only is None:
        weights_only = True
    if weights_only and pickle_module is not None:
        raise RuntimeError('Can not safely load weights when explicit pickle_module is specified')
    pickle_load_args.setdefault('encoding', 'utf-8')
    return _load.load(f, map_location, pickle_module or pickle, bool(weights_only), bool(mmap), pickle_load_args)


def get_unsafe_globals_in_checkpoint(f):
    """Names of the globals in zip checkpoint ``f`` that ``weights_only`` loading would refuse.

    The pickle is only parsed, never run.
    """
    fh, name, _, owned = _load.open_source(f)
    try:
        data = ZipReader(fh, name).read('data.pkl')
    finally:
        if owned:
            fh.close()
    allowed = set(torch_globals()) | set(user_globals())
    found = set()
    strings = []
    proto = 0
    for op, arg, _ in pickletools.genops(data):
        if op.name == 'PROTO':
            proto = arg
        elif op.name in ('GLOBAL', 'STACK_GLOBAL'):
            module, gname = arg.split(' ', 1) if op.name == 'GLOBAL' else strings[-2:]
            if proto < 3:
                module, gname = compat_name(module, gname)
            found.add(f'{module}.{gname}')
        elif isinstance(arg, str):
            strings.append(arg)
    return sorted(found - allowed)
