"""Special-function kernels on NumPy arrays: ``erf``, ``erfc`` and ``erfinv``.

NumPy has none of them and Ember does not depend on SciPy. ``erf``/``erfc`` use W. J. Cody's
rational Chebyshev approximations ("Rational Chebyshev approximations for the error function",
Math. Comp. 23, 1969), accurate to float64 round-off on three intervals of ``|x|``:
``[0, 0.46875]`` (erf directly), ``(0.46875, 4]`` and ``(4, inf)`` (``erfc`` scaled by
``exp(x**2)``). ``erfinv`` starts from the low-precision rational guess PyTorch uses and
polishes it with two Halley steps on ``erf`` (or ``erfc`` in the tails, where ``1 - |y|`` is
exact and ``erf(x) - y`` would cancel), which brings it to float64 round-off.

Every kernel computes in float64 and returns the input's floating dtype.
"""
import numpy as np

_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)
_SQRPI = 5.6418958354775628695e-1  # 1 / sqrt(pi)
_TWO_OVER_SQRT_PI = 2 * _SQRPI


def _erf_small(x):
    """erf(x) for |x| <= 0.46875."""
    z = x * x
    num = _A[4] * z
    den = z
    for i in range(3):
        num = (num + _A[i]) * z
        den = (den + _B[i]) * z
    return x * (num + _A[3]) / (den + _B[3])


def _erfc_large(y):
    """erfc(y) for y > 0.46875 (y >= 0)."""
    out = np.empty_like(y)
    mid = y <= 4.0
    ym = y[mid]
    num = _C[8] * ym
    den = ym
    for i in range(7):
        num = (num + _C[i]) * ym
        den = (den + _D[i]) * ym
    out[mid] = (num + _C[7]) / (den + _D[7])
    far = ~mid
    # erfc underflows to 0 past ~27; clipping keeps inf from turning into nan below.
    yf = np.minimum(y[far], 30.0)
    z = 1.0 / (yf * yf)
    num = _P[5] * z
    den = z
    for i in range(4):
        num = (num + _P[i]) * z
        den = (den + _Q[i]) * z
    out[far] = (_SQRPI - z * (num + _P[4]) / (den + _Q[4])) / yf
    y = np.minimum(y, 30.0)
    # exp(-y*y) computed as exp(-s*s) * exp(-(y-s)(y+s)) with s = y rounded down to 1/16 keeps
    # the rounding error of y*y out of the exponent.
    s = np.trunc(y * 16.0) / 16.0
    return np.exp(-s * s) * np.exp(-(y - s) * (y + s)) * out


def _split(x):
    """``x`` as a flat float64 array (boolean masks need at least one dimension) and ``|x|``."""
    x = x.astype(np.float64).reshape(-1)
    return x, np.abs(x)


def erf(x):
    """The error function, elementwise."""
    dt, shape = x.dtype, x.shape
    x, y = _split(x)
    out = x.copy()  # NaN stays NaN
    small = y <= 0.46875
    out[small] = _erf_small(x[small])
    big = y > 0.46875
    xb = x[big]
    out[big] = np.copysign(1.0 - _erfc_large(np.abs(xb)), xb)
    return out.reshape(shape).astype(dt, copy=False)


def erfc(x):
    """The complementary error function ``1 - erf(x)``, accurate in the tails."""
    dt, shape = x.dtype, x.shape
    x, y = _split(x)
    out = x.copy()
    small = y <= 0.46875
    out[small] = 1.0 - _erf_small(x[small])
    big = y > 0.46875
    xb = x[big]
    e = _erfc_large(np.abs(xb))
    out[big] = np.where(xb < 0, 2.0 - e, e)
    return out.reshape(shape).astype(dt, copy=False)


# PyTorch's starting guess for erfinv (calc_erfinv): a rational function of y*y on |y| <= 0.7 and of
# sqrt(-log((1-|y|)/2)) in the tails.
_EA = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_EB = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_EC = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_ED = (3.543889200, 1.637067800)


def erfinv(y):
    """The inverse error function on [-1, 1] (+-inf at +-1, NaN outside)."""
    dt, shape = y.dtype, y.shape
    y, a = _split(y)
    out = np.full_like(y, np.nan)
    central = a <= 0.7
    tail = (a > 0.7) & (a < 1.0)
    out[a == 1.0] = np.inf
    np.copysign(out, y, out=out)

    yc = y[central]
    z = yc * yc
    num = ((_EA[3] * z + _EA[2]) * z + _EA[1]) * z + _EA[0]
    den = (((_EB[3] * z + _EB[2]) * z + _EB[1]) * z + _EB[0]) * z + 1.0
    x = yc * num / den
    for _ in range(2):
        # Halley's step for f(x) = erf(x) - y: f''/f' = -2x.
        d = (erf(x) - yc) / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = x - d / (1.0 + x * d)
    out[central] = x

    at = a[tail]
    q = 1.0 - at  # exact for |y| >= 0.5
    z = np.sqrt(-np.log(q / 2.0))
    x = (((_EC[3] * z + _EC[2]) * z + _EC[1]) * z + _EC[0]) / ((_ED[1] * z + _ED[0]) * z + 1.0)
    for _ in range(2):
        # The same step for f(x) = (1 - |y|) - erfc(x), which keeps full relative precision.
        d = (q - erfc(x)) / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = x - d / (1.0 + x * d)
    out[tail] = np.copysign(x, y[tail])
    return out.reshape(shape).astype(dt, copy=False)
