"""Random numbers that reproduce PyTorch's CPU streams: ``Generator``, seeding, and the samplers.

PyTorch's CPU generator is a 32-bit Mersenne Twister (mt19937) seeded with the low 32 bits
of the seed. Every sampler turns its raw draws into numbers with a fixed recipe, which this
module repeats with vectorised NumPy so that, after the same seed, Ember produces the same
numbers bit for bit:

- ``random()`` is one 32-bit draw; ``random64()`` two draws, the first as the high half.
- A uniform float keeps the low 24 bits of ``random()`` (float32 and float16, which is
  sampled as float32 and rounded) or the low 53 bits of ``random64()`` (float64), scaled by
  2**-bits, then ``x * (to - from) + from`` with one rounding (the compiled kernel fuses it
  into an FMA, emulated exactly here).
- ``normal_`` on a contiguous tensor of 16 or more elements fills it with uniforms and turns
  each block of 16 into 8 Box-Muller pairs (the last, partial block is recomputed from 16
  fresh uniforms). float32 uses the cephes-style polynomial ``log``/``sincos`` of PyTorch's
  AVX2 kernel, reproduced operation by operation. Smaller or non-contiguous tensors take the
  scalar double path, which keeps the unused sine of each pair for the next draw.
- ``random_``/``randint`` take ``draw % range + from`` (64-bit draws from a range of 2**28 on);
  ``randperm`` is a forward Fisher-Yates shuffle driven by ``random() % (n - i)``, evaluated
  here without a Python loop.
- Elements are filled in memory order, as PyTorch's TensorIterator visits them.

Exact (float16, float32, float64 and the integer dtypes each accepts): ``rand``, ``randn``,
``randint``, ``randperm``, ``normal``, ``rand_like``, ``randn_like``, ``randint_like``,
``uniform_``, ``normal_``, ``random_``, ``bernoulli``/``bernoulli_``, ``exponential_``,
``geometric_``, ``log_normal_``, ``cauchy_``, ``multinomial`` and ``poisson`` (one Python step
per element; its rejection test uses Python's ``lgamma``). Statistically correct only:
``randperm(n)`` for n of 2**32 / 20 or more, and the order of tied zero-probability categories
in ``multinomial`` without replacement. ``bernoulli_(p)`` with a number ``p`` follows PyTorch's
portable kernel, which PyTorch uses except on Intel processors with MKL.
"""
import math
import os

import numpy as np

from . import _dtype
from ._creation import _out, _shape
from ._device import check_device, device as _device_cls
from ._tensor import Tensor, _wrap

_DEFAULT_SEED = 67280421310721
_U64 = np.uint64
_F32 = np.float32
_F64 = np.float64
_TWO_PI = 2.0 * math.pi

