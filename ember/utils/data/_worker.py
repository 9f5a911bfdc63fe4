"""The DataLoader worker process: seeding, ``get_worker_info`` and the fetch loop.

Each worker seeds itself from the loader's ``base_seed`` exactly as PyTorch's workers do
(``seed = base_seed + worker_id`` for ``random``, ``ember.manual_seed`` and ``WorkerInfo.seed``;
NumPy's legacy global generator from a SeedSequence-style hash of ``(worker_id, base_seed)``), so
a dataset that draws random numbers gets PyTorch's numbers. Then it loops: take ``(idx, index,
stem, recycle)`` from its index queue, fetch and collate the batch into shared memory (segments
handed back by the main process, or new ones named after ``stem``), and send the small message
describing it back on its own pipe. An exception becomes
an ``_WorkerError`` message that the main process re-raises; ``None`` means stop; a vanished
parent (checked every ``MP_STATUS_CHECK_INTERVAL`` seconds) makes the worker clean up and exit.
"""
import os
import pickle
import random
import sys
from collections import deque
from dataclasses import dataclass
from typing import Any

MP_STATUS_CHECK_INTERVAL = 1.0

_worker_info = None


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id`` (0 .. num_workers - 1), ``num_workers``,
    ``seed`` (``base_seed + id``) and ``dataset`` (this process's copy of the dataset)."""
    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Any = None
    worker_method: str | None = 'multiprocessing'


def get_worker_info() -> WorkerInfo | None:
    """The current DataLoader worker's ``WorkerInfo``; ``None`` in the main process.

    Useful in ``IterableDataset.__iter__`` or a ``worker_init_fn`` to give each worker its own share
    of the data, or to seed other libraries from ``seed``.
    """
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    seed: int | None = None


class _KeyErrorMessage(str):
    """A KeyError's message shown as text (KeyError otherwise prints the repr of its argument)."""

    def __repr__(self):
        return self


class _WorkerError:
    """An exception caught in a worker: its type and formatted traceback, re-raised in the main process."""

    def __init__(self, where):
        import traceback
        exc_type, exc, tb = sys.exc_info()
        self.type_name = exc_type.__name__
        self.text = ''.join(traceback.format_exception(exc_type, exc, tb))
        self.where = where
        try:
            self.type_pickle = pickle.dumps(exc_type)
        except Exception:
            self.type_pickle = None

    def reraise(self):
        msg = f'Caught {self.type_name} {self.where}.\nOriginal {self.text}'
        try:
            exc_type = pickle.loads(self.type_pickle)
        except Exception:
            raise RuntimeError(msg) from None
        if exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        elif getattr(exc_type, 'message', None):
            raise exc_type(message=msg)
        try:
            exc = exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


def _generate_state(base_seed, worker_id):
    """The four 32-bit words PyTorch seeds NumPy with in worker ``worker_id``: NumPy's SeedSequence
    hashing of the entropy ``[worker_id, base_seed low, base_seed high, 0]`` in pure Python."""
    mask = 0xFFFFFFFF
    hash_mult = [0x43B0D7E5]

    def hashmix(value):
        value = (value ^ hash_mult[0]) & mask
        hash_mult[0] = (hash_mult[0] * 0x931E8875) & mask
        value = (value * hash_mult[0]) & mask
        return (value ^ (value >> 16)) & mask

    def mix(x, y):
        r = ((0xCA01F9DD * x) - (0x4973F715 * y)) & mask
        return (r ^ (r >> 16)) & mask

    pool = [hashmix(v) for v in (worker_id, base_seed & mask, base_seed >> 32, 0)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    mult = 0x8B51F9DD
    state = []
    for value in pool:
        value = (value ^ mult) & mask
        mult = (mult * 0x58F38DED) & mask
        value = (value * mult) & mask
        state.append((value ^ (value >> 16)) & mask)
    return state


def _seed_worker(base_seed, worker_id):
    import numpy as np

    from ..._random import manual_seed
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    return seed


def _worker_loop(iterable, dataset, index_queue, result_conn, done_event, auto_collation, collate_fn, drop_last,
                 base_seed, init_fn, worker_id, num_workers, keep):
    """Run in worker ``worker_id`` until told to stop (``None``) or the parent process disappears.

    ``keep`` bounds how many sent tasks may still be unread by the parent: their stems are what the
    worker unlinks if the parent dies.
    """
    import queue

    from ..._threads import set_num_threads
    from . import _shared
    from ._fetch import _create_fetcher
    global _worker_info
    sent = deque(maxlen=keep)
    parent = os.getppid()
    try:
        set_num_threads(1)
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f'in DataLoader worker process {worker_id}'
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = _WorkerError(where)
        iteration_end = False
        while True:
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent:
                    break
                continue
            except (EOFError, OSError):
                break
            if r is None:
                return
            if isinstance(r, _ResumeIteration):
                iteration_end = False
                fetcher = _create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
                result_conn.send_bytes(_shared.pack(r, 'resume', None))
                continue
            if done_event.is_set() or iteration_end:
                continue
            idx, index, stem, instructions = r
            _shared.recycle(instructions)
            task = _shared.begin_task(stem)
            try:
                if init_error is not None:
                    msg, init_error = _shared.pack(idx, 'error', init_error), None
                else:
                    try:
                        msg = _shared.pack(idx, 'data', fetcher.fetch(index), task)
                    except StopIteration:
                        if not iterable:
                            raise
                        iteration_end = True
                        if task is not None:
                            task.discard()
                        msg = _shared.pack(idx, 'end', _IterableDatasetStopIteration(worker_id))
            except Exception:
                if task is not None:
                    task.discard()
                msg = _shared.pack(idx, 'error', _WorkerError(where))
            finally:
                _shared.end_task()
            if stem is not None:
                sent.append(stem)
            try:
                result_conn.send_bytes(msg)
            except OSError:
                break
            if task is not None:
                task.sent()
            del msg, r, task
        # The parent is gone (or stopped reading): nobody will map what was sent but not read.
        for stem in sent:
            _shared.unlink_task(stem)
    except KeyboardInterrupt:
        pass
