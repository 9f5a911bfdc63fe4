"""Activation functions (the ``nn.functional`` ones beyond ``relu``/``sigmoid``/``tanh``).

Each pointwise activation is a fused NumPy kernel plus a derivative formula written with Ember
ops, as PyTorch's ``*_backward`` kernels compute it (same subgradient conventions). Activations
that PyTorch itself composes from other ops (``softsign``, ``tanhshrink``, ``glu``, ...) are
composed here too.
"""
import math

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import grad_edge
from ._inplace import inplace_variant
from ._node import SavedOutputNode


class _ActNode(SavedOutputNode):
    """A pointwise activation's backward: ``formula(node, g, x, r)`` with ``params`` on the node."""

    __slots__ = ('params',)
    _formula = None

    def backward(self, g):
        saved = self.saved()
        x = saved[0] if saved else None
        return (self._formula(g, x, self.saved_output(), *self.params),)


def _mask(cond, like):
    """A float tensor (like's dtype) from a bool tensor: the derivative pieces of piecewise functions."""
    return cond.to(like.dtype)


def _activation(name, kernel, formula, saves='x', node_name=None):
    """``name(input, *params)``: fused forward kernel ``kernel(x, *params)`` and its derivative."""
    node_cls = type(node_name or ''.join(p.capitalize() for p in name.split('_')) + 'Backward0', (_ActNode,),
                    {'__slots__': (), '_formula': staticmethod(formula)})

    def op(input, *params):
        x = input._data
        if x.dtype.kind != 'f':
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_type_name(input)}\'')
        r = _wrap(kernel(x, *params))
        if _grad_enabled() and input._requires_grad:
            node = node_cls((grad_edge(input),))
            node.params = params
            if 'x' in saves:
                node.save(input)
            if 'r' in saves:
                node.save_output(r)
            r.grad_fn = node
            r._requires_grad = True
        return r

    op.__name__ = op.__qualname__ = name
    return op


def _type_name(t):
    return {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int',
            'int64': 'Long'}.get(t.dtype.name, t.dtype.name)


def _c(x, v):
    return x.dtype.type(v)


# ---- kernels ----------------------------------------------------------------------------------

def _hardtanh_k(x, lo, hi):
    return np.clip(x, _c(x, lo), _c(x, hi))


def _leaky_k(x, slope):
    return np.where(x > 0, x, x * _c(x, slope))


def _elu_k(x, alpha, scale, input_scale):
    neg = np.expm1(np.minimum(x, 0) * _c(x, input_scale)) * _c(x, alpha)
    return np.where(x > 0, x, neg) * _c(x, scale) if scale != 1 else np.where(x > 0, x, neg)


def _silu_k(x):
    from .elementwise import sigmoid
    return x * sigmoid(_wrap(x))._data


def _softplus_k(x, beta, threshold):
    bx = x * _c(x, beta)
    return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / _c(x, beta))


def _mish_k(x):
    sp = np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))
    return x * np.tanh(sp)


def _hardsigmoid_k(x):
    return np.clip(x / _c(x, 6) + _c(x, 0.5), _c(x, 0), _c(x, 1))


def _hardswish_k(x):
    return x * np.clip(x + _c(x, 3), _c(x, 0), _c(x, 6)) / _c(x, 6)


def _gelu_k(x, approximate):
    if approximate == 'tanh':
        k = _c(x, math.sqrt(2 / math.pi))
        return _c(x, 0.5) * x * (1 + np.tanh(k * (x + _c(x, 0.044715) * x * x * x)))
    from .special import erf
    return x * _c(x, 0.5) * (1 + erf(x * _c(x, 1 / math.sqrt(2))))


def _threshold_k(x, threshold, value):
    return np.where(x > threshold, x, _c(x, value))


def _logsigmoid_k(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _softshrink_k(x, lambd):
    return np.where(x > lambd, x - _c(x, lambd), np.where(x < -lambd, x + _c(x, lambd), _c(x, 0)))


def _hardshrink_k(x, lambd):
    return np.where((x > lambd) | (x < -lambd), x, _c(x, 0))


# ---- derivative formulas (Ember ops, so double backward works) ---------------------------------------

def _hardtanh_d(g, x, r, lo, hi):
    return g * _mask((x > lo) & (x < hi), g)


def _leaky_d(g, x, r, slope):
    return g * (_mask(x > 0, g) * (1 - slope) + slope)


def _elu_d(g, x, r, alpha, scale, input_scale):
    neg = (x * input_scale).clamp(max=0).exp() * (alpha * scale * input_scale)
    pos = _mask(x > 0, g)
    return g * (pos * scale + (1 - pos) * neg)


def _silu_d(g, x, r):
    s = x.sigmoid()
    return g * s * (1 + x * (1 - s))


def _softplus_d(g, x, r, beta, threshold):
    z = (x * beta).clamp(max=threshold).exp()
    above = _mask(x * beta > threshold, g)
    return g * (above + (1 - above) * z / (z + 1))


def _mish_d(g, x, r):
    sp = _softplus_op(x, 1.0, 20.0)
    t = sp.tanh()
    return g * (t + x * x.sigmoid() * (1 - t * t))


def _hardsigmoid_d(g, x, r):
    return g * _mask((x > -3) & (x < 3), g) / 6


def _hardswish_d(g, x, r):
    mid = _mask((x > -3) & (x < 3), g)
    hi = _mask(x >= 3, g)
    return g * (mid * (x / 3 + 0.5) + hi)


def _gelu_d(g, x, r, approximate):
    if approximate == 'tanh':
        k = math.sqrt(2 / math.pi)
        inner = (x + x * x * x * 0.044715) * k
        t = inner.tanh()
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))
    cdf = 0.5 * (1 + (x * (1 / math.sqrt(2))).erf())
    pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
    return g * (cdf + x * pdf)


