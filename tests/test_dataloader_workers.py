"""DataLoader with worker processes: batches, order, seeding, errors, shared memory and clean shutdown.

Results are compared with torch.utils.data run the same way; leaks are checked in /proc (worker
processes) and /dev/shm (segments named ``ember<pid>_...``).
"""
import gc
import multiprocessing
import os
import pickle
import random
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data

import ember
from ember.utils.data import _shared

pytestmark = [pytest.mark.skipif(not sys.platform.startswith('linux'), reason='checks /proc and /dev/shm'),
              pytest.mark.filterwarnings('ignore:This DataLoader will create')]

LIBS = (ember, torch)


def norm(x):
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return 'tensor', str(x.dtype).split('.')[-1], tuple(x.shape), x.tolist()
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [norm(v) for v in x]
    return x


def segments(it=None):
    """This process's shared-memory segments (only those of iterator ``it`` when given)."""
    return _shared.list_segments(it._stem_prefix if it is not None else f'ember{os.getpid()}_')


@pytest.fixture(autouse=True)
def _collect_earlier_iterators():
    # An iterator kept by a reference cycle (an exception's traceback) of an earlier test keeps its
    # workers and their prefetched batches until the cycle is collected.
    gc.collect()


def in_shared_memory(t):
    base = t._data
    while isinstance(base, np.ndarray):
        base = base.base
    return type(base.obj if isinstance(base, memoryview) else base).__name__ == 'mmap'


