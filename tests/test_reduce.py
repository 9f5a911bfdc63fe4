"""Reductions and scans against PyTorch: values, dtypes, gradients (ties, zeros, NaN), errors."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_gradcheck, check_raises

F = np.float32
nan, inf = float('nan'), float('inf')

TIES = np.array([[1., 3., 3., 0.], [2., 2., 2., 2.], [-1., 5., 0., 5.]], F)
NANS = np.array([[1., nan, 3.], [nan, nan, nan], [0.5, 2., -1.]], F)
ZEROS1 = np.array([[1.5, 0., 2., -1.], [2., 3., 0.5, -2.], [0., 0., 1., 3.]], F)  # rows: one zero, none, two
ZEROS2 = np.array([[0., 2.], [0., 3.]], F)  # a column of zeros
INFS = np.array([[1000., 1001., -1000.], [-inf, -inf, -inf], [inf, 1., 2.]], F)


def ints(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    lo = 0 if np.dtype(dtype).kind == 'u' else -3
    return rng.integers(lo, 4, shape).astype(dtype)


FLOAT_CASES = [
    # sum / mean
    (lambda lib, x: x.sum(), (3, 4)),
    (lambda lib, x: x.sum(1), (3, 4)),
    (lambda lib, x: x.sum((0, 2), keepdim=True), (2, 3, 4)),
    (lambda lib, x: lib.sum(x, dim=[-1, 0]), (2, 3, 4)),
    (lambda lib, x: x.sum(dim=None, keepdim=True), (2, 3)),
    (lambda lib, x: x.t().sum(0), (3, 4)),
    (lambda lib, x: x[:, ::2].sum(1, keepdim=True), (3, 6)),
    (lambda lib, x: x.sum(dtype=lib.float64), (3, 4)),
    (lambda lib, x: x.sum(), ()),
    (lambda lib, x: x.sum(0), ()),
    (lambda lib, x: (x.sum(), x.sum(0), x.sum(1)), (0, 3)),
    (lambda lib, x: x.mean(), (3, 4)),
    (lambda lib, x: x.mean((0, 1), keepdim=True), (2, 3, 4)),
    (lambda lib, x: x.t().mean(-1), (3, 4)),
    (lambda lib, x: x.mean(dtype=lib.float64), (3, 4)),
    (lambda lib, x: (x.mean(), x.mean(0), x.mean(1)), (0, 3)),
    (lambda lib, x: x.mean(0), ()),
    (lambda lib, x: (x.nansum(), x.nansum(1), x.nanmean(0), x.nanmean(1, keepdim=True)), NANS),
    (lambda lib, x: lib.nanmean(x), (3, 4)),
    (lambda lib, x: lib.nansum(x, (0, 1)), (2, 3, 4)),
    # prod, also with zeros (gradient without dividing by zero)
    (lambda lib, x: x.prod(), (3, 4)),
    (lambda lib, x: x.prod(1), (3, 4)),
    (lambda lib, x: x.prod(0, keepdim=True), (3, 4)),
    (lambda lib, x: x.t().prod(1), (3, 4)),
    (lambda lib, x: x.prod(dtype=lib.float64), (2, 3)),
    (lambda lib, x: (x.prod(1), x.prod(0)), ZEROS1),
    (lambda lib, x: x.prod(), ZEROS1[:1]),
    (lambda lib, x: x.prod(), ZEROS1),
    (lambda lib, x: (x.prod(), x.prod(0)), ()),
    (lambda lib, x: (x.prod(), x.prod(0), x.prod(1)), (0, 3)),
    # max / min: value, (values, indices), elementwise; ties
    (lambda lib, x: (x.max(), x.min()), (3, 4)),
    (lambda lib, x: (x.max(1), x.min(0, keepdim=True)), (3, 4)),
    (lambda lib, x: lib.max(x, dim=-1, keepdim=True), (2, 3, 4)),
    (lambda lib, x: x.t().max(1), (3, 4)),
    (lambda lib, x, y: (lib.max(x, y), lib.min(x, y), x.max(other=y), lib.min(x, other=y)), (3, 4), (4,)),
    (lambda lib, x: (x.max(), x.min(), x.max(1), x.min(1), x.max(0)), TIES),
    (lambda lib, x: (x.max(0), x.min(-1), x.max()), ()),
    (lambda lib, x: (x.max(1), x.min(1, keepdim=True)), (0, 3)),
    (lambda lib, x: (x.max(), x.max(1), x.min(0)), NANS),
    # amax / amin / aminmax: gradient split among ties
    (lambda lib, x: (x.amax(), x.amin(1)), (3, 4)),
    (lambda lib, x: (x.amax((0, 2)), x.amin((1, 2), keepdim=True)), (2, 3, 4)),
    (lambda lib, x: (x.amax(), x.amax(1), x.amin(0), x.amin(1, True)), TIES),
    (lambda lib, x: (x.amax(1), x.amin((1,))), (0, 3)),
    (lambda lib, x: x.amax(), ()),
    (lambda lib, x: (x.aminmax(), lib.aminmax(x, dim=1), x.aminmax(dim=0, keepdim=True)), (3, 4)),
    (lambda lib, x: (x.aminmax(), x.aminmax(dim=1)), TIES),
    (lambda lib, x: x.aminmax().max, TIES),
    (lambda lib, x: x.aminmax(keepdim=True), (2, 3)),
    (lambda lib, x: x.t().aminmax(dim=0), (3, 4)),
    # argmax / argmin
    (lambda lib, x: (x.argmax(), x.argmin(), x.argmax(1), x.argmin(0, keepdim=True), x.argmax(keepdim=True)), TIES),
    (lambda lib, x: (x.argmax(), x.argmin(1), x.argmax(0)), NANS),
    (lambda lib, x: (x.argmax(), x.argmax(0), x.argmin(-1, True)), ()),
    (lambda lib, x: x.argmax(1), (0, 3)),
    # var / std / var_mean / std_mean
    (lambda lib, x: (x.var(), x.std()), (3, 4)),
    (lambda lib, x: (x.var(1), x.std(0, keepdim=True)), (3, 4)),
    (lambda lib, x: (x.var((0, 2), correction=0), x.std(1, correction=2.5)), (3, 4, 5)),
    (lambda lib, x: (x.var(1, False), x.std(0, True, True), lib.std(x, False), lib.var(x, unbiased=False)), (3, 4)),
    (lambda lib, x: (lib.var_mean(x), lib.std_mean(x, 1), lib.std_mean(x, (0, 1), correction=0, keepdim=True)),
     (3, 4, 2)),
    (lambda lib, x: lib.std_mean(x, 0)[1], (3, 4)),
    (lambda lib, x: lib.var_mean(x, 1, True, True), (3, 4)),
    (lambda lib, x: x.t().std(1), (3, 4)),
    (lambda lib, x: (x.std(), x.var(1)), np.ones((2, 3), F)),
    (lambda lib, x: (x.std(), x.var(0), x.std(1)), (0, 3)),
    # norm
    (lambda lib, x: x.norm(), (3, 4)),
    (lambda lib, x: (x.norm(1), x.norm(2, 1), x.norm(3, 0, True), x.norm(0.5, (0, 1))), (3, 4)),
    (lambda lib, x: (x.norm(inf), x.norm(-inf, 1), x.norm(0), x.norm(p=1.5, dim=1)), (3, 4)),
    (lambda lib, x: (lib.norm(x, 'fro'), lib.norm(x, 'fro', (0, 1)), lib.norm(x, dim=1, keepdim=True)), (3, 4)),
    (lambda lib, x: (x.norm(), x.norm(2, 1), x.norm(inf, 1), x.norm(3, 1)), np.array([[0., 0.], [3., -4.]], F)),
    (lambda lib, x: (x.norm(inf), x.norm(-inf, 0)), TIES),
    (lambda lib, x: x.norm(dtype=lib.float64), (3, 4)),
    (lambda lib, x: x.norm(-1, 1), (3, 4)),
    (lambda lib, x: x.t().norm(dim=0), (3, 4)),
    (lambda lib, x: (x.norm(), x.norm(dim=1)), (0, 3)),
    (lambda lib, x: x.norm(), ()),
    # logsumexp
    (lambda lib, x: (x.logsumexp(1), x.logsumexp((0, 1)), x.logsumexp(0, keepdim=True)), (3, 4)),
    (lambda lib, x: lib.logsumexp(x, -1), INFS[:1]),
    (lambda lib, x: lib.logsumexp(x, 1), INFS),
    (lambda lib, x: (x.logsumexp(1), x.logsumexp(0)), (0, 3)),
    (lambda lib, x: x.logsumexp(0), ()),
    # cumulative
    (lambda lib, x: (x.cumsum(0), x.cumsum(-1)), (3, 4)),
    (lambda lib, x: x.t().cumsum(1), (3, 4)),
    (lambda lib, x: x.cumsum(1, dtype=lib.float64), (3, 4)),
    (lambda lib, x: (x.cumprod(0), x.cumprod(1)), (3, 4)),
    (lambda lib, x: (x.cumprod(1), x.cumprod(0)), ZEROS1),
    (lambda lib, x: x.cumprod(0), ZEROS2),
    (lambda lib, x: (x.cummax(1), x.cummin(0)), (3, 4)),
    (lambda lib, x: (x.cummax(1), x.cummin(1), x.cummax(0)), TIES),
    (lambda lib, x: (x.cummax(1), x.cummin(0)), NANS),
    (lambda lib, x: (x.cumsum(0), x.cumprod(0), x.cummax(0), x.cummin(-1)), ()),
    (lambda lib, x: (x.cumsum(1), x.cumprod(0), x.cummax(1)), (0, 3)),
    (lambda lib, x: x[:, ::2].cumprod(1), (3, 6)),
]


@pytest.mark.filterwarnings('ignore:.*degrees of freedom')
@pytest.mark.parametrize('fn,specs', [(c[0], c[1:]) for c in FLOAT_CASES])
def test_float_values_and_grads(fn, specs):
    check(fn, *specs)


@pytest.mark.parametrize('dtype', [np.float16, np.float64])
@pytest.mark.parametrize('fn', [
    lambda lib, x: (x.sum(1), x.mean(0), x.prod(1)),
    lambda lib, x: (x.max(1), x.amin(0), x.argmax(), x.aminmax()),
    lambda lib, x: (x.std(1), x.var(), lib.var_mean(x, 0)),
    lambda lib, x: (x.norm(), x.norm(1, 0), x.logsumexp(1)),
    lambda lib, x: (x.cumsum(1), x.cumprod(0), x.cummax(1)),
])
def test_other_float_dtypes(fn, dtype):
    check(fn, (3, 4), dtype=dtype)


INT_DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64]


@pytest.mark.parametrize('dtype', INT_DTYPES)
@pytest.mark.parametrize('fn', [
    lambda lib, x: (x.sum(), x.sum(1), x.nansum(0), lib.sum(x, (0, 1), keepdim=True)),
    lambda lib, x: (x.prod(), x.prod(1)),
    lambda lib, x: (x.cumsum(1), x.cumprod(0)),
    lambda lib, x: (x.max(), x.min(), x.max(1), x.min(0, keepdim=True)),
    lambda lib, x: (x.amax(), x.amin(1), x.aminmax(), x.aminmax(dim=0)),
    lambda lib, x: (x.cummax(1), x.cummin(0)),
    lambda lib, x: (x.all(), x.any(), x.all(1), x.any(0, keepdim=True), x.all((0, 1)), x.any(())),
    lambda lib, x: (x.count_nonzero(), x.count_nonzero(1), lib.count_nonzero(x, (0, 1))),
    lambda lib, x: (x.sum(dtype=lib.float32), x.mean(dtype=lib.float64), x.cumsum(0, dtype=lib.int16)),
    lambda lib, x: lib.logsumexp(x, 1),
])
def test_integer_and_bool_inputs(fn, dtype):
    check(fn, ints((3, 4), dtype), grad=False)


@pytest.mark.parametrize('dtype', [np.uint8, np.int8, np.int32, np.int64])
def test_argmax_integers(dtype):
    check(lambda lib, x: (x.argmax(), x.argmin(1), x.argmax(0, keepdim=True)), ints((3, 4), dtype))


@pytest.mark.parametrize('fn', [
    lambda lib, x: (x.all(), x.any(), x.all(-1), x.any(tuple(range(x.dim()))), x.all(-1, keepdim=True)),
    lambda lib, x: (x.count_nonzero(), x.count_nonzero(-1), x.count_nonzero(())),
    lambda lib, x: (x.all(), x.any(), x.count_nonzero()),
])
@pytest.mark.parametrize('data', [np.array([[0., 1., nan], [2., 3., 4.]], F), np.zeros((0, 3), F), np.array(0., F)])
def test_logical_reductions(fn, data):
    check(fn, data, grad=False)


def test_reduced_dtypes():
    x = ember.tensor([1, 2, 3], dtype=ember.int32)
    assert x.sum().dtype == ember.int64 and x.prod().dtype == ember.int64 and x.cumsum(0).dtype == ember.int64
    assert ember.tensor([True, False]).prod().dtype == ember.int64
    assert ember.tensor([True, False]).max().dtype == ember.bool
    assert x.argmax().dtype == ember.int64 and x.all().dtype == ember.bool
    assert ember.tensor([1, 2], dtype=ember.uint8).any().dtype == ember.uint8


@pytest.mark.parametrize('fn,specs,match', [
    (lambda lib, x: x.mean(), (ints((3,), np.int32),), 'Input dtype must be either a floating point'),
    (lambda lib, x: x.mean(dtype=lib.int64), ((3,),), 'Optional dtype'),
    (lambda lib, x: x.nanmean(), (ints((3,), np.int64),), 'nanmean'),
    (lambda lib, x: x.std(), (ints((3,), np.int64),), 'std and var only support floating point'),
    (lambda lib, x: lib.var_mean(x), (ints((3,), np.int64),), 'floating point'),
    (lambda lib, x: x.max(), ((0,),), r"max\(\): Expected reduction dim to be specified"),
    (lambda lib, x: x.min(), ((2, 0),), r"min\(\): Expected reduction dim to be specified"),
    (lambda lib, x: x.max(1), ((2, 0),), 'Expected reduction dim 1 to have non-zero size'),
    (lambda lib, x: x.amax(), ((0,),), 'amax'),
    (lambda lib, x: x.amin(1), ((2, 0),), 'Expected reduction dim 1 to have non-zero size'),
    (lambda lib, x: x.aminmax(), ((0,),), 'no identity'),
    (lambda lib, x: x.aminmax(dim=1), ((2, 0),), 'non-zero size'),
    (lambda lib, x: x.argmax(), ((0,),), r'argmax\(\): Expected reduction dim to be specified'),
    (lambda lib, x: x.argmin(1), ((2, 0),), 'non-zero size'),
    (lambda lib, x: x.argmax(), (np.array([True, False]),), 'bool'),
    (lambda lib, x: x.sum(2), ((2, 3),), r'Dimension out of range \(expected to be in range of \[-2, 1\]'),
    (lambda lib, x: x.max(-3), ((2, 3),), 'Dimension out of range'),
    (lambda lib, x: x.sum((0, 0)), ((2, 3),), 'dim 0 appears multiple times'),
    (lambda lib, x: x.mean((1, -1)), ((2, 3),), 'dim 1 appears multiple times'),
    (lambda lib, x: x.prod((0, 1)), ((2, 3),), None),
    (lambda lib, x: x.norm(), (ints((3,), np.int64),), 'Expected a floating point or complex tensor'),
    (lambda lib, x: x.norm('abc'), ((2, 3),), 'Order abc not supported'),
    (lambda lib, x: x.norm('fro', (0, 1, 2)), ((2, 3, 4),), 'dim must be a 2-tuple'),
    (lambda lib, x: x.norm(inf), ((0,),), 'inf norm on an empty tensor'),
    (lambda lib, x: x.norm(-inf, 1), ((2, 0),), 'dimension 1because this dimension is empty'),
    (lambda lib, x: x.std(unbiased=False, correction=0), ((3,),), None),
    (lambda lib, x: x.cumsum(2), ((2, 3),), 'Dimension out of range'),
    (lambda lib, x: x.logsumexp(), ((2, 3),), None),
    (lambda lib, x: lib.max(x, 2.0), ((2, 3),), None),
])
def test_errors(fn, specs, match):
    check_raises(fn, *specs, match=match)


def test_nuclear_norm_not_implemented():
    with pytest.raises(NotImplementedError, match='nuc'):
        ember.ones(2, 3).norm('nuc')


def test_empty_results():
    assert ember.zeros(0).sum().item() == 0
    assert np.isnan(ember.zeros(0).mean().item())
    assert ember.zeros(0).prod().item() == 1


def test_dof_warning():
    with pytest.warns(UserWarning, match='degrees of freedom'):
        ember.ones(1).var()


@pytest.mark.parametrize('fn', [
    lambda lib, x: x.max(1),
    lambda lib, x: x.min(0, keepdim=True),
    lambda lib, x: lib.aminmax(x, dim=1),
    lambda lib, x: x.cummax(1),
    lambda lib, x: x.cummin(0),
])
def test_named_tuple_outputs(fn):
    e, t = check(fn, TIES, grad=False)
    assert type(e).__name__ == type(t).__name__ and len(e) == 2
    fields = ('min', 'max') if type(t).__name__ == 'aminmax' else ('values', 'indices')
    for f in fields:
        assert getattr(e, f) is e[fields.index(f)]
    assert repr(e).startswith(f'ember.return_types.{type(t).__name__}(\n{fields[0]}=tensor(')


def test_return_type_repr_like_torch():
    e = ember.max(ember.tensor([[1, 2], [3, 4]]), 1)
    t = torch.max(torch.tensor([[1, 2], [3, 4]]), 1)
    assert repr(e) == repr(t).replace('torch.', 'ember.')
    assert ember.return_types.max((1, 2)) == (1, 2)
    import pickle
    r = pickle.loads(pickle.dumps(ember.return_types.topk((1, 2))))
    assert type(r) is ember.return_types.topk and r.indices == 2


@pytest.mark.parametrize('fn,out_fn', [
    (lambda lib, x, out: lib.sum(x, 1, out=out), lambda lib: lib.zeros(3)),
    (lambda lib, x, out: lib.mean(x, 0, out=out), lambda lib: lib.zeros(0)),
    (lambda lib, x, out: lib.prod(x, 1, out=out), lambda lib: lib.zeros(3)),
    (lambda lib, x, out: lib.amax(x, 1, out=out), lambda lib: lib.zeros(3)),
    (lambda lib, x, out: lib.argmax(x, 1, out=out), lambda lib: lib.zeros(3, dtype=lib.int64)),
    (lambda lib, x, out: lib.std(x, 1, out=out), lambda lib: lib.zeros(3)),
    (lambda lib, x, out: lib.norm(x, 2, 1, out=out), lambda lib: lib.zeros(3)),
    (lambda lib, x, out: lib.logsumexp(x, 1, out=out), lambda lib: lib.zeros(3)),
    (lambda lib, x, out: lib.cumsum(x, 1, out=out), lambda lib: lib.zeros(3, 4)),
    (lambda lib, x, out: lib.all(x, 1, out=out), lambda lib: lib.zeros(3, dtype=lib.bool)),
])
def test_out(fn, out_fn):
    def run(lib, x):
        out = out_fn(lib)
        assert fn(lib, x, out) is out
        return out
    check(run, (3, 4), grad=False)


@pytest.mark.parametrize('op', ['max', 'min', 'cummax', 'cummin'])
def test_out_tuple(op):
    def run(lib, x):
        values, indices = lib.zeros(0), lib.zeros(0, dtype=lib.int64)
        r = getattr(lib, op)(x, 1, out=(values, indices))
        assert r[0] is values and r[1] is indices and r.values is values
        return r
    check(run, TIES, grad=False)


def test_inplace_cumsum():
    check(lambda lib, x: x.clone().cumsum_(1), (3, 4))
    check(lambda lib, x: x.clone().cumprod_(0), (3, 4))


def test_functions_and_methods_agree():
    x = ember.randn(3, 4)
    for name in ('sum', 'mean', 'prod', 'amax', 'std', 'logsumexp', 'cumsum'):
        a = getattr(ember, name)(x, 1)
        b = getattr(x, name)(1)
        assert np.array_equal(a.numpy(), b.numpy())


def test_double_backward_vs_torch():
    """Second derivatives (create_graph) of prod and cumprod with zeros, and of std and logsumexp."""
    fns = [lambda lib, x: x.prod(1), lambda lib, x: x.prod(), lambda lib, x: x.cumprod(1),
           lambda lib, x: x.std(1), lambda lib, x: x.logsumexp(1), lambda lib, x: x.norm(3, 1)]
    data = ZEROS1.astype(np.float64)
    for fn in fns:
        grads = []
        for lib in (ember, torch):
            x = lib.tensor(data, requires_grad=True)
            y = fn(lib, x)
            w = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))
            g, = lib.autograd.grad((y * w).sum(), x, create_graph=True)
            gg, = lib.autograd.grad((g * g).sum(), x)
            grads.append((g.detach().numpy(), gg.numpy()))
        np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-10, atol=1e-10)


G = np.float64
GRADCHECK = [
    (lambda lib, x: x.sum(1), (3, 4)),
    (lambda lib, x: x.mean((0, 1), keepdim=True), (2, 3, 2)),
    (lambda lib, x: x.nansum(0), (3, 4)),
    (lambda lib, x: x.nanmean(1), (3, 4)),
    (lambda lib, x: x.prod(1), (3, 4)),
    (lambda lib, x: x.prod(), (2, 3)),
    (lambda lib, x: x.prod(1), ZEROS1.astype(G)),
    (lambda lib, x: x.prod(), ZEROS1[:1].astype(G)),
    (lambda lib, x: x.prod(0), ZEROS2.astype(G)),
    (lambda lib, x: x.max(1).values, (3, 4)),
    (lambda lib, x: x.min(), (3, 4)),
    (lambda lib, x: x.amax((0, 1)), (2, 3, 2)),
    (lambda lib, x: x.aminmax(dim=0), (3, 4)),
    (lambda lib, x: (x.var(1), x.std(0, correction=0)), (3, 4)),
    (lambda lib, x: lib.std_mean(x, 1), (3, 4)),
    (lambda lib, x: lib.var_mean(x), (3, 4)),
    (lambda lib, x: (x.norm(), x.norm(1, 1), x.norm(inf, 0), x.norm(3, 1), x.norm(0.5, 0), x.norm(1.5)), (3, 4)),
    (lambda lib, x: x.logsumexp(1), (3, 4)),
    (lambda lib, x: x.cumsum(1), (3, 4)),
    (lambda lib, x: x.cumprod(1), (3, 4)),
    (lambda lib, x: x.cumprod(1), ZEROS1.astype(G)),
    (lambda lib, x: x.cumprod(0), ZEROS2.astype(G)),
    (lambda lib, x: (x.cummax(1).values, x.cummin(0).values), (3, 4)),
]


@pytest.mark.parametrize('fn,specs', [(c[0], c[1:]) for c in GRADCHECK])
def test_gradcheck(fn, specs):
    check_gradcheck(fn, *specs)


def _strides(t):
    return tuple(s for s, n in zip(t.stride(), t.shape) if n > 1)


@pytest.mark.parametrize('fn', [
    lambda lib, x: x.sum(1), lambda lib, x: x.mean(0, keepdim=True), lambda lib, x: x.amax(2),
    lambda lib, x: x.std(1), lambda lib, x: x.prod(1), lambda lib, x: x.max(1).values, lambda lib, x: x.argmin(1),
    lambda lib, x: x.norm(dim=1), lambda lib, x: x.logsumexp(1), lambda lib, x: x.all(1),
    lambda lib, x: x.count_nonzero(1), lambda lib, x: x.cumsum(0), lambda lib, x: x.cumprod(1),
    lambda lib, x: x.cummax(2).indices, lambda lib, x: x.nanmean(1), lambda lib, x: lib.var_mean(x, 1)[1],
])
def test_results_are_contiguous_like_torch(fn):
    """NumPy keeps a permuted input's memory order; PyTorch's reductions and scans return contiguous tensors."""
    a = np.random.default_rng(0).standard_normal((3, 4, 2))
    e, t = fn(ember, ember.tensor(a).transpose(0, 2)), fn(torch, torch.tensor(a).transpose(0, 2))
    assert _strides(e) == _strides(t) and e.is_contiguous()
