"""``DataLoader``: batches from a dataset, loaded in the main process or in worker processes.

How multi-process loading works (``num_workers > 0``):

- The main process owns the sampler. It keeps ``prefetch_factor * num_workers`` tasks in flight,
  each ``(idx, indices, stem)`` put on one worker's index queue, round robin.
- A worker fetches and collates the batch into POSIX shared memory and sends back, on its own
  pipe, a small message: the pickle of the batch with every tensor replaced by a pointer into
  those segments. Segments whose tensors the program has dropped go back to their worker with
  its next task and are reused (see ``_shared``).
- The main process waits on all pipes and on the workers' process sentinels at once, so a
  worker that dies is noticed immediately, and a ``timeout`` is a plain deadline. Messages are
  decoded as they arrive (segments mapped, then unlinked); with ``in_order=True`` results that
  arrive early wait in ``_task_info`` until their turn, as in PyTorch.
- Shutdown (end of epoch, ``break``, garbage collection, interpreter exit, a dead worker) tells
  the workers to stop, joins them (terminating stragglers), and unlinks the segments of tasks
  that were sent but never received. ``multiprocessing`` is imported only here, on first use.

The bookkeeping of task indices, worker status (for iterable datasets whose workers run out)
and ``in_order=False`` follows PyTorch's ``_MultiProcessingDataLoaderIter`` so that batches come
out in the same order.
"""
import atexit
import itertools
import math
import os
import sys
import warnings
import weakref
from collections.abc import Callable, Iterable
from time import monotonic
from typing import Any, Generic, TypeVar

from ... import _dtype
from ..._creation import empty
from . import _shared
from ._fetch import _create_fetcher
from ._worker import MP_STATUS_CHECK_INTERVAL, _ResumeIteration, _WorkerError, get_worker_info
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ['DataLoader', 'get_worker_info', 'default_collate', 'default_convert']

T_co = TypeVar('T_co', covariant=True)


class _DatasetKind:
    Map = 0
    Iterable = 1


class _InfiniteConstantSampler(Sampler):
    """``None`` forever: the sampler of an iterable dataset, whose samples are not addressed by index."""

    def __iter__(self):
        while True:
            yield None


def _cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()