def _threshold_d(g, x, r, threshold, value):
    return g * _mask(x > threshold, g)


def _logsigmoid_d(g, x, r):
    return g * (-x).sigmoid()


def _shrink_d(g, x, r, lambd):
    return g * _mask((x > lambd) | (x < -lambd), g)


_hardtanh_op = _activation('hardtanh', _hardtanh_k, _hardtanh_d)
_leaky_op = _activation('leaky_relu', _leaky_k, _leaky_d)
_elu_op = _activation('elu', _elu_k, _elu_d)
_silu_op = _activation('silu', _silu_k, _silu_d)
_softplus_op = _activation('softplus', _softplus_k, _softplus_d)
_mish_op = _activation('mish', _mish_k, _mish_d)
_hardsigmoid_op = _activation('hardsigmoid', _hardsigmoid_k, _hardsigmoid_d)
_hardswish_op = _activation('hardswish', _hardswish_k, _hardswish_d)
_gelu_op = _activation('gelu', _gelu_k, _gelu_d)
_threshold_op = _activation('threshold', _threshold_k, _threshold_d)
_logsigmoid_op = _activation('log_sigmoid', _logsigmoid_k, _logsigmoid_d)
_softshrink_op = _activation('softshrink', _softshrink_k, _shrink_d)
_hardshrink_op = _activation('hardshrink', _hardshrink_k, _shrink_d)


_INPLACE = {}


def _maybe_inplace(op, input, inplace, *params):
    if not inplace:
        return op(input, *params)
    method = _INPLACE.get(op)
    if method is None:
        method = _INPLACE[op] = inplace_variant(op, op.__name__ + '_')
    return method(input, *params)


# ---- public functional API (nn.functional signatures) ---------------------------------------------

def relu(input, inplace=False):
    """``max(x, 0)``."""
    from .elementwise import relu as _relu
    return input.relu_() if inplace else _relu(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``clamp(x, min_val, max_val)`` with zero gradient outside (and at) the bounds."""
    if min_val > max_val:
        raise ValueError('min_val cannot be greater than max_val')
    return _maybe_inplace(_hardtanh_op, input, inplace, min_val, max_val)


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` if ``x > 0`` else ``negative_slope * x``."""
    return _maybe_inplace(_leaky_op, input, inplace, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return _maybe_inplace(_elu_op, input, inplace, alpha, 1.0, 1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _maybe_inplace(_elu_op, input, inplace, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError('ZeroDivisionError')
    return _maybe_inplace(_elu_op, input, inplace, alpha, 1.0, 1.0 / alpha)


def gelu(input, approximate='none'):
    """``x * Phi(x)`` (``approximate='tanh'``: the tanh approximation)."""
    if approximate not in ('none', 'tanh'):
        raise RuntimeError('approximate argument must be either none or tanh.')
    return _gelu_op(input, approximate)


def silu(input, inplace=False):
    """``x * sigmoid(x)``."""
    return _maybe_inplace(_silu_op, input, inplace)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    return _maybe_inplace(_mish_op, input, inplace)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    return _maybe_inplace(_hardsigmoid_op, input, inplace)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    return _maybe_inplace(_hardswish_op, input, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    return _softplus_op(input, beta, threshold)


def threshold(input, threshold, value, inplace=False):
    """``x`` if ``x > threshold`` else ``value``."""
    return _maybe_inplace(_threshold_op, input, inplace, threshold, value)


def logsigmoid(input):
    """``log(sigmoid(x))``, computed stably."""
    return _logsigmoid_op(input)


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    if lambd < 0:
        raise RuntimeError(f'lambda must be greater or equal to 0, but found to be {lambd}.')
    return _softshrink_op(input, lambd)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    return _hardshrink_op(input, lambd)


def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - input.tanh()


def glu(input, dim=-1):
    """``a * sigmoid(b)`` where ``a, b`` are the halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError('glu does not support scalars because halving size must be even')
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f'Halving dimension must be even, but dimension {dim % input.dim()} is size {n}')
    a, b = input.split(n // 2, dim)
    return a * b.sigmoid()


def prelu(input, weight):
    """``max(0, x) + weight * min(0, x)``; ``weight`` has 1 or ``C`` (= ``input.shape[1]``) elements."""
    if not isinstance(weight, Tensor):
        raise TypeError('prelu(): argument \'weight\' must be Tensor')
    if weight.numel() != 1:
        if input.dim() < 2 or weight.numel() != input.shape[1]:
            raise RuntimeError(f'Mismatch of parameter numbers and input channel size. Found parameter numbers = '
                               f'{weight.numel()} and channel size = {input.shape[1] if input.dim() > 1 else 1}.')
        weight = weight.reshape((-1,) + (1,) * (input.dim() - 2))
    pos = _mask(input > 0, input)
    return input * pos + weight * input * (1 - pos)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky ReLU: slopes drawn from U(lower, upper) in training, their mean otherwise."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from .._creation import empty_like
    slopes = empty_like(input).uniform_(lower, upper)
    pos = _mask(input >= 0, input)
    out = input * (pos + (1 - pos) * slopes)
    if inplace:
        return input.copy_(out)
    return out


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-input)``."""
    from .softmax import softmax
    return softmax(-input, dim, dtype=dtype)


__all__ = ['selu', 'celu', 'hardshrink', 'prelu', 'rrelu', 'threshold']
METHODS = {'hardshrink': hardshrink}