# Byte layout of PyTorch's CPUGeneratorImplState (what ``get_rng_state`` returns).
_STATE_DTYPE = np.dtype({
    'names': ['seed', 'left', 'seeded', 'next', 'state', 'normal_x', 'normal_y', 'normal_rho',
              'normal_is_valid', 'next_float', 'next_float_valid'],
    'formats': ['<u8', '<i4', '<i4', '<u8', ('<u8', 624), '<f8', '<f8', '<f8', '<i4', '<f4', 'u1'],
    'offsets': [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
    'itemsize': 5056})


def _seed_key(seed):
    """The 624-word mt19937 state after ``init_genrand(seed & 0xffffffff)``."""
    return np.random.RandomState(seed & 0xFFFFFFFF).get_state(legacy=False)['state']['key']


def _unpack_seed(seed):
    """PyTorch's seed parsing: any integer in [-2**63, 2**64), negatives as two's complement."""
    if isinstance(seed, Tensor):
        seed = seed.item()
    seed = int(seed)
    if not -(1 << 63) <= seed < (1 << 64):
        raise ValueError('Overflow when unpacking long long')
    return seed & 0xFFFFFFFFFFFFFFFF


class Generator:
    """A random number generator with PyTorch's CPU algorithm (mt19937) and API.

    ``Generator().manual_seed(s)`` produces the same stream as ``torch.Generator().manual_seed(s)``;
    ``get_state()`` returns PyTorch's 5056-byte state layout, so states can be exchanged.
    """

    def __init__(self, device='cpu'):
        d = _device_cls(device)
        if d.type != 'cpu':
            check_device(d)
        self._device = d
        self._seed = _DEFAULT_SEED
        self._fresh = True
        self._next_double = None
        self._next_float = None

    def __getattr__(self, name):
        # The mt19937 bit generator (and with it numpy.random) is built on first use, which keeps
        # ``import ember`` light.
        if name == '_bg':
            bg = self.__dict__['_bg'] = np.random.MT19937(0)
            bg.state = {'bit_generator': 'MT19937', 'state': {'key': _seed_key(self._seed), 'pos': 624}}
            return bg
        if name == '_np_gen':
            # numpy's Generator on the same bit generator: its full-range ``integers`` are the raw
            # 32-bit draws (and, for uint64, two draws with the first as the high half) written
            # straight into uint32/uint64 arrays, faster than ``random_raw``.
            g = self.__dict__['_np_gen'] = np.random.Generator(self._bg)
            return g
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def device(self):
        return self._device

    def _reseed(self, seed):
        self._seed = seed
        self._bg.state = {'bit_generator': 'MT19937', 'state': {'key': _seed_key(seed), 'pos': 624}}
        self._fresh = True
        self._next_double = None
        self._next_float = None

    def manual_seed(self, seed):
        """Seed the generator (the low 32 bits drive mt19937, as in PyTorch); returns ``self``."""
        self._reseed(_unpack_seed(seed))
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the seed used."""
        s = int.from_bytes(os.urandom(8), 'little') & ((1 << 53) - 1)
        self._reseed(s)
        return s

    def initial_seed(self):
        """The seed last given to ``manual_seed``/``seed`` (as an unsigned 64-bit integer)."""
        return self._seed

    def get_state(self):
        """The generator state as a uint8 tensor in PyTorch's layout (5056 bytes)."""
        st = self._bg.state['state']
        rec = np.zeros((), _STATE_DTYPE)
        rec['seed'] = self._seed
        rec['left'] = 625 - st['pos']
        rec['seeded'] = 1
        rec['next'] = 0 if self._fresh else st['pos']
        rec['state'] = st['key']
        if self._next_double is not None:
            rec['normal_is_valid'] = 1
            rec['normal_y'] = self._next_double
        if self._next_float is not None:
            rec['next_float_valid'] = 1
            rec['next_float'] = self._next_float
        return _wrap(np.frombuffer(rec.tobytes(), np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from ``get_state`` (Ember's or PyTorch's); returns ``self``."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f'expected a torch.ByteTensor, but got {type(new_state).__name__}')
        arr = new_state._data
        if arr.dtype != np.uint8:
            raise TypeError('RNG state must be a torch.ByteTensor')
        if arr.size != _STATE_DTYPE.itemsize:
            raise RuntimeError(f'Expected a CPUGeneratorImplState of size {_STATE_DTYPE.itemsize} but found the '
                               f'input RNG state size to be {arr.size}')
        rec = np.frombuffer(np.ascontiguousarray(arr).reshape(-1).tobytes(), _STATE_DTYPE)[0]
        left, nxt = int(rec['left']), int(rec['next'])
        if not (rec['seeded'] and 0 < left <= 624 and nxt <= 624):
            raise RuntimeError('Invalid mt19937 state')
        self._seed = int(rec['seed'])
        key = rec['state'].astype(np.uint32)
        self._bg.state = {'bit_generator': 'MT19937', 'state': {'key': key, 'pos': 625 - left}}
        self._fresh = left == 1 and nxt == 0
        self._next_double = float(rec['normal_y']) if rec['normal_is_valid'] else None
        self._next_float = float(rec['next_float']) if rec['next_float_valid'] else None
        return self

    def __repr__(self):
        return f'<ember.Generator object at {hex(id(self))}>'

    # ---- raw draws ---------------------------------------------------------------------------
    def _raw32(self, n):
        """``n`` draws of ``random()`` (uint32)."""
        self._fresh = self._fresh and not n
        return self._np_gen.integers(0, 1 << 32, n, np.uint32)

    def _raw64(self, n):
        """``n`` draws of ``random64()`` (uint64): two 32-bit draws each, the first as the high half."""
        self._fresh = self._fresh and not n
        return self._np_gen.integers(0, 1 << 64, n, _U64)

    def _uniform01(self, n, np_dtype):
        """``n`` uniforms on [0, 1): 53-bit float64 for float64, else 24-bit float32."""
        if np_dtype == _F64:
            r = self._raw64(n)
            r &= _U64((1 << 53) - 1)
            out = r.view(_F64)  # converted in place: int64 -> float64 is exact below 2**53
            np.multiply(r, 2.0 ** -53, out=out)
            return out
        r = self._raw32(n)
        r &= np.uint32((1 << 24) - 1)
        out = r.view(_F32)
        np.multiply(r, _F32(2.0 ** -24), out=out, dtype=_F32)
        return out


default_generator = Generator()


def _gen(generator):
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"expected a Generator for argument 'generator', got {type(generator).__name__}")
    return generator


def manual_seed(seed):
    """Seed the default generator; returns it. ``manual_seed(s)`` then the same calls give PyTorch's numbers."""
    return default_generator.manual_seed(seed)


def seed():
    """Seed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed():
    """The default generator's initial seed."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor (PyTorch's layout)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default generator's state from ``get_rng_state``."""
    default_generator.set_state(new_state)


# ---- exact fused multiply-add --------------------------------------------------------------------
# PyTorch's kernels are compiled with FMA contraction, so ``x * a + b`` rounds once. NumPy has no
# fma: float32 is computed in float64 (the product is exact) with a fix for the rare double
# rounding; float64 uses error-free transformations with a round-to-odd step (Boldo-Melquiond).

def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    t = 134217729.0 * a
    hi = t - (t - a)
    return hi, a - hi


def _fma64(a, b, c):
    """Correctly rounded ``a * b + c`` for float64 arrays (or scalars)."""
    a = np.asarray(a, _F64)
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(np.asarray(b, _F64))
    pe = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    sh, sl = _two_sum(np.asarray(c, _F64), p)
    v, ve = _two_sum(sl, pe)
    fix = (ve != 0) & ((v.view(np.int64) & 1) == 0)
    if fix.any():
        v = np.where(fix, np.nextafter(v, np.copysign(np.inf, ve)), v)
    return sh + v


def _fma32(a, b, c):
    """Correctly rounded float32 ``a * b + c``."""
    p = np.asarray(a, _F64) * _F64(b)
    s = p + _F64(c) if np.ndim(c) == 0 else p + np.asarray(c, _F64)
    bits = s.view(np.uint64) if isinstance(s, np.ndarray) else np.asarray(s).view(np.uint64)
    mid = (bits & _U64(0x1FFFFFFF)) == _U64(0x10000000)
    if np.any(mid):
        # s lies halfway between two float32 values: round towards the exact sum's side.
        _, err = _two_sum(p, np.broadcast_to(np.asarray(c, _F64), np.shape(p)))
        s = np.where(mid & (err != 0), np.nextafter(s, np.copysign(np.inf, err)), s)
    return np.asarray(s).astype(_F32)


# ---- the cephes-style float32 log and sincos of PyTorch's AVX2 normal kernel ---------------------
# Each compiled FMA ``round32(a * b + c)`` is evaluated as a float64 product (exact: two float32
# factors) plus ``c`` in float64, rounded once more to float32. That second rounding can only go
# wrong when the float64 sum is inexact and lands halfway between two float32 values; on the
# kernel's inputs (1 - k/2**24 for ``log``, round32(2*pi * k/2**24) for ``sincos``, k < 2**24) it
# never does, which the tests check over all 2**24 inputs against the checked ``_fma32``. Steps
# whose product is exact in float32 (small integers times short constants) are plain float32.
# Chunks of ``_PAIRS`` elements with reused buffers keep the ~50 passes in cache.

_LOG_P = tuple(_F32(v) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
                                 1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
                                 3.3333331174E-1))
