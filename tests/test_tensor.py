"""Tensor attributes, conversions and Python protocols, against PyTorch."""
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import check


def _norm(v):
    """A comparable form of a result from either library."""
    if isinstance(v, (torch.Tensor, ember.Tensor)):
        return ('tensor', str(v.dtype).split('.')[-1], tuple(v.shape), v.detach().numpy().tolist(),
                v.requires_grad)
    if isinstance(v, (torch.Size, ember.Size)):
        return ('size', tuple(v))
    if isinstance(v, (torch.dtype, ember.dtype)):
        return ('dtype', str(v).split('.')[-1])
    if isinstance(v, (torch.device, ember.device)):
        return ('device', str(v))
    if isinstance(v, (list, tuple)):
        return type(v)(_norm(x) for x in v)
    if isinstance(v, str):
        return v.replace('torch.', 'X.').replace('ember.', 'X.')
    return v


def same(fn):
    out = []
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            try:
                out.append(('ok', _norm(fn(lib))))
            except Exception as exc:
                out.append(('raised', type(exc).__name__))
    assert out[1] == out[0], f'ember {out[1]} != torch {out[0]}'


def X(L):
    return L.tensor([[1., 2., 3.], [4., 5., 6.]])


def IT(L):
    return L.tensor([[1, 2, 3], [4, 5, 6]])


CASES = {
    'shape': lambda L: X(L).shape,
    'size': lambda L: X(L).size(),
    'size_dim': lambda L: X(L).size(1),
    'size_neg': lambda L: X(L).size(-1),
    'size_dim_bad': lambda L: X(L).size(5),
    'size_0d': lambda L: L.tensor(5).size(),
    'dtype': lambda L: X(L).dtype,
    'device': lambda L: X(L).device,
    'ndim': lambda L: X(L).ndim,
    'dim': lambda L: X(L).dim(),
    'ndimension': lambda L: X(L).ndimension(),
    'numel': lambda L: X(L).numel(),
    'nelement': lambda L: X(L).nelement(),
    'numel_fn': lambda L: L.numel(X(L)),
    'item': lambda L: X(L)[0, 1].item(),
    'item_many': lambda L: X(L).item(),
    'item_empty': lambda L: L.tensor([]).item(),
    'item_int': lambda L: IT(L)[1, 1].item(),
    'item_bool': lambda L: L.tensor(True).item(),
    'item_nested': lambda L: L.tensor([[3]]).item(),
    'item_half': lambda L: L.tensor(2.5, dtype=L.float16).item(),
    'tolist': lambda L: X(L).tolist(),
    'tolist_0d': lambda L: L.tensor(3).tolist(),
    'tolist_rg': lambda L: L.ones(2, requires_grad=True).tolist(),
    'numpy_rg': lambda L: L.ones(2, requires_grad=True).numpy(),
    'numpy_force': lambda L: L.ones(2, requires_grad=True).numpy(force=True).tolist(),
    'is_contiguous': lambda L: X(L).t().is_contiguous(),
    'contiguous': lambda L: X(L).t().contiguous().stride(),
    'contiguous_same': lambda L: (lambda x: x.contiguous() is x)(X(L)),
    'clone_stride': lambda L: X(L).t().clone().stride(),
    'clone_fmt': lambda L: X(L).t().clone(memory_format=L.contiguous_format).stride(),
    'to_dtype': lambda L: IT(L).to(L.float64),
    'to_copy': lambda L: (lambda x: x.to(L.float32, copy=True) is x)(X(L)),
    'to_same': lambda L: (lambda x: x.to(L.float32) is x)(X(L)),
    'to_dev_dtype': lambda L: IT(L).to('cpu', L.float16),
    'to_other': lambda L: IT(L).to(X(L)),
    'to_kw': lambda L: IT(L).to(device='cpu', dtype=L.float16),
    'to_cuda': lambda L: IT(L).to('cuda'),
    'to_device_obj': lambda L: (lambda x: x.to(L.device('cpu')) is x)(X(L)),
    'cpu': lambda L: (lambda x: x.cpu() is x)(X(L)),
    'cuda': lambda L: X(L).cuda(),
    'type': lambda L: IT(L).type(),
    'type_float': lambda L: X(L).type(),
    'type_bool': lambda L: X(L).bool().type(),
    'type_by_name': lambda L: IT(L).type('torch.DoubleTensor'),
    'type_dtype': lambda L: IT(L).type(L.float16),
    'type_bad': lambda L: IT(L).type('foo'),
    'type_cuda': lambda L: IT(L).type('torch.cuda.FloatTensor'),
    'float': lambda L: IT(L).float(),
    'double': lambda L: IT(L).double(),
    'long': lambda L: X(L).long(),
    'int': lambda L: X(L).int(),
    'bool': lambda L: X(L).bool(),
    'half': lambda L: X(L).half(),
    'short': lambda L: X(L).short(),
    'byte': lambda L: L.tensor([1.5, -2]).byte(),
    'char': lambda L: X(L).char(),
    'stride': lambda L: X(L).stride(),
    'stride_dim': lambda L: X(L).stride(1),
    'stride_t': lambda L: X(L).t().stride(),
    'stride_bad': lambda L: X(L).stride(3),
    'storage_offset': lambda L: X(L)[1, 1:].storage_offset(),
    'storage_offset_0': lambda L: X(L).storage_offset(),
    'element_size': lambda L: IT(L).element_size(),
    'nbytes': lambda L: X(L).nbytes,
    'itemsize': lambda L: IT(L).itemsize,
    'data_ptr_view': lambda L: (lambda x: x[1].data_ptr() - x.data_ptr())(X(L)),
    'len': lambda L: len(X(L)),
    'len_0d': lambda L: len(L.tensor(1)),
    'iter': lambda L: list(X(L)),
    'iter_0d': lambda L: list(L.tensor(1)),
    'reversed': lambda L: list(reversed(L.tensor([1, 2, 3]))),
    'bool_1': lambda L: bool(L.tensor([0.])),
    'bool_many': lambda L: bool(X(L)),
    'bool_empty': lambda L: bool(L.tensor([])),
    'float_1': lambda L: float(L.tensor([2.5])),
    'float_many': lambda L: float(X(L)),
    'int_1': lambda L: int(L.tensor(-2.7)),
    'int_many': lambda L: int(X(L)),
    'index': lambda L: [10, 20, 30][L.tensor(1)],
    'index_float': lambda L: [10, 20][L.tensor(1.)],
    'index_many': lambda L: [10, 20][L.tensor([1, 0])],
    'contains': lambda L: 2 in X(L),
    'contains_tensor': lambda L: L.tensor(7.) in X(L),
    'contains_str': lambda L: 'a' in X(L),
    'format_0d': lambda L: format(L.tensor(2.5), '.3f'),
    'format_nd': lambda L: format(X(L), '.3f'),
    'format_int': lambda L: f'{L.tensor(3):>4}',
    'is_tensor': lambda L: L.is_tensor(X(L)),
    'is_tensor_list': lambda L: L.is_tensor([1]),
    'is_floating_point': lambda L: L.is_floating_point(IT(L)),
    'is_signed': lambda L: L.tensor([1], dtype=L.uint8).is_signed(),
    'get_device': lambda L: X(L).get_device(),
    'is_cuda': lambda L: X(L).is_cuda,
    'is_cpu': lambda L: X(L).is_cpu,
    'layout': lambda L: str(X(L).layout),
    'requires_grad': lambda L: X(L).requires_grad,
    'array': lambda L: np.asarray(X(L)).dtype.name,
    'array_dtype': lambda L: X(L).__array__(np.float64).dtype.name,
    'size_slice': lambda L: X(L).shape[1:],
    'size_numel': lambda L: X(L).shape.numel(),
    'size_add': lambda L: X(L).shape + (4,),
    'size_radd': lambda L: (4,) + X(L).shape,
    'size_mul': lambda L: X(L).shape * 2,
    'size_bad': lambda L: L.Size([2.5]),
    'size_tensor': lambda L: L.Size([L.tensor(3)]),
    'size_str': lambda L: str(L.Size([2, 3])),
    'size_empty': lambda L: L.Size(),
    'size_eq': lambda L: L.Size([2, 3]) == (2, 3),
    'size_index': lambda L: L.Size([2, 3])[-1],
    'size_count': lambda L: L.Size([2, 3, 2]).count(2),
    'hash': lambda L: isinstance(hash(X(L)), int),
}


