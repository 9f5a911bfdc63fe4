"""ember.save / ember.load against the real torch.save / torch.load, in both directions."""
import copy
import io
import mmap
import os
import pickle
import pickletools
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

import ember
from ember._storage import root_of
from ember.serialization import _zip

DTYPES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64']


def _array(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == 'bool':
        return rng.random(shape) > 0.5
    if dtype == 'uint8':
        return rng.integers(0, 250, shape).astype(np.uint8)
    if dtype.startswith('int'):
        return rng.integers(-100, 100, shape).astype(dtype)
    return rng.uniform(-3, 3, shape).astype(dtype)


def _tensors(lib, dtype):
    """Contiguous, 0-d, empty, views and non-contiguous tensors of one dtype, built alike in both libs."""
    x = lib.tensor(_array(dtype, (4, 6)))
    return {'x': x, 'rows': x[1:], 't': x.t(), 'step': x[:, ::2], 'col': x[:, 3],
            'scalar': lib.tensor(_array(dtype, ())), 'empty': lib.tensor(_array(dtype, (0, 3))),
            'own': lib.tensor(_array(dtype, (5,), seed=1))}


def _name(dt):
    return str(dt).split('.')[-1]


def _assert_like(e, t):
    """Ember tensor ``e`` matches torch tensor ``t`` in dtype, shape, strides, offset and values."""
    assert _name(e.dtype) == _name(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    assert e.requires_grad == t.requires_grad
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
    if e.numel():
        assert e.stride() == t.stride()
        assert e.storage_offset() == t.storage_offset()


def _ember_save(obj, **kw):
    b = io.BytesIO()
    ember.save(obj, b, **kw)
    b.seek(0)
    return b


def _torch_save(obj, **kw):
    b = io.BytesIO()
    torch.save(obj, b, **kw)
    b.seek(0)
    return b


# ---- tensors of every dtype, both directions, both formats ----------------------------------------------
@pytest.mark.parametrize('zip_format', [True, False])
@pytest.mark.parametrize('dtype', DTYPES)
def test_ember_save_torch_load(dtype, zip_format):
    src = _tensors(ember, dtype)
    out = torch.load(_ember_save(src, _use_new_zipfile_serialization=zip_format))
    for k, v in src.items():
        _assert_like(v, out[k])
    ptr = out['x'].untyped_storage().data_ptr()
    assert all(out[k].untyped_storage().data_ptr() == ptr for k in ('rows', 't', 'step', 'col'))
    assert out['own'].untyped_storage().data_ptr() != ptr
    out['x'][1, 0] = out['x'][0, 0]
    assert out['t'][0, 1] == out['x'][0, 0] and out['rows'][0, 0] == out['x'][0, 0]


@pytest.mark.parametrize('zip_format', [True, False])
@pytest.mark.parametrize('dtype', DTYPES)
def test_torch_save_ember_load(dtype, zip_format):
    src = _tensors(torch, dtype)
    out = ember.load(_torch_save(src, _use_new_zipfile_serialization=zip_format))
    for k, v in src.items():
        _assert_like(out[k], v)
    x = out['x'].numpy()
    x[1, 2] = x[0, 0]
    assert out['rows'].numpy()[0, 2] == x[0, 0] and out['t'].numpy()[2, 1] == x[0, 0]
    assert out['step'].numpy()[1, 1] == x[0, 0]
    assert root_of(out['t']._data) is root_of(out['x']._data)
    assert root_of(out['own']._data) is not root_of(out['x']._data)


@pytest.mark.parametrize('zip_format', [True, False])
def test_ember_round_trip_keeps_views_and_one_storage(zip_format):
    x = ember.arange(12.).reshape(3, 4)
    b = _ember_save({'x': x, 'v': x[1:], 't': x.t()}, _use_new_zipfile_serialization=zip_format)
    if zip_format:
        assert [n for n in zipfile.ZipFile(b).namelist() if '/data/' in n] == ['archive/data/0']
        b.seek(0)
    out = ember.load(b)
    out['x'].numpy()[1, 0] = -1
    assert out['v'].numpy()[0, 0] == -1 and out['t'].numpy()[0, 1] == -1
    again = ember.load(_ember_save(out, _use_new_zipfile_serialization=zip_format))
    assert root_of(again['t']._data) is root_of(again['v']._data)


def test_expanded_tensor_keeps_zero_stride():
    out = ember.load(_torch_save(torch.arange(3.).expand(2, 3)))
    assert out.stride() == (0, 1)
    back = torch.load(_ember_save(ember.arange(3.).expand(2, 3)))
    assert back.stride() == (0, 1) and back.tolist() == [[0., 1., 2.]] * 2


def test_requires_grad_and_non_leaf():
    w = ember.ones(3, requires_grad=True)
    y = w * 2
    out = torch.load(_ember_save({'w': w, 'y': y}))
    assert out['w'].requires_grad and out['w'].is_leaf and out['y'].requires_grad
    back = ember.load(_torch_save({'w': torch.ones(3, requires_grad=True), 'n': torch.ones(2)}))
    assert back['w'].requires_grad and back['w'].is_leaf and not back['n'].requires_grad


def test_parameters_both_ways():
    p = ember.nn.Parameter(ember.arange(4.))
    out = torch.load(_ember_save({'p': p, 'frozen': ember.nn.Parameter(ember.ones(2), requires_grad=False)}))
    assert type(out['p']) is torch.nn.Parameter and out['p'].requires_grad and out['p'].tolist() == [0, 1, 2, 3]
    assert type(out['frozen']) is torch.nn.Parameter and not out['frozen'].requires_grad
    back = ember.load(_torch_save({'p': torch.nn.Parameter(torch.arange(3.))}))
    assert type(back['p']) is ember.nn.Parameter and back['p'].requires_grad and back['p'].tolist() == [0, 1, 2]


def test_plain_tensor_attributes_and_subclasses():
    t = torch.arange(3.)
    t.note = 'hello'
    out = ember.load(_torch_save(t))
    assert out.note == 'hello' and out.tolist() == [0, 1, 2]
    e = ember.arange(2.).as_subclass(MyTensor)
    e.tag = 7
    back = ember.load(_ember_save(e), weights_only=False)
    assert type(back) is MyTensor and back.tag == 7
    with pytest.raises(pickle.UnpicklingError, match='MyTensor'):
        ember.load(_ember_save(e))
    with ember.serialization.safe_globals([MyTensor]):
        assert type(ember.load(_ember_save(e))) is MyTensor


# ---- containers and the checkpoint pattern -------------------------------------------------------------------
def _values():
    return {'none': None, 'flags': [True, False], 'n': -7, 'big': 2 ** 70, 'f': 0.1, 'text': 'héllo', 'b': b'\x00\xff',
            'tuple': (1, (2, 3.5), 'x'), 'set': {1, 2}, 'nested': {'a': [{'b': (None,)}], 3: 'int key'},
            'dtype': 'float32'}


@pytest.mark.parametrize('zip_format', [True, False])
def test_nested_containers_both_ways(zip_format):
    e_obj = dict(_values(), t=[ember.ones(2), (ember.zeros(1, dtype=ember.int64),)], dt=ember.float16,
                 dev=ember.device('cpu'), size=ember.Size([2, 3]))
    t_obj = dict(_values(), t=[torch.ones(2), (torch.zeros(1, dtype=torch.int64),)], dt=torch.float16,
                 dev=torch.device('cpu'), size=torch.Size([2, 3]))
    out = torch.load(_ember_save(e_obj, _use_new_zipfile_serialization=zip_format))
    back = ember.load(_torch_save(t_obj, _use_new_zipfile_serialization=zip_format))
    for k in _values():
        assert out[k] == back[k] == _values()[k]
    assert out['dt'] is torch.float16 and back['dt'] is ember.float16
    assert torch.load(_ember_save(ember.strided)) is torch.strided
    assert ember.load(_torch_save(torch.strided)) is ember.strided
    assert out['dev'] == torch.device('cpu') and back['dev'] == ember.device('cpu')
    assert type(out['size']) is torch.Size and type(back['size']) is ember.Size and tuple(back['size']) == (2, 3)
    assert out['t'][1][0].dtype == torch.int64 and back['t'][1][0].dtype == ember.int64
    assert back['t'][0].tolist() == [1, 1]


def test_ordered_dict_metadata_preserved():
    sd = OrderedDict([('w', ember.ones(2)), ('b', ember.zeros(1))])
    sd._metadata = OrderedDict([('', {'version': 1})])
    out = torch.load(_ember_save(sd))
    assert type(out) is OrderedDict and list(out) == ['w', 'b'] and out._metadata == {'': {'version': 1}}
    tsd = torch.nn.Linear(2, 2).state_dict()
    back = ember.load(_torch_save(tsd))
    assert type(back) is OrderedDict and list(back) == ['weight', 'bias'] and back._metadata == tsd._metadata


def test_seed_checkpoint_pattern(tmp_path):
    path = tmp_path / 'ckpt.pt'
    model = ember.nn.Linear(3, 2)
    opt = ember.optim.Adam(model.parameters(), lr=0.1)
    model(ember.ones(4, 3)).sum().backward()
    opt.step()
    ember.save({'epoch': 5, 'model_state_dict': model.state_dict(), 'optimizer_state_dict': opt.state_dict(),
                'loss': 0.1}, str(path))

    ckpt = ember.load(path)
    model2 = ember.nn.Linear(3, 2)
    opt2 = ember.optim.Adam(model2.parameters(), lr=0.5)
    model2.load_state_dict(ckpt['model_state_dict'])
    opt2.load_state_dict(ckpt['optimizer_state_dict'])
    assert ckpt['epoch'] == 5 and ckpt['loss'] == 0.1
    np.testing.assert_array_equal(model2.weight.detach().numpy(), model.weight.detach().numpy())
    assert opt2.param_groups[0]['lr'] == 0.1

    tckpt = torch.load(path)
    tmodel = torch.nn.Linear(3, 2)
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.5)
    tmodel.load_state_dict(tckpt['model_state_dict'])
    topt.load_state_dict(tckpt['optimizer_state_dict'])
    np.testing.assert_array_equal(tmodel.weight.detach().numpy(), model.weight.detach().numpy())
    exp_avg = topt.state_dict()['state'][0]['exp_avg']
    np.testing.assert_allclose(exp_avg.numpy(), opt.state_dict()['state'][0]['exp_avg'].numpy())

    torch.save(tckpt, path)
    again = ember.load(path)
    assert again['epoch'] == 5
    np.testing.assert_array_equal(again['model_state_dict']['weight'].numpy(), model.weight.detach().numpy())


# ---- the zip container ---------------------------------------------------------------------------------------
def _data_offsets(raw):
    z = zipfile.ZipFile(io.BytesIO(raw))
    for info in z.infolist():
        nlen, elen = struct.unpack('<HH', raw[info.header_offset + 26:info.header_offset + 30])
        yield info.filename, info.header_offset + 30 + nlen + elen


def test_zip_layout_matches_torch(tmp_path):
    path = tmp_path / 'model.v1.pt'
    x = ember.arange(5.)
    ember.save({'x': x, 'y': ember.ones(3, dtype=ember.int8)}, path)
    raw = path.read_bytes()
    z = zipfile.ZipFile(path)
    assert z.testzip() is None
    assert z.namelist() == ['model.v1/data.pkl', 'model.v1/.format_version', 'model.v1/.storage_alignment',
                            'model.v1/byteorder', 'model.v1/data/0', 'model.v1/data/1', 'model.v1/version',
                            'model.v1/.data/serialization_id']
    assert all(off % 64 == 0 for _, off in _data_offsets(raw))
    assert z.read('model.v1/version') == b'3\n' and z.read('model.v1/byteorder') == b'little'
    assert z.read('model.v1/.storage_alignment') == b'64'
    sid = z.read('model.v1/.data/serialization_id')
    assert len(sid) == 40 and sid.isdigit()
    assert z.read('model.v1/data/0') == np.arange(5, dtype=np.float32).tobytes()
    names = {arg for op, arg, _ in pickletools.genops(z.read('model.v1/data.pkl')) if op.name == 'GLOBAL'}
    assert names == {'torch._utils _rebuild_tensor_v2', 'torch FloatStorage', 'torch CharStorage',
                     'collections OrderedDict'}
    assert torch.serialization.get_unsafe_globals_in_checkpoint(str(path)) == []
    assert zipfile.ZipFile(_ember_save(1)).namelist()[0] == 'archive/data.pkl'
    out = torch.load(path, mmap=True)
    assert out['x'].tolist() == [0, 1, 2, 3, 4]


def test_zip64_records(monkeypatch):
    monkeypatch.setattr(_zip, 'ZIP64_LIMIT', 0)
    b = _ember_save({'x': ember.arange(4.), 'v': list(range(70000))})
    assert b'PK\x06\x06' in b.getvalue()
    assert torch.load(b)['x'].tolist() == [0, 1, 2, 3]
    b.seek(0)
    assert ember.load(b)['v'][-1] == 69999


def test_deflated_archive_is_read():
    src = zipfile.ZipFile(_ember_save({'x': ember.arange(100.)}))
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info.filename))
    out.seek(0)
    assert ember.load(out)['x'].tolist() == list(range(100))