_SIN_P = (_F32(-1.9515295891E-4), _F32(8.3321608736E-3), _F32(-1.6666654611E-1))
_COS_P = (_F32(2.443315711809948E-005), _F32(-1.388731625493765E-003), _F32(4.166664568298827E-002))
_PAIRS = 1 << 14
_HALF = np.dtype((np.void, 32))


def _fma_f64(a, b, c, out, t64):
    """``out = round32(a * b + c)`` through float64 (exact where the note above says so)."""
    np.multiply(a, b, out=t64, dtype=_F64)
    return np.add(t64, c, out=out, casting='same_kind')


class _Scratch:
    """Reusable buffers for chunks of up to ``m`` elements: float32 rows 0-4 for ``_log256``
    (result in row 2), rows 0, 1, 3, 4 for ``_sincos256``, rows 5-7 free for callers."""

    def __init__(self, m):
        self.t64 = np.empty(m, _F64)
        self.f = np.empty((8, m), _F32)
        self.i = np.empty((3, m), np.int32)

    def take(self, m):
        return self.t64[:m], self.f[:, :m], self.i[:, :m]


def _log256(v, sc=None):
    """``log256_ps`` of avx_mathfun for float32 ``v`` in [2**-24, 1] (1-D, contiguous), with the
    compiler's FMA contractions. The result lives in ``sc``'s buffers."""
    t64, f, (mi, ei, lo) = (sc or _Scratch(v.size)).take(v.size)
    x, e, y, z, w = f[:5]
    vi = v.view(np.int32)
    # v = mant * 2**k with mant in [0.5, 1); below sqrt(1/2) the mantissa is doubled (x = 2*mant - 1,
    # exponent one less), else x = mant - 1; both exact in float32.
    np.bitwise_and(vi, 0x007FFFFF, out=mi)
    mi |= 0x3F000000
    mant = mi.view(_F32)
    np.less(mant, _F32(0.707106781186547524), out=lo, casting='unsafe')
    np.right_shift(vi, 23, out=ei)
    ei -= 126
    ei -= lo
    np.copyto(e, ei, casting='unsafe')
    np.subtract(mant, _F32(1), out=x)
    np.multiply(mant, lo, out=w, casting='unsafe')
    x += w
    np.multiply(x, x, out=z)
    _fma_f64(x, _LOG_P[0], _LOG_P[1], y, t64)
    for p in _LOG_P[2:]:
        _fma_f64(y, x, p, y, t64)
    y *= x
    # fma(y, z, e * -2.12194440e-4), then two FMAs whose products (z * 0.5, e * 0.693359375) are
    # exact in float32, so one float32 addition rounds each as the FMA does.
    np.multiply(e, _F32(-2.12194440e-4), out=w)
    _fma_f64(y, z, w, y, t64)
    z *= _F32(0.5)
    y -= z
    y += x
    e *= _F32(0.693359375)
    y += e
    return y


