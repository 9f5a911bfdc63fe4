"""In-place samplers: ``uniform_``, ``normal_``, ``random_``, ``bernoulli_``, ``exponential_``,
``geometric_``, ``log_normal_`` and ``cauchy_``, plus the ``bernoulli``/``multinomial`` methods.

Each draws from the given (or default) ``Generator`` exactly as PyTorch's CPU kernels do (see
``ember._random``) and writes the values in memory order. Sampling is not differentiable: when
autograd records, the tensor's gradient through the sampler is zero.
"""
import math
import warnings

import numpy as np

from .. import _random as R
from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _enabled
from ..autograd.graph import Node, grad_edge
from ._inplace import check_inplace, commit


def _zero_node(name):
    def backward(self, g):
        return (_wrap(np.zeros_like(g._data)),)
    return type(name, (Node,), {'__slots__': (), 'backward': backward,
                               '__doc__': 'Sampling overwrites the values: the gradient is zero.'})


_NODES = {name: _zero_node(name) for name in (
    'UniformBackward0', 'NormalBackward0', 'RandomBackward0', 'RandomBackward1', 'RandomBackward2',
    'BernoulliBackward1', 'BernoulliBackward2', 'ExponentialBackward0', 'GeometricBackward0',
    'LogNormalBackward0', 'CauchyBackward0')}


def _apply(self, node_name, values):
    """Write flat ``values`` (memory order) into ``self`` as one in-place op named ``node_name``."""
    if _enabled[0] and self._requires_grad:
        r = _wrap(np.empty_like(self._data))
        R._fill(r, values)
        r.grad_fn = _NODES[node_name]((grad_edge(self),))
        r._requires_grad = True
        return commit(self, r)
    R._fill(self, values)
    self._vc[0] += 1
    return self


def _float_info(np_dtype):
    fi = np.finfo(np_dtype)
    return float(fi.min), float(fi.max), fi.nmant + 1


# TypeMeta names PyTorch prints in bounds errors.
_CPP_NAMES = {'bool': 'bool', 'uint8': 'unsigned char', 'int8': 'signed char', 'int16': 'short int',
              'int32': 'int', 'int64': 'long int', 'float16': 'c10::Half', 'float32': 'float', 'float64': 'double'}


def uniform_(self, from_=0, to=1, *, generator=None, **kwargs):
    """Fill with uniform samples on [from, to)."""
    from_ = float(kwargs.pop('from', from_))
    to = float(to)
    check_inplace(self)
    gen = R._gen(generator)
    R._check_float(self, 'check_uniform_bounds')
    dt = self._data.dtype
    lo, hi, _ = _float_info(dt)
    for v, name in ((from_, 'from'), (to, 'to')):
        if not lo <= v <= hi:
            raise RuntimeError(f'{name} is out of bounds for {_CPP_NAMES[dt.name]}')
    if from_ > to:
        raise RuntimeError(f'uniform_ expects to return a [from, to) range, but found from={R._fmt(from_)} > '
                           f'to={R._fmt(to)}')
    if to - from_ > hi:
        raise RuntimeError(f'uniform_ expects to-from <= std::numeric_limits<{R._type_name(self.dtype)}>::max(), '
                           f'but found to={R._fmt(to)} and from={R._fmt(from_)} which result in to-from to exceed '
                           'the limit')
    return _apply(self, 'UniformBackward0', R._uniform(gen, self._data.size, dt, from_, to))


def normal_(self, mean=0, std=1, *, generator=None):
    """Fill with normal samples N(mean, std**2)."""
    mean, std = float(mean), float(std)
    check_inplace(self)
    gen = R._gen(generator)
    if std < 0:
        raise RuntimeError(f'normal expects std >= 0.0, but found std {R._fmt(std)}')
    R._check_float(self, 'normal_kernel_cpu')
    arr = self._data
    vals = R._normal(gen, arr.size, arr.dtype, mean, std, arr.flags.c_contiguous)
    return _apply(self, 'NormalBackward0', vals)


def _update_from(v, np_dtype, digits):
    # PyTorch moves an integer bound that the float dtype cannot hold to a representable one.
    plus1 = int(np.float64(v + 1).astype(np_dtype))
    if plus1 < v:
        n = abs(v + 1).bit_length() - 1
        v = plus1 + (1 << (n - digits + 1))
    return v


def _update_to(v, np_dtype, digits):
    minus1 = int(np.float64(v - 1).astype(np_dtype))
    if minus1 >= v:
        n = abs(v - 1).bit_length() - 1
        v = minus1 - (1 << (n - digits + 1))
    return v


