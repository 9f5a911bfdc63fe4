"""PyTorch's type promotion, checked against torch for every pair of Ember's nine dtypes.

Result dtype (and values) of ``a + b`` with both operands dimensioned tensors, one or both 0-d,
and a tensor with a Python bool, int or float on either side; plus the rules that follow from
it for division, comparisons and in-place ops.
"""
import itertools

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close

# Inputs include NaN, infinities and zero divisors on purpose; NumPy's warnings about them are noise.
pytestmark = pytest.mark.filterwarnings('ignore::RuntimeWarning')

DTYPES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64']
PAIRS = list(itertools.product(DTYPES, DTYPES))
SCALARS = [True, False, 0, 3, -2, 300, 2.5, -0.5, 1e10]


def _values(dtype, ndim):
    v = np.array([1, 0, 1]) if dtype == 'bool' else np.array([1, 2, 5])
    v = v.astype(dtype)
    return np.array(v[0]) if ndim == 0 else v


def _result(fn, *arrays):
    """(dtype name, values) or the exception type, for ember and torch."""
    out = []
    for lib in (ember, torch):
        args = [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
        try:
            out.append(fn(*args))
        except Exception as exc:
            out.append(type(exc))
    return out


def _same(fn, *arrays):
    e, t = _result(fn, *arrays)
    if isinstance(t, type):
        assert isinstance(e, type) and issubclass(e, t), f'torch raised {t.__name__}, ember gave {e}'
        return
    assert_close(e, t)


@pytest.mark.parametrize('da,db', PAIRS)
def test_add_dimensioned(da, db):
    _same(lambda a, b: a + b, _values(da, 1), _values(db, 1))


@pytest.mark.parametrize('da,db', PAIRS)
def test_add_zero_dim(da, db):
    """A 0-d tensor only changes the dtype when its category (bool < int < float) is higher."""
    _same(lambda a, b: a + b, _values(da, 1), _values(db, 0))
    _same(lambda a, b: a + b, _values(da, 0), _values(db, 1))
    _same(lambda a, b: a + b, _values(da, 0), _values(db, 0))


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('scalar', SCALARS)
def test_add_python_scalar(dtype, scalar):
    """A Python scalar gives int64 / the default float only when of a higher category; out of
    range integers wrap around the tensor's dtype."""
    for ndim in (1, 0):
        x = _values(dtype, ndim)
        _same(lambda a: a + scalar, x)
        _same(lambda a: scalar + a, x)
        _same(lambda a: a * scalar, x)


@pytest.mark.parametrize('da,db', PAIRS)
def test_other_ops_promote_alike(da, db):
    """Division (ints -> default float), comparisons (in the promoted dtype), maximum and mul."""
    a, b = _values(da, 1), _values(db, 1)
    for fn in (lambda a, b: a / b, lambda a, b: a < b, lambda a, b: a == b, lambda a, b: a * b,
               lambda a, b: a - b, lambda a, b: a.maximum(b), lambda a, b: a.atan2(b)):
        _same(fn, a, b)
    _same(lambda a, b: a / b, a, _values(db, 0))


@pytest.mark.parametrize('da,db', PAIRS)
def test_inplace_casts_to_self(da, db):
    """``a += b`` computes in the promoted dtype and casts into ``a``; results that do not cast
    (float into int, int into bool) raise."""
    def f(a, b):
        a += b
        return a
    _same(f, _values(da, 1), _values(db, 1))
    _same(f, _values(da, 1), _values(db, 0))


@pytest.mark.parametrize('dtype', DTYPES)
def test_default_dtype_float64(dtype):
    """Python floats and integer-to-float ops follow ``set_default_dtype``."""
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        x = _values(dtype, 1)
        _same(lambda a: a + 2.5, x)
        _same(lambda a: a / 2, x)
        _same(lambda a: a + ember.tensor(1.5) if isinstance(a, ember.Tensor) else a + torch.tensor(1.5), x)
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


def test_result_type_matches_promote_types():
    for da, db in PAIRS:
        e = ember.promote_types(getattr(ember, da if da != 'bool' else 'bool'), getattr(ember, db))
        t = torch.promote_types(getattr(torch, da), getattr(torch, db))
        assert str(e).split('.')[-1] == str(t).split('.')[-1], (da, db)