def _sincos256(theta, sc=None):
    """``sincos256_ps`` of avx_mathfun for float32 ``theta`` in [0, 2*pi] (1-D, contiguous);
    returns (sin, cos) in ``sc``'s buffers."""
    t64, f, (j, a, b) = (sc or _Scratch(theta.size)).take(theta.size)
    x, z, ys, yc = f[0], f[1], f[3], f[4]
    # Octant j (even) and x = theta - j * pi/4 in three steps; j <= 8, so j times the first two
    # (short) constants is exact in float32 and a float32 subtraction is the FMA.
    np.multiply(theta, _F32(1.27323954473516), out=ys)
    np.copyto(j, ys, casting='unsafe')
    j += 1
    j &= ~1
    np.copyto(yc, j, casting='unsafe')
    np.multiply(yc, _F32(0.78515625), out=x)
    np.subtract(theta, x, out=x)
    np.multiply(yc, _F32(2.4187564849853515625e-4), out=z)
    x -= z
    _fma_f64(yc, _F32(-3.77489497744594108e-8), x, x, t64)
    np.multiply(x, x, out=z)
    _fma_f64(z, _COS_P[0], _COS_P[1], yc, t64)
    _fma_f64(yc, z, _COS_P[2], yc, t64)
    yc *= z
    np.multiply(z, _F32(-0.5), out=ys)
    _fma_f64(yc, z, ys, yc, t64)
    yc += _F32(1)
    _fma_f64(z, _SIN_P[0], _SIN_P[1], ys, t64)
    _fma_f64(ys, z, _SIN_P[2], ys, t64)
    ys *= z
    _fma_f64(ys, x, x, ys, t64)
    # Where j & 2 the two polynomials trade places: a swap by bit masks (no data-dependent
    # branches). Then sin takes the sign bit j & 4, cos the bit ~(j - 2) & 4.
    si, ci = ys.view(np.int32), yc.view(np.int32)
    np.bitwise_and(j, 2, out=a)
    a >>= 1
    a -= 1  # all ones where the polynomials stay, 0 where they swap
    np.bitwise_xor(si, ci, out=b)
    b &= a
    np.bitwise_xor(ci, b, out=a)  # sin
    si ^= b  # cos
    np.bitwise_and(j, 4, out=b)
    b <<= 29
    a ^= b
    j -= 2
    np.invert(j, out=j)
    j &= 4
    j <<= 29
    si ^= j
    return a.view(_F32), si.view(_F32)


def _box_muller32(u, out, sc):
    """PyTorch's AVX2 ``normal_fill_16`` on float32 uniforms ``u`` (a multiple of 16, contiguous):
    each block of 16 gives radius sqrt(-2 log(1 - u[:8])) and angle 2*pi*u[8:], written to
    ``out`` (same shape) as (radius * cos, radius * sin)."""
    m = u.size // 2
    _, f, _ = sc.take(m)
    # Half-blocks of 8 float32 are moved as single 32-byte items: much faster than 8-wide strides.
    halves, rows = u.view(_HALF), f[5:7].view(_HALF)
    rows[0] = halves[0::2]
    rows[1] = halves[1::2]
    np.subtract(_F32(1), f[5], out=f[5])
    np.multiply(_F32(_TWO_PI), f[6], out=f[6])
    radius = _log256(f[5], sc)
    radius *= _F32(-2)
    np.sqrt(radius, out=radius)
    s, c = _sincos256(f[6], sc)
    np.multiply(radius, c, out=f[5])
    np.multiply(radius, s, out=f[6])
    halves = out.view(_HALF)
    halves[0::2] = rows[0]
    halves[1::2] = rows[1]
    return out


def _affine32(x, b, c):
    """``x[...] = round32(x * b + c)`` in place for a float32 array and float32 numbers, as one FMA:
    float64 ``x * b + c`` (the product is exact) rounded to float32, fixing the rare sums that fall
    halfway between two float32 values without being exact. Chunked to stay in cache."""
    flat = x.reshape(-1)
    step = 2 * _PAIRS
    t64 = np.empty(min(step, flat.size), _F64)
    low = np.empty(t64.size, _U64)
    mid = np.empty(t64.size, np.bool_)
    for i in range(0, flat.size, step):
        xs = flat[i:i + step]
        k = xs.size
        t = t64[:k]
        np.multiply(xs, b, out=t, dtype=_F64)
        t += c
        np.bitwise_and(t.view(_U64), _U64(0x1FFFFFFF), out=low[:k])
        np.equal(low[:k], _U64(0x10000000), out=mid[:k])
        if mid[:k].any():
            idx = np.flatnonzero(mid[:k])
            p = xs[idx].astype(_F64) * _F64(b)
            _, err = _two_sum(p, np.full(idx.size, _F64(c)))
            t[idx] = np.where(err != 0, np.nextafter(t[idx], np.copysign(np.inf, err)), t[idx])
        np.copyto(xs, t, casting='same_kind')
    return x


def _uniform(gen, n, np_dtype, low, high):
    """``uniform_(low, high)``: ``x * (high - low) + low`` with one rounding."""
    if np_dtype == _F64:
        x = gen._uniform01(n, _F64)
        return _fma64(x, high - low, low) if (low, high) != (0.0, 1.0) else x
    vals = gen._uniform01(n, _F32)
    if (low, high) != (0.0, 1.0):
        lo = _F32(low)
        _affine32(vals, _F32(high) - lo, lo)
    if np_dtype == np.float16:
        # Reduced-precision floats are sampled as float32 and rounded; a value that rounds up to
        # ``high`` is replaced by ``low`` to keep the interval half-open.
        vals = vals.astype(np_dtype)
        vals[vals == np_dtype.type(high)] = np_dtype.type(low)
    return vals