def _rezip(b, edit):
    """A copy of zip checkpoint ``b`` with ``edit(name, data) -> data`` applied to every record."""
    src = zipfile.ZipFile(b)
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as z:
        for info in src.infolist():
            z.writestr(info.filename, edit(info.filename, src.read(info.filename)))
    out.seek(0)
    return out


def test_big_endian_checkpoint_is_swapped():
    src = {'f': ember.tensor([1.5, -2.25]), 'i': ember.tensor([1, 258], dtype=ember.int16)}
    sizes = {'archive/data/0': 4, 'archive/data/1': 2}

    def to_big(name, data):
        if name == 'archive/byteorder':
            return b'big'
        if name in sizes:
            return np.frombuffer(data, f'<u{sizes[name]}').astype(f'>u{sizes[name]}').tobytes()
        return data
    big = _rezip(_ember_save(src), to_big)
    out = ember.load(big)
    assert out['f'].tolist() == [1.5, -2.25] and out['i'].tolist() == [1, 258]
    big.seek(0)
    assert torch.load(big)['i'].tolist() == [1, 258]


# ---- safety -----------------------------------------------------------------------------------------------------
class Custom:
    def __init__(self, v):
        self.v = v


class MyTensor(ember.Tensor):
    pass


class _Evil:
    def __reduce__(self):
        return os.getcwd, ()