def alive(pid):
    """Running (not a zombie) process ``pid``."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def wait_until(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.02)
    return cond()


class Items:
    """Map-style dataset (either library) whose samples say who made them."""

    def __init__(self, lib, n=12, shape=(3,)):
        self.lib, self.n, self.shape = lib, n, shape

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = self.lib.utils.data.get_worker_info()
        return self.lib.full(self.shape, float(i)), i, os.getpid(), -1 if info is None else info.id


def run_loader(lib, ds=None, **kw):
    return list(lib.utils.data.DataLoader(Items(lib) if ds is None else ds, **kw))


@pytest.mark.parametrize('kw', [
    dict(batch_size=5, num_workers=2),
    dict(batch_size=4, num_workers=3, shuffle=True, prefetch_factor=1),
    dict(batch_size=None, num_workers=2),
    dict(batch_size=5, num_workers=2, drop_last=True, shuffle=True),
])
def test_batches_match_torch_and_single_process(kw):
    def data(lib):
        g = lib.Generator().manual_seed(3)
        return [b[:2] + [b[3]] if isinstance(b, list) else b for b in run_loader(lib, generator=g, **kw)]
    ember_out = data(ember)
    assert norm(ember_out) == norm(data(torch))
    single = run_loader(ember, generator=ember.Generator().manual_seed(3), **{**kw, 'num_workers': 0,
                                                                              'prefetch_factor': None})
    assert norm([b[:2] if isinstance(b, list) else b[:2] for b in single]) == \
        norm([b[:2] if isinstance(b, list) else b[:2] for b in ember_out])


def test_batches_built_in_workers_and_returned_through_shared_memory(monkeypatch):
    sizes = []
    unpack = _shared.Receiver.unpack

    def spy(self, payload, worker_id):
        sizes.append(len(payload))
        return unpack(self, payload, worker_id)
    monkeypatch.setattr(_shared.Receiver, 'unpack', spy)
    batches = run_loader(ember, Items(ember, 8, (64, 64, 4)), batch_size=4, num_workers=2)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(set(b[2].tolist()[0] for b in batches)) == 2 and os.getpid() not in batches[0][2].tolist()
    assert [b[3].tolist() for b in batches] == [[0] * 4, [1] * 4]
    x = batches[1][0]
    assert x.shape == (4, 64, 64, 4) and x.dtype == ember.float32 and float(x[2, 5, 5, 0]) == 6.0
    assert in_shared_memory(x) and in_shared_memory(batches[1][1])
    x.add_(1)  # writable, private to this process
    assert max(sizes) < 2048 < x.numel() * 4  # only metadata went through the pipe
    assert segments() == []


def test_pack_and_unpack_in_one_process():
    task = _shared.begin_task(f'ember{os.getpid()}_unit_0')
    try:
        big = ember.arange(1e5).reshape(100, 1000)
        stacked = _shared.stack_shared([big, big + 1])
        batch = {'x': stacked, 'view': stacked[1, :, ::3], 'loose': big.t(), 'same': big, 'empty': ember.zeros(0, 2),
                 'grad': ember.ones(2, requires_grad=True), 'text': 'ok', 'n': 3}
        batch['again'] = batch['same']
        payload = _shared.pack(7, 'data', batch, task)
    finally:
        _shared.end_task()
    assert len(payload) < 2048 and len(segments()) == 2
    idx, kind, out = _shared.Receiver(4).unpack(payload, 0)
    assert (idx, kind, segments()) == (7, 'data', [])
    assert out['again'] is out['same'] and out['same'] is not out['loose']
    for k in ('x', 'view', 'loose', 'same', 'empty', 'grad'):
        assert out[k].tolist() == batch[k].tolist() and out[k].dtype == batch[k].dtype
    assert out['grad'].requires_grad and out['grad'].is_leaf and not out['x'].requires_grad
    assert (out['text'], out['n']) == ('ok', 3)
    with pytest.raises(RuntimeError, match='Cowardly refusing to serialize non-leaf tensor'):
        _shared.pack(0, 'data', ember.ones(2, requires_grad=True) * 2, _shared.begin_task(f'ember{os.getpid()}_u_1'))
    _shared.end_task()


def test_segments_are_recycled_only_when_released():
    dl = ember.utils.data.DataLoader(Items(ember, 40, (512,)), batch_size=2, num_workers=2)
    addresses = []
    for x, i, _, _ in dl:
        assert x[:, 0].tolist() == i.tolist()
        addresses.append(x._data.__array_interface__['data'][0])
    del x
    assert len(set(addresses)) < len(addresses) // 2  # dropped batches' memory came back
    held = list(dl)  # nothing released: every batch keeps its own memory
    assert len({b[0]._data.__array_interface__['data'][0] for b in held}) == len(held)
    assert all(b[0][:, 0].tolist() == b[1].tolist() for b in held)
    views = [b[0][1] for b in dl]  # a view keeps its batch's segment alive
    assert [v[0].item() for v in views] == [float(k) for k in range(1, 40, 2)]
    assert segments() == []


class Counting:
    def __init__(self):
        self.count = multiprocessing.get_context('fork').Value('i', 0)

    def __len__(self):
        return 40

    def __getitem__(self, i):
        with self.count.get_lock():
            self.count.value += 1
        return i


@pytest.mark.parametrize('prefetch_factor', [1, 3])
def test_prefetching(prefetch_factor):
    ds = Counting()
    it = iter(ember.utils.data.DataLoader(ds, batch_size=2, num_workers=2, prefetch_factor=prefetch_factor))
    in_flight = 2 * 2 * prefetch_factor  # samples of prefetch_factor batches per worker
    assert wait_until(lambda: ds.count.value == in_flight)
    assert next(it).tolist() == [0, 1]
    assert wait_until(lambda: ds.count.value == in_flight + 2)  # one batch out, one more asked for
    time.sleep(0.1)
    assert ds.count.value == in_flight + 2


class SlowFirst:
    """Item 0 is finished only after item 3 (worker 1's second task) has been fetched."""

    def __init__(self, event):
        self.event = event

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 0:
            self.event.wait(10)
            time.sleep(0.2)
        if i == 3:
            self.event.set()
        return i


@pytest.mark.parametrize('in_order', [True, False])
def test_in_order(in_order):
    ds = SlowFirst(multiprocessing.get_context('fork').Event())
    out = [int(b) for b in ember.utils.data.DataLoader(ds, batch_size=None, num_workers=2, in_order=in_order)]
    assert sorted(out) == list(range(6))
    assert (out == list(range(6))) == in_order


class Randomness:
    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = self.lib.utils.data.get_worker_info()
        return [info.id, info.seed, info.num_workers, self.lib.initial_seed(), random.random(),
                float(np.random.rand()), self.lib.rand(2).tolist(), self.lib.randint(0, 1000, (1,)).item()]


@pytest.mark.parametrize('seeded', [True, False])
def test_worker_seeding_matches_torch(seeded):
    def run(lib):
        lib.manual_seed(1234)
        g = lib.Generator().manual_seed(99) if seeded else None
        out = list(lib.utils.data.DataLoader(Randomness(lib), batch_size=None, num_workers=2, generator=g,
                                             collate_fn=lambda x: x))
        return out, lib.rand(1).tolist()
    assert run(ember) == run(torch)


def init_fn(worker_id):
    info = ember.utils.data.get_worker_info()
    info.dataset.tag = f'w{worker_id}/{info.num_workers}'


class Tagged:
    tag = 'main'

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = ember.utils.data.get_worker_info()
        return self.tag, id(info.dataset) == id(self), info.seed - ember.initial_seed()


def test_worker_init_fn_and_worker_info():
    ds = Tagged()
    out = list(ember.utils.data.DataLoader(ds, batch_size=None, num_workers=2, worker_init_fn=init_fn))
    assert out == [['w0/2', True, 0], ['w1/2', True, 0], ['w0/2', True, 0], ['w1/2', True, 0]]  # tuples: converted
    assert ds.tag == 'main' and ember.utils.data.get_worker_info() is None


def stream(lib, start, end, shard):
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            lo, hi = start, end
            if shard and info is not None:
                per = -(-(end - start) // info.num_workers)
                lo = start + info.id * per
                hi = min(lo + per, end)
            return iter(range(lo, hi))

        def __len__(self):
            return end - start
    return Stream()


@pytest.mark.parametrize('shard, kw', [
    (True, dict(batch_size=None, num_workers=2)),
    (True, dict(batch_size=None, num_workers=3)),
    (False, dict(batch_size=None, num_workers=2)),
    (True, dict(batch_size=2, num_workers=2)),
    (False, dict(batch_size=3, num_workers=2, drop_last=True)),
    (True, dict(batch_size=2, num_workers=2, persistent_workers=True)),
])
def test_iterable_dataset_with_workers(shard, kw):
    def run(lib):
        dl = lib.utils.data.DataLoader(stream(lib, 3, 10, shard), **kw)
        n = len(dl)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            epochs = [list(dl) for _ in range(2 if kw.get('persistent_workers') else 1)]
        return n, norm(epochs), sum('Length of IterableDataset' in str(x.message) for x in w)
    out = run(ember)
    assert out == run(torch)
    # Unsharded, each worker yields all 7 samples: PyTorch's length warning from the 8th on.
    assert out[2] == (7 if not shard and kw['batch_size'] is None else 0)


class Failing:
    def __init__(self, exc):
        self.exc = exc

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise self.exc
        return i


class TwoArgError(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


@pytest.mark.parametrize('exc, expect', [
    (ValueError('bad sample 5'), ValueError), (KeyError('missing'), KeyError), (TwoArgError(1, 2), RuntimeError),
])
def test_worker_exception_is_reraised(exc, expect):
    it = iter(ember.utils.data.DataLoader(Failing(exc), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(expect) as info:
        next(it)
    msg = str(info.value)
    assert f'Caught {type(exc).__name__} in DataLoader worker process 0.\nOriginal Traceback' in msg
    assert 'raise self.exc' in msg and type(exc).__name__ in msg
    assert next(it).tolist() == [6, 7]  # the loader goes on, as PyTorch's does
    with pytest.raises(StopIteration):
        next(it)
    assert segments() == []


def test_worker_init_fn_exception():
    def bad_init(worker_id):
        if worker_id == 1:
            raise ValueError('init failed')
    with pytest.raises(ValueError, match='Caught ValueError in DataLoader worker process 1'):
        list(ember.utils.data.DataLoader(range(4), num_workers=2, worker_init_fn=bad_init))


class Dying:
    def __init__(self, how):
        self.how = how

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 3:
            if self.how == 'exit':
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        return os.getpid()


class DyingEarly:
    """Worker 1 dies on its first sample while worker 0 is still slowly making batch 0."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 2:
            os._exit(5)
        time.sleep(0.3)
        return i


def test_batches_of_live_workers_arrive_before_the_dead_workers_error():
    it = iter(ember.utils.data.DataLoader(DyingEarly(), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1]
    with pytest.raises(RuntimeError, match=r'exited unexpectedly with exit code 5'):
        next(it)
    assert segments(it) == []


@pytest.mark.parametrize('how, detail', [('exit', 'with exit code 3'), ('kill', 'killed by signal: Killed')])
def test_dead_worker_raises(how, detail):
    it = iter(ember.utils.data.DataLoader(Dying(how), batch_size=2, num_workers=2))
    pids = {next(it)[0].item()}
    t = time.monotonic()
    with pytest.raises(RuntimeError, match=r'DataLoader worker \(pid \d+\) exited unexpectedly') as info:
        next(it)
    # Generous bound: the point is that it raises instead of hanging, on a machine that may be busy.
    assert detail in str(info.value) and time.monotonic() - t < 30
    pids |= {p.pid for p in it._workers}
    assert wait_until(lambda: not any(alive(p) for p in pids) and segments(it) == [], timeout=10.0)


class Sleepy:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i >= 2:
            time.sleep(30)
        return i


def test_timeout():
    it = iter(ember.utils.data.DataLoader(Sleepy(), batch_size=None, num_workers=2, timeout=0.5))
    assert [next(it), next(it)] == [0, 1]
    t = time.monotonic()
    with pytest.raises(RuntimeError, match=r'^DataLoader timed out after 0.5 seconds$'):
        next(it)
    assert 0.4 < time.monotonic() - t < 30
    pids = [w.pid for w in it._workers]
    del it
    gc.collect()
    assert wait_until(lambda: not any(alive(p) for p in pids))


def test_no_leaks_after_break_and_gc():
    dl = ember.utils.data.DataLoader(Items(ember, 64, (256,)), batch_size=2, num_workers=2, prefetch_factor=4)
    for _ in dl:
        break
    it = iter(dl)
    batch = next(it)
    pids = [w.pid for w in it._workers]
    assert all(alive(p) for p in pids)
    assert wait_until(lambda: len(segments()) > 0)  # prefetched batches wait in shared memory
    del it, batch
    gc.collect()
    assert not any(os.path.exists(f'/proc/{p}') for p in pids)  # joined and reaped
    assert segments() == []


def test_persistent_workers():
    def run(lib):
        g = lib.Generator().manual_seed(7)
        dl = lib.utils.data.DataLoader(Items(lib, 10), batch_size=3, num_workers=2, shuffle=True, generator=g,
                                       persistent_workers=True)
        epochs = [list(dl) for _ in range(3)]
        first = next(iter(dl))  # a 4th epoch, abandoned after one batch
        pids = {int(p) for e in epochs for b in e for p in b[2]} | {int(p) for p in first[2]}
        return [[b[1].tolist() for b in e] for e in epochs], first[1].tolist(), pids, dl
    e_out = run(ember)
    t_out = run(torch)
    assert e_out[:2] == t_out[:2]
    pids, dl = e_out[2], e_out[3]
    assert len(pids) == 2 and all(alive(p) for p in pids)
    del dl, e_out
    gc.collect()
    assert not any(os.path.exists(f'/proc/{p}') for p in pids) and segments() == []


def test_each_epoch_has_new_workers():
    dl = ember.utils.data.DataLoader(Items(ember, 4), batch_size=2, num_workers=1)
    a, b = ({int(x[2][0]) for x in dl} for _ in range(2))
    assert len(a) == len(b) == 1 and a != b and len(dl) == 2


@pytest.mark.parametrize('method', ['spawn', 'forkserver'])
def test_other_start_methods(method):
    # TensorDataset pickles without this test module, so the workers need not import torch.
    ds = ember.utils.data.TensorDataset(ember.arange(12.).reshape(6, 2), ember.arange(6, dtype=ember.int32))
    dl = ember.utils.data.DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context=method)
    out = list(dl)
    assert out[1][0].tolist() == [[8., 9.], [10., 11.]] and out[0][1].tolist() == [0, 1, 2, 3]
    assert out[0][1].dtype == ember.int32 and in_shared_memory(out[0][0])
    assert segments() == []


def test_unpicklable_dataset_with_spawn():
    dl = ember.utils.data.DataLoader(Items(ember, 2), batch_size=None, num_workers=1,
                                     multiprocessing_context='spawn', worker_init_fn=lambda w: None)
    with pytest.raises((TypeError, AttributeError, pickle.PicklingError)):
        next(iter(dl))
    assert multiprocessing.active_children() == []


def _only_in_a_worker():
    if ember.utils.data.get_worker_info() is None:
        raise ValueError('cannot be rebuilt in the main process')
    return 'rebuilt'


class NotForMain:
    def __reduce__(self):
        return _only_in_a_worker, ()


class Mixed:
    def __len__(self):
        return 3

    def __getitem__(self, i):
        return NotForMain() if i == 1 else i


def test_batch_that_fails_to_unpickle_in_main():
    it = iter(ember.utils.data.DataLoader(Mixed(), batch_size=None, num_workers=2))
    assert next(it) == 0
    with pytest.raises(ValueError, match='Caught ValueError in the main process while unpickling a batch'):
        next(it)
    assert next(it) == 2


SCRIPT = '''
import os, sys, time
import ember

class Big(ember.utils.data.Dataset):
    def __len__(self):
        return 64

    def __getitem__(self, i):
        return ember.full((1024,), float(i))

from ember.utils.data import _shared
it = iter(ember.utils.data.DataLoader(Big(), batch_size=2, num_workers=2))
next(it)
end = time.monotonic() + 60
while not _shared.list_segments(it._stem_prefix) and time.monotonic() < end:
    time.sleep(0.02)  # prefetched batches reach shared memory
print(os.getpid(), len(_shared.list_segments(it._stem_prefix)), *[w.pid for w in it._workers], flush=True)
'''


def test_no_leaks_when_the_program_ends():
    # Two programs at once: one exits normally mid-epoch, the other is SIGKILLed (no clean-up runs in it).
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    procs = {ending: subprocess.Popen([sys.executable, '-c', SCRIPT + body], stdout=subprocess.PIPE, text=True,
                                      cwd=root)
             for ending, body in (('exit', 'sys.exit(0)'), ('sigkill', 'time.sleep(60)'))}
    pids = {}
    for proc in procs.values():
        main, in_flight, *workers = map(int, proc.stdout.readline().split())
        assert len(workers) == 2 and in_flight > 0
        pids[main] = workers
    procs['sigkill'].kill()
    for proc in procs.values():
        proc.wait(30)
        proc.stdout.close()
    for main, workers in pids.items():
        assert wait_until(lambda: not any(alive(p) for p in workers))
        assert _shared.list_segments(f'ember{main}_') == []