@pytest.mark.parametrize('name', list(CASES))
def test_attribute(name):
    same(CASES[name])


def test_numpy_shares_memory():
    t = ember.zeros(3)
    a = t.numpy()
    a[0] = 5
    assert t[0].item() == 5
    t.add_(1)
    assert a[0] == 6
    assert np.shares_memory(np.asarray(t), a)
    assert not np.shares_memory(t.__array__(copy=True), a)


def test_hash_identity_and_pickle_size():
    a, b = ember.zeros(2), ember.zeros(2)
    assert len({a, b}) == 2
    s = ember.Size([2, 3])
    assert pickle.loads(pickle.dumps(s)) == s and isinstance(pickle.loads(pickle.dumps(s)), ember.Size)
    assert isinstance(s, tuple) and isinstance(s[:1], ember.Size)


def test_legacy_tensor_follows_default_dtype():
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.Tensor([1, 2]).dtype is ember.float64 and ember.Tensor(2).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    assert ember.Tensor(ember.Size([2, 3])).shape == (2, 3)


def test_number_divided_by_tensor_rounds_like_torch():
    # PyTorch computes ``k / t`` as ``t.reciprocal() * k``: the same bits, and a MulBackward0 node.
    a = np.random.default_rng(0).uniform(0.1, 10, 5000).astype(np.float32)
    for k in (3.0, 7, np.float64(2.5)):
        np.testing.assert_array_equal((k / ember.tensor(a)).numpy(), (k / torch.tensor(a)).numpy())
    check(lambda lib, x: 2 / x, (3, 4), low=0.5, high=2.0)
    assert type((2 / ember.ones(2, requires_grad=True)).grad_fn).__name__ == 'MulBackward0'
    assert (2 / ember.tensor([2, 4])).dtype == ember.float32


@pytest.mark.filterwarnings('ignore::DeprecationWarning')
@pytest.mark.parametrize('fn', [lambda x: np.float64(2) * x, lambda x: np.float32(2) + x, lambda x: np.int64(3) - x,
                                lambda x: np.float64(2) / x, lambda x: np.exp(x), lambda x: np.add(x, 1),
                                lambda x: np.greater(x, 0.5)])
def test_numpy_operands_and_ufuncs_give_tensors_like_torch(fn):
    a = np.linspace(0.1, 1, 6, dtype=np.float32).reshape(2, 3)
    e, t = fn(ember.tensor(a)), fn(torch.tensor(a))
    assert isinstance(e, ember.Tensor) and isinstance(t, torch.Tensor)
    assert str(e.dtype).split('.')[1] == str(t.dtype).split('.')[1]
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
