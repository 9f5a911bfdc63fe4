"""Single random draws as Python numbers, for the parameters random transforms pick per image.

torchvision draws each parameter with a one-element tensor call (``torch.rand(1)``,
``torch.empty(1).uniform_(a, b)``, ``torch.randint(a, b, (1,))``) and reads it back with
``.item()``. Each helper here returns exactly what the Ember tensor call it names returns after
the same seed (the same raw mt19937 draws, the same float32 rounding), and leaves the default
generator in the same state, without building tensors: at one number per call, tensor
construction costs more than the image work of a small crop. When the default dtype is not
float32, or for bounds the tensor call rejects, the helpers make the tensor call itself (which
then draws in float64, or raises PyTorch's error).
"""
import functools
import math
import struct

import numpy as np

import ember

from ... import _dtype
from ... import _random as R

_F32 = struct.Struct('f')
_F64_BITS = struct.Struct('<Q')
_F64 = struct.Struct('<d')
_F32_MAX = 3.4028234663852886e38


def _raw32():
    """One ``random()`` draw of the default generator (what ``Generator._raw32(1)`` takes)."""
    gen = R.default_generator
    gen._fresh = False
    return gen._bg.random_raw()


def _f32(x):
    """``x`` rounded to the nearest float32 (ties to even), as a Python float."""
    return _F32.unpack(_F32.pack(x))[0]


def _fma32(x, d, lo):
    """Correctly rounded float32 ``x * d + lo`` for float32 values ``x`` (24-bit), ``d`` and ``lo``."""
    p = x * d  # exact: two 24-bit significands fit in a double
    s = p + lo
    if _F64_BITS.unpack(_F64.pack(s))[0] & 0x1FFFFFFF == 0x10000000:
        # s fell halfway between two float32 values: the exact sum's side decides the rounding.
        bb = s - p
        err = (p - (s - bb)) + (lo - bb)
        if err:
            s = math.nextafter(s, math.copysign(math.inf, err))
    return _f32(s)


def _float_default():
    return _dtype.get_default_dtype() is _dtype.float32


def _uniform32(low, high):
    """The float32 uniform draw on [low, high), or ``None`` where the tensor call must be made."""
    low, high = float(low), float(high)
    if not (_float_default() and -_F32_MAX <= low <= high <= _F32_MAX and high - low <= _F32_MAX):
        return None
    lo = _f32(low)
    return _fma32((_raw32() & 0xFFFFFF) * 2.0 ** -24, _f32(_f32(high) - lo), lo)


def uniform(low, high):
    """``ember.empty(1).uniform_(low, high).item()``."""
    x = _uniform32(low, high)
    return ember.empty(1).uniform_(low, high).item() if x is None else x


def exp_uniform(low, high):
    """``ember.exp(ember.empty(1).uniform_(low, high)).item()``."""
    x = _uniform32(low, high)
    if x is None:
        return ember.empty(1).uniform_(low, high).exp().item()
    # NumPy's float32 exp on a one-element array, as the tensor op computes it.
    return float(np.exp(np.array([x], np.float32))[0])


def randint(low, high):
    """``ember.randint(low, high, (1,)).item()`` (int64)."""
    low, high = int(low), int(high)
    if not (-(1 << 63) <= low < high < (1 << 63)):
        return R.randint(low, high, (1,)).item()  # PyTorch's error
    span = high - low
    if span >= 1 << 28:
        return ((_raw32() << 32) | _raw32()) % span + low
    return _raw32() % span + low


def below(p):
    """``bool(ember.rand(1) < p)``: the draw against ``p`` rounded to float32, as the tensor comparison
    does."""
    if not (_float_default() and isinstance(p, (int, float)) and abs(p) <= _F32_MAX):
        return bool(R.rand(1) < p)
    return (_raw32() & 0xFFFFFF) * 2.0 ** -24 < _f32(p)


@functools.lru_cache(maxsize=64)
def _log_numbers(values, default):
    return ember.log(ember.tensor(values)).tolist()


def log_list(values):
    """``ember.log(ember.tensor(values)).tolist()``, remembered for lists of numbers (a transform passes
    the same ``ratio`` for every image)."""
    if isinstance(values, (list, tuple)) and all(type(v) in (int, float) for v in values):
        return _log_numbers(tuple(values), _dtype.get_default_dtype())
    return ember.log(ember.tensor(values)).tolist()


# Single-precision literals of PyTorch's gamma sampler, widened to double as the C++ code does.
_ONE_THIRD = float(np.float32(1.0) / np.float32(3.0))
_SQUEEZE = float(np.float32(0.0331))


def _uniform64():
    """``at::uniform_real_distribution<double>(0, 1)``: 53 bits of one ``random64()`` draw."""
    return (((_raw32() << 32) | _raw32()) & ((1 << 53) - 1)) * 2.0 ** -53


def _standard_gamma(alpha):
    """One Gamma(alpha, 1) draw by PyTorch's CPU ``sample_gamma`` (Marsaglia and Tsang's rejection method,
    with alpha < 1 boosted by a uniform power), in double precision with its operation order."""
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        scale *= math.pow(1 - _uniform64(), 1.0 / alpha)
        alpha += 1.0
    d = alpha - _ONE_THIRD
    c = 1.0 / math.sqrt(9.0 * d)
    gen = R.default_generator
    while True:
        x = float(R._normal_pairs(gen, 1)[0])
        y = 1.0 + c * x
        while y <= 0:
            x = float(R._normal_pairs(gen, 1)[0])
            y = 1.0 + c * x
        v = y * y * y
        u = 1 - _uniform64()
        xx = x * x
        if u < 1.0 - _SQUEEZE * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def sample_dirichlet(alpha):
    """``torch._sample_dirichlet(alpha)`` on the CPU: for each row of concentrations ``alpha`` (..., K)
    (float), K Gamma draws (elements in row-major order, in double, at least the smallest normal double)
    divided by their row sum, rounded to ``alpha``'s dtype and kept within [tiny, 1)."""
    arr = alpha._data
    if arr.dtype.kind != 'f':
        raise NotImplementedError(f'"dirichlet" not implemented for \'{R._type_name(alpha.dtype)}\'')
    gammas = np.array([max(_standard_gamma(float(a)), 2.2250738585072014e-308) for a in arr.reshape(-1).tolist()],
                      np.float64).reshape(arr.shape)
    ratio = (gammas / gammas.sum(-1, keepdims=True)).astype(arr.dtype)
    info = np.finfo(arr.dtype)
    return ember.from_numpy(np.clip(ratio, info.tiny, np.nextafter(arr.dtype.type(1), arr.dtype.type(0))))