def _normal_pairs(gen, n):
    """``n`` standard normals from the scalar double path (cached second value included)."""
    out = np.empty(n, _F64)
    k = 0
    if n and gen._next_double is not None:
        out[0] = gen._next_double
        gen._next_double = None
        k = 1
    m = n - k
    if m:
        pairs = (m + 1) // 2
        u = gen._uniform01(2 * pairs, _F64)
        r = np.sqrt(-2.0 * np.log1p(-u[1::2]))
        theta = _TWO_PI * u[0::2]
        vals = np.empty(2 * pairs, _F64)
        vals[0::2] = r * np.cos(theta)
        vals[1::2] = r * np.sin(theta)
        out[k:] = vals[:m]
        if m % 2:
            gen._next_double = float(vals[-1])
    return out


def _cast(vals, np_dtype):
    """Double results to ``np_dtype``; float16 goes through float32, as C++'s ``Half(float)`` does."""
    if np_dtype == np.float16:
        vals = vals.astype(_F32)
    return vals.astype(np_dtype, copy=False)


def _normal(gen, n, np_dtype, mean, std, contiguous):
    """``normal_(mean, std)`` on ``n`` elements of a (non-)contiguous tensor."""
    if n < 16 or not contiguous:
        z = _normal_pairs(gen, n)
        return _cast(z if (mean, std) == (0.0, 1.0) else _fma64(z, std, mean), np_dtype)
    full = n // 16 * 16
    if np_dtype != _F64:
        # float32 kernel (float16 is sampled in float32 and rounded), chunk by chunk of the stream.
        out = np.empty(n, _F32)
        sc = _Scratch(_PAIRS)
        for i in range(0, full, 2 * _PAIRS):
            k = min(2 * _PAIRS, full - i)
            _box_muller32(gen._uniform01(k, _F32), out[i:i + k], sc)
        if n % 16:
            # The partial last block is recomputed from 16 fresh uniforms; float32 first draws the
            # uniforms of the elements it overwrites, float16 does not.
            if np_dtype != np.float16:
                gen._raw32(n - full)
            _box_muller32(gen._uniform01(16, _F32), out[n - 16:], sc)
        if (mean, std) != (0, 1):
            _affine32(out, _F32(std), _F32(mean))
        return out.astype(np_dtype, copy=False)
    u = gen._uniform01(n, _F64)
    if n % 16:
        u = np.concatenate([u[:full], gen._uniform01(16, _F64)])
    blocks = u.reshape(-1, 2, 8)
    radius = np.sqrt(-2.0 * np.log(1.0 - blocks[:, 0]))
    theta = _TWO_PI * blocks[:, 1]
    pair = np.stack([radius * np.cos(theta), radius * np.sin(theta)], 1)
    if (mean, std) != (0.0, 1.0):
        pair = _fma64(pair, std, mean)
    flat = pair.reshape(-1)
    if n % 16:
        out = np.empty(n, _F64)
        out[:full] = flat[:full]
        out[n - 16:] = flat[full:]
        return out
    return flat


_INT_MOD = {np.dtype(np.bool_): 2, np.dtype(np.uint8): 1 << 8, np.dtype(np.int8): 1 << 7,
            np.dtype(np.int16): 1 << 15, np.dtype(np.int32): 1 << 31, np.dtype(np.int64): 1 << 63,
            np.dtype(np.float16): (1 << 11) + 1, np.dtype(np.float32): (1 << 24) + 1,
            np.dtype(np.float64): (1 << 53) + 1}


def _random_full(gen, n, np_dtype):
    """``random_()``: uniform over [0, 2**mantissa] for floats, [0, max] for integers."""
    wide = np_dtype in (np.int64, _F64)
    v = gen._raw64(n) if wide else gen._raw32(n)
    return (v % _U64(_INT_MOD[np.dtype(np_dtype)])).astype(np_dtype)


def _random_from_to(gen, n, np_dtype, span, base):
    """``random_(base, base + span)``: ``draw % span + base``, with 64-bit draws for spans of 2**28
    or more; a span of 2**64 takes the 64-bit draw itself as a signed integer."""
    if span >= 1 << 64:
        return gen._raw64(n).view(np.int64).astype(np_dtype)
    v = gen._raw64(n) if span >= 1 << 28 else gen._raw32(n)
    v = (v % _U64(span) + _U64(base & 0xFFFFFFFFFFFFFFFF)).view(np.int64)
    return v.astype(np_dtype)


# ---- writing into tensors in memory order --------------------------------------------------------

def _memory_order(arr):
    """``arr`` with its axes ordered as PyTorch's TensorIterator walks it (outermost stride first)."""
    if arr.flags.c_contiguous or arr.ndim < 2:
        return arr
    perm = sorted(range(arr.ndim), key=lambda d: -abs(arr.strides[d]) if arr.shape[d] > 1 else 0)
    return arr.transpose(perm)


def _fill(t, values):
    """Write ``values`` (flat, memory order) into tensor ``t``."""
    arr = _memory_order(t._data)
    arr[...] = values.reshape(arr.shape)


def _fmt(x):
    return f'{x:g}'


def _check_float(t, what):
    if t._data.dtype.kind != 'f':
        raise NotImplementedError(f'"{what}" not implemented for \'{_type_name(t.dtype)}\'')


def _type_name(d):
    return {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int', 'int64': 'Long',
            'float16': 'Half', 'float32': 'Float', 'float64': 'Double'}[d.name]


def _empty(size, dtype, default=None):
    d = (default or _dtype.get_default_dtype()) if dtype is None else _dtype.to_dtype(dtype)
    return _wrap(np.empty(_shape(size), d.np))


