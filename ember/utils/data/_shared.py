"""Shared-memory transport: how a worker hands a batch to the main process without pickling its data.

A worker turns each batch into one small message: the pickle of the batch in which every tensor is
replaced by a descriptor (segment, offset, shape, strides, dtype), plus the ids of the POSIX
shared-memory segments (``multiprocessing.shared_memory``'s ``shm_open``) that hold the data.
``default_collate`` stacks tensors straight into a segment (``stack_shared``); any other tensor
in the batch is copied into one extra segment when the message is packed.

Names and leaks. A new segment is named ``<task stem>_<k>`` (k = 0, 1, ... in creation order;
the stem comes from the main process with the task). The main process maps it on receipt and
unlinks the name at once, so ``/dev/shm`` only ever holds batches in flight. The segments of
tasks sent but never received (early ``break``, a dead worker, exit) are unlinked by name
(``unlink_task``) once the workers have stopped; a worker whose parent died unlinks what it
had sent.

Recycling. Creating and first touching fresh shared pages costs far more than copying into
pages already mapped, so segments are reused. The main process keeps the mapping of each segment
it has received and watches (``weakref.finalize``) the array that all of a batch's tensors in
that segment are views of. When the last of them is gone, the segment id goes back to its
worker with its next task; the worker keeps it in a free pool (bounded: beyond the limit the main
process tells it to drop the segment instead) and the next batch that fits is written there,
with no new mapping on either side. Without POSIX shared memory (Windows) tensors are pickled.
"""
import collections
import io
import mmap
import os
import pickle
import weakref

import numpy as np

from ..._tensor import Tensor, _wrap

try:
    import _posixshmem
except ImportError:
    _posixshmem = None

_ALIGN = 64


def available():
    return _posixshmem is not None