def _check_range(frm, to_inc, dt):
    name = _CPP_NAMES[dt.name]
    if dt.kind == 'f':
        lo, hi, digits = _float_info(dt)
        for v, what in ((frm, 'from'), (to_inc, 'to - 1')):
            if not lo <= v <= hi:
                raise RuntimeError(f'{what} is out of bounds for {name}')
        for v, what in ((frm, 'from'), (to_inc, 'to - 1')):
            if not -(1 << digits) <= v <= (1 << digits):
                warnings.warn(f'{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations '
                              f'{name} can support discrete uniform distribution only within this range. This '
                              'warning will become an error in version 1.7 release, please fix the code in advance',
                              UserWarning, stacklevel=4)
    else:
        info = (0, 1) if dt.kind == 'b' else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
        for v, what in ((frm, 'from'), (to_inc, 'to - 1')):
            if not info[0] <= v <= info[1]:
                raise RuntimeError(f'{what} is out of bounds for {name}')


def random_(self, *args, generator=None, **kwargs):
    """``random_()``: integers on [0, 2**mantissa] (floats) or [0, max]; ``random_(to)``;
    ``random_(from, to)``: integers on [from, to)."""
    frm = kwargs.pop('from', None)
    to = kwargs.pop('to', None)
    if kwargs:
        raise TypeError(f'random_() got an unexpected keyword argument {next(iter(kwargs))!r}')
    if len(args) == 1 and frm is None and to is None:
        to = args[0]
    elif len(args) == 2:
        frm, to = args
    elif len(args) == 1:
        frm = args[0]
    elif len(args) > 2:
        raise TypeError(f'random_() takes at most 2 positional arguments ({len(args)} given)')
    for v in (frm, to):
        if v is not None and not isinstance(v, (int, np.integer)):
            raise TypeError(f'random_() received an invalid combination of arguments - got '
                            f'({type(v).__name__}), but expected (int from, int to) or (int to)')
    check_inplace(self)
    gen = R._gen(generator)
    dt = self._data.dtype
    n = self._data.size
    if frm is None and to is None:
        return _apply(self, 'RandomBackward0', R._random_full(gen, n, dt))
    frm = 0 if frm is None else int(frm)
    if to is not None:
        to = int(to)
        if frm >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={frm} >= to={to}")
        if dt.kind == 'f':
            digits = np.finfo(dt).nmant + 1
            frm, to = _update_from(frm, dt, digits), _update_to(to, dt, digits)
            if frm >= to:
                raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, "
                                   f'but got from={frm} >= to={to}')
        _check_range(frm, to - 1, dt)
        span = to - frm
    elif frm != -(1 << 63):
        if dt.kind == 'f':
            digits = np.finfo(dt).nmant + 1
            to_inc = 1 << digits
            frm = _update_from(frm, dt, digits)
            if frm >= to_inc:
                raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' "
                                   f'casted to dtype, but got from={frm} > to_inc={to_inc}')
        else:
            to_inc = 1 if dt.kind == 'b' else int(np.iinfo(dt).max)
        _check_range(frm, to_inc, dt)
        span = to_inc - frm + 1
    else:
        if dt not in (np.int64, np.float64, np.float32):
            raise RuntimeError('random_full_64_bits_range_kernel_cpu handles only int64, double, float and bfloat16')
        span = 1 << 64
    name = 'RandomBackward2' if to is not None else 'RandomBackward1'
    if n == 0:
        return self
    return _apply(self, name, R._random_from_to(gen, n, dt, span, frm))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples: 1 with probability ``p`` (a number, or a tensor broadcast to ``self``)."""
    check_inplace(self)
    gen = R._gen(generator)
    arr = self._data
    if isinstance(p, Tensor):
        pa = p._data
        if pa.dtype.kind != 'f':
            raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for \'{R._type_name(p.dtype)}\'')
        try:
            probs = _like_order(arr, pa)
        except ValueError:
            raise RuntimeError(f'The expanded size of the tensor ({arr.shape[-1] if arr.ndim else 1}) must match the '
                               f'existing size ({pa.shape[-1] if pa.ndim else 1}) at non-singleton dimension. '
                               f' Target sizes: {list(arr.shape)}.  Tensor sizes: {list(pa.shape)}') from None
        if probs.size and not ((probs >= 0) & (probs <= 1)).all():
            raise RuntimeError('Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error '
                               'message be improved?  If so, please report an enhancement request to PyTorch.)')
        if pa.dtype == np.float64:
            vals = gen._uniform01(arr.size, np.float64) < probs
        else:
            vals = gen._uniform01(arr.size, np.float32) < probs.astype(np.float32)
        return _apply(self, 'BernoulliBackward2', vals.astype(arr.dtype))
    p = float(p)
    if not 0 <= p <= 1:
        raise RuntimeError(f'bernoulli_ expects p to be in [0, 1], but got p={R._fmt(p)}')
    vals = gen._uniform01(arr.size, np.float64) < p
    return _apply(self, 'BernoulliBackward1', vals.astype(arr.dtype))


def _like_order(arr, pa):
    """``pa`` broadcast to ``arr``'s shape, flattened in ``arr``'s memory order."""
    b = np.broadcast_to(pa, arr.shape)
    if arr.flags.c_contiguous or arr.ndim < 2:
        return b.reshape(-1)
    perm = sorted(range(arr.ndim), key=lambda d: -abs(arr.strides[d]) if arr.shape[d] > 1 else 0)
    return b.transpose(perm).reshape(-1)


def _continuous(self, what, type_name):
    if self._data.dtype.kind != 'f':
        raise RuntimeError(f'{what} distribution is a continuous probability distribution. dtype must be a floating '
                           f'point but you specified {type_name}')


def exponential_(self, lambd=1, *, generator=None):
    """Fill with exponential samples of rate ``lambd``: ``-log1p(-u) / lambd``."""
    lambd = float(lambd)
    check_inplace(self)
    gen = R._gen(generator)
    if not lambd > 0:
        raise RuntimeError(f'exponential_ expects lambda > 0.0, but found lambda={R._fmt(lambd)}')
    _continuous(self, 'Exponential', R._type_name(self.dtype))
    u = gen._uniform01(self._data.size, np.float64)
    return _apply(self, 'ExponentialBackward0', R._cast((-1.0 / lambd) * np.log1p(-u), self._data.dtype))


def geometric_(self, p, *, generator=None):
    """Fill with geometric samples (trials until the first success, success probability ``p``)."""
    p = float(p)
    check_inplace(self)
    gen = R._gen(generator)
    if not 0 < p < 1:
        raise RuntimeError(f'geometric_ expects p to be in (0, 1), but got p={R._fmt(p)}')
    if self._data.dtype.kind == 'b':
        raise NotImplementedError('"geometric_cpu" not implemented for \'Bool\'')
    u = gen._uniform01(self._data.size, np.float64)
    return _apply(self, 'GeometricBackward0', np.ceil(np.log(u) / math.log1p(-p)).astype(self._data.dtype))


def log_normal_(self, mean=1, std=2, *, generator=None):
    """Fill with ``exp(N(mean, std**2))`` samples."""
    mean, std = float(mean), float(std)
    check_inplace(self)
    gen = R._gen(generator)
    if not std > 0:
        raise RuntimeError(f'log_normal_ expects std > 0.0, but found std={R._fmt(std)}')
    if self._data.dtype.kind != 'f':
        raise NotImplementedError(f'"log_normal_cpu" not implemented for \'{R._type_name(self.dtype)}\'')
    z = R._fma64(R._normal_pairs(gen, self._data.size), std, mean)
    return _apply(self, 'LogNormalBackward0', R._cast(np.exp(z), self._data.dtype))


def cauchy_(self, median=0, sigma=1, *, generator=None):
    """Fill with Cauchy samples: ``median + sigma * tan(pi * (u - 0.5))``."""
    median, sigma = float(median), float(sigma)
    check_inplace(self)
    gen = R._gen(generator)
    if not sigma > 0:
        raise RuntimeError(f'cauchy_ expects sigma > 0.0, but found sigma={R._fmt(sigma)}')
    _continuous(self, 'Cauchy', _CPP_NAMES[self._data.dtype.name])
    u = gen._uniform01(self._data.size, np.float64)
    vals = R._fma64(sigma, np.tan(math.pi * (u - 0.5)), median)
    return _apply(self, 'CauchyBackward0', R._cast(vals, self._data.dtype))


def bernoulli(self, p=None, *, generator=None):
    """``ember.bernoulli(self, p)``: 0/1 samples with probabilities ``self`` (or the number ``p``)."""
    return R.bernoulli(self, p, generator=generator)


def multinomial(self, num_samples, replacement=False, *, generator=None):
    """``ember.multinomial(self, num_samples, replacement)``."""
    return R.multinomial(self, num_samples, replacement, generator=generator)


__all__ = []
METHODS = {
    'uniform_': uniform_, 'normal_': normal_, 'random_': random_, 'bernoulli_': bernoulli_,
    'exponential_': exponential_, 'geometric_': geometric_, 'log_normal_': log_normal_, 'cauchy_': cauchy_,
    'bernoulli': bernoulli, 'multinomial': multinomial,
}
