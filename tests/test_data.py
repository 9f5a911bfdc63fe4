"""ember.utils.data without workers: datasets, samplers, collate and the DataLoader against torch.utils.data.

Every case runs the same lambda with ``lib=ember`` and ``lib=torch`` and compares the results as
plain Python structures (tensor -> dtype, shape, values), including the random orders.
"""
import collections
import os
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data

import ember
import ember.utils.data as ed

LIBS = (ember, torch)
Point = collections.namedtuple('Point', 'x y')


def norm(x):
    """A comparable plain structure: tensors by dtype/shape/values, containers by type name."""
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return 'tensor', str(x.dtype).split('.')[-1], tuple(x.shape), x.tolist()
    if isinstance(x, dict):
        return type(x).__name__, {k: norm(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, '_fields'):
        return type(x).__name__, tuple(norm(v) for v in x)
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [norm(v) for v in x]
    if isinstance(x, np.ndarray):
        return 'ndarray', x.dtype.str, x.tolist()
    return x


def same(fn):
    """Run ``fn(lib)`` for both libraries (after the same global seed) and compare."""
    out = []
    for lib in LIBS:
        lib.manual_seed(0)
        out.append(norm(fn(lib)))
    assert out[0] == out[1]
    return out[0]


def same_error(fn, match=None):
    """``fn(lib)`` raises the same exception type with the same message in both libraries."""
    errs = []
    for lib in LIBS:
        with pytest.raises(Exception) as info:
            fn(lib)
        errs.append(info.value)
    assert type(errs[0]) is type(errs[1]), (errs[0], errs[1])
    assert str(errs[0]).replace('ember', 'torch') == str(errs[1]), (str(errs[0]), str(errs[1]))
    if match is not None:
        assert match in str(errs[0])


class Squares:
    """A map-style dataset (of either library) of ``(i, i * i)``."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i, i * i


def stream(lib, start, end):
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(start, end))

        def __len__(self):
            return end - start
    return Stream()


def tds(lib, n=10):
    return lib.utils.data.TensorDataset(lib.arange(n * 2.).reshape(n, 2), lib.arange(n))


# ---- datasets ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('fn', [
    lambda lib: [tds(lib)[3], tds(lib)[-1], len(tds(lib))],
    lambda lib: tds(lib)[2:4],
    lambda lib: [(ds := lib.utils.data.ConcatDataset([Squares(3), Squares(2)]))[4], ds[-5], ds[-1], len(ds),
                 ds.cumulative_sizes],
    lambda lib: [len(tds(lib) + tds(lib, 3)), (tds(lib) + tds(lib, 3))[11]],
    lambda lib: list(lib.utils.data.ChainDataset([stream(lib, 0, 3), stream(lib, 7, 9)])),
    lambda lib: [list(stream(lib, 0, 2) + stream(lib, 5, 6)), len(stream(lib, 0, 2) + stream(lib, 5, 6))],
    lambda lib: [lib.utils.data.StackDataset(Squares(3), tds(lib, 3))[1], len(lib.utils.data.StackDataset(Squares(3)))],
    lambda lib: lib.utils.data.StackDataset(a=Squares(3), b=tds(lib, 3))[2],
    lambda lib: lib.utils.data.StackDataset(Squares(3), lib.utils.data.Subset(tds(lib), [5, 1, 2])).__getitems__(
        [0, 2]),
    lambda lib: lib.utils.data.StackDataset(a=Squares(4), b=Squares(4)).__getitems__([3, 1]),
    lambda lib: [(s := lib.utils.data.Subset(Squares(10), [7, 2, 5]))[1], len(s), s.__getitems__([0, 2])],
    lambda lib: lib.utils.data.Subset(tds(lib), [7, 2, 5]).__getitems__([2, 0]),
])
def test_datasets(fn):
    same(fn)


@pytest.mark.parametrize('fn', [
    lambda lib: lib.utils.data.TensorDataset(lib.zeros(3), lib.zeros(4)),
    lambda lib: lib.utils.data.ConcatDataset([]),
    lambda lib: lib.utils.data.ConcatDataset([stream(lib, 0, 2)]),
    lambda lib: lib.utils.data.ConcatDataset([Squares(3)])[-4],
    lambda lib: lib.utils.data.StackDataset(Squares(3), b=Squares(3)),
    lambda lib: lib.utils.data.StackDataset(),
    lambda lib: lib.utils.data.StackDataset(Squares(3), Squares(4)),
    lambda lib: list(lib.utils.data.ChainDataset([Squares(2)])),
    lambda lib: lib.utils.data.Dataset()[0],
    lambda lib: type('S', (lib.utils.data.Subset,), {'__getitem__': lambda self, i: i})(Squares(3), [0]),
])
def test_dataset_errors(fn):
    same_error(fn)


@pytest.mark.parametrize('n, lengths', [(10, [3, 7]), (30, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]),
                                        (5, [5, 0]), (200, [0.25, 0.75]), (3, [0.2, 0.8])])
@pytest.mark.parametrize('seeded', [True, False])
def test_random_split(n, lengths, seeded):
    def split(lib):
        g = lib.Generator().manual_seed(42) if seeded else lib.default_generator
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            parts = lib.utils.data.random_split(range(n), lengths, generator=g)
        return [list(p) for p in parts], [str(x.message) for x in w], lib.rand(2)
    same(split)


@pytest.mark.parametrize('lengths', [[3, 6], [0.5, 0.6], [1.2, -0.2], [4, 7]])
def test_random_split_errors(lengths):
    same_error(lambda lib: lib.utils.data.random_split(range(10), lengths))


# ---- samplers ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('fn', [
    lambda lib: list(lib.utils.data.SequentialSampler(range(5))),
    lambda lib: [list(s := lib.utils.data.RandomSampler(range(10))), list(s), len(s)],
    lambda lib: list(lib.utils.data.RandomSampler(range(7), generator=lib.Generator().manual_seed(3))),
    lambda lib: list(lib.utils.data.RandomSampler(range(7), num_samples=17, generator=lib.Generator().manual_seed(3))),
    lambda lib: list(lib.utils.data.RandomSampler(range(7), num_samples=5)),
    lambda lib: [list(s := lib.utils.data.RandomSampler(range(9), replacement=True, num_samples=70)), len(s)],
    lambda lib: list(lib.utils.data.RandomSampler(range(1000), replacement=True,
                                                  generator=lib.Generator().manual_seed(1))),
    lambda lib: list(lib.utils.data.RandomSampler(range(300))),
    lambda lib: [list(s := lib.utils.data.SubsetRandomSampler([10, 20, 30, 40])), len(s)],
    lambda lib: list(lib.utils.data.SubsetRandomSampler(range(50, 80), generator=lib.Generator().manual_seed(9))),
    lambda lib: list(lib.utils.data.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 25)),
    lambda lib: list(lib.utils.data.WeightedRandomSampler([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 5, replacement=False)),
    lambda lib: list(lib.utils.data.WeightedRandomSampler(lib.tensor([1., 2., 3.]), 4,
                                                          generator=lib.Generator().manual_seed(5))),
    lambda lib: [list(b := lib.utils.data.BatchSampler(range(10), 3, False)), len(b)],
    lambda lib: [list(b := lib.utils.data.BatchSampler(range(10), 3, True)), len(b)],
    lambda lib: [list(b := lib.utils.data.BatchSampler(range(9), 3, True)), len(b)],
    lambda lib: list(lib.utils.data.BatchSampler(lib.utils.data.RandomSampler(range(10)), 4, False)),
    lambda lib: [list(lib.utils.data.BatchSampler(iter([5, 6, 7]), 2, False))],
])
def test_samplers(fn):
    same(fn)


@pytest.mark.parametrize('fn', [
    lambda lib: lib.utils.data.RandomSampler(range(3), replacement=1),
    lambda lib: lib.utils.data.RandomSampler(range(3), num_samples=0),
    lambda lib: lib.utils.data.RandomSampler(range(0)),
    lambda lib: lib.utils.data.WeightedRandomSampler([1., 2.], 0),
    lambda lib: lib.utils.data.WeightedRandomSampler([1., 2.], True),
    lambda lib: lib.utils.data.WeightedRandomSampler([1., 2.], 2, replacement=None),
    lambda lib: lib.utils.data.WeightedRandomSampler([[1., 2.]], 2),
    lambda lib: list(lib.utils.data.WeightedRandomSampler([1., 2.], 3, replacement=False)),
    lambda lib: lib.utils.data.BatchSampler(range(3), 0, False),
    lambda lib: lib.utils.data.BatchSampler(range(3), True, False),
    lambda lib: lib.utils.data.BatchSampler(range(3), 2, 1),
    lambda lib: len(lib.utils.data.Sampler()),
    lambda lib: iter(lib.utils.data.Sampler()),
])
def test_sampler_errors(fn):
    same_error(fn)


@pytest.mark.parametrize('n, replicas, shuffle, seed, drop_last', [
    (10, 3, True, 0, False), (10, 3, True, 0, True), (10, 3, False, 0, False), (10, 3, False, 0, True),
    (12, 4, True, 7, False), (2, 5, True, 1, False), (2, 5, False, 0, False), (101, 8, True, 3, True),
])
def test_distributed_sampler(n, replicas, shuffle, seed, drop_last):
    def run(lib):
        out = []
        for rank in range(replicas):
            s = lib.utils.data.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=shuffle,
                                                  seed=seed, drop_last=drop_last)
            per_epoch = []
            for epoch in (0, 1, 5):
                s.set_epoch(epoch)
                per_epoch.append(list(s))
            out.append((per_epoch, len(s), s.num_samples, s.total_size))
        return out
    same(run)


@pytest.mark.parametrize('kw', [dict(num_replicas=2, rank=2), dict(num_replicas=2, rank=-1)])
def test_distributed_sampler_errors(kw):
    same_error(lambda lib: lib.utils.data.DistributedSampler(range(4), **kw))


def test_distributed_sampler_needs_process_group():
    with pytest.raises((RuntimeError, ValueError)):
        ed.DistributedSampler(range(4))


# ---- collate -----------------------------------------------------------------------------------------------------

def _t(lib, *a, **k):
    return lib.tensor(*a, **k)


@pytest.mark.parametrize('batch', [
    lambda lib: [0, 1, 2, 3],
    lambda lib: [0.5, 1.0, 2],
    lambda lib: [True, False],
    lambda lib: ['a', 'b', 'c'],
    lambda lib: [b'a', b'b'],
    lambda lib: [(0, 'a'), (1, 'b')],
    lambda lib: [[0, 1], [2, 3]],
    lambda lib: [{'A': 0, 'B': 1.5}, {'A': 100, 'B': 100.}],
    lambda lib: [Point(0, 0.5), Point(1, 1.5)],
    lambda lib: [Point(np.array(0), np.array([1., 2.])), Point(np.array(1), np.array([3., 4.]))],
    lambda lib: [_t(lib, [1, 2]), _t(lib, [3, 4])],
    lambda lib: [_t(lib, 1.5), _t(lib, 2.5)],
    lambda lib: [_t(lib, [[1.]], dtype=lib.float16), _t(lib, [[2.]], dtype=lib.float16)],
    lambda lib: [_t(lib, [1, 2], dtype=lib.int32), _t(lib, [3., 4.])],
    lambda lib: [lib.arange(6.).reshape(2, 3).t(), lib.ones(3, 2)],
    lambda lib: [lib.zeros(0, 3), lib.zeros(0, 3)],
    lambda lib: [np.arange(3, dtype=np.float32), np.ones(3, np.float32)],
    lambda lib: [np.arange(4, dtype=np.uint8).reshape(2, 2)] * 3,
    lambda lib: [np.float32(1.5), np.float32(2)],
    lambda lib: [np.int16(3), np.int16(4)],
    lambda lib: [np.bool_(True), np.bool_(False)],
    lambda lib: [np.float64(1), np.float64(2)],
    lambda lib: [{'img': np.zeros((2, 2), np.float32), 'label': 3, 'name': 'x', 'meta': {'k': [1, 2]}}] * 2,
    lambda lib: [(_t(lib, [1.]), {'a': (1, 2.5)}, ['s', 't'])] * 3,
    lambda lib: [collections.OrderedDict(a=1, b=2), collections.OrderedDict(a=3, b=4)],
    lambda lib: [collections.defaultdict(int, a=1), collections.defaultdict(int, a=2)],
    lambda lib: [range(3), range(3)],
    lambda lib: [[[1, 2], [3]], [[4, 5], [6]]][:1],
])
def test_default_collate(batch):
    same(lambda lib: lib.utils.data.default_collate(batch(lib)))


@pytest.mark.parametrize('batch', [
    lambda lib: [_t(lib, [1., 2., 3.]), _t(lib, [1., 2., 3., 4.])],
    lambda lib: [[1, 2], [3]],
    lambda lib: [object(), object()],
    lambda lib: [None, None],
    lambda lib: [np.array(['a', 'b']), np.array(['c', 'd'])],
    lambda lib: [np.array([object()]), np.array([object()])],
    lambda lib: [{'a': 1}, {'b': 2}],
])
def test_default_collate_errors(batch):
    same_error(lambda lib: lib.utils.data.default_collate(batch(lib)))


def test_default_collate_stack_message():
    with pytest.raises(RuntimeError, match=r'stack expects each tensor to be equal size, but got \[3\] at entry 0 '
                                           r'and \[4\] at entry 1'):
        ed.default_collate([ember.zeros(3), ember.zeros(4)])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                                        "or lists; found <class 'NoneType'>"):
        ed.default_collate([None])


@pytest.mark.parametrize('data', [
    lambda lib: 0,
    lambda lib: 'text',
    lambda lib: np.array([0, 1]),
    lambda lib: np.float32(2.5),
    lambda lib: np.array(['a']),
    lambda lib: Point(np.array(0), 1),
    lambda lib: [np.array([0, 1]), np.array([2., 3.])],
    lambda lib: (np.array(1), 'x'),
    lambda lib: {'a': np.ones(2), 'b': [np.int64(3)]},
    lambda lib: _t(lib, [1, 2]),
    lambda lib: range(2),
])
def test_default_convert(data):
    same(lambda lib: lib.utils.data.default_convert(data(lib)))


def test_collate_numpy_shares_nothing_unexpected():
    arrays = [np.arange(3.), np.arange(3.) + 1]
    out = ed.default_collate(arrays)
    out[0, 0] = 100.
    assert arrays[0][0] == 0
    a = np.arange(3)
    assert np.shares_memory(ed.default_convert(a)._data, a)  # as_tensor: no copy, as in PyTorch


def test_collate_fn_map_extension():
    class Box:
        def __init__(self, v):
            self.v = v

    def box_fn(batch, *, collate_fn_map=None):
        return sum(b.v for b in batch)
    from ember.utils.data.collate import collate, default_collate_fn_map
    assert collate([{'b': Box(1)}, {'b': Box(2)}], collate_fn_map={**default_collate_fn_map, Box: box_fn}) == {'b': 3}


# ---- DataLoader in the main process ------------------------------------------------------------------------------

def loader(lib, ds=None, **kw):
    return lib.utils.data.DataLoader(tds(lib) if ds is None else ds, **kw)


@pytest.mark.parametrize('fn', [
    lambda lib: list(loader(lib)),
    lambda lib: list(loader(lib, batch_size=4)),
    lambda lib: list(loader(lib, batch_size=4, drop_last=True)),
    lambda lib: list(loader(lib, batch_size=3, shuffle=True)),
    lambda lib: [list(dl := loader(lib, batch_size=3, shuffle=True)), list(dl), lib.rand(2)],
    lambda lib: list(loader(lib, batch_size=3, shuffle=True, generator=lib.Generator().manual_seed(11))),
    lambda lib: [list(dl := loader(lib, batch_size=4, shuffle=True, generator=lib.Generator().manual_seed(1))),
                 list(dl)],
    lambda lib: list(loader(lib, batch_size=None)),
    lambda lib: list(loader(lib, Squares(5), batch_size=None)),
    lambda lib: list(loader(lib, Squares(7), batch_size=2)),
    lambda lib: list(loader(lib, sampler=[9, 0, 4], batch_size=2)),
    lambda lib: list(loader(lib, sampler=lib.utils.data.RandomSampler(range(10), replacement=True, num_samples=5))),
    lambda lib: list(loader(lib, batch_sampler=[[0, 1], [5], [9, 8, 7]])),
    lambda lib: list(loader(lib, batch_sampler=lib.utils.data.BatchSampler(range(10), 4, True))),
    lambda lib: list(loader(lib, batch_size=3, collate_fn=lambda b: len(b))),
    lambda lib: list(loader(lib, batch_size=None, collate_fn=lambda s: s[1] * 2)),
    lambda lib: list(loader(lib, Squares(4), batch_size=3, shuffle=True, pin_memory=False)),
    lambda lib: list(loader(lib, stream(lib, 3, 10), batch_size=3)),
    lambda lib: list(loader(lib, stream(lib, 3, 10), batch_size=3, drop_last=True)),
    lambda lib: list(loader(lib, stream(lib, 3, 6), batch_size=None)),
    lambda lib: list(loader(lib, stream(lib, 3, 6), shuffle=False)),
    lambda lib: [len(loader(lib)), len(loader(lib, batch_size=3)), len(loader(lib, batch_size=3, drop_last=True)),
                 len(loader(lib, batch_size=None)), len(loader(lib, batch_sampler=[[0], [1, 2]])),
                 len(loader(lib, stream(lib, 0, 7), batch_size=2)),
                 len(loader(lib, stream(lib, 0, 7), batch_size=2, drop_last=True))],
    lambda lib: [len(it := iter(loader(lib, batch_size=4))), next(it), next(it)],
    lambda lib: [loader(lib, batch_size=4).batch_size, loader(lib, batch_sampler=[[0]]).batch_size,
                 loader(lib, batch_size=None).drop_last, type(loader(lib).sampler).__name__,
                 type(loader(lib, shuffle=True).sampler).__name__, type(loader(lib).batch_sampler).__name__,
                 loader(lib, num_workers=2).prefetch_factor, loader(lib).prefetch_factor,
                 loader(lib).collate_fn.__name__, loader(lib, batch_size=None).collate_fn.__name__],
])
def test_dataloader(fn):
    same(fn)


def test_base_seed_is_drawn_without_workers():
    # Each iterator draws base_seed from the loader's generator first; the shuffle comes after.
    def run(lib):
        g = lib.Generator().manual_seed(5)
        dl = loader(lib, batch_size=10, shuffle=True, generator=g)
        first = next(iter(dl))
        return first, g.get_state().sum()
    same(run)


@pytest.mark.parametrize('kw', [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(num_workers=1, prefetch_factor=-1),
    dict(persistent_workers=True), dict(shuffle=True, sampler=[0, 1]), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True), dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True), dict(batch_size=0),
    dict(batch_size=-2), dict(drop_last=1), dict(multiprocessing_context='spawn'),
    dict(num_workers=1, multiprocessing_context='nope'), dict(num_workers=1, multiprocessing_context=3),
])
def test_dataloader_argument_errors(kw):
    same_error(lambda lib: loader(lib, **kw))


@pytest.mark.parametrize('kw', [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])])
def test_iterable_dataset_argument_errors(kw):
    same_error(lambda lib: loader(lib, stream(lib, 0, 3), **kw))


def test_attributes_frozen_after_init():
    for attr in ('batch_size', 'batch_sampler', 'sampler', 'drop_last', 'dataset', 'persistent_workers'):
        same_error(lambda lib: setattr(loader(lib), attr, None))
    dl = loader(ember)
    dl.num_workers = 0  # other attributes stay writable
    assert dl.num_workers == 0


def test_timeout_without_workers():
    same_error(lambda lib: iter(loader(lib, timeout=1)))


def test_pin_memory_warns_and_is_a_no_op():
    for lib in LIBS:
        with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
            batches = list(loader(lib, batch_size=5, pin_memory=True))
        assert norm(batches) == norm(list(loader(lib, batch_size=5)))


def test_iterable_length_warning():
    def run(lib):
        class Lying(lib.utils.data.IterableDataset):
            def __iter__(self):
                return iter(range(5))

            def __len__(self):
                return 3
        dl = loader(lib, Lying(), batch_size=None)
        assert len(dl) == 3
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            out = list(dl)
        return out, [str(x.message).split(' was reported')[1] for x in w]
    same(run)


def test_iterator_not_picklable():
    import pickle
    for lib in LIBS:
        with pytest.raises(NotImplementedError):
            pickle.dumps(iter(loader(lib)))


def test_getitems_used_for_batches():
    calls = []

    class Batched(ed.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError('__getitems__ should be used')

        def __getitems__(self, idx):
            calls.append(list(idx))
            return [i * 10 for i in idx]
    out = [b.tolist() for b in ed.DataLoader(Batched(), batch_size=4)]
    assert out == [[0, 10, 20, 30], [40, 50]] and calls == [[0, 1, 2, 3], [4, 5]]


def test_import_stays_light():
    import subprocess
    code = 'import sys, ember; print("multiprocessing" in sys.modules, ember.utils.data.DataLoader.__name__)'
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, cwd=root)
    assert res.stdout.split() == ['False', 'DataLoader']


def test_module_exports():
    datapipes = {'DFIterDataPipe', 'DataChunk', 'IterDataPipe', 'MapDataPipe', 'argument_validation',
                 'functional_datapipe', 'guaranteed_datapipes_determinism', 'non_deterministic', 'runtime_validation',
                 'runtime_validation_disabled', '_DatasetKind'}
    assert sorted(set(torch.utils.data.__all__) - datapipes) == sorted(ed.__all__)
    assert ember.utils.data.get_worker_info() is None