def _create(name, size):
    """Create, size and map a new segment (reserving its pages, so a full /dev/shm is an error, not SIGBUS)."""
    fd = _posixshmem.shm_open('/' + name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        if hasattr(os, 'posix_fallocate'):
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError as e:
                raise RuntimeError(f'DataLoader worker could not allocate {size} bytes of shared memory for a batch '
                                   f'({e.strerror}); the shared-memory filesystem (/dev/shm) may be too '
                                   'small') from None
        else:
            os.ftruncate(fd, size)
        return mmap.mmap(fd, size)
    except BaseException:
        _posixshmem.shm_unlink('/' + name)
        raise
    finally:
        os.close(fd)


def _attach(name):
    """Map an existing segment and unlink its name: the mapping lives on while it is referenced."""
    try:
        fd = _posixshmem.shm_open('/' + name, os.O_RDWR, 0o600)
        try:
            return mmap.mmap(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
    finally:
        _posixshmem.shm_unlink('/' + name)


def unlink_task(stem):
    """Unlink whatever new segments of the task ``stem`` still have names (created as k = 0, 1, ...)."""
    if _posixshmem is None:
        return
    k = 0
    while True:
        try:
            _posixshmem.shm_unlink(f'/{stem}_{k}')
        except FileNotFoundError:
            return
        k += 1


def list_segments(prefix):
    """Names in /dev/shm that start with ``prefix`` (Linux; empty elsewhere)."""
    try:
        return sorted(n for n in os.listdir('/dev/shm') if n.startswith(prefix))
    except OSError:
        return []


# ---- worker side ---------------------------------------------------------------------------------------------------

_free = {}  # segment id -> mmap: returned by the main process, ready for reuse
_lent = {}  # segment id -> mmap: sent to the main process, not yet returned


def recycle(instructions):
    """Apply the main process's ``(segment id, keep)`` list: keep for reuse, or let the mapping go."""
    for seg_id, keep in instructions:
        mm = _lent.pop(seg_id, None)
        if mm is not None and keep:
            _free[seg_id] = mm


def _take_free(nbytes):
    """The smallest free segment that holds ``nbytes`` without wasting more than half of it."""
    best = None
    for seg_id, mm in _free.items():
        size = len(mm)
        if nbytes <= size <= 2 * nbytes + mmap.PAGESIZE and (best is None or size < len(_free[best])):
            best = seg_id
    return best if best is None else (best, _free.pop(best))


class _Task:
    """The segments a worker uses while producing one batch."""

    def __init__(self, stem):
        self.stem = stem
        self.segs = []  # (segment id, mmap, is new)
        self.new = 0
        self.where = {}  # id(mmap) -> (index in segs, address of its first byte)

    def alloc(self, shape, dtype):
        """A C-contiguous array of ``shape``/``dtype`` at the start of a free or new segment."""
        nbytes = max(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, 1)
        hit = _take_free(nbytes)
        if hit is None:
            seg_id = f'{self.stem}_{self.new}'
            mm = _create(seg_id, nbytes)
            self.new += 1
            self.segs.append((seg_id, mm, True))
        else:
            seg_id, mm = hit
            self.segs.append((seg_id, mm, False))
        arr = np.ndarray(shape, dtype, buffer=mm)
        self.where[id(mm)] = (len(self.segs) - 1, arr.__array_interface__['data'][0])
        return arr

    def locate(self, arr):
        """(segment index, byte offset) of ``arr`` if it lives in one of this task's segments."""
        base = arr
        while isinstance(base, np.ndarray):
            base = base.base
        hit = self.where.get(id(base)) if isinstance(base, mmap.mmap) else None
        if hit is None:
            return None
        return hit[0], arr.__array_interface__['data'][0] - hit[1]

    def sent(self):
        """The batch went out: its segments now belong to the main process until returned."""
        for seg_id, mm, _ in self.segs:
            _lent[seg_id] = mm
        self.segs, self.where = [], {}

    def discard(self):
        """The batch failed: unlink the new segments and keep the reused ones."""
        for seg_id, mm, new in self.segs:
            if new:
                try:
                    _posixshmem.shm_unlink('/' + seg_id)
                except FileNotFoundError:
                    pass
            else:
                _free[seg_id] = mm
        self.segs, self.where = [], {}


_current = [None]  # the worker's _Task for the batch being fetched


def begin_task(stem):
    _current[0] = _Task(stem) if _posixshmem is not None and stem is not None else None
    return _current[0]


def end_task():
    _current[0] = None


def stack_shared(batch):
    """``stack(batch, 0)`` written into a shared segment, or None when the fast path does not apply
    (no task in progress, mixed shapes or dtypes, subclasses or tensors that require grad: the caller
    then stacks normally, with PyTorch's promotion and errors)."""
    task = _current[0]
    if task is None:
        return None
    first = batch[0]._data
    for t in batch:
        if type(t) is not Tensor or t._requires_grad or t._data.shape != first.shape or t._data.dtype != first.dtype:
            return None
    out = task.alloc((len(batch),) + first.shape, first.dtype)
    np.stack([t._data for t in batch], out=out)
    return _wrap(out)


_NONLEAF = ('Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does not support '
            'crossing process boundaries.  If you just want to transfer the data, call detach() on the tensor before '
            'serializing (e.g., putting it on the queue).')


class _Pickler(pickle.Pickler):
    """Pickles a batch with each tensor replaced by a descriptor of its bytes in shared memory."""

    def __init__(self, file, task):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.task = task
        self.loose = []  # (array, offset) to copy into the extra segment
        self.loose_size = 0
        self.seen = {}

    def persistent_id(self, obj):
        if type(obj) is not Tensor:
            return None
        pid = self.seen.get(id(obj))
        if pid is not None:
            return pid
        if obj._requires_grad and obj.grad_fn is not None:
            raise RuntimeError(_NONLEAF)
        arr = obj._data
        where = None if arr.size == 0 else self.task.locate(arr)
        if arr.size == 0:
            seg, off, strides = None, 0, None
        elif where is not None:
            (seg, off), strides = where, arr.strides
        else:
            seg, off, strides = -1, self.loose_size, None
            self.loose.append((arr, off))
            self.loose_size += -(-arr.nbytes // _ALIGN) * _ALIGN
        pid = ('ember.Tensor', len(self.seen), seg, off, arr.shape, strides, arr.dtype.str, obj._requires_grad)
        self.seen[id(obj)] = pid
        return pid


def pack(idx, kind, obj, task=None):
    """The message for ``obj``: with a task its tensors go to shared memory, otherwise all is pickled."""
    if task is None:
        return pickle.dumps((idx, kind, (), pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)), pickle.HIGHEST_PROTOCOL)
    buf = io.BytesIO()
    p = _Pickler(buf, task)
    p.dump(obj)
    if p.loose:
        extra = task.alloc((p.loose_size,), np.dtype(np.uint8))
        for arr, off in p.loose:
            np.copyto(np.ndarray(arr.shape, arr.dtype, buffer=extra, offset=off), arr, casting='no')
    segs = [(seg_id, new) for seg_id, _, new in task.segs]
    return pickle.dumps((idx, kind, segs, buf.getvalue()), pickle.HIGHEST_PROTOCOL)


# ---- main side -----------------------------------------------------------------------------------------------------

class _Unpickler(pickle.Unpickler):
    def __init__(self, file, bases):
        super().__init__(file)
        self.bases = bases
        self.built = {}

    def persistent_load(self, pid):
        tag, n, seg, off, shape, strides, dtype, requires_grad = pid
        if tag != 'ember.Tensor':
            raise pickle.UnpicklingError(f'unsupported persistent id {tag!r}')
        t = self.built.get(n)
        if t is None:
            if seg is None:
                arr = np.empty(shape, np.dtype(dtype))
            else:
                arr = np.ndarray(shape, np.dtype(dtype), buffer=self.bases[seg], offset=off, strides=strides)
            t = self.built[n] = _wrap(arr, requires_grad=requires_grad)
        return t


class Receiver:
    """The main process's end: decodes messages and hands released segments back to their workers.

    ``limit`` is how many free segments a worker may hold; segments released beyond it are dropped.
    """

    def __init__(self, limit):
        self.limit = limit
        self.maps = {}  # segment id -> (mmap, worker id) for segments received and not dropped
        self.released = collections.deque()  # appended to by finalizers, from any thread
        self.pooled = collections.Counter()  # worker id -> free segments it holds
        self.todo = collections.defaultdict(list)  # worker id -> (segment id, keep) not yet sent

    def unpack(self, payload, worker_id):
        """(idx, kind, obj) from a message; new segments are mapped (and unlinked), reused ones looked up."""
        idx, kind, segs, body = pickle.loads(payload)
        bases, error = [], None
        for seg_id, new in segs:
            try:
                if new:
                    mm = _attach(seg_id)
                    self.maps[seg_id] = (mm, worker_id)
                else:
                    mm = self.maps[seg_id][0]
                    self.pooled[worker_id] -= 1
            except (OSError, KeyError) as e:
                error = error or e
                continue
            # Every tensor in the segment is a view of this array: its death means the segment is free.
            base = np.frombuffer(mm, np.uint8)
            weakref.finalize(base, self.released.append, seg_id).atexit = False
            bases.append(base)
        if error is not None:
            raise RuntimeError(f'DataLoader could not map a batch from shared memory: {error!r}') from error
        try:
            # Descriptors name the extra segment -1: it is always the last one used.
            return idx, kind, _Unpickler(io.BytesIO(body), bases).load()
        except Exception:
            # Re-raised in turn like a worker's exception, so the loader's bookkeeping stays consistent.
            from ._worker import _WorkerError
            return idx, 'error', _WorkerError('in the main process while unpickling a batch from a DataLoader worker')

    def take(self, worker_id):
        """The ``(segment id, keep)`` instructions to send to ``worker_id`` with its next task."""
        while self.released:
            seg_id = self.released.popleft()
            entry = self.maps.get(seg_id)
            if entry is None:
                continue
            w = entry[1]
            keep = self.pooled[w] < self.limit
            if keep:
                self.pooled[w] += 1
            else:
                del self.maps[seg_id]
            self.todo[w].append((seg_id, keep))
        return self.todo.pop(worker_id, [])

    def close(self):
        self.maps.clear()
        self.todo.clear()
