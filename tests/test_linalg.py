"""Linear algebra against PyTorch: products, einsum, decompositions, norms; values, dtypes,
gradients, float64 gradcheck + gradgradcheck, and PyTorch's errors (messages compared)."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.ops.linalg as ops_linalg
from oracle import _to_lib, check, check_gradcheck, check_raises, make_inputs

INF = math.inf


def ints(*shape, dtype=np.int64):
    return (np.arange(math.prod(shape)) % 7 - 3).reshape(shape).astype(dtype)


def bools(*shape):
    return np.ones(shape, np.bool_)


def spd(lib, a):
    """A symmetric positive-definite matrix (batch) built from ``a``."""
    return a @ a.transpose(-1, -2) + 3 * lib.eye(a.shape[-1], dtype=a.dtype)


def raises_same(fn, *specs):
    """Both raise the same exception type with the same message (``torch.`` read as ``ember.``)."""
    e, t = check_raises(fn, *specs)
    assert str(e) == str(t).replace('torch.', 'ember.')


# ---- matmul and friends ---------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((5, 2, 3), (3,)), ((3,), (5, 3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 4)),
    ((1, 2, 3), (5, 3, 4)), ((2, 5, 2, 3), (3,)), ((3,), (2, 5, 3, 4)), ((0, 3), (3, 4)), ((2, 0), (0, 4)),
    ((0,), (0,)), ((5, 0, 3), (3, 2)),
]


@pytest.mark.parametrize('sa,sb', MATMUL_SHAPES)
def test_matmul(sa, sb):
    check(lambda lib, a, b: a @ b, sa, sb)
    check(lambda lib, a, b: lib.matmul(a, b), sa, sb, grad=False)


@pytest.mark.parametrize('sa,sb', [s for s in MATMUL_SHAPES if 0 not in s[0] + s[1]][:12])
def test_matmul_gradcheck(sa, sb):
    check_gradcheck(lambda lib, a, b: a @ b, sa, sb)


@pytest.mark.parametrize('fn,sa,sb', [
    (lambda lib, a, b: a.t() @ b, (3, 2), (3, 4)),
    (lambda lib, a, b: a[:, ::2] @ b, (2, 6), (3, 4)),
    (lambda lib, a, b: a @ b.transpose(-1, -2), (5, 2, 3), (5, 4, 3)),
    (lambda lib, a, b: a.transpose(0, 1) @ b, (2, 5, 3), (3, 4)),
    (lambda lib, a, b: a.transpose(1, 2) @ b, (5, 3, 2), (3,)),
    (lambda lib, a, b: a[::2] @ b[:, 1:], (6, 3), (3, 5)),
    (lambda lib, a, b: a @ b[..., ::2].transpose(1, 2), (4, 2, 3), (4, 2, 6)),
])
def test_matmul_non_contiguous(fn, sa, sb):
    check(fn, sa, sb)


@pytest.mark.parametrize('dtype', [np.int64, np.int32, np.int16, np.int8, np.uint8])
@pytest.mark.parametrize('sa,sb', [((2, 3), (3, 4)), ((3,), (3,)), ((2, 3), (3,)), ((5, 2, 3), (5, 3, 4)),
                                   ((3,), (5, 3, 4)), ((5, 2, 3), (3, 2))])
def test_matmul_integer(dtype, sa, sb):
    check(lambda lib, a, b: a @ b, ints(*sa, dtype=dtype), ints(*sb, dtype=dtype))


@pytest.mark.parametrize('dtype', [np.float16, np.float64])
def test_matmul_other_floats(dtype):
    check(lambda lib, a, b: a @ b, (5, 2, 3), (3, 4), dtype=dtype)
    check(lambda lib, a, b: a @ b, (3,), (3,), dtype=dtype)


@pytest.mark.parametrize('op,sa,sb', [
    ('mm', (2, 3), (3, 4)), ('bmm', (5, 2, 3), (5, 3, 4)), ('mv', (2, 3), (3,)), ('dot', (3,), (3,)),
    ('vdot', (3,), (3,)), ('inner', (2, 3), (4, 3)), ('inner', (3,), (3,)), ('inner', (), (2, 3)),
    ('outer', (2,), (3,)), ('ger', (2,), (3,)), ('kron', (2, 3), (3, 2)), ('kron', (2,), (3, 2)),
    ('kron', (), (2,)), ('mm', (0, 3), (3, 2)), ('bmm', (0, 2, 3), (0, 3, 1)),
])
def test_products(op, sa, sb):
    check(lambda lib, a, b: getattr(lib, op)(a, b), sa, sb)
    if op not in ('inner', 'kron'):
        check(lambda lib, a, b: getattr(a, op)(b), sa, sb, grad=False)
    if 0 not in sa + sb:
        check_gradcheck(lambda lib, a, b: getattr(lib, op)(a, b), sa, sb)


@pytest.mark.parametrize('op,sa,sb', [('mm', (2, 3), (3, 4)), ('bmm', (2, 2, 3), (2, 3, 4)), ('mv', (2, 3), (3,)),
                                      ('dot', (3,), (3,)), ('outer', (2,), (3,)), ('kron', (2, 2), (2,)),
                                      ('inner', (2, 3), (3,))])
def test_products_integer(op, sa, sb):
    check(lambda lib, a, b: getattr(lib, op)(a, b), ints(*sa), ints(*sb))


def test_outer_promotes():
    check(lambda lib, a, b: lib.outer(a, b), (2,), ints(3))


@pytest.mark.parametrize('op,si,sa,sb,kw', [
    ('addmm', (2, 4), (2, 3), (3, 4), {}),
    ('addmm', (4,), (2, 3), (3, 4), {'beta': 0.5, 'alpha': 2}),
    ('addmm', (2, 1), (2, 3), (3, 4), {'beta': 0}),
    ('addmv', (2,), (2, 3), (3,), {'beta': 2, 'alpha': -1}),
    ('addmv', (1,), (2, 3), (3,), {}),
    ('addr', (2, 3), (2,), (3,), {'alpha': 2}),
    ('addr', (3,), (2,), (3,), {'beta': 0.5}),
    ('baddbmm', (5, 2, 4), (5, 2, 3), (5, 3, 4), {'beta': 0.5}),
    ('baddbmm', (2, 1), (5, 2, 3), (5, 3, 1), {'alpha': 3}),
    ('addbmm', (2, 4), (5, 2, 3), (5, 3, 4), {'alpha': -1}),
    ('addbmm', (4,), (5, 2, 3), (5, 3, 4), {'beta': 2}),
])
def test_add_products(op, si, sa, sb, kw):
    check(lambda lib, i, a, b: getattr(lib, op)(i, a, b, **kw), si, sa, sb)
    check_gradcheck(lambda lib, i, a, b: getattr(lib, op)(i, a, b, **kw), si, sa, sb)


@pytest.mark.parametrize('op,si,sa,sb', [('addmm', (2, 4), (2, 3), (3, 4)), ('addmv', (2,), (2, 3), (3,)),
                                         ('addr', (2, 3), (2,), (3,)), ('baddbmm', (2, 2, 4), (2, 2, 3), (2, 3, 4)),
                                         ('addbmm', (2, 4), (3, 2, 3), (3, 3, 4))])
def test_add_products_inplace_integer_and_nan(op, si, sa, sb):
    check(lambda lib, i, a, b: getattr(i.clone(), op + '_')(a, b, beta=0.5, alpha=2), si, sa, sb)
    if op != 'addr':
        check(lambda lib, i, a, b: getattr(lib, op)(i, a, b, beta=0.5, alpha=2.7), ints(*si), ints(*sa), ints(*sb))
    else:
        check(lambda lib, i, a, b: lib.addr(i, a, b, beta=2, alpha=3), ints(*si), ints(*sa), ints(*sb))
        check(lambda lib, i, a, b: lib.addr(i, a, b, beta=False), bools(*si), bools(*sa), bools(*sb))
    nan = np.full(si, np.nan, np.float32)
    check(lambda lib, i, a, b: getattr(lib, op)(i, a, b, beta=0), nan, sa, sb)


def test_out_and_grad_fn_names():
    for sa, sb in MATMUL_SHAPES[:12]:
        for grads in ((True, True), (True, False), (False, True)):
            names = []
            for lib in (ember, torch):
                a = lib.ones(sa, requires_grad=grads[0])
                b = lib.ones(sb, requires_grad=grads[1])
                names.append(type((a @ b).grad_fn).__name__)
            assert names[0] == names[1], (sa, sb, grads, names)
    out = ember.empty(0)
    r = ember.matmul(ember.ones(2, 3), ember.ones(3, 4), out=out)
    assert r is out and out.shape == (2, 4) and out.dtype == ember.float32 and float(out[0, 0]) == 3.0


def test_matmul_reaches_blas_in_float32(monkeypatch):
    calls = []
    real = np.matmul

    def spy(x, y, *args, **kwargs):
        calls.append((x.ndim, y.ndim, x.dtype, _blas_layout(x), _blas_layout(y)))
        return real(x, y, *args, **kwargs)

    monkeypatch.setattr(ops_linalg.np, 'matmul', spy)
    a = ember.randn(16, 8, 32)
    w = ember.randn(32, 4)
    r = a @ w
    assert r.dtype == ember.float32
    assert calls == [(2, 2, np.float32, True, True)]  # the batch is folded into one matrix product
    calls.clear()
    r = ember.randn(6, 10)[:, ::2] @ ember.randn(4, 5, 3)
    assert r.dtype == ember.float32 and len(calls) == 1 and calls[0][3:] == (True, True)
    assert r.shape == (4, 6, 3)


def _blas_layout(a):
    if a.ndim < 2:
        return True
    s0, s1 = a.strides[-2:]
    return s1 == a.itemsize or s0 == a.itemsize


ERRORS = [
    (lambda lib, a, b: a @ b, (3,), (4,)),
    (lambda lib, a, b: a @ b, (2, 3), (4, 5)),
    (lambda lib, a, b: a @ b, (3,), (4, 5)),
    (lambda lib, a, b: a @ b, (2, 3), (4,)),
    (lambda lib, a, b: a @ b, (5, 2, 3), (4,)),
    (lambda lib, a, b: a @ b, (3,), (5, 4, 4)),
    (lambda lib, a, b: a @ b, (5, 2, 3), (5, 4, 4)),
    (lambda lib, a, b: a @ b, (2, 3), (5, 4, 4)),
    (lambda lib, a, b: a @ b, (5, 2, 3), (4, 4)),
    (lambda lib, a, b: a @ b, (5, 2, 3), (4, 3, 4)),
    (lambda lib, a, b: a.requires_grad_() @ b, (3,), (5, 4, 4)),
    (lambda lib, a, b: a.requires_grad_() @ b, (2, 3), (5, 4, 4)),
    (lambda lib, a, b: a @ b.double(), (2, 3), (3, 4)),
    (lambda lib, a, b: a @ b.double(), (3,), (3,)),
    (lambda lib, a, b: a @ b.double(), (2, 3), (3,)),
    (lambda lib, a, b: a.double() @ b, (2, 3), (3,)),
    (lambda lib, a, b: a @ b.double(), (5, 2, 3), (5, 3, 4)),
    (lambda lib, a, b: a @ b.double(), (2, 3), (5, 3, 4)),
    (lambda lib, a, b: a @ b.half(), (2, 3), (3, 4)),
    (lambda lib, a, b: a @ b, ints(2, 3), (3, 4)),
    (lambda lib, a, b: a @ b, bools(2, 3), bools(3, 4)),
    (lambda lib, a, b: a @ b, bools(3), bools(3)),
    (lambda lib, a, b: a @ b, bools(2, 3), bools(3)),
    (lambda lib, a, b: a @ b, bools(5, 2, 3), bools(5, 3, 4)),
    (lambda lib, a, b: a @ b, np.float32(2.0), (3,)),
    (lambda lib, a, b: lib.matmul(a, b), np.array(2.0, np.float32), (3,)),
    (lambda lib, a, b: lib.mm(a, b), (3,), (3, 4)),
    (lambda lib, a, b: lib.mm(a, b), (2, 3), (3,)),
    (lambda lib, a, b: lib.bmm(a, b), (2, 3), (3, 4)),
    (lambda lib, a, b: lib.bmm(a, b), (2, 2, 3), (3, 3, 4)),
    (lambda lib, a, b: lib.bmm(a, b.double()), (2, 2, 3), (2, 3, 4)),
    (lambda lib, a, b: lib.mv(a, b), (2, 3), (3, 1)),
    (lambda lib, a, b: lib.mv(a, b), (2, 3), (4,)),
    (lambda lib, a, b: lib.dot(a, b), (2, 1), (2, 1)),
    (lambda lib, a, b: lib.dot(a, b), (2,), (3,)),
    (lambda lib, a, b: lib.vdot(a, b.double()), (2,), (2,)),
    (lambda lib, a, b: lib.inner(a, b), (2, 3), (4, 2)),
    (lambda lib, a, b: lib.outer(a, b), (2, 1), (3,)),
    (lambda lib, a, b: lib.outer(a, b), (2,), (3, 1)),
    (lambda lib, i, a, b: lib.addmm(i, a, b), (3, 4), (2, 3), (3, 4)),
    (lambda lib, i, a, b: lib.addmm(i, a, b), (2, 4), (2, 3), (4, 4)),
    (lambda lib, i, a, b: lib.addmm(i, a, b.double()), (2, 4), (2, 3), (3, 4)),
    (lambda lib, i, a, b: lib.addmm(i.double(), a, b), (2, 4), (2, 3), (3, 4)),
    (lambda lib, i, a, b: lib.addmv(i, a, b), (2,), (2, 3), (4,)),
    (lambda lib, i, a, b: lib.addmv(i.double(), a, b), (2,), (2, 3), (3,)),
    (lambda lib, i, a, b: lib.addr(i, a, b), (2, 3), (2,), (4,)),
    (lambda lib, i, a, b: lib.addr(i, a, b), (2, 3), (2, 1), (3,)),
    (lambda lib, i, a, b: lib.baddbmm(i, a, b), (5, 2, 4), (5, 2, 3), (4, 3, 4)),
    (lambda lib, i, a, b: lib.addbmm(i, a, b), (2, 4), (5, 2, 3), (4, 3, 4)),
    (lambda lib, i, a, b: lib.addr(i, a, b, beta=0.5), ints(2, 2), ints(2), ints(2)),
    (lambda lib, i, a, b: lib.addr(i, a, b, alpha=True), ints(2, 2), ints(2), ints(2)),
    (lambda lib, i, a, b: lib.baddbmm(i, a, b), bools(1, 2, 2), bools(1, 2, 2), bools(1, 2, 2)),
    (lambda lib, i, a, b: lib.addbmm(i, a, b), bools(2, 2), bools(1, 2, 2), bools(1, 2, 2)),
    (lambda lib, a, b: lib.tensordot(a, b, dims=-1), (2, 3, 4), (3, 4, 5)),
    (lambda lib, a, b: lib.tensordot(a, b, dims=([1, 2], [0, 1])), (2, 3, 4), (4, 4, 5)),
    (lambda lib, a, b: lib.tensordot(a, b, dims=([1, 2], [0])), (2, 3, 4), (3, 4, 5)),
    (lambda lib, a, b: lib.tensordot(a, b.double()), (2, 3, 4), (3, 4, 5)),
    (lambda lib, a, b: lib.tensordot(a, b, dims=(1, 0)), (2, 3), (3, 2)),
    (lambda lib, a, b: lib.tensordot(a, b, dims=([1], 0)), (2, 3), (3, 2)),
    (lambda lib, a, b: lib.cross(a, b), (4, 4), (4, 4)),
    (lambda lib, a, b: lib.linalg.cross(a, b), (4, 4), (4, 4)),
    (lambda lib, a, b: lib.linalg.cross(a, b), (3,), (2, 3)),
    (lambda lib, a, b: lib.linalg.cross(a, b.double()), (4, 3), (4, 3)),
    (lambda lib, a, b: lib.linalg.cross(a, b), (4, 3), (2, 3)),
    (lambda lib, a: lib.trace(a), (3,)),
    (lambda lib, a: lib.trace(a), bools(3, 3)),
    (lambda lib, a: lib.diag(a), (2, 3, 4)),
    (lambda lib, a: lib.diag_embed(a, 0, 1, 1), (2, 3)),
]


@pytest.mark.parametrize('case', ERRORS)
def test_product_errors(case):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        raises_same(*case)


# ---- einsum -------------------------------------------------------------------------------------

EINSUM = [
    ('ij,jk->ik', (2, 3), (3, 4)), ('ij,jk', (2, 3), (3, 4)), ('ii->i', (3, 3)), ('ii', (3, 3)), ('ij->', (2, 3)),
    ('ij->ji', (2, 3)), ('i,i->i', (3,), (1,)), ('i,j', (2,), (3,)), ('...ij,...jk', (5, 2, 3), (3, 4)),
    ('i...j,jk...', (2, 5, 3), (3, 4, 5)), ('bij,bjk->bik', (2, 2, 3), (2, 3, 2)), ('iij->j', (2, 2, 3)),
    ('ij,k->i', (2, 3), (4,)), ('ab,cd->abcd', (2, 3), (1, 2)), ('ii,jj', (2, 2), (3, 3)), ('iii->', (2, 2, 2)),
    ('iij->ij', (2, 2, 3)), ('Ba,aC', (2, 3), (3, 4)), ('zA,Ab', (2, 3), (3, 4)), ('aB', (2, 3)),
    ('...,...', (2, 1), (3,)), ('i...->...', (2, 3, 4)), ('...i->', (2, 3)), (' i j , j k -> i k ', (2, 3), (3, 4)),
    ('ij,jk,kl->il', (2, 3), (3, 4), (4, 2)), ('', ()), ('...', ()), ('i,->i', (3,), ()), ('ij->', (0, 3)),
    ('bn,anm,bm->ba', (2, 3), (4, 3, 2), (2, 2)),
]


@pytest.mark.parametrize('eq,shapes', [(e[0], e[1:]) for e in EINSUM])
def test_einsum(eq, shapes):
    check(lambda lib, *ops: lib.einsum(eq, *ops), *shapes)
    if all(0 not in s for s in shapes):
        check_gradcheck(lambda lib, *ops: lib.einsum(eq, *ops), *shapes)


def test_einsum_calling_conventions_and_dtypes():
    check(lambda lib, a, b: lib.einsum('ij,jk', [a, b]), (2, 3), (3, 4))
    check(lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [0, 2]), (2, 3), (3, 4))
    check(lambda lib, a, b: lib.einsum(a, [0, Ellipsis], b, [Ellipsis, 2]), (2, 3), (3, 4))
    for eq, shapes in [('ij,jk', ((2, 3), (3, 4))), ('ij', ((2, 3),)), ('ii', ((3, 3),)), ('ij,ij->', ((2, 3),) * 2),
                       ('ij,k->i', ((3, 2), (2,))), ('ij,j->i', ((3, 2), (2,))), ('ii->i', ((3, 3),))]:
        check(lambda lib, *ops: lib.einsum(eq, *ops), *(ints(*s, dtype=np.int32) for s in shapes))
    check(lambda lib, a: lib.einsum('ij->j', a), bools(2, 3))
    check(lambda lib, a, b: lib.einsum('i,i->i', a, b), bools(3), bools(3))
    check(lambda lib, a: lib.einsum('ij->j', a), (2, 3), dtype=np.float16)
    check(lambda lib, a, b: lib.einsum('bij,bjk->bik', a.transpose(1, 2), b), (2, 3, 2), (2, 3, 4))


@pytest.mark.parametrize('case', [
    (lambda lib, a, b: lib.einsum('ij,jk->ik', a, b), (2, 3), (4, 4)),
    (lambda lib, a: lib.einsum('ij,jk->ik', a), (2, 3)),
    (lambda lib, a, b: lib.einsum('ij->j', a, b), (2, 3), (3,)),
    (lambda lib, a: lib.einsum('ij->ik', a), (2, 3)),
    (lambda lib, a: lib.einsum('ij->ii', a), (2, 3)),
    (lambda lib, a: lib.einsum('ij1->i', a), (2, 3)),
    (lambda lib, a: lib.einsum('ijk->i', a), (2, 3)),
    (lambda lib, a: lib.einsum('ij', a), (2, 3, 4)),
    (lambda lib, a: lib.einsum('ii->i', a), (2, 3)),
    (lambda lib, a, b: lib.einsum('i,i', a, b), (2,), (3,)),
    (lambda lib, a, b: lib.einsum('...,...', a, b), (2,), (3,)),
    (lambda lib, a: lib.einsum('ij-', a), (2, 3)),
    (lambda lib, a: lib.einsum('i.j', a), (2, 3)),
    (lambda lib, a: lib.einsum('i...j...', a), (2, 3)),
    (lambda lib, a: lib.einsum('...ijk', a), (2, 3)),
    (lambda lib, a, b: lib.einsum('i,j->ij->', a, b), (2,), (3,)),
    (lambda lib, a, b: lib.einsum('ij,jk', a, b.double()), (2, 3), (3, 4)),
    (lambda lib, a, b: lib.einsum('i,i->', a, b), bools(3), bools(3)),
])
def test_einsum_errors(case):
    raises_same(*case)


# ---- tensordot, kron, cross, trace, diagonals -----------------------------------------------------------

@pytest.mark.parametrize('fn,shapes', [
    (lambda lib, a, b: lib.tensordot(a, b), ((2, 3, 4), (3, 4, 5))),
    (lambda lib, a, b: lib.tensordot(a, b, dims=1), ((2, 3), (3, 4))),
    (lambda lib, a, b: lib.tensordot(a, b, dims=0), ((2,), (3,))),
    (lambda lib, a, b: lib.tensordot(a, b, dims=([1, 0], [0, 1])), ((2, 3, 4), (3, 2, 5))),
    (lambda lib, a, b: lib.tensordot(a, b, dims=[[-1], [0]]), ((2, 3), (3, 2))),
    (lambda lib, a, b: lib.tensordot(a.t(), b, dims=1), ((3, 2), (3, 4))),
    (lambda lib, a, b: lib.kron(a, b), ((2, 2, 2), (3, 1))),
    (lambda lib, a, b: lib.cross(a, b, dim=1), ((4, 3), (4, 3))),
    (lambda lib, a, b: lib.cross(a, b, dim=0), ((3, 2), (3, 1))),
    (lambda lib, a, b: lib.linalg.cross(a, b), ((4, 3), (1, 3))),
    (lambda lib, a, b: lib.linalg.cross(a, b, dim=-2), ((2, 3, 2), (2, 3, 2))),
    (lambda lib, a, b: a.cross(b, dim=-1), ((3,), (3,))),
    (lambda lib, a: lib.trace(a), ((3, 4),)),
    (lambda lib, a: a.trace(), ((3, 3),)),
    (lambda lib, a: lib.diag(a), ((3,),)),
    (lambda lib, a: lib.diag(a, 1), ((3,),)),
    (lambda lib, a: lib.diag(a, -1), ((3, 4),)),
    (lambda lib, a: a.diag(2), ((3, 4),)),
    (lambda lib, a: lib.diag_embed(a), ((2, 3),)),
    (lambda lib, a: lib.diag_embed(a, 1, 0, 2), ((2, 3),)),
    (lambda lib, a: lib.diag_embed(a, -2, -1, 0), ((2, 3),)),
    (lambda lib, a: lib.diagflat(a), ((2, 2),)),
    (lambda lib, a: lib.diagflat(a, -1), ((3,),)),
])
def test_tensor_products_and_diagonals(fn, shapes):
    check(fn, *shapes)
    check_gradcheck(fn, *shapes)


def test_integer_and_legacy_forms():
    check(lambda lib, a, b: lib.tensordot(a, b, dims=1), ints(2, 3), ints(3, 4))
    check(lambda lib, a, b: lib.tensordot(a, b, dims=lib.tensor([[1], [0]])), (2, 3), (3, 4))
    check(lambda lib, a, b: lib.kron(a, b), ints(2), (3, 2))
    check(lambda lib, a, b: lib.linalg.cross(a, b), ints(4, 3), ints(4, 3))
    check(lambda lib, a: lib.trace(a), ints(3, 3, dtype=np.int32))
    check(lambda lib, a: lib.trace(a), (3, 3), dtype=np.float16)
    check(lambda lib, a: lib.diag(a, -1), ints(3))
    check(lambda lib, a: lib.diag(a[:, ::2]), (3, 6))
    with pytest.warns(UserWarning, match='without specifying the dim arg is deprecated'):
        check(lambda lib, a, b: lib.cross(a, b), (3, 3), (3, 3))


# ---- decompositions and solvers -------------------------------------------------------------------------

LINALG = {
    'det': (lambda lib, a: lib.linalg.det(a), (3, 3)),
    'det_batched': (lambda lib, a: lib.det(a), (2, 3, 3)),
    'det_method': (lambda lib, a: a.det(), (2, 2)),
    'slogdet': (lambda lib, a: tuple(lib.linalg.slogdet(a)), (3, 3)),
    'slogdet_legacy': (lambda lib, a: tuple(lib.slogdet(a)), (2, 2, 2)),
    'logdet': (lambda lib, a: lib.logdet(spd(lib, a)), (3, 3)),
    'inv': (lambda lib, a: lib.linalg.inv(a), (2, 3, 3)),
    'inverse': (lambda lib, a: a.inverse(), (3, 3)),
    'solve': (lambda lib, a, b: lib.linalg.solve(a, b), (3, 3), (3, 2)),
    'solve_vector': (lambda lib, a, b: lib.linalg.solve(a, b), (2, 3, 3), (3,)),
    'solve_batched_vector': (lambda lib, a, b: lib.linalg.solve(a, b), (2, 3, 3), (2, 3)),
    'solve_broadcast': (lambda lib, a, b: lib.linalg.solve(a, b), (3, 3), (2, 3, 2)),
    'solve_right': (lambda lib, a, b: lib.linalg.solve(a, b, left=False), (3, 3), (2, 3)),
    'cholesky': (lambda lib, a: lib.linalg.cholesky(spd(lib, a)), (3, 3)),
    'cholesky_upper': (lambda lib, a: lib.linalg.cholesky(spd(lib, a), upper=True), (2, 3, 3)),
    'cholesky_legacy': (lambda lib, a: lib.cholesky(spd(lib, a)), (2, 2)),
    'qr_tall': (lambda lib, a: tuple(lib.linalg.qr(a)), (4, 3)),
    'qr_wide': (lambda lib, a: tuple(lib.linalg.qr(a)), (3, 5)),
    'qr_complete_square': (lambda lib, a: tuple(lib.linalg.qr(a, mode='complete')), (2, 3, 3)),
    'qr_legacy': (lambda lib, a: tuple(lib.qr(a)), (4, 2)),
    'eigh': (lambda lib, a: (lambda w, v: (w, v * v))(*lib.linalg.eigh(a + a.mT)), (3, 3)),
    'eigh_upper': (lambda lib, a: (lambda w, v: (w, v * v))(*lib.linalg.eigh(a + a.mT, UPLO='U')), (2, 3, 3)),
    'eigh_values_only': (lambda lib, a: lib.linalg.eigh(a + a.mT)[0], (3, 3)),
    'eigvalsh': (lambda lib, a: lib.linalg.eigvalsh(a + a.mT), (2, 3, 3)),
    'svd_tall': (lambda lib, a: (lambda u, s, vh: (s, u @ vh, u * u))(*lib.linalg.svd(a, full_matrices=False)),
                 (4, 3)),
    'svd_wide': (lambda lib, a: (lambda u, s, vh: (s, u @ vh, vh * vh))(*lib.linalg.svd(a, full_matrices=False)),
                 (3, 5)),
    'svd_full': (lambda lib, a: (lambda u, s, vh: (s, u[:, :3] @ vh))(*lib.linalg.svd(a)), (5, 3)),
    'svd_legacy': (lambda lib, a: (lambda u, s, v: (s, u @ v.mT))(*lib.svd(a)), (2, 4, 3)),
    'svdvals': (lambda lib, a: lib.linalg.svdvals(a), (2, 4, 3)),
    'pinv': (lambda lib, a: lib.linalg.pinv(a), (4, 3)),
    'pinv_wide': (lambda lib, a: lib.linalg.pinv(a), (2, 2, 3)),
    'pinv_hermitian': (lambda lib, a: lib.linalg.pinv(a + a.mT, hermitian=True), (3, 3)),
    'pinverse': (lambda lib, a: lib.pinverse(a), (3, 2)),
    'matrix_power_3': (lambda lib, a: lib.linalg.matrix_power(a, 3), (3, 3)),
    'matrix_power_0': (lambda lib, a: lib.linalg.matrix_power(a, 0), (2, 3, 3)),
    'matrix_power_1': (lambda lib, a: lib.matrix_power(a, 1), (3, 3)),
    'matrix_power_-2': (lambda lib, a: a.matrix_power(-2), (3, 3)),
    'vecdot': (lambda lib, a, b: lib.linalg.vecdot(a, b), (3, 4), (4,)),
    'vecdot_dim': (lambda lib, a, b: lib.linalg.vecdot(a, b, dim=0), (3, 4), (3, 1)),
    'multi_dot_vectors': (lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]), (3,), (3, 4), (4,)),
    'multi_dot': (lambda lib, a, b, c, d: lib.linalg.multi_dot([a, b, c, d]), (2, 3), (3, 6), (6, 1), (1,)),
    'chain_matmul': (lambda lib, a, b, c: lib.chain_matmul(a, b, c), (2, 3), (3, 4), (4, 2)),
}


@pytest.mark.parametrize('name', LINALG)
def test_linalg(name):
    fn, *shapes = LINALG[name]
    check(fn, *shapes, rtol=1e-4, atol=1e-4)
    check_gradcheck(fn, *shapes)


def test_linalg_float64_and_empty():
    check(lambda lib, a: tuple(lib.linalg.qr(a)), (3, 2), dtype=np.float64)
    check(lambda lib, a: lib.linalg.inv(a), (3, 3), dtype=np.float64)
    check(lambda lib, a: lib.linalg.inv(a), (0, 0))
    check(lambda lib, a: lib.linalg.det(a), (0, 0))
    check(lambda lib, a: tuple(lib.linalg.svd(a)), (0, 3))
    check(lambda lib, a: lib.linalg.svdvals(a), (2, 0, 3))
    check(lambda lib, a: lib.linalg.matrix_power(a, 3), ints(3, 3))
    check(lambda lib, a: lib.linalg.matrix_rank(a), (4, 3))
    check(lambda lib, a: lib.linalg.matrix_rank(a @ a.mT), (2, 4, 3))
    check(lambda lib, a: lib.linalg.matrix_rank(a, hermitian=True), np.diag([1.0, 1e-9, 2.0]).astype(np.float32))
    check(lambda lib, a: lib.linalg.matrix_rank(a, atol=1.0, rtol=0.0), np.diag([3.0, 0.5, 2.0]))
    check(lambda lib, a: lib.linalg.pinv(a, rtol=0.3), np.diag([3.0, 0.5, 2.0]).astype(np.float32))
    check(lambda lib, a: lib.linalg.det(a), np.array([[1.0, 2.0], [2.0, 4.0]]))  # singular: zero grad
    check(lambda lib, a: lib.linalg.eigvalsh(a, UPLO='U'), (3, 3))  # only the upper triangle is read
    check(lambda lib, a: lib.linalg.eigvalsh(a), (3, 3), grad=False)


def test_return_types_print_like_pytorch():
    a = np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)
    for name in ('slogdet', 'qr', 'eigh', 'svd'):
        e, t = (repr(getattr(lib.linalg, name)(lib.tensor(a))) for lib in (ember, torch))
        assert e == t.replace('torch.', 'ember.')
    e = ember.linalg.qr(ember.ones(3, 2))
    assert e.Q is e[0] and e.R is e[1]


def test_qr_modes_and_backward_errors():
    check(lambda lib, a: lib.linalg.qr(a, mode='r')[1], (4, 3), grad=False)
    check(lambda lib, a: lib.linalg.qr(a, mode='r')[0], (4, 3), grad=False)
    check(lambda lib, a: tuple(lib.linalg.qr(a, mode='complete')), (4, 3), grad=False, atol=1e-4)
    for mode in ('r', 'complete'):
        msgs = []
        for lib in (ember, torch):
            a = lib.ones(4, 3, requires_grad=True)
            q, r = lib.linalg.qr(a + lib.eye(4, 3), mode=mode)
            with pytest.raises(RuntimeError) as info:
                r.sum().backward()
            msgs.append(str(info.value))
        assert msgs[0] == msgs[1]


@pytest.mark.parametrize('fn,arr', [
    (lambda lib, a: lib.linalg.inv(a), np.zeros((3, 3), np.float32)),
    (lambda lib, a: lib.linalg.inv(a), np.stack([np.eye(2), [[1.0, 2.0], [2.0, 4.0]]]).astype(np.float32)),
    (lambda lib, a: lib.linalg.solve(a, a[..., 0]), np.stack([np.eye(2), np.zeros((2, 2))]).astype(np.float32)),
    (lambda lib, a: lib.linalg.cholesky(a), -np.eye(3, dtype=np.float32)),
    (lambda lib, a: lib.linalg.cholesky(a), np.array([[1.0, 2.0], [2.0, 1.0]], np.float32)),
    (lambda lib, a: lib.linalg.cholesky(a), np.stack([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]).astype(np.float32)),
])
def test_linalg_errors(fn, arr):
    with pytest.raises(torch.linalg.LinAlgError) as t_info:
        fn(torch, torch.tensor(arr))
    with pytest.raises(ember.linalg.LinAlgError) as e_info:
        fn(ember, ember.tensor(arr))
    assert isinstance(e_info.value, RuntimeError)
    assert str(e_info.value) == str(t_info.value).replace('torch.', 'ember.')


@pytest.mark.parametrize('case', [
    (lambda lib, a: lib.linalg.inv(a), (3, 4)),
    (lambda lib, a: lib.linalg.inv(a), (3,)),
    (lambda lib, a: lib.linalg.inv(a), ints(3, 3)),
    (lambda lib, a: lib.linalg.inv(a.half()), (3, 3)),
    (lambda lib, a: lib.linalg.det(a), ints(3, 3)),
    (lambda lib, a: lib.linalg.det(a.half()), (3, 3)),
    (lambda lib, a: lib.linalg.slogdet(a.half()), (3, 3)),
    (lambda lib, a: lib.linalg.cholesky(a.half()), (3, 3)),
    (lambda lib, a: lib.linalg.qr(a), ints(3, 3)),
    (lambda lib, a: lib.linalg.qr(a, mode='x'), (3, 3)),
    (lambda lib, a: lib.linalg.eigh(a), ints(3, 3)),
    (lambda lib, a: lib.linalg.eigh(a, UPLO='X'), (3, 3)),
    (lambda lib, a: lib.linalg.svd(a), ints(3, 3)),
    (lambda lib, a: lib.linalg.svdvals(a.half()), (3, 3)),
    (lambda lib, a: lib.linalg.pinv(a), ints(3, 3)),
    (lambda lib, a: lib.linalg.pinv(a), (3,)),
    (lambda lib, a: lib.linalg.matrix_rank(a), ints(3, 3)),
    (lambda lib, a, b: lib.linalg.solve(a, b), (3, 3), (4,)),
    (lambda lib, a, b: lib.linalg.solve(a, b.double()), (3, 3), (3,)),
    (lambda lib, a: lib.linalg.matrix_power(a, 2), (3, 4)),
    (lambda lib, a: lib.linalg.matrix_power(a, -1), ints(3, 3)),
    (lambda lib, a, b: lib.linalg.vecdot(a, b.double()), (3, 3), (3,)),
    (lambda lib, a, b: lib.linalg.vecdot(a, b), ints(3, 3), ints(3)),
    (lambda lib, a: lib.linalg.multi_dot([a]), (2, 3)),
    (lambda lib, a, b: lib.linalg.multi_dot([a, b]), (2, 3), (4, 5)),
    (lambda lib, a, b: lib.linalg.multi_dot([a, b]), (2, 2, 3), (3, 5)),
    (lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]), (2, 3), (3,), (3, 5)),
    (lambda lib, a, b: lib.linalg.multi_dot([a, b.double()]), (2, 3), (3, 5)),
])
def test_linalg_argument_errors(case):
    raises_same(*case)


# ---- norms ----------------------------------------------------------------------------------------

NORMS = [
    (lambda lib, a: lib.linalg.vector_norm(a), (3, 4)),
    (lambda lib, a: lib.linalg.vector_norm(a, 3, dim=1), (3, 4)),
    (lambda lib, a: lib.linalg.vector_norm(a, 1, dim=(0, 1), keepdim=True), (3, 4)),
    (lambda lib, a: lib.linalg.vector_norm(a, INF, dim=-1), (3, 4)),
    (lambda lib, a: lib.linalg.vector_norm(a, -INF), (3, 4)),
    (lambda lib, a: lib.linalg.vector_norm(a, 0.5, dim=0), (3, 4)),
    (lambda lib, a: lib.linalg.vector_norm(a, dtype=lib.float64), (3,)),
    (lambda lib, a: lib.linalg.matrix_norm(a), (3, 4)),
    (lambda lib, a: lib.linalg.matrix_norm(a, 'nuc'), (2, 3, 4)),
    (lambda lib, a: lib.linalg.matrix_norm(a, 2), (2, 3, 4)),
    (lambda lib, a: lib.linalg.matrix_norm(a, -2, dim=(0, 2), keepdim=True), (3, 2, 4)),
    (lambda lib, a: lib.linalg.matrix_norm(a, 1), (3, 4)),
    (lambda lib, a: lib.linalg.matrix_norm(a, -1, dim=(1, 0)), (3, 4)),
    (lambda lib, a: lib.linalg.matrix_norm(a, INF, keepdim=True), (2, 3, 4)),
    (lambda lib, a: lib.linalg.matrix_norm(a, -INF), (3, 4)),
    (lambda lib, a: lib.linalg.matrix_norm(a, 'fro', dim=(0, 2)), (3, 2, 4)),
    (lambda lib, a: lib.linalg.norm(a), (3, 4)),
    (lambda lib, a: lib.linalg.norm(a), (2, 3, 4)),
    (lambda lib, a: lib.linalg.norm(a, 2), (3, 4)),
    (lambda lib, a: lib.linalg.norm(a, 'nuc'), (3, 4)),
    (lambda lib, a: lib.linalg.norm(a, 3), (5,)),
    (lambda lib, a: lib.linalg.norm(a, 1, dim=0), (3, 4)),
    (lambda lib, a: lib.linalg.norm(a, dim=(0, 1), keepdim=True), (3, 4)),
    (lambda lib, a: lib.linalg.norm(a, -INF, dim=(2, 0)), (3, 2, 4)),
]


@pytest.mark.parametrize('fn,shape', NORMS)
def test_norms(fn, shape):
    check(fn, shape, rtol=1e-4, atol=1e-5)
    check_gradcheck(fn, shape)


@pytest.mark.parametrize('case', [
    (lambda lib, a: lib.linalg.matrix_norm(a, 3), (3, 3)),
    (lambda lib, a: lib.linalg.matrix_norm(a), (3,)),
    (lambda lib, a: lib.linalg.matrix_norm(a, dim=(0,)), (3, 3)),
    (lambda lib, a: lib.linalg.matrix_norm(a), ints(3, 3)),
    (lambda lib, a: lib.linalg.vector_norm(a), ints(3)),
    (lambda lib, a: lib.linalg.vector_norm(a, dtype=lib.float16), (3,)),
    (lambda lib, a: lib.linalg.vector_norm(a, dtype=lib.int64), (3,)),
    (lambda lib, a: lib.linalg.vector_norm(a, INF), (0, 3)),
    (lambda lib, a: lib.linalg.vector_norm(a, INF, dim=0), (0, 3)),
    (lambda lib, a: lib.linalg.norm(a, 2), (3, 3, 3)),
    (lambda lib, a: lib.linalg.norm(a, 'fro'), (3,)),
    (lambda lib, a: lib.linalg.norm(a, 'fro', dim=1), (3, 3)),
    (lambda lib, a: lib.linalg.norm(a, dim=(0, 1, 2)), (3, 3, 3)),
])
def test_norm_errors(case):
    raises_same(*case)


def test_tests_can_fail():
    with pytest.raises(AssertionError):
        check(lambda lib, a, b: a @ b if lib is torch else (a @ b) * 1.001, (2, 3), (3, 2))
    arrays = make_inputs([(2, 2)])
    assert _to_lib(ember, arrays[0], True).requires_grad