def test_weights_only_refuses_unknown_globals():
    b = _ember_save({'c': Custom(3)})
    with pytest.raises(pickle.UnpicklingError, match=r'test_serialization\.Custom.*add_safe_globals'):
        ember.load(b)
    b.seek(0)
    assert ember.load(b, weights_only=False)['c'].v == 3
    with pytest.raises(pickle.UnpicklingError, match='blocked'):
        ember.load(_ember_save(_Evil()))
    with pytest.raises(pickle.UnpicklingError, match='torch.nn.modules.linear.Linear'):
        ember.load(_torch_save(torch.nn.Linear(2, 2)))
    with pytest.raises(RuntimeError, match='explicit pickle_module'):
        ember.load(_ember_save(1), pickle_module=pickle)


def test_safe_globals_registry():
    ember.serialization.clear_safe_globals()
    with ember.serialization.safe_globals([Custom]):
        assert ember.serialization.get_safe_globals() == [Custom]
        assert ember.load(_ember_save(Custom(4))).v == 4
    assert ember.serialization.get_safe_globals() == []
    ember.serialization.add_safe_globals([(Custom, 'tests.test_serialization.Custom'), Custom])
    try:
        assert ember.load(_ember_save([Custom(5)]))[0].v == 5
        assert ember.serialization.get_unsafe_globals_in_checkpoint(_ember_save(_Evil())) == ['posix.getcwd']
    finally:
        ember.serialization.clear_safe_globals()
    assert ember.serialization.get_safe_globals() == []