def _result(t, out, requires_grad, device):
    check_device(device)
    if requires_grad:
        t.requires_grad_(True)
    return _out(t, out)


# ---- public samplers -------------------------------------------------------------------------------

def rand(*sizes, size=None, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
         requires_grad=False):
    """Uniform samples on [0, 1) of shape ``size`` (PyTorch's stream after ``manual_seed``)."""
    from ._creation import _sizes_arg
    t = _empty(_sizes_arg('rand', sizes, size), dtype)
    _check_float(t, 'check_uniform_bounds')
    t._data[...] = _uniform(_gen(generator), t._data.size, t._data.dtype, 0.0, 1.0).reshape(t._data.shape)
    return _result(t, out, requires_grad, device)


def randn(*sizes, size=None, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
          requires_grad=False):
    """Standard normal samples of shape ``size``."""
    from ._creation import _sizes_arg
    t = _empty(_sizes_arg('randn', sizes, size), dtype)
    _check_float(t, 'normal_kernel_cpu')
    t._data[...] = _normal(_gen(generator), t._data.size, t._data.dtype, 0.0, 1.0, True).reshape(t._data.shape)
    return _result(t, out, requires_grad, device)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            pin_memory=False, requires_grad=False):
    """Integers uniform on [low, high) of shape ``size``; ``randint(high, size)`` too (int64 by default)."""
    if size is None:
        if high is None:
            raise TypeError("randint() missing required argument 'size' (pos 2)")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, not "
                        f'{type(size).__name__}')
    t = _empty(tuple(size), dtype, _dtype.int64)
    from .ops.random import random_
    random_(t, low, high, generator=generator)
    t._vc[0] = 0
    return _result(t, out, requires_grad, device)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
             requires_grad=False):
    """A random permutation of ``0..n-1`` (int64 by default), PyTorch's shuffle of its stream."""
    n = int(n)
    t = _empty((n,), dtype, _dtype.int64)
    if t.dtype is _dtype.bool_:
        raise NotImplementedError('"randperm" not implemented for \'Bool\'')
    np_dtype = t._data.dtype
    limit = np.finfo(np_dtype).max if np_dtype.kind == 'f' else np.iinfo(np_dtype).max
    if np_dtype.kind == 'f':
        limit = 2 ** np.finfo(np_dtype).nmant * 2
    if n - 1 > limit:
        raise RuntimeError(f'n is too large for result tensor type: \'{t.dtype}\'')
    t._data[...] = _permutation(_gen(generator), n).astype(np_dtype)
    return _result(t, out, requires_grad, device)


def _permutation(gen, n):
    """PyTorch's shuffle: ``for i < n-1: swap(a[i], a[i + random() % (n - i)])``, vectorised.

    Step ``i`` moves the value at position ``j_i = i + z_i`` to ``i`` (final) and parks the value
    it held, ``v_i``, at ``j_i``. The value held at a position is the one parked there by the last
    earlier step that targeted it, or the position itself if none did. Both "last earlier step
    targeting the same position" links are found by a sort, and chains of parked values are
    resolved by pointer jumping, so the whole shuffle costs O(n log n) array operations.
    """
    if n <= 1:
        return np.arange(n, dtype=np.int64)
    if n >= 0xFFFFFFFF // 20:
        # PyTorch switches to an inside-out shuffle with 64-bit draws here.
        return np.random.Generator(np.random.PCG64(gen._raw64(4))).permutation(n)
    idx = np.int32 if n < 1 << 31 else np.int64
    steps = np.arange(n - 1, dtype=idx)
    target = steps + (gen._raw32(n - 1) % (n - steps).astype(_U64)).astype(idx)
    # Steps ordered by target, then by step: one sort of the combined key (faster than argsort).
    key = np.sort(target.astype(np.int64) * n + steps)
    order = (key % n).astype(idx)
    tgt_sorted = key // n
    same = tgt_sorted[1:] == tgt_sorted[:-1]
    # prev_same[i]: the previous step with step i's target (or -1).
    prev_same = np.full(n - 1, -1, idx)
    prev_same[order[1:][same]] = order[:-1][same]
    # last_before[t]: the last step k < t targeting position t (only steps k <= t can).
    group_end = np.ones(n - 1, bool)
    group_end[:-1] = ~same
    ends = order[group_end]
    pos = target[ends]
    last_before = np.full(n, -1, idx)
    last_before[pos] = np.where(ends == pos, prev_same[ends], ends)
    # held[t] = held[last_before[t]], or t at the end of a chain: pointer jumping over the
    # positions whose chain is not resolved yet.
    held = np.where(last_before >= 0, last_before, np.arange(n, dtype=idx))
    active = np.flatnonzero(last_before >= 0)
    while active.size:
        nxt = held[held[active]]
        moved = nxt != held[active]
        held[active] = nxt
        active = active[moved]
    out = np.empty(n, np.int64)
    out[:-1] = np.where(prev_same >= 0, held[np.maximum(prev_same, 0)], target)
    own = (prev_same < 0) & (target == steps)
    out[:-1][own] = held[steps[own]]
    out[-1] = held[n - 1]
    return out


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False):
    """Normal samples. ``normal(mean, std, size)`` with numbers; with tensors, ``mean``/``std`` broadcast.

    Tensor forms draw ``randn`` of the result's shape (``mean``'s dtype) and compute
    ``z * std + mean`` in that dtype, as PyTorch does; their gradient is zero.
    """
    gen = _gen(generator)
    tm, ts = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not tm and not ts:
        if size is None:
            raise TypeError('normal() received an invalid combination of arguments - got (float, float), but '
                            'expected (Tensor mean, Tensor std) or (float mean, float std, tuple of ints size)')
        mean, std = float(mean), float(std)
        if std < 0:
            raise RuntimeError(f'normal expects std >= 0.0, but found std {_fmt(std)}')
        t = _empty(tuple(size) if isinstance(size, (list, tuple)) else (size,), dtype)
        _check_float(t, 'normal_kernel_cpu')
        t._data[...] = _normal(gen, t._data.size, t._data.dtype, mean, std, True).reshape(t._data.shape)
        return _result(t, out, requires_grad, device)
    if ts:
        if std._data.size and not (std._data >= 0).all():
            raise RuntimeError('normal expects all elements of std >= 0.0')
    elif float(std) < 0:
        raise RuntimeError(f'normal expects std >= 0.0, but found std {_fmt(float(std))}')
    ref = mean if tm else std
    m_arr = mean._data if tm else None
    s_arr = std._data if ts else None
    if tm and ts:
        try:
            shape = np.broadcast_shapes(m_arr.shape, s_arr.shape)
        except ValueError:
            from .ops.elementwise import add
            add(mean, std)  # raises PyTorch's size-mismatch error
    else:
        shape = ref._data.shape
    np_dtype = ref._data.dtype
    if np_dtype.kind != 'f':
        raise NotImplementedError(f'"normal_kernel_cpu" not implemented for \'{_type_name(ref.dtype)}\'')
    n = math.prod(shape)
    if tm and not ts:
        res = _normal(gen, n, np_dtype, 0.0, float(std), True).reshape(shape) + m_arr.astype(np_dtype, copy=False)
    else:
        res = _normal(gen, n, np_dtype, 0.0, 1.0, True).reshape(shape) * s_arr.astype(np_dtype, copy=False)
        res = res + (m_arr.astype(np_dtype, copy=False) if tm else np_dtype.type(mean))
    t = _wrap(np.ascontiguousarray(res, np_dtype))
    from .autograd.grad_mode import _enabled
    inputs = (mean, std) if tm and ts else (mean,) if tm else (std,)
    if _enabled[0] and any(x._requires_grad for x in inputs):
        from .autograd.graph import grad_edge
        node = (NormalBackward3 if tm and ts else NormalBackward1 if tm else NormalBackward2)(
            tuple(grad_edge(x) for x in inputs))
        node.metas = tuple((x._data.shape, x._data.dtype) for x in inputs)
        t.grad_fn = node
        t._requires_grad = True
    return _out(t, out)


