"""Elementwise ops: unary math, binary arithmetic, comparisons.

Each op is one row: a NumPy kernel and its derivative formulas, written with Ember ops on
``g`` (the incoming gradient), the inputs and ``r`` (the result) so that double backward
works. ``_unary``/``_binary`` turn a row into the public function, its ``Backward0`` node
class and its in-place variant.
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _enabled
from ..autograd.graph import grad_edge
from ._inplace import inplace_variant
from ._node import SavedOutputNode, reduce_grad
from ._operands import binary_operands, write_out


# ---- unary ops ------------------------------------------------------------------------------

class _UnaryNode(SavedOutputNode):
    __slots__ = ()
    _formula = None
    _saves_x = True
    _saves_r = False

    def backward(self, g):
        x = self.saved()[0] if self._saves_x else None
        r = self.saved_output() if self._saves_r else None
        gx = self._formula(g, x, r)
        return (gx,)


def _camel(name):
    return ''.join(p.capitalize() for p in name.split('_'))


def _unary(name, kernel, formula=None, saves='x', result='float', doc=None):
    """Make ``ember.<name>``.

    result: 'float' (integer inputs are computed in the default float dtype), 'same' (dtype kept)
    or 'bool' (a predicate; never differentiable).
    """
    node_cls = None
    if formula is not None:
        node_cls = type(_camel(name) + 'Backward0', (_UnaryNode,),
                        {'__slots__': (), '_formula': staticmethod(formula),
                         '_saves_x': 'x' in saves, '_saves_r': 'r' in saves})
    save_x = 'x' in saves
    save_r = 'r' in saves
    to_float = result == 'float'

    def op(input, *, out=None):
        x = input._data
        if to_float and x.dtype.kind not in 'fc':
            x = x.astype(_dtype._default[0].np)
        r = _wrap(kernel(x))
        if node_cls is not None and _enabled[0] and input._requires_grad:
            node = node_cls((grad_edge(input),))
            if save_x:
                node.save(input)
            if save_r:
                node.save_output(r)
            r.grad_fn = node
            r._requires_grad = True
        if out is not None:
            return write_out(out, r)
        return r

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f'Elementwise ``{name}`` of ``input``; same shape as ``input``.'
    return op


def _relu(x):
    return np.maximum(x, x.dtype.type(0))


def _sigmoid(x):
    # exp(-|x|) never overflows; both branches agree with 1/(1+exp(-x)).
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _round(x):
    return np.round(x)


def _frac(x):
    return x - np.trunc(x)


def _rsqrt(x):
    return 1 / np.sqrt(x)


def _reciprocal(x):
    return 1 / x


def _sign(x):
    return np.sign(x) if x.dtype != np.bool_ else x.copy()


def _abs(x):
    return np.abs(x) if x.dtype != np.bool_ else x.copy()


def _neg(x):
    if x.dtype == np.bool_:
        raise RuntimeError('Negation, the `-` operator, on a bool tensor is not supported. If you are trying to '
                           'invert a mask, use the `~` or `logical_not()` operator instead.')
    return np.negative(x)


def _copy_if_int(fn):
    def k(x):
        return x.copy() if x.dtype.kind in 'iub' else fn(x)
    return k


_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))

neg = _unary('neg', _neg, lambda g, x, r: -g, saves='', result='same')
negative = neg
abs = _unary('abs', _abs, lambda g, x, r: g * x.sign(), result='same')
absolute = abs
exp = _unary('exp', np.exp, lambda g, x, r: g * r, saves='r')
exp2 = _unary('exp2', np.exp2, lambda g, x, r: g * r * _LN2, saves='r')
expm1 = _unary('expm1', np.expm1, lambda g, x, r: g * (r + 1), saves='r')
log = _unary('log', np.log, lambda g, x, r: g / x)
log2 = _unary('log2', np.log2, lambda g, x, r: g / (x * _LN2))
log10 = _unary('log10', np.log10, lambda g, x, r: g / (x * _LN10))
log1p = _unary('log1p', np.log1p, lambda g, x, r: g / (x + 1))
sqrt = _unary('sqrt', np.sqrt, lambda g, x, r: g / (r * 2), saves='r')
rsqrt = _unary('rsqrt', _rsqrt, lambda g, x, r: g * r.pow(3) * -0.5, saves='r')
sin = _unary('sin', np.sin, lambda g, x, r: g * x.cos())
cos = _unary('cos', np.cos, lambda g, x, r: g * -x.sin())
tan = _unary('tan', np.tan, lambda g, x, r: g * (r * r + 1), saves='r')
asin = _unary('asin', np.arcsin, lambda g, x, r: g * (-x * x + 1).rsqrt())
acos = _unary('acos', np.arccos, lambda g, x, r: -g * (-x * x + 1).rsqrt())
atan = _unary('atan', np.arctan, lambda g, x, r: g / (x * x + 1))
sinh = _unary('sinh', np.sinh, lambda g, x, r: g * x.cosh())
cosh = _unary('cosh', np.cosh, lambda g, x, r: g * x.sinh())
tanh = _unary('tanh', np.tanh, lambda g, x, r: g * (1 - r * r), saves='r')
sigmoid = _unary('sigmoid', _sigmoid, lambda g, x, r: g * r * (1 - r), saves='r')
relu = _unary('relu', _relu, lambda g, x, r: g * (r > 0), saves='r', result='same')
floor = _unary('floor', _copy_if_int(np.floor), lambda g, x, r: g * 0, saves='', result='same')
ceil = _unary('ceil', _copy_if_int(np.ceil), lambda g, x, r: g * 0, saves='', result='same')
trunc = _unary('trunc', _copy_if_int(np.trunc), lambda g, x, r: g * 0, saves='', result='same')
fix = trunc
frac = _unary('frac', _frac, lambda g, x, r: g, saves='', result='same')
sign = _unary('sign', _sign, lambda g, x, r: g * 0, saves='', result='same')
reciprocal = _unary('reciprocal', _reciprocal, lambda g, x, r: -g * r * r, saves='r')
isnan = _unary('isnan', np.isnan, result='bool')
isinf = _unary('isinf', np.isinf, result='bool')
isfinite = _unary('isfinite', np.isfinite, result='bool')
logical_not = _unary('logical_not', np.logical_not, result='bool')


def round(input, *, decimals=0, out=None):
    """Round half to even (as PyTorch); ``decimals`` rounds to that many decimal places."""
    if decimals == 0:
        return _round0(input, out=out)
    return _round0(input * 10.0 ** decimals, out=None).div(10.0 ** decimals, out=out)


_round0 = _unary('round', _copy_if_int(_round), lambda g, x, r: g * 0, saves='', result='same')


# ---- binary ops -----------------------------------------------------------------------------

class _BinaryNode(SavedOutputNode):
    """Backward of a binary op; ``sa``/``sb`` hold scalar operands, ``meta`` input shapes/dtypes."""

    __slots__ = ('sa', 'sb', 'meta')
    _fa = _fb = None
    _saves_r = False

    def backward(self, g):
        a, b = self.saved()
        if a is None:
            a = self.sa
        if b is None:
            b = self.sb
        r = self.saved_output() if self._saves_r else None
        (na, _), (nb, _) = self.next_functions
        ga = gb = None
        if na is not None:
            ga = reduce_grad(self._fa(g, a, b, r), *self.meta[0])
        if nb is not None:
            gb = reduce_grad(self._fb(g, a, b, r), *self.meta[1])
        return ga, gb


def _binary(name, kernel, fa, fb, needs_a='', needs_b='', doc=None, node_name=None):
    """Make ``ember.<name>(input, other)``.

    ``fa``/``fb`` give the gradient w.r.t. each operand from ``(g, a, b, r)``; ``needs_a`` and
    ``needs_b`` list which of 'a', 'b', 'r' each formula reads (only those are saved).
    """
    node_cls = type(node_name or _camel(name) + 'Backward0', (_BinaryNode,),
                    {'__slots__': (), '_fa': staticmethod(fa), '_fb': staticmethod(fb),
                     '_saves_r': 'r' in needs_a + needs_b})
    a_for_a, b_for_a, r_for_a = 'a' in needs_a, 'b' in needs_a, 'r' in needs_a
    a_for_b, b_for_b, r_for_b = 'a' in needs_b, 'b' in needs_b, 'r' in needs_b

    def op(input, other, *, out=None):
        x, y, ta, tb = binary_operands(input, other)
        r = _wrap(kernel(x, y))
        if _enabled[0]:
            ra = ta is not None and ta._requires_grad
            rb = tb is not None and tb._requires_grad
            if ra or rb:
                node = node_cls((grad_edge(ta) if ta is not None else (None, 0),
                                 grad_edge(tb) if tb is not None else (None, 0)))
                node.save(ta if (ra and a_for_a) or (rb and a_for_b) else None,
                          tb if (ra and b_for_a) or (rb and b_for_b) else None)
                node.sa = input if ta is None else None
                node.sb = other if tb is None else None
                node.meta = (None if ta is None else (ta._data.shape, ta._data.dtype),
                             None if tb is None else (tb._data.shape, tb._data.dtype))
                if (ra and r_for_a) or (rb and r_for_b):
                    node.save_output(r)
                r.grad_fn = node
                r._requires_grad = True
        if out is not None:
            return write_out(out, r)
        return r

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f'Elementwise ``{name}`` of ``input`` and ``other`` (broadcast, PyTorch type promotion).'
    return op


_add = _binary('add', np.add, lambda g, a, b, r: g, lambda g, a, b, r: g)
_sub = _binary('sub', np.subtract, lambda g, a, b, r: g, lambda g, a, b, r: -g)
mul = _binary('mul', np.multiply, lambda g, a, b, r: g * b, lambda g, a, b, r: g * a,
              needs_a='b', needs_b='a')
multiply = mul
_true_div = _binary('div', np.true_divide, lambda g, a, b, r: g / b, lambda g, a, b, r: -g * r / b,
                    needs_a='b', needs_b='br')
_pow = _binary('pow', np.power, lambda g, a, b, r: g * b * a.pow(b - 1),
               lambda g, a, b, r: g * r * _log_or_zero(a), needs_a='ab', needs_b='ar')
atan2 = _binary('atan2', np.arctan2, lambda g, a, b, r: g * b / (a * a + b * b),
                lambda g, a, b, r: g * -a / (a * a + b * b), needs_a='ab', needs_b='ab')
arctan2 = atan2
maximum = _binary('maximum', np.maximum, lambda g, a, b, r: g * _pick(a, b, 1),
                  lambda g, a, b, r: g * _pick(b, a, 1), needs_a='ab', needs_b='ab')
minimum = _binary('minimum', np.minimum, lambda g, a, b, r: g * _pick(a, b, -1),
                  lambda g, a, b, r: g * _pick(b, a, -1), needs_a='ab', needs_b='ab')
fmod = _binary('fmod', np.fmod, lambda g, a, b, r: g, lambda g, a, b, r: g * -(a / b).trunc(),
               needs_b='ab')
remainder = _binary('remainder', np.remainder, lambda g, a, b, r: g, lambda g, a, b, r: g * -(a / b).floor(),
                    needs_b='ab')


def _pick(a, b, sign):
    """1 where ``a`` wins max (sign 1) / min (sign -1) over ``b``, 0.5 on ties (PyTorch's rule)."""
    if not isinstance(a, Tensor):
        a = _wrap(np.asarray(a))
    d = (a - b) * sign
    return (d > 0).to(a.dtype) + (d == 0).to(a.dtype) * 0.5


def _log_or_zero(a):
    """log(a), with 0 where a == 0 (the limit PyTorch uses for d(a**b)/db at a = 0)."""
    if not isinstance(a, Tensor):
        import math
        return math.log(a) if a > 0 else (0.0 if a == 0 else float('nan'))
    return a.masked_fill(a == 0, 1).log()


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting and PyTorch's type promotion."""
    if alpha != 1:
        other = mul(other, alpha)
    return _add(input, other, out=out)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``."""
    if alpha != 1:
        other = mul(other, alpha)
    return _sub(input, other, out=out)


subtract = sub


def div(input, other, *, rounding_mode=None, out=None):
    """True division (integers give the default float dtype); ``rounding_mode`` 'trunc' or 'floor'."""
    if rounding_mode is None:
        x = input if isinstance(input, Tensor) else None
        y = other if isinstance(other, Tensor) else None
        if (x is None or x._data.dtype.kind in 'biu') and (y is None or y._data.dtype.kind in 'biu'):
            fl = _dtype._default[0]
            input = input.to(fl) if x is not None else float(input)
            other = other.to(fl) if y is not None else float(other)
        return _true_div(input, other, out=out)
    if rounding_mode == 'trunc':
        return _div_trunc(input, other, out=out)
    if rounding_mode == 'floor':
        return _div_floor(input, other, out=out)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                       f"'{rounding_mode}'")


def _int_safe(kernel):
    def k(x, y):
        if x.dtype.kind in 'iu' and np.any(np.asarray(y) == 0):
            raise RuntimeError('ZeroDivisionError')
        return kernel(x, y)
    return k


def _trunc_divide(x, y):
    if np.asarray(x).dtype.kind in 'iu':
        q = np.floor_divide(x, y)
        return np.where((np.remainder(x, y) != 0) & ((np.asarray(x) < 0) != (np.asarray(y) < 0)), q + 1, q)
    return np.trunc(np.true_divide(x, y))


_div_trunc = _binary('div_trunc', _int_safe(_trunc_divide), lambda g, a, b, r: g * 0,
                     lambda g, a, b, r: g * 0, node_name='DivBackward1')
_div_floor = _binary('div_floor', _int_safe(np.floor_divide), lambda g, a, b, r: g * 0,
                     lambda g, a, b, r: g * 0, node_name='DivBackward2')
divide = true_divide = div


def floor_divide(input, other, *, out=None):
    """``floor(input / other)`` (PyTorch's floor_divide rounds toward -inf)."""
    return div(input, other, rounding_mode='floor', out=out)


def pow(input, exponent, *, out=None):
    """``input ** exponent``; either may be a scalar. Integer tensors to negative integer powers raise."""
    if isinstance(input, Tensor) and input._data.dtype.kind in 'iu':
        e = exponent._data if isinstance(exponent, Tensor) else np.asarray(exponent)
        if e.dtype.kind in 'iu' and np.any(e < 0):
            raise RuntimeError('Integers to negative integer powers are not allowed.')
    return _pow(input, exponent, out=out)


def float_power(input, exponent, *, out=None):
    """``input ** exponent`` computed in float64."""
    a = input.double() if isinstance(input, Tensor) else float(input)
    b = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return _pow(a, b, out=out)


# ---- comparisons, logical and bitwise ops (never differentiable) ----------------------------------

def _predicate(name, kernel, doc=None):
    def op(input, other, *, out=None):
        x, y, _, _ = binary_operands(input, other)
        r = _wrap(kernel(x, y))
        if out is not None:
            return write_out(out, r)
        return r
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f'Elementwise ``{name}``; returns a bool tensor of the broadcast shape.'
    return op


def _bitwise(kernel):
    def k(x, y):
        for v in (x, y):
            if np.asarray(v).dtype.kind == 'f' or type(v) is float:
                raise RuntimeError(f'"{kernel.__name__}_cpu" not implemented for \'Float\'')
        return kernel(x, y)
    return k


eq = _predicate('eq', np.equal)
ne = _predicate('ne', np.not_equal)
not_equal = ne
lt = _predicate('lt', np.less)
less = lt
le = _predicate('le', np.less_equal)
less_equal = le
gt = _predicate('gt', np.greater)
greater = gt
ge = _predicate('ge', np.greater_equal)
greater_equal = ge
logical_and = _predicate('logical_and', np.logical_and)
logical_or = _predicate('logical_or', np.logical_or)
logical_xor = _predicate('logical_xor', np.logical_xor)


def _bitwise_binary(name, kernel):
    def op(input, other, *, out=None):
        x, y, _, _ = binary_operands(input, other)
        r = _wrap(_bitwise(kernel)(x, y))
        if out is not None:
            return write_out(out, r)
        return r
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f'Elementwise ``{name}`` of integer or bool tensors.'
    return op


bitwise_and = _bitwise_binary('bitwise_and', np.bitwise_and)
bitwise_or = _bitwise_binary('bitwise_or', np.bitwise_or)
bitwise_xor = _bitwise_binary('bitwise_xor', np.bitwise_xor)


def bitwise_not(input, *, out=None):
    """``~input`` for integer and bool tensors."""
    if input._data.dtype.kind == 'f':
        raise RuntimeError('"bitwise_not_cpu" not implemented for \'Float\'')
    r = _wrap(np.invert(input._data))
    return write_out(out, r) if out is not None else r


# ---- reflected operators --------------------------------------------------------------------

def _rsub(self, other):
    return sub(other, self)


def _rdiv(self, other):
    return div(other, self)


def _rpow(self, other):
    return pow(other, self)


def _rfloordiv(self, other):
    return floor_divide(other, self)


def _rmod(self, other):
    return remainder(other, self)


def _rmatmul(self, other):
    return other.matmul(self)


# ---- in-place variants ----------------------------------------------------------------------

add_ = inplace_variant(add, 'add_')
sub_ = inplace_variant(sub, 'sub_')
mul_ = inplace_variant(mul, 'mul_')
div_ = inplace_variant(div, 'div_')
pow_ = inplace_variant(pow, 'pow_')

__all__ = [
    'neg', 'negative', 'abs', 'absolute', 'exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt',
    'rsqrt', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'sigmoid', 'relu', 'floor',
    'ceil', 'trunc', 'fix', 'frac', 'sign', 'reciprocal', 'isnan', 'isinf', 'isfinite', 'logical_not', 'round',
    'add', 'sub', 'subtract', 'mul', 'multiply', 'div', 'divide', 'true_divide', 'floor_divide', 'pow',
    'float_power', 'atan2', 'arctan2', 'maximum', 'minimum', 'fmod', 'remainder', 'eq', 'ne', 'not_equal', 'lt',
    'less', 'le', 'less_equal', 'gt', 'greater', 'ge', 'greater_equal', 'logical_and', 'logical_or',
    'logical_xor', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_not',
]

_INPLACE = {name + '_': inplace_variant(globals()[name], name + '_') for name in (
    'neg', 'abs', 'exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'sin', 'cos', 'tan',
    'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'sigmoid', 'relu', 'floor', 'ceil', 'trunc', 'frac', 'sign',
    'reciprocal', 'round', 'atan2', 'fmod', 'remainder', 'floor_divide', 'logical_not', 'logical_and',
    'logical_or', 'logical_xor', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_not', 'eq', 'ne', 'lt',
    'le', 'gt', 'ge', 'float_power')}
_INPLACE.update(add_=add_, sub_=sub_, mul_=mul_, div_=div_, pow_=pow_, true_divide_=div_, subtract_=sub_,
                multiply_=mul_, divide_=div_, negative_=_INPLACE['neg_'], absolute_=_INPLACE['abs_'],
                fix_=_INPLACE['trunc_'], arctan2_=_INPLACE['atan2_'])

METHODS = {name: globals()[name] for name in __all__}
METHODS.update(_INPLACE)
METHODS.update({
    '__neg__': neg, '__abs__': abs, '__add__': add, '__radd__': add, '__sub__': sub, '__rsub__': _rsub,
    '__mul__': mul, '__rmul__': mul, '__truediv__': div, '__rtruediv__': _rdiv, '__div__': div,
    '__pow__': pow, '__rpow__': _rpow, '__floordiv__': floor_divide, '__rfloordiv__': _rfloordiv,
    '__mod__': remainder, '__rmod__': _rmod, '__eq__': eq, '__ne__': ne, '__lt__': lt, '__le__': le,
    '__gt__': gt, '__ge__': ge, '__and__': bitwise_and, '__rand__': bitwise_and, '__or__': bitwise_or,
    '__ror__': bitwise_or, '__xor__': bitwise_xor, '__rxor__': bitwise_xor, '__invert__': bitwise_not,
    '__iadd__': add_, '__isub__': sub_, '__imul__': mul_, '__itruediv__': div_, '__ipow__': pow_,
    '__ifloordiv__': _INPLACE['floor_divide_'], '__imod__': _INPLACE['remainder_'],
    '__iand__': _INPLACE['bitwise_and_'], '__ior__': _INPLACE['bitwise_or_'], '__ixor__': _INPLACE['bitwise_xor_'],
    '__rmatmul__': _rmatmul,
})