def test_weights_only_false_maps_torch_names():
    out = ember.load(_torch_save({'x': torch.ones(2), 'dt': torch.int32}), weights_only=False)
    assert isinstance(out['x'], ember.Tensor) and out['dt'] is ember.int32


def test_bfloat16_widens_to_float32():
    t = torch.tensor([1.5, -2.0, 3.25], dtype=torch.bfloat16)
    for fmt in (True, False):
        with pytest.warns(UserWarning, match='bfloat16'):
            out = ember.load(_torch_save({'t': t, 'v': t[1:]}, _use_new_zipfile_serialization=fmt))
        assert out['t'].dtype == ember.float32 and out['t'].tolist() == [1.5, -2.0, 3.25]
        assert out['v'].tolist() == [-2.0, 3.25]


def test_unsupported_torch_objects_name_the_feature():
    with pytest.raises(pickle.UnpicklingError, match='sparse'):
        ember.load(_torch_save(torch.eye(2).to_sparse()))
    with pytest.raises(pickle.UnpicklingError, match='complex64'):
        ember.load(_torch_save(torch.complex64))


# ---- map_location --------------------------------------------------------------------------------------------
def _cuda_checkpoint():
    def retag(name, data):
        if name.endswith('data.pkl'):
            return data.replace(b'X\x03\x00\x00\x00cpu', b'X\x06\x00\x00\x00cuda:0')
        return data
    return _rezip(_ember_save({'x': ember.arange(3.)}), retag)


@pytest.mark.parametrize('loc', ['cpu', ember.device('cpu'), {'cuda:0': 'cpu'}, lambda s, loc: s,
                                 lambda s, loc: None if loc == 'cpu' else s.cpu()])
def test_map_location_to_cpu(loc):
    assert ember.load(_cuda_checkpoint(), map_location=loc)['x'].tolist() == [0, 1, 2]


