"""dtypes, finfo/iinfo, promotion helpers, layouts and devices, against PyTorch."""
import itertools
import pickle

import numpy as np
import pytest
import torch

import ember
from oracle import check_raises

NAMES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64']
PAIRS = list(itertools.product(NAMES, NAMES))


def _name(d):
    return str(d).split('.')[-1]


@pytest.mark.parametrize('name', NAMES)
def test_dtype_attributes(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert (e.is_floating_point, e.is_signed, e.is_complex, e.itemsize) == \
        (t.is_floating_point, t.is_signed, t.is_complex, t.itemsize)
    assert repr(e) == 'ember.' + name and _name(e.to_real()) == _name(t.to_real())
    assert pickle.loads(pickle.dumps(e)) is e
    assert hash(e) == hash(getattr(ember, name))


@pytest.mark.parametrize('alias', ['float', 'double', 'half', 'long', 'int', 'short', 'bool'])
def test_aliases(alias):
    assert _name(getattr(ember, alias)) == _name(getattr(torch, alias))


def test_to_complex_raises():
    with pytest.raises(NotImplementedError, match='complex'):
        ember.float32.to_complex()
    check_raises(lambda L: L.int64.to_complex())


@pytest.mark.parametrize('name', ['float16', 'float32', 'float64', None])
def test_finfo(name):
    e = ember.finfo(getattr(ember, name)) if name else ember.finfo()
    t = torch.finfo(getattr(torch, name)) if name else torch.finfo()
    for attr in ('bits', 'eps', 'max', 'min', 'tiny', 'smallest_normal', 'resolution', 'dtype'):
        assert getattr(e, attr) == getattr(t, attr), attr
    assert repr(e) == repr(t)


@pytest.mark.parametrize('name', ['uint8', 'int8', 'int16', 'int32', 'int64'])
def test_iinfo(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (e.bits, e.min, e.max, e.dtype) == (t.bits, t.min, t.max, t.dtype)
    assert repr(e) == repr(t)


@pytest.mark.parametrize('fn', [lambda L: L.finfo(L.int32), lambda L: L.iinfo(L.float32), lambda L: L.iinfo(L.bool)])
def test_info_errors(fn):
    check_raises(fn)


@pytest.mark.parametrize('a,b', PAIRS)
def test_promote_types_and_can_cast(a, b):
    assert _name(ember.promote_types(getattr(ember, a), getattr(ember, b))) == \
        _name(torch.promote_types(getattr(torch, a), getattr(torch, b)))
    assert ember.can_cast(getattr(ember, a), getattr(ember, b)) == torch.can_cast(getattr(torch, a), getattr(torch, b))


SCALARS = [True, 3, -1, 2.5]


@pytest.mark.parametrize('a,b', PAIRS)
def test_result_type_tensors(a, b):
    def make(L, n, ndim):
        return L.tensor(np.ones((2,) * ndim, dtype=n))
    for da, db in ((1, 1), (0, 1), (1, 0), (0, 0)):
        assert _name(ember.result_type(make(ember, a, da), make(ember, b, db))) == \
            _name(torch.result_type(make(torch, a, da), make(torch, b, db)))


@pytest.mark.parametrize('name', NAMES)
@pytest.mark.parametrize('scalar', SCALARS)
def test_result_type_scalars(name, scalar):
    for ndim in (0, 1):
        e = ember.tensor(np.ones((2,) * ndim, dtype=name))
        t = torch.tensor(np.ones((2,) * ndim, dtype=name))
        assert _name(ember.result_type(e, scalar)) == _name(torch.result_type(t, scalar))
        assert _name(ember.result_type(scalar, e)) == _name(torch.result_type(scalar, t))


@pytest.mark.parametrize('a,b', list(itertools.product(SCALARS, SCALARS)))
def test_result_type_two_scalars(a, b):
    assert _name(ember.result_type(a, b)) == _name(torch.result_type(a, b))


def test_default_dtype():
    assert ember.get_default_dtype() is ember.float32
    check_raises(lambda L: L.set_default_dtype(L.int64))
    ember.set_default_dtype(ember.float16)
    try:
        assert ember.tensor(1.).dtype is ember.float16 and ember.finfo().bits == 16
        assert ember.result_type(ember.tensor([1]), 1.5) is ember.float16
    finally:
        ember.set_default_dtype(ember.float32)


def test_layout_and_memory_format():
    assert repr(ember.strided) == 'ember.strided' and ember.zeros(2).layout is ember.strided
    assert pickle.loads(pickle.dumps(ember.strided)) is ember.strided
    assert pickle.loads(pickle.dumps(ember.channels_last)) is ember.channels_last
    assert isinstance(ember.contiguous_format, ember.memory_format)
    assert isinstance(ember.strided, ember.layout)


DEVICE_CASES = [
    lambda L: L.device('cpu'), lambda L: L.device('cuda:0'), lambda L: L.device('cuda', 1),
    lambda L: L.device('cuda:0', 1), lambda L: L.device('cpu:0').index, lambda L: L.device('gpu'),
    lambda L: L.device('cuda:x'), lambda L: L.device('cuda:01'), lambda L: L.device('cuda:-1'), lambda L: L.device(0),
    lambda L: L.device(-1), lambda L: L.device('cpu') == 'cpu', lambda L: L.device('cpu') == L.device('cpu'),
    lambda L: L.device('cpu') != L.device('cpu', 0), lambda L: L.device(L.device('cuda:1')),
    lambda L: L.device('cpu', 'x'), lambda L: L.device(type='cuda', index=1), lambda L: L.device('CPU'),
    lambda L: L.device(' cpu'), lambda L: L.device('mps'), lambda L: str(L.device('cuda', 2)),
    lambda L: L.device('cuda', 2).type, lambda L: pickle.loads(pickle.dumps(L.device('cuda', 2))),
    lambda L: {L.device('cpu'): 1}[L.device('cpu')], lambda L: L.zeros(2).device, lambda L: L.zeros(2).cuda(),
    lambda L: L.zeros(2).to('cuda'), lambda L: L.zeros(2, device='cuda'), lambda L: L.ones(2).to(L.device('cuda', 0)),
    lambda L: L.cuda.is_available(), lambda L: L.cuda.device_count(), lambda L: L.cuda.current_device(),
    lambda L: L.zeros(2).is_cuda, lambda L: L.zeros(2).get_device(), lambda L: L.Generator('cpu').device,
]


@pytest.mark.parametrize('fn', DEVICE_CASES)
def test_devices(fn):
    def run(L):
        try:
            return 'ok', fn(L)
        except Exception as exc:
            return 'raised', type(exc)
    (ke, e), (kt, t) = run(ember), run(torch)
    assert ke == kt, (e, t)
    if ke == 'raised':
        assert e is t
    elif isinstance(t, torch.device):
        assert repr(e) == repr(t)
    else:
        assert e == t


def test_device_messages():
    with pytest.raises(AssertionError, match='Torch not compiled with CUDA enabled'):
        ember.zeros(1, device='cuda')
    with pytest.raises(RuntimeError, match='Expected one of cpu, cuda'):
        ember.device('gpu')
    with ember.device('cpu'):
        pass