def _zero_grads_node(name):
    from .autograd.graph import Node
    from .ops._node import reduce_grad

    def backward(self, g):
        return tuple(None if fn is None else reduce_grad(g * 0, shape, dt)
                     for (fn, _), (shape, dt) in zip(self.next_functions, self.metas))

    return type(name, (Node,), {'__slots__': (), 'backward': backward,
                                '__doc__': 'Sampling is not reparameterised: the gradient is zero.'})


def _like(input, dtype, device, layout, requires_grad, memory_format):
    from ._creation import empty_like
    return empty_like(input, dtype=dtype, device=device, layout=layout, requires_grad=requires_grad,
                      memory_format=memory_format)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
              generator=None):
    """``rand`` shaped like ``input`` (its dtype and, for dense inputs, its memory layout)."""
    t = _like(input, dtype, device, layout, False, memory_format)
    _check_float(t, 'check_uniform_bounds')
    _fill(t, _uniform(_gen(generator), t._data.size, t._data.dtype, 0.0, 1.0))
    return t.requires_grad_(True) if requires_grad else t


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
               generator=None):
    """``randn`` shaped like ``input`` (its dtype and, for dense inputs, its memory layout)."""
    t = _like(input, dtype, device, layout, False, memory_format)
    _check_float(t, 'normal_kernel_cpu')
    arr = t._data
    _fill(t, _normal(_gen(generator), arr.size, arr.dtype, 0.0, 1.0, arr.flags.c_contiguous))
    return t.requires_grad_(True) if requires_grad else t


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None, generator=None):
    """``randint`` shaped like ``input`` (its dtype unless given); ``randint_like(x, high)`` too."""
    if high is None:
        low, high = 0, low
    t = _like(input, dtype, device, layout, False, memory_format)
    from .ops.random import random_
    random_(t, low, high, generator=generator)
    t._vc[0] = 0
    return t.requires_grad_(True) if requires_grad else t


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probabilities ``input`` (same dtype); ``bernoulli(input, p)`` uses the number ``p``."""
    from .ops.random import bernoulli_
    if p is not None:
        t = _wrap(np.empty(input._data.shape, input._data.dtype))
        return _out(bernoulli_(t, p, generator=generator), out)
    if input._data.dtype.kind != 'f':
        raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for \'{_type_name(input.dtype)}\'')
    t = _wrap(np.empty(input._data.shape, input._data.dtype))
    bernoulli_(t, input, generator=generator)
    t._vc[0] = 0
    return _out(t, out)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices (int64) sampled from the rows of ``input`` (1-D or 2-D non-negative weights).

    Without replacement (or for one sample) PyTorch divides the weights by exponential draws and
    keeps the largest ``num_samples``; with replacement it inverts the normalised cumulative sum
    with one double uniform per sample.
    """
    gen = _gen(generator)
    x = input._data
    if not 1 <= x.ndim <= 2:
        raise RuntimeError('prob_dist must be 1 or 2 dim')
    if x.dtype.kind != 'f':
        raise RuntimeError(f'multinomial only supports floating-point dtypes for input, got: '
                           f'{_type_name(input.dtype)}')
    n_sample = int(num_samples)
    if n_sample <= 0:
        raise RuntimeError('cannot sample n_sample <= 0 samples')
    n_cat = x.shape[-1]
    if not replacement and n_sample > n_cat:
        raise RuntimeError('cannot sample n_sample > prob_dist.size(-1) samples without replacement')
    if n_cat > 1 << 24:
        raise RuntimeError('number of categories cannot exceed 2^24')
    rows = x.reshape(-1, n_cat)
    out_shape = (n_sample,) if x.ndim == 1 else (x.shape[0], n_sample)
    if rows.size == 0 or n_sample == 0:
        return _out(_wrap(np.zeros(out_shape, np.int64)), out)
    if not replacement or n_sample == 1:
        if not (np.all(rows < np.inf) and np.all(rows >= 0)):
            raise RuntimeError('probability tensor contains either `inf`, `nan` or element < 0')
        if np.any(rows.sum(1) == 0):
            raise RuntimeError('invalid multinomial distribution (sum of probabilities <= 0)')
        q = (-1.0 * np.log1p(-gen._uniform01(rows.size, _F64))).astype(x.dtype)
        keys = rows / q.reshape(rows.shape)
        if n_sample == 1:
            res = np.argmax(keys, axis=1)[:, None]
        else:
            res = np.argsort(-keys, axis=1, kind='stable')[:, :n_sample]
        return _out(_wrap(res.astype(np.int64).reshape(out_shape)), out)
    acc = _F32 if x.dtype == np.float16 else x.dtype
    res = np.empty((rows.shape[0], n_sample), np.int64)
    for i, row in enumerate(rows.astype(acc)):
        if np.any(row < 0):
            raise RuntimeError('invalid multinomial distribution (encountering probability entry < 0)')
        if not np.all(np.isfinite(row)):
            raise RuntimeError('invalid multinomial distribution (encountering probability entry = infinity or '
                               'NaN)')
        cum = np.cumsum(row, dtype=acc)
        total = cum[-1]
        if not total > 0:
            raise RuntimeError('invalid multinomial distribution (sum of probabilities <= 0)')
        cum = cum / total
        cum[-1] = 1
        res[i] = np.searchsorted(cum.astype(_F64), gen._uniform01(n_sample, _F64), side='left')
    return _out(_wrap(res.reshape(out_shape)), out)