@pytest.mark.parametrize('loc', [None, 'cuda', ember.device('cuda', 0), {'cpu': 'cuda:1'}, lambda s, loc: s.cuda()])
def test_map_location_off_cpu_raises(loc):
    src = _cuda_checkpoint() if loc is None else _ember_save(ember.ones(1))
    with pytest.raises((RuntimeError, AssertionError), match='CUDA'):
        ember.load(src, map_location=loc)


def test_torch_also_rejects_the_cuda_checkpoint():
    with pytest.raises(RuntimeError, match='CUDA'):
        torch.load(_cuda_checkpoint())


# ---- mmap, files and paths ------------------------------------------------------------------------------------
def test_mmap(tmp_path):
    path = tmp_path / 'm.pt'
    torch.save({'x': torch.arange(6.).reshape(2, 3), 'i': torch.arange(3)}, path)
    out = ember.load(path, mmap=True)
    assert out['x'].tolist() == [[0, 1, 2], [3, 4, 5]] and out['i'].tolist() == [0, 1, 2]
    assert isinstance(root_of(out['x']._data).base.obj, mmap.mmap)
    out['x'].numpy()[0, 0] = 42
    assert ember.load(path)['x'][0, 0].item() == 0
    with pytest.raises(ValueError, match='file path'):
        ember.load(io.BytesIO(path.read_bytes()), mmap=True)
    torch.save(1, path, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match='mmap'):
        ember.load(path, mmap=True)


class _StreamOnly(io.RawIOBase):
    """A readable, non-seekable stream (a pipe or socket stand-in)."""

    def __init__(self, data):
        self._b = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buf):
        return self._b.readinto(buf)


def test_file_kinds(tmp_path):
    path = tmp_path / 'f.pt'
    ember.save(ember.ones(2), path)
    assert ember.load(str(path)).tolist() == [1, 1]
    with open(path, 'wb') as fh:
        ember.save([ember.zeros(1)], fh)
    with open(path, 'rb') as fh:
        assert ember.load(fh)[0].tolist() == [0]
    assert ember.load(_StreamOnly(path.read_bytes()))[0].tolist() == [0]
    with pytest.raises(AttributeError, match='write'):
        ember.save(1, 42)


def test_atomic_save_keeps_old_file(tmp_path):
    path = tmp_path / 'ckpt.pt'
    ember.save({'v': 1}, path)
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        ember.save({'v': 2, 'bad': lambda: 0}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ['ckpt.pt']
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        ember.save({'bad': lambda: 0}, tmp_path / 'new.pt')
    assert sorted(os.listdir(tmp_path)) == ['ckpt.pt']
    ember.save({'v': 3}, Path(path))
    assert ember.load(path) == {'v': 3}


@pytest.mark.parametrize('data', [b'', b'hello world, not a checkpoint', b'PK\x03\x04garbage', b'\x80\x02K\x01.'])
def test_non_checkpoints_raise(data):
    with pytest.raises((RuntimeError, pickle.UnpicklingError, ValueError)):
        ember.load(io.BytesIO(data))


def test_conflicting_dtype_views_raise():
    x = ember.arange(4.)
    with pytest.raises(RuntimeError, match='different types'):
        ember.save([x, x.view(ember.int32)], io.BytesIO())


@pytest.mark.parametrize('protocol', [1, 2, 3, 4, 5])
def test_pickle_protocols(protocol):
    obj = {'x': ember.arange(3.), 'v': ember.arange(3.)[1:], 'dt': ember.int8, 's': {1}}
    out = ember.load(_ember_save(obj, pickle_protocol=protocol))
    assert out['v'].tolist() == [1, 2] and out['dt'] is ember.int8 and out['s'] == {1}
    tout = torch.load(_ember_save(obj, pickle_protocol=protocol), weights_only=protocol == 2)
    assert tout['v'].tolist() == [1, 2] and tout['dt'] is torch.int8


@pytest.mark.filterwarnings('ignore:TypedStorage is deprecated')
def test_storages_saved_directly():
    x = torch.arange(4, dtype=torch.int16)
    out = ember.load(_torch_save({'s': x.untyped_storage()}))
    assert isinstance(out['s'], ember.UntypedStorage) and out['s'].nbytes() == 8
    back = torch.load(_ember_save(ember.arange(3, dtype=ember.int16).untyped_storage()))
    assert back.tolist() == [0, 0, 1, 0, 2, 0]


def test_plain_pickle_and_copy():
    x = ember.arange(3., requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    assert y.requires_grad and y.tolist() == [0, 1, 2]
    p = ember.nn.Parameter(ember.ones(2))
    assert type(pickle.loads(pickle.dumps(p))) is ember.nn.Parameter
    assert type(copy.copy(ember.ones(1).as_subclass(MyTensor))) is MyTensor