class DataLoader(Generic[T_co]):
    """Iterate over ``dataset`` in batches, in this process or in ``num_workers`` worker processes.

    Args:
        dataset: a map-style ``Dataset`` (indexed by the sampler) or an ``IterableDataset``.
        batch_size: samples per batch (default 1); ``None`` turns automatic batching off.
        shuffle: reshuffle every epoch (a ``RandomSampler``); default ``False``.
        sampler: an iterable of indices (exclusive with ``shuffle``).
        batch_sampler: an iterable of lists of indices (exclusive with ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        num_workers: worker processes; 0 loads in the main process (default).
        collate_fn: merges a list of samples into a batch (default ``default_collate``, or
            ``default_convert`` without automatic batching).
        pin_memory: accepted; without an accelerator there is no pinned memory (PyTorch's warning).
        drop_last: drop the last incomplete batch.
        timeout: seconds to wait for a batch from the workers (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: a start method name ('fork', 'spawn', 'forkserver') or context;
            default 'fork' on Linux (unless a global start method was set), else the platform's.
        generator: the ``ember.Generator`` for ``RandomSampler`` and the workers' ``base_seed``.
        prefetch_factor: batches loaded in advance per worker (default 2 with workers).
        persistent_workers: keep the workers (and their dataset copies) alive between epochs.
        pin_memory_device: deprecated and ignored, as in PyTorch.
        in_order: with workers, return batches in sampler order (default); ``False`` returns them as
            they are ready.

    Each iteration draws ``base_seed`` from ``generator`` (or the default generator), even without
    workers; worker ``i`` seeds ``random``, ``ember`` and NumPy from it as PyTorch's workers do.
    """

    __initialized = False

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable | None = None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = '', in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError('num_workers option should be non-negative; use num_workers=0 to disable '
                             'multiprocessing.')
        if timeout < 0:
            raise ValueError('timeout option should be non-negative')
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError('prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 '
                             'to enable multiprocessing, otherwise set prefetch_factor to None.')
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError('prefetch_factor option should be non-negative')
        if persistent_workers and num_workers == 0:
            raise ValueError('persistent_workers option needs num_workers > 0')

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        # Iterable datasets are checked first: a custom sampler can never work with them.
        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError(f'DataLoader with IterableDataset: expected unspecified shuffle option, but got '
                                 f'shuffle={shuffle}')
            if sampler is not None:
                raise ValueError(f'DataLoader with IterableDataset: expected unspecified sampler option, but got '
                                 f'sampler={sampler}')
            if batch_sampler is not None:
                raise ValueError(f'DataLoader with IterableDataset: expected unspecified batch_sampler option, but '
                                 f'got batch_sampler={batch_sampler}')
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError('sampler option is mutually exclusive with shuffle')
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError('batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and '
                                 'drop_last')
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError('batch_size=None option disables auto-batching and is mutually exclusive with drop_last')

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context):
        if multiprocessing_context is not None:
            if self.num_workers <= 0:
                raise ValueError(f'multiprocessing_context can only be used with multi-process loading '
                                 f'(num_workers > 0), but got num_workers={self.num_workers}')
            import multiprocessing
            if isinstance(multiprocessing_context, str):
                methods = multiprocessing.get_all_start_methods()
                if multiprocessing_context not in methods:
                    raise ValueError(f'multiprocessing_context option should specify a valid start method in '
                                     f'{methods!r}, but got multiprocessing_context={multiprocessing_context!r}')
                multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
            if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                raise TypeError(f'multiprocessing_context option should be a valid context object or a string '
                                f'specifying the start method, but got '
                                f'multiprocessing_context={multiprocessing_context}')
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val):
        if self.__initialized and attr in ('batch_size', 'batch_sampler', 'sampler', 'drop_last', 'dataset',
                                           'persistent_workers'):
            raise ValueError(f'{attr} attribute should not be set after {self.__class__.__name__} is initialized')
        super().__setattr__(attr, val)

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self) -> '_BaseDataLoaderIter':
        # Persistent workers live in one iterator that is rewound for each epoch.
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            # Trusts the dataset's own length; a mismatch is warned about while iterating.
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self):
        """Warn when more workers are asked for than this process may use CPUs, as PyTorch does."""
        if not self.num_workers:
            return
        suggest = _cpu_count()
        if suggest is None or self.num_workers > suggest:
            cpuset = '' if hasattr(os, 'sched_getaffinity') else ' (`cpuset` is not taken into account)'
            detail = (f'Our suggested max number of worker in current system is {suggest}{cpuset}, which is smaller '
                      f'than what this DataLoader is going to create.' if suggest is not None else
                      'DataLoader is not able to compute a suggested max number of worker in current system.')
            warnings.warn(f'This DataLoader will create {self.num_workers} worker processes in total. {detail} Please '
                          'be aware that excessive worker creation might get DataLoader running slow or even freeze, '
                          'lower the worker number to avoid potential slowness/freeze if necessary.', stacklevel=2)


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(f'pin_memory_device is deprecated, the current accelerator will be used as the device,'
                          f"ignore pin_memory_device='{loader.pin_memory_device}'.", stacklevel=2)
        if loader.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned memory "
                          "won't be used.", stacklevel=2)
        self._pin_memory = False
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        # Drawn for every iterator, with or without workers, so the generator advances as PyTorch's does.
        self._base_seed = empty((), dtype=_dtype.int64).random_(generator=loader.generator).item()
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f'Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}'
                   f'(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ')
            if self._num_workers > 0:
                msg += ('For multiprocessing data-loading, this could be caused by not properly configuring the '
                        'IterableDataset replica at each worker. Please see '
                        'https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples.')
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f'{self.__class__.__name__} cannot be pickled')


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError('_SingleProcessDataLoaderIter requires timeout == 0')
        self._dataset_fetcher = _create_fetcher(self._dataset_kind == _DatasetKind.Iterable, self._dataset,
                                                self._auto_collation, self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()
        return self._dataset_fetcher.fetch(index)


# Multi-process iterators still running, shut down at interpreter exit (before multiprocessing's own exit
# handler terminates the daemonic workers, which would strand the shared memory of batches in flight).
_live_iterators = weakref.WeakSet()
_iterator_ids = itertools.count()
_atexit_registered = [False]


def _shutdown_live_iterators():
    for it in list(_live_iterators):
        it._shutdown_workers()


def _default_context():
    import multiprocessing
    if multiprocessing.get_start_method(allow_none=True) is None and sys.platform.startswith('linux'):
        return multiprocessing.get_context('fork')
    return multiprocessing.get_context()


def _death_message(w):
    code = w.exitcode
    if code is not None and code < 0:
        import signal
        try:
            name = signal.strsignal(-code) or f'signal {-code}'
        except ValueError:
            name = f'signal {-code}'
        return f'DataLoader worker (pid {w.pid}) exited unexpectedly: it was killed by signal: {name}.'
    return (f'DataLoader worker (pid {w.pid}) exited unexpectedly with exit code {code}. Details are lost due to '
            'multiprocessing. Rerunning with num_workers=0 may give better error trace.')


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    _shutdown = True  # until there is something to shut down

    def __init__(self, loader):
        super().__init__(loader)
        import multiprocessing.connection
        import multiprocessing.util  # noqa: F401 (registers multiprocessing's exit handler before ours)

        from ._worker import _worker_loop
        self._wait = multiprocessing.connection.wait
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            raise AssertionError('prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter')
        ctx = loader.multiprocessing_context or _default_context()
        self._owner = os.getpid()
        self._stem_prefix = f'ember{self._owner}_{next(_iterator_ids)}_'
        self._stem_count = itertools.count()
        self._stems = {}  # idx of a task in flight -> its shared-memory stem
        self._receiver = _shared.Receiver(limit=2 * (self._prefetch_factor + 2))
        self._workers, self._index_queues, self._conns, self._conn_open = [], [], [], []
        self._workers_status = []
        self._dead = set()  # ids of workers that died; raised once the iterator needs one of their batches
        self._done_event = ctx.Event()
        self._shutdown = False
        if not _atexit_registered[0]:
            atexit.register(_shutdown_live_iterators)
            _atexit_registered[0] = True
        _live_iterators.add(self)
        keep = self._prefetch_factor * self._num_workers + 1
        iterable = self._dataset_kind == _DatasetKind.Iterable
        try:
            for i in range(self._num_workers):
                index_queue = ctx.Queue()
                index_queue.cancel_join_thread()
                reader, writer = ctx.Pipe(duplex=False)
                self._index_queues.append(index_queue)
                self._conns.append(reader)
                self._conn_open.append(True)
                w = ctx.Process(target=_worker_loop, daemon=True,
                                args=(iterable, self._dataset, index_queue, writer, self._done_event,
                                      self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                                      loader.worker_init_fn, i, self._num_workers, keep))
                try:
                    w.start()
                finally:
                    # Only the worker may hold the write end, so that its death reads as end-of-file.
                    writer.close()
                self._workers.append(w)
                self._workers_status.append(True)
        except BaseException:
            self._shutdown_workers()
            raise
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info = {}  # idx -> (worker_id,) while in flight, (worker_id, data) once arrived early
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # Persistent workers: drain what the previous epoch left in flight, then rewind every worker.
            for q in self._index_queues:
                q.put(_ResumeIteration())
            pending = self._num_workers
            while pending:
                _, kind, _ = self._get_data()
                pending -= kind == 'resume'
            self._stems.clear()
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _get_data(self):
        """The next message from any worker as ``(idx, kind, data)``; raises on timeout or a dead worker."""
        deadline = monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            if self._dead and not self._awaited_worker_alive():
                msg = ' '.join(_death_message(self._workers[i]) for i in sorted(self._dead))
                self._shutdown_workers()
                raise RuntimeError(msg)
            conns = [c for c, ok in zip(self._conns, self._conn_open) if ok]
            sentinels = [w.sentinel for i, (w, ok) in enumerate(zip(self._workers, self._workers_status))
                         if ok and i not in self._dead]
            ready = self._wait(conns + sentinels, None if deadline is None else max(0.0, deadline - monotonic()))
            if not ready:
                raise RuntimeError(f'DataLoader timed out after {self._timeout} seconds')
            for c in ready:
                if isinstance(c, int):
                    continue
                try:
                    payload = c.recv_bytes()
                except (EOFError, OSError):
                    self._conn_open[self._conns.index(c)] = False
                    continue
                idx, kind, data = self._receiver.unpack(payload, self._conns.index(c))
                if isinstance(idx, int):
                    self._stems.pop(idx, None)
                return idx, kind, data
            self._dead.update(i for i, (w, ok) in enumerate(zip(self._workers, self._workers_status))
                              if ok and not w.is_alive())

    def _awaited_worker_alive(self):
        """Whether the batch the iterator waits for can still come: in order, its worker is alive."""
        info = self._task_info.get(self._rcvd_idx)
        return self._in_order and info is not None and len(info) == 1 and info[0] not in self._dead

    def _next_data(self):
        while True:
            # Skip tasks whose worker ran out of data (iterable datasets) before answering them.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)
            if self._shutdown or self._tasks_outstanding <= 0:
                raise AssertionError('Invalid iterator state: shutdown or no outstanding tasks when fetching next '
                                     'data')
            idx, kind, data = self._get_data()
            self._tasks_outstanding -= 1
            if kind == 'end':
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    return self._process_data(data, self._task_info.pop(idx)[0])
                self._task_info[idx] += (data,)
            else:
                worker_id = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _try_put_index(self):
        max_tasks = self._prefetch_factor * self._num_workers
        if self._tasks_outstanding >= max_tasks:
            raise AssertionError('Number of outstanding tasks exceeded maximum allowed tasks')
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker]:
                if self._in_order or self._workers_num_tasks[worker] < max_tasks // sum(self._workers_status):
                    break
        else:
            return
        stem = f'{self._stem_prefix}{next(self._stem_count)}' if _shared.available() else None
        self._stems[self._send_idx] = stem
        self._index_queues[worker].put((self._send_idx, index, stem, self._receiver.take(worker)))
        self._task_info[self._send_idx] = (worker,)
        self._workers_num_tasks[worker] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data, worker_id):
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, _WorkerError):
            data.reraise()
        return data

    def _mark_worker_as_unavailable(self, worker_id):
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self):
        if self._shutdown or os.getpid() != self._owner:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for w, q in zip(self._workers, self._index_queues):
                if w.is_alive():
                    q.put(None)
            deadline = monotonic() + MP_STATUS_CHECK_INTERVAL
            for w in self._workers:
                w.join(max(0.0, deadline - monotonic()))
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(MP_STATUS_CHECK_INTERVAL)
                if w.is_alive():
                    w.kill()
                    w.join()
            for q in self._index_queues:
                q.cancel_join_thread()
                q.close()
            for c in self._conns:
                c.close()
            # Workers are gone: whatever they made for tasks never received can be removed by name.
            for stem in self._stems.values():
                if stem is not None:
                    _shared.unlink_task(stem)
            self._stems.clear()
            self._receiver.close()
            _live_iterators.discard(self)

    def __del__(self):
        if not sys.is_finalizing():
            self._shutdown_workers()