def poisson(input, generator=None):
    """Poisson samples with rates ``input`` (same dtype), by PyTorch's algorithm (one step per element)."""
    gen = _gen(generator)
    x = input._data
    if x.dtype.kind != 'f':
        raise NotImplementedError(f'"poisson_cpu" not implemented for \'{_type_name(input.dtype)}\'')
    if x.size and not np.all(x >= 0):
        raise RuntimeError('invalid Poisson rate, expected rate to be non-negative')
    rates = _memory_order(x).reshape(-1).astype(_F64).tolist()
    draws = _Stream(gen)
    vals = np.array([_sample_poisson(lam, draws) for lam in rates], _F64)
    draws.close()
    t = _wrap(np.empty(x.shape, x.dtype))
    _fill(t, vals.astype(x.dtype))
    return t


class _Stream:
    """Double uniforms drawn in batches, for samplers that use a variable number per element.

    ``close`` rewinds the generator to just after the draws actually used.
    """

    def __init__(self, gen):
        self.gen = gen
        self.state = gen._bg.state
        self.buf = []
        self.used = 0
        self.drawn = 0

    def __call__(self):
        if not self.buf:
            self.buf = self.gen._uniform01(max(64, self.drawn), _F64).tolist()
            self.drawn += len(self.buf)
            self.buf.reverse()
        self.used += 1
        return self.buf.pop()

    def close(self):
        self.gen._bg.state = self.state
        self.gen._raw64(self.used)


def _sample_poisson(lam, uniform):
    if lam >= 10:
        # Transformed rejection (Hoermann, 1993).
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform() - 0.5
            v = uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= \
                    -lam + k * loglam - math.lgamma(k + 1):
                return k
    if lam == 0:
        return 0
    enlam = math.exp(-lam)
    x = 0
    prod = 1.0
    while True:
        prod *= uniform()
        if prod > enlam:
            x += 1
        else:
            return x


NormalBackward1 = _zero_grads_node('NormalBackward1')
NormalBackward2 = _zero_grads_node('NormalBackward2')
NormalBackward3 = _zero_grads_node('NormalBackward3')


__all__ = ['Generator', 'default_generator', 'manual_seed', 'seed', 'initial_seed', 'get_rng_state',
           'set_rng_state', 'rand', 'randn', 'randint', 'randperm', 'normal', 'rand_like', 'randn_like',
           'randint_like', 'bernoulli', 'multinomial', 'poisson']
