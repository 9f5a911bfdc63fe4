"""Elementwise ops: unary math, binary arithmetic, comparisons, logical and bitwise ops.

Each differentiable op is one row: a NumPy kernel and its derivative formulas (PyTorch's
``derivatives.yaml`` rules, subgradient conventions included), written with Ember ops on ``g``
(the incoming gradient), the inputs ``a``/``b`` (or ``x``) and ``r`` (the result) so that double
backward works. ``_unary``/``_binary`` turn a row into the public function and its
``...Backward`` node class; ``inplace_variant`` makes the ``x.op_()`` form.

Dtypes follow PyTorch: ``binary_operands`` promotes the two operands before the kernel runs
(so the kernel never sees NumPy's own promotion), 'float' ops compute integer and bool inputs in
the default float dtype, and ops PyTorch does not implement for a dtype raise its
NotImplementedError. Such checks sit on the integer path only: a float op with a Python scalar
goes straight from ``binary_operands`` to the kernel.
"""
import builtins
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge, new_node
from . import special as _special
from ._inplace import inplace_variant
from ._node import SavedOutputNode, reduce_grad
from ._operands import array_of, binary_operands, write_out

_BOOL = np.dtype(np.bool_)
_TYPE_NAMES = {np.dtype(k): v for k, v in (
    ('bool', 'Bool'), ('uint8', 'Byte'), ('int8', 'Char'), ('int16', 'Short'), ('int32', 'Int'), ('int64', 'Long'),
    ('float16', 'Half'), ('float32', 'Float'), ('float64', 'Double'))}
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)


def _not_implemented(kernel_name, dt):
    return NotImplementedError(f'"{kernel_name}" not implemented for \'{_TYPE_NAMES[np.dtype(dt)]}\'')


def _type_error(fname, arg, pos, value):
    return TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(value).__name__}")


def _camel(name):
    return ''.join(p.capitalize() for p in name.split('_'))


def _np(v):
    """The array of a Tensor, or a Python scalar unchanged (for masks computed in backward)."""
    return v._data if isinstance(v, Tensor) else v


def _const(arr, like):
    """A constant tensor (no history) holding ``arr`` in ``like``'s dtype."""
    return _wrap(np.asarray(arr, like=like._data).astype(like._data.dtype, copy=False))


def _mask(arr):
    return _wrap(np.asarray(arr, dtype=_BOOL, like=array_of(arr)))


def _zeros(g):
    return _wrap(np.zeros_like(g._data))


def _write_out_same_dtype(out, r, what=None):
    """``out=`` for ops whose ``out`` must already have the result's dtype (no casting)."""
    if isinstance(out, Tensor) and out._data.dtype != r._data.dtype:
        o, e = _TYPE_NAMES[out._data.dtype], _TYPE_NAMES[r._data.dtype]
        raise RuntimeError(f'{what}: dtype of out: {o} should be same as input: {e}' if what
                           else f'Found dtype {o} but expected {e}')
    return write_out(out, r)


def _broadcast_error(exc, x, y):
    """PyTorch's RuntimeError for operands that do not broadcast (else ``exc`` unchanged)."""
    sa, sb = np.shape(x), np.shape(y)
    for i in range(1, builtins.min(len(sa), len(sb)) + 1):
        da, db = sa[-i], sb[-i]
        if da != db and da != 1 and db != 1:
            dim = builtins.max(len(sa), len(sb)) - i
            return RuntimeError(f'The size of tensor a ({da}) must match the size of tensor b ({db}) at '
                                f'non-singleton dimension {dim}')
    return exc


# ---- unary ops ------------------------------------------------------------------------------

class _UnaryNode(SavedOutputNode):
    __slots__ = ()
    _formula = None
    _saves_x = True
    _saves_r = False

    def backward(self, g):
        x = self.saved()[0] if self._saves_x else None
        r = self.saved_output() if self._saves_r else None
        return (self._formula(g, x, r),)


def _to_default_float(x):
    return x.astype(_dtype._default[0].np)


def _reject(kernel_name, kinds='b'):
    """An integer-path check raising PyTorch's NotImplementedError for dtype kinds in ``kinds``."""
    def check(x):
        if x.dtype.kind in kinds:
            raise _not_implemented(kernel_name, x.dtype)
        return x
    return check


def _unary(name, kernel, formula=None, saves='x', ints=_to_default_float, node_name=None, doc=None):
    """Make ``ember.<name>(input, *, out=None)``.

    ``ints(x)`` prepares a non-float input array before the kernel: by default it is cast to the
    default float dtype (PyTorch's rule for float ops); ``None`` keeps it (same-dtype ops and
    predicates); a function may also raise PyTorch's error for the dtype. ``formula(g, x, r)``
    is the gradient; ``saves`` says which of 'x' (input) and 'r' (result) it reads.
    """
    node_cls = None
    save_x = 'x' in saves
    save_r = 'r' in saves
    if formula is not None:
        node_cls = type(node_name or _camel(name) + 'Backward0', (_UnaryNode,),
                        {'__slots__': (), '_formula': staticmethod(formula), '_saves_x': save_x,
                         '_saves_r': save_r})

    def op(input, *, out=None):
        try:
            x = input._data
        except AttributeError:
            raise _type_error(name, 'input', 1, input) from None
        if ints is not None and x.dtype.kind != 'f':
            x = ints(x)
        r = _wrap(kernel(x))
        if node_cls is not None and _grad_enabled() and input._requires_grad:
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


def _sigmoid(x):
    # exp(-|x|) never overflows; both branches agree with 1/(1+exp(-x)).
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _keep_int(fn):
    """Rounding kernels: integers are already whole."""
    def k(x):
        return x.copy() if x.dtype.kind != 'f' else fn(x)
    return k


def _sign(x):
    # (x > 0) - (x < 0): 0 for NaN and -0.0, as PyTorch's sign (np.sign keeps NaN).
    if x.dtype == _BOOL:
        return x.copy()
    return np.subtract(x > 0, x < 0, dtype=x.dtype)


def _frac(x):
    return x - np.trunc(x)


def _rsqrt(x):
    return 1 / np.sqrt(x)


def _relu(x):
    return np.maximum(x, 0)


def _bool_neg(x):
    if x.dtype == _BOOL:
        raise RuntimeError('Negation, the `-` operator, on a bool tensor is not supported. If you are trying to '
                           'invert a mask, use the `~` or `logical_not()` operator instead.')
    return x


def _bool_relu(x):
    if x.dtype == _BOOL:
        raise RuntimeError('Boolean inputs not supported for relu')
    return x


def _deg2rad(x):
    return x * (math.pi / 180.0)


def _rad2deg(x):
    return x * (180.0 / math.pi)


def _float_only(fn, fill):
    """A predicate that is constant (``fill``) for integer and bool inputs."""
    def k(x):
        if x.dtype.kind != 'f':
            return np.full(x.shape, fill, _BOOL, like=x)
        return fn(x)
    return k


def _signbit(x):
    if x.dtype.kind == 'f':
        return np.signbit(x)
    if x.dtype.kind == 'i':
        return x < 0
    return np.zeros(x.shape, _BOOL, like=x)


def _isreal(x):
    return np.ones(x.shape, _BOOL, like=x)


neg = _unary('neg', np.negative, lambda g, x, r: -g, saves='', ints=_bool_neg)
negative = neg
abs = _unary('abs', np.abs, lambda g, x, r: g * x.sgn(), ints=_reject('abs_cpu'))
absolute = abs
sgn = _unary('sgn', _sign, lambda g, x, r: _zeros(g), saves='', ints=None)
sign = _unary('sign', _sign, lambda g, x, r: _zeros(g), saves='', ints=None)
exp = _unary('exp', np.exp, lambda g, x, r: g * r, saves='r')
exp2 = _unary('exp2', np.exp2, lambda g, x, r: g * r * _LN2, saves='r')
expm1 = _unary('expm1', np.expm1, lambda g, x, r: g * (r + 1), saves='r')
log = _unary('log', np.log, lambda g, x, r: g / x)
log2 = _unary('log2', np.log2, lambda g, x, r: g / (x * _LN2))
log10 = _unary('log10', np.log10, lambda g, x, r: g / (x * _LN10))
log1p = _unary('log1p', np.log1p, lambda g, x, r: g / (x + 1), node_name='Log1PBackward0')
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
asinh = _unary('asinh', np.arcsinh, lambda g, x, r: g * (x * x + 1).rsqrt())
acosh = _unary('acosh', np.arccosh, lambda g, x, r: g * (x * x - 1).rsqrt())
atanh = _unary('atanh', np.arctanh, lambda g, x, r: g / (1 - x * x))
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
sigmoid = _unary('sigmoid', _sigmoid, lambda g, x, r: g * (1 - r) * r, saves='r')
relu = _unary('relu', _relu, lambda g, x, r: g.masked_fill(_mask(r._data <= 0), 0), saves='r', ints=_bool_relu)
floor = _unary('floor', _keep_int(np.floor), lambda g, x, r: _zeros(g), saves='', ints=_reject('floor_vml_cpu'))
ceil = _unary('ceil', _keep_int(np.ceil), lambda g, x, r: _zeros(g), saves='', ints=_reject('ceil_vml_cpu'))
trunc = _unary('trunc', _keep_int(np.trunc), lambda g, x, r: _zeros(g), saves='', ints=_reject('trunc_vml_cpu'))
fix = trunc
frac = _unary('frac', _frac, lambda g, x, r: g, saves='', ints=_reject('frac_cpu', 'biu'))
reciprocal = _unary('reciprocal', np.reciprocal, lambda g, x, r: -g * (r * r), saves='r')
erf = _unary('erf', _special.erf, lambda g, x, r: g * (-x * x).exp() * _TWO_OVER_SQRT_PI)
erfc = _unary('erfc', _special.erfc, lambda g, x, r: g * (-x * x).exp() * -_TWO_OVER_SQRT_PI)
erfinv = _unary('erfinv', _special.erfinv, lambda g, x, r: g * (r * r).exp() * _HALF_SQRT_PI, saves='r')
deg2rad = _unary('deg2rad', _deg2rad, lambda g, x, r: g * (math.pi / 180.0), saves='', node_name='Deg2RadBackward0')
rad2deg = _unary('rad2deg', _rad2deg, lambda g, x, r: g * (180.0 / math.pi), saves='', node_name='Rad2DegBackward0')
isnan = _unary('isnan', _float_only(np.isnan, False), ints=None)
isinf = _unary('isinf', _float_only(np.isinf, False), ints=None)
isposinf = _unary('isposinf', _float_only(np.isposinf, False), ints=None)
isneginf = _unary('isneginf', _float_only(np.isneginf, False), ints=None)
isfinite = _unary('isfinite', _float_only(np.isfinite, True), ints=None)
isreal = _unary('isreal', _isreal, ints=None)
signbit = _unary('signbit', _signbit, ints=None)
logical_not = _unary('logical_not', np.logical_not, ints=None)
_round0 = _unary('round', _keep_int(np.round), lambda g, x, r: _zeros(g), saves='', ints=_reject('round_vml_cpu'))


class _ZeroGradNode(Node):
    """Backward of a piecewise-constant op: zero gradient for its one input."""

    __slots__ = ()

    def backward(self, g):
        return (_zeros(g),)


RoundBackward1 = type('RoundBackward1', (_ZeroGradNode,), {'__slots__': ()})


def round(input, *, decimals=0, out=None):
    """Round half to even (as PyTorch); ``decimals`` rounds to that many decimal places (negative:
    to tens, hundreds, ...), computed in the input's float dtype as PyTorch does."""
    if decimals == 0:
        return _round0(input, out=out)
    x = input._data
    if x.dtype.kind != 'f':
        raise _not_implemented('round_cpu', x.dtype)
    w = x.astype(np.float32) if x.dtype == np.float16 else x
    if decimals > 0:
        ten = w.dtype.type(10.0 ** decimals)
        res = np.round(w * ten) / ten
    else:
        ten = w.dtype.type(10.0 ** -decimals)
        res = np.round(w / ten) * ten
    r = _wrap(res.astype(x.dtype, copy=False))
    if _grad_enabled() and input._requires_grad:
        r.grad_fn = RoundBackward1((grad_edge(input),))
        r._requires_grad = True
    return _write_out_same_dtype(out, r) if out is not None else r


def positive(input):
    """``input`` itself (``+input``); bool tensors raise as in PyTorch."""
    if input._data.dtype == _BOOL:
        raise RuntimeError('The `+` operator, on a bool tensor is not supported.')
    return input


def square(input, *, out=None):
    """``input ** 2`` (integer dtypes kept; bool gives int64, as PyTorch)."""
    return _pow(input, 2, out=out)


class NanToNumBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (x,) = self.saved()
        return (g * _const(np.isfinite(x._data), g),)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace NaN with ``nan`` and +-inf with ``posinf``/``neginf`` (default: the dtype's largest
    finite values). Integer and bool tensors are returned as copies."""
    x = input._data
    if x.dtype.kind == 'f':
        res = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    else:
        res = x.copy()
    r = _wrap(res)
    if _grad_enabled() and input._requires_grad:
        node = NanToNumBackward0((grad_edge(input),))
        node.save(input)
        r.grad_fn = node
        r._requires_grad = True
    return _write_out_same_dtype(out, r, 'nan_to_num') if out is not None else r


# ---- binary ops -----------------------------------------------------------------------------

class _BinaryNode(SavedOutputNode):
    """Backward of a binary op. ``sa``/``sb`` hold scalar operands; ``meta`` the input shapes and
    dtypes, or None when every tensor input has the result's shape and dtype and every scalar is a
    Python number (the gradient then needs no reduction nor cast). Each row's subclass gets its
    ``backward`` from ``_binary_backward``.
    """

    __slots__ = ('sa', 'sb', 'meta')
    _fa = _fb = None

    def _release(self):
        # Most binary nodes keep nothing (add, sub, an op with a scalar): skip the general method.
        if self._saved or self._out is not None:
            SavedOutputNode._release(self)


def _binary_backward(fa, fb, saves_r, arrays):
    """``backward`` of a ``_BinaryNode`` row: ``fa``/``fb`` on ``(g, a, b, r)``, summed back to the
    input shapes and dtypes in ``meta``.

    With ``arrays`` (formulas of plain arithmetic operators), no ``create_graph`` and ``meta``
    None, the formulas run on the arrays themselves: the operands share one shape and dtype, so
    NumPy computes exactly what the Ember ops would, without their dispatch.
    """
    def backward(self, g):
        a, b = self.saved() if self._saved or self._released else (None, None)
        (na, _), (nb, _) = self.next_functions
        meta = self.meta
        if arrays and meta is None and not _grad_enabled():
            gd = g._data
            a = self.sa if a is None else a._data
            b = self.sb if b is None else b._data
            r = self.saved_output_data() if saves_r else None
            ga = gb = None
            if na is not None:
                ga = fa(gd, a, b, r)
                ga = g if ga is gd else _wrap(ga)
            if nb is not None:
                gb = fb(gd, a, b, r)
                gb = g if gb is gd else _wrap(gb)
            return ga, gb
        if a is None:
            a = self.sa
        if b is None:
            b = self.sb
        r = self.saved_output() if saves_r else None
        if meta is None:
            meta = ((g._data.shape, g._data.dtype),) * 2
        ga = gb = None
        if na is not None:
            ga = reduce_grad(fa(g, a, b, r), *meta[0])
        if nb is not None:
            gb = reduce_grad(fb(g, a, b, r), *meta[1])
        return ga, gb
    return backward


class _NotImplementedNode(Node):
    """Records history for an op PyTorch gives no derivative; backward raises its error."""

    __slots__ = ()
    _op = ''
    _fa = None

    def backward(self, g):
        raise RuntimeError(f'derivative for aten::{self._op} is not implemented')


def _binary(name, kernel, fa=None, fb=None, needs_a='', needs_b='', ints=None, guard=None, operands='any',
            names=None, no_bool=False, arrays=False, doc=None):
    """Make ``ember.<name>(input, other, *, out=None)``.

    ``fa``/``fb`` give the gradient w.r.t. each operand from ``(g, a, b, r)``, where a scalar
    operand is passed as the Python number; ``needs_a``/``needs_b`` list which of 'a', 'b', 'r'
    each formula reads (only those are saved). ``ints(x, y, ta, tb) -> (x, y)`` runs on the
    promoted operands when their dtype is not floating (dtype checks, casts); ``guard`` runs on
    every call; ``no_bool`` refuses bool operands (subtraction). ``operands``: 'any' (either may
    be a Python scalar), 'self' (``input`` must be a Tensor) or 'tensors'. ``names`` =
    (tensor-tensor, tensor-scalar, scalar-tensor) node names; a None entry records a node whose
    backward raises (no derivative in PyTorch). ``arrays``: ``fa``/``fb`` use only arithmetic
    operators, so they also apply to NumPy arrays (see ``_BinaryNode``).

    The returned function is one of three bodies, so that an op without checks (add, mul,
    comparisons) pays for none: promote, run the kernel, wrap, and record only under grad.
    """
    record = None if fa is None else _recorder(name, fa, fb, needs_a, needs_b, names, arrays)
    ts_cls, ts_saves_a, ts_saves_r = (None, False, False) if record is None or record.tensor_scalar is None else \
        record.tensor_scalar
    check_types = operands != 'any'
    tensors_only = operands == 'tensors'

    if no_bool:
        def op(input, other, *, out=None):
            x, y, ta, tb = binary_operands(input, other)
            if (ta._data.dtype is _BOOL if ta is not None else type(x) is bool) or \
                    (tb._data.dtype is _BOOL if tb is not None else type(y) is bool):
                _sub_guard(x, y, ta, tb)
            try:
                r = _wrap(kernel(x, y))
            except ValueError as exc:
                raise _broadcast_error(exc, x, y) from None
            if record is not None and _grad_enabled() and ((ta is not None and ta._requires_grad) or
                                                       (tb is not None and tb._requires_grad)):
                record(r, input, other, ta, tb)
            if out is not None:
                return write_out(out, r)
            return r
    elif check_types or guard is not None or ints is not None:
        def op(input, other, *, out=None):
            if check_types:
                if not isinstance(input, Tensor):
                    raise _type_error(name, 'input', 1, input)
                if tensors_only and not isinstance(other, Tensor):
                    raise _type_error(name, 'other', 2, other)
            x, y, ta, tb = binary_operands(input, other)
            if guard is not None:
                guard(x, y, ta, tb)
            if ints is not None and (y if tb is not None else x).dtype.kind != 'f':
                x, y = ints(x, y, ta, tb)
            try:
                r = _wrap(kernel(x, y))
            except ValueError as exc:
                raise _broadcast_error(exc, x, y) from None
            if record is not None and _grad_enabled() and ((ta is not None and ta._requires_grad) or
                                                       (tb is not None and tb._requires_grad)):
                record(r, input, other, ta, tb)
            if out is not None:
                return write_out(out, r)
            return r
    else:
        def op(input, other, *, out=None):
            if type(other) is float and type(input) is Tensor and input._data.dtype.kind == 'f':
                # Fast path for the commonest call, float tensor op Python float: NumPy's own
                # promotion already gives PyTorch's result dtype here.
                r = _wrap(kernel(input._data, other))
                if record is not None and input._requires_grad and _grad_enabled():
                    if ts_cls is None:
                        record(r, input, other, input, None)
                    else:
                        # ``record`` specialised to this case, ``grad_edge`` inlined for a non-view input.
                        fn = input.grad_fn
                        node = new_node(ts_cls, ((fn, input._output_nr) if fn is not None and input._base is None
                                                 else grad_edge(input), _NO_EDGE))
                        if ts_saves_a:
                            node.save(input, None)
                        node.sa = None
                        node.sb = other
                        node.meta = None
                        if ts_saves_r:
                            node.save_output(r)
                        r.grad_fn = node
                        r._requires_grad = True
                if out is not None:
                    return write_out(out, r)
                return r
            x, y, ta, tb = binary_operands(input, other)
            try:
                r = _wrap(kernel(x, y))
            except ValueError as exc:
                raise _broadcast_error(exc, x, y) from None
            if record is not None and _grad_enabled() and ((ta is not None and ta._requires_grad) or
                                                       (tb is not None and tb._requires_grad)):
                record(r, input, other, ta, tb)
            if out is not None:
                return write_out(out, r)
            return r

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f'Elementwise ``{name}`` of ``input`` and ``other`` (broadcast, PyTorch type promotion).'
    return op


_NO_EDGE = (None, 0)
_PY_SCALARS = (float, int, bool)


def _recorder(name, fa, fb, needs_a, needs_b, names, arrays):
    """``record(r, input, other, ta, tb)``: attach the op's backward node to its result ``r``."""
    names = names or (_camel(name) + 'Backward0',) * 3
    made = {}
    for n in names:
        if n not in made:
            if n is None:
                made[n] = type('NotImplemented', (_NotImplementedNode,), {'__slots__': (), '_op': name})
            else:
                made[n] = type(n, (_BinaryNode,), {
                    '__slots__': (), '_fa': staticmethod(fa), '_fb': staticmethod(fb),
                    'backward': _binary_backward(fa, fb, 'r' in needs_a + needs_b, arrays)})
    node_tt, node_ts, node_st = (made[n] for n in names)
    a_for_a, b_for_a, r_for_a = 'a' in needs_a, 'b' in needs_a, 'r' in needs_a
    a_for_b, b_for_b, r_for_b = 'a' in needs_b, 'b' in needs_b, 'r' in needs_b

    def record(r, input, other, ta, tb):
        ra = ta is not None and ta._requires_grad
        rb = tb is not None and tb._requires_grad
        if ta is not None:
            cls = node_tt if tb is not None else node_ts
        else:
            cls = node_st
        node = new_node(cls, (grad_edge(ta) if ta is not None else _NO_EDGE,
                              grad_edge(tb) if tb is not None else _NO_EDGE))
        if cls._fa is not None:
            sa = ta if (ra and a_for_a) or (rb and a_for_b) else None
            sb = tb if (ra and b_for_a) or (rb and b_for_b) else None
            if sa is not None or sb is not None:
                node.save(sa, sb)
            node.sa = input if ta is None else None
            node.sb = other if tb is None else None
            if ta is None:
                same = type(input) in _PY_SCALARS
            elif tb is None:
                same = type(other) in _PY_SCALARS
            else:
                same = ta._data.shape == tb._data.shape and ta._data.dtype == tb._data.dtype
            node.meta = None if same else (None if ta is None else (ta._data.shape, ta._data.dtype),
                                           None if tb is None else (tb._data.shape, tb._data.dtype))
            if (ra and r_for_a) or (rb and r_for_b):
                node.save_output(r)
        r.grad_fn = node
        r._requires_grad = True

    # What the op's fast path (a tensor requiring grad with a Python float) needs to record
    # inline: None when that node is one whose backward raises.
    record.tensor_scalar = (node_ts, a_for_a, r_for_a) if node_ts._fa is not None else None
    return record


def _promoted(x, y):
    return (x if isinstance(x, np.ndarray) else y).dtype


def _floatify(x, y, ta, tb):
    """Integer/bool operands of a float op are computed in the default float dtype."""
    f = _dtype._default[0].np
    if isinstance(x, np.ndarray):
        x = x.astype(f)
    if isinstance(y, np.ndarray):
        y = y.astype(f)
    return x, y


def _no_bool(kernel_name, then=None):
    def check(x, y, ta, tb):
        if _promoted(x, y) == _BOOL:
            raise _not_implemented(kernel_name, _BOOL)
        return (x, y) if then is None else then(x, y, ta, tb)
    return check


def _floats_only(kernel_name):
    def check(x, y, ta, tb):
        raise _not_implemented(kernel_name, _promoted(x, y))
    return check


def _nonzero_divisor(x, y, ta, tb):
    if np.any(np.equal(y, 0)):
        raise RuntimeError('ZeroDivisionError')
    return x, y


def _is_bool(v, t):
    return t._data.dtype == _BOOL if t is not None else type(v) is bool


def _sub_guard(x, y, ta, tb):
    if _is_bool(x, ta) or _is_bool(y, tb):
        if _is_bool(x, ta) and _is_bool(y, tb):
            raise RuntimeError('Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` '
                               'or `logical_xor()` operator instead.')
        raise RuntimeError('Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying '
                           'to invert a mask, use the `~` or `logical_not()` operator instead.')


def _ga(g, a, b, r):
    return g


def _gneg(g, a, b, r):
    return -g


def _fnone(g, a, b, r):
    """Placeholder formula of an op whose nodes (all named None) raise in backward."""
    return None


_add = _binary('add', np.add, _ga, _ga, arrays=True)
_sub = _binary('sub', np.subtract, _ga, _gneg, no_bool=True, arrays=True,
               names=('SubBackward0', 'SubBackward0', 'RsubBackward1'))
mul = _binary('mul', np.multiply, lambda g, a, b, r: g * b, lambda g, a, b, r: g * a, needs_a='b', needs_b='a',
              arrays=True)
multiply = mul
# PyTorch computes ``2 / x`` as ``x.reciprocal() * 2``, hence the scalar-tensor node name.
_true_div = _binary('div', np.true_divide, lambda g, a, b, r: g / b, lambda g, a, b, r: -g * r / b,
                    needs_a='b', needs_b='br', ints=_floatify, arrays=True,
                    names=('DivBackward0', 'DivBackward0', 'MulBackward0'))


def _trunc_divide(x, y):
    if _promoted(x, y).kind in 'iu':
        q = np.floor_divide(x, y)
        return q + ((np.remainder(x, y) != 0) & ((np.less(x, 0)) != (np.less(y, 0))))
    return np.trunc(np.true_divide(x, y))


_div_trunc = _binary('div_trunc', _trunc_divide, lambda g, a, b, r: _zeros(g), lambda g, a, b, r: _zeros(g),
                     ints=_no_bool('div_trunc_cpu', _nonzero_divisor), names=('DivBackward2',) * 3)
_div_floor = _binary('div_floor', np.floor_divide, lambda g, a, b, r: _zeros(g), lambda g, a, b, r: _zeros(g),
                     ints=_no_bool('div_floor_cpu', _nonzero_divisor), names=('DivBackward2',) * 3)
_floor_divide = _binary('floor_divide', np.floor_divide, _fnone, _fnone,
                        ints=_no_bool('div_floor_cpu', _nonzero_divisor), names=(None, None, None))


def _alpha_times(input, other, alpha):
    """``alpha * other`` computed in the dtype of ``input op other`` (PyTorch applies alpha inside
    the kernel, after promotion), with its checks on ``alpha``."""
    ta = input if isinstance(input, Tensor) else None
    tb = other if isinstance(other, Tensor) else None
    if ta is not None and tb is not None:
        rd = _dtype.result_type(ta.dtype, ta._data.ndim, tb.dtype, tb._data.ndim)
    elif tb is not None:
        rd = _dtype.scalar_result_dtype(tb.dtype, input)
    else:
        rd = _dtype.scalar_result_dtype(ta.dtype, other)
    if type(alpha) is bool and rd is not _dtype.bool_:
        raise RuntimeError('Boolean alpha only supported for Boolean results.')
    if isinstance(alpha, float) and not rd.is_floating_point:
        raise RuntimeError('For integral input tensors, argument alpha must not be a floating point number.')
    if tb is None:
        return (other and alpha) if type(other) is bool else other * alpha
    if tb._data.dtype != rd.np:
        other = other.to(rd)
    return mul(other, alpha)


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting and PyTorch's type promotion."""
    if type(alpha) is not int or alpha != 1:
        other = _alpha_times(input, other, alpha)
    return _add(input, other, out=out)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``; bool operands raise (use ``~`` or ``logical_xor``)."""
    if type(alpha) is not int or alpha != 1:
        _sub_guard(input, other, input if isinstance(input, Tensor) else None,
                   other if isinstance(other, Tensor) else None)
        other = _alpha_times(input, other, alpha)
    return _sub(input, other, out=out)


subtract = sub


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    return sub(other, input, alpha=alpha)


def div(input, other, *, rounding_mode=None, out=None):
    """``input / other``: true division (integers give the default float dtype), or with
    ``rounding_mode`` 'trunc' (toward zero) or 'floor' (toward -inf), which keep integer dtypes
    and raise ``RuntimeError('ZeroDivisionError')`` for an integer zero divisor."""
    if rounding_mode is None:
        return _true_div(input, other, out=out)
    if rounding_mode == 'trunc':
        return _div_trunc(input, other, out=out)
    if rounding_mode == 'floor':
        return _div_floor(input, other, out=out)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                     f"'{rounding_mode}'")


divide = div


def true_divide(input, other, *, out=None):
    """``div`` without rounding."""
    return _true_div(input, other, out=out)


def floor_divide(input, other, *, out=None):
    """``floor(input / other)`` (rounds toward -inf, like Python's ``//``); not differentiable."""
    return _floor_divide(input, other, out=out)


# ---- pow -------------------------------------------------------------------------------------

def _pow_kernel(x, y):
    if type(y) is float and y == -0.5:
        # PyTorch computes x ** -0.5 as rsqrt (NaN at -inf and -0.0 -> -inf, unlike pow).
        return 1 / np.sqrt(x)
    if type(y) is bool and x.dtype == _BOOL:
        return x | (not y)
    try:
        return np.power(x, y)
    except ValueError as exc:
        if 'negative integer powers' not in str(exc):
            raise
        return _int_pow_negative(x, y)


def _int_pow_negative(x, y):
    """Integer ``x ** y`` with negative exponents as PyTorch: 1 for base 1, +-1 for base -1, else 0."""
    dt = _promoted(x, y)
    x = np.asarray(x, dt, like=array_of(x, y))
    y = np.asarray(y, dt, like=array_of(x, y))
    neg = y < 0
    r = np.power(x, np.where(neg, 0, y))
    alt = np.where(x == 1, 1, np.where(x == -1, np.where(y % 2 != 0, -1, 1), 0)).astype(dt)
    return np.where(neg, alt, r)


def _pow_ints(x, y, ta, tb):
    if _promoted(x, y) == _BOOL and (ta is None or tb is not None):
        raise _not_implemented('pow', _BOOL)
    if tb is None and y < 0 and _promoted(x, y).kind in 'iu':
        raise RuntimeError('Integers to negative integer powers are not allowed.')
    return x, y


def _pow_grad_self(g, a, b, r):
    if not isinstance(b, Tensor):
        if b == 0:
            return _zeros(g)
        return g * b * a.pow(b - 1)
    return (g * b * a.pow(b - 1)).masked_fill(_mask(b._data == 0), 0)


def _pow_grad_exponent(g, a, b, r):
    if not isinstance(a, Tensor):
        if a == 0:
            return (g * (r * -math.inf)).masked_fill(_mask(b._data >= 0), 0)
        return g * r * (math.log(a) if a > 0 else math.nan)
    a_ = a if a._data.dtype == r._data.dtype else a.to(r.dtype)
    cond = (a._data == 0) & (_np(b) >= 0)
    return g * (r * a_.log()).masked_fill(_mask(cond), 0)


_pow = _binary('pow', _pow_kernel, _pow_grad_self, _pow_grad_exponent, needs_a='ab', needs_b='abr', ints=_pow_ints,
               names=('PowBackward1', 'PowBackward0', 'PowBackward2'))


def pow(input, exponent, *, out=None):
    """``input ** exponent``; either may be a Python number. An integer tensor to a negative integer
    number raises; integer tensor exponents follow PyTorch's integer rules (``2 ** -1 == 0``)."""
    return _pow(input, exponent, out=out)


def float_power(input, exponent, *, out=None):
    """``input ** exponent`` computed and returned in float64."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f'float_power(): expected a Tensor, got {type(input).__name__} and '
                        f'{type(exponent).__name__}')
    a = input.double() if isinstance(input, Tensor) else float(input)
    b = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return _pow(a, b, out=out)


# ---- other binary math ----------------------------------------------------------------------------

def _atan2_grads(which):
    def f(g, a, b, r):
        d = a * a + b * b
        # PyTorch's convention: both partials are 0 at the origin (1/d would give 0 * inf there).
        recip = d.reciprocal().masked_fill(d == 0, 0)
        return g * b * recip if which == 'a' else g * -a * recip
    return f


atan2 = _binary('atan2', np.arctan2, _atan2_grads('a'), _atan2_grads('b'), needs_a='ab', needs_b='ab',
                ints=_floatify, operands='tensors')
arctan2 = atan2


def _max_grad(sign):
    """Gradient of maximum (sign 1) / minimum (sign -1) w.r.t. ``a``: all of ``g`` where ``a`` wins,
    half on ties, none where ``b`` wins (NaN comparisons count as ``a`` winning, as PyTorch)."""
    def f(g, a, b, r):
        x, y = a._data, b._data
        loses = x < y if sign > 0 else x > y
        half = (g * _const(np.where(x == y, 0.5, 1.0), g))
        return half.masked_fill(_mask(loses), 0)
    return f


def _max_grad_b(sign):
    fa = _max_grad(sign)

    def f(g, a, b, r):
        return fa(g, b, a, r)
    return f


maximum = _binary('maximum', np.maximum, _max_grad(1), _max_grad_b(1), needs_a='ab', needs_b='ab',
                  operands='tensors')
minimum = _binary('minimum', np.minimum, _max_grad(-1), _max_grad_b(-1), needs_a='ab', needs_b='ab',
                  operands='tensors')


def _fmax_grads(sign):
    def pick_a(a, b):
        x, y = a._data, b._data
        return ((x >= y) if sign > 0 else (x <= y)) | np.isnan(y)

    def fa(g, a, b, r):
        return g.masked_fill(_mask(~pick_a(a, b)), 0)

    def fb(g, a, b, r):
        return g.masked_fill(_mask(pick_a(a, b)), 0)
    return fa, fb


fmax = _binary('fmax', np.fmax, *_fmax_grads(1), needs_a='ab', needs_b='ab', operands='tensors')
fmin = _binary('fmin', np.fmin, *_fmax_grads(-1), needs_a='ab', needs_b='ab', operands='tensors')
hypot = _binary('hypot', np.hypot, lambda g, a, b, r: g * a / r, lambda g, a, b, r: g * b / r,
                needs_a='ar', needs_b='br', ints=_floats_only('hypot_cpu'), operands='tensors')
logaddexp = _binary('logaddexp', np.logaddexp, lambda g, a, b, r: g / ((b - a).exp() + 1),
                    lambda g, a, b, r: g / ((a - b).exp() + 1), needs_a='ab', needs_b='ab',
                    ints=_floats_only('logaddexp_cpu'), operands='tensors')
logaddexp2 = _binary('logaddexp2', np.logaddexp2, lambda g, a, b, r: g / ((b - a).exp2() + 1),
                     lambda g, a, b, r: g / ((a - b).exp2() + 1), needs_a='ab', needs_b='ab',
                     ints=_floats_only('logaddexp2_cpu'), operands='tensors')


def _xlogy_kernel(x, y):
    dt = _promoted(x, y)
    x = np.asarray(x, dt, like=array_of(x, y))
    y = np.asarray(y, dt, like=array_of(x, y))
    with np.errstate(divide='ignore', invalid='ignore'):
        r = x * np.log(y)
    # 0 * log(y) is 0 for every y but NaN.
    return np.where((x == 0) & ~np.isnan(y), dt.type(0), r)


def _xlogy_grad_self(g, a, b, r):
    return xlogy(g, b).masked_fill(_mask((_np(a) == 0) & (_np(b) <= 0)), 0)


xlogy = _binary('xlogy', _xlogy_kernel, _xlogy_grad_self, lambda g, a, b, r: g * a / b, needs_a='ab',
                needs_b='ab', ints=_floatify, names=('XlogyBackward0', 'XlogyBackward2', 'XlogyBackward1'))


def _copysign_grad_self(g, a, b, r):
    x = a._data
    with np.errstate(divide='ignore', invalid='ignore'):
        ratio = np.where(x == 0, 0, r._data / x)
    return g * _const(ratio, g)


copysign = _binary('copysign', np.copysign, _copysign_grad_self, lambda g, a, b, r: _zeros(g), needs_a='ar',
                   ints=_floatify, operands='self', names=('CopysignBackward0', 'CopysignBackward1', None))
fmod = _binary('fmod', np.fmod, _ga, lambda g, a, b, r: -g * a.div(b, rounding_mode='trunc'), needs_b='ab',
               ints=_no_bool('fmod_cpu', _nonzero_divisor), operands='self',
               names=('FmodBackward1', 'FmodBackward0', None))
remainder = _binary('remainder', np.remainder, _ga, lambda g, a, b, r: -g * a.div(b, rounding_mode='floor'),
                    needs_b='ab', ints=_no_bool('remainder_cpu', _nonzero_divisor),
                    names=('RemainderBackward1', 'RemainderBackward0', None))


# ---- ternary ops: lerp and clamp -------------------------------------------------------------

_C_NAMES = {np.dtype(np.float16): 'c10::Half', np.dtype(np.float32): 'float', np.dtype(np.float64): 'double'}


class _TernaryNode(Node):
    """Backward of ``lerp``/``clamp``: one gradient per input, each reduced to the input's shape."""

    __slots__ = ('meta', 'w')

    def backward(self, g):
        grads = self._grads(g, *self.saved())
        return tuple(None if gr is None or m is None or e[0] is None else reduce_grad(gr, *m)
                     for gr, m, e in zip(grads, self.meta, self.next_functions))


def _meta(t):
    return None if t is None else (t._data.shape, t._data.dtype)


class LerpBackward0(_TernaryNode):
    __slots__ = ()

    def _grads(self, g, x, e):
        return g * (1 - self.w), g * self.w, None


class LerpBackward1(_TernaryNode):
    __slots__ = ()

    def _grads(self, g, x, e, w):
        return g * (1 - w), g * w, g * (e - x)


def lerp(input, end, weight, *, out=None):
    """``input + weight * (end - input)`` (broadcast); ``weight`` a number or tensor. ``input`` and
    ``end`` must share a floating dtype. Evaluated as PyTorch does for accuracy at both ends."""
    for arg, v, pos in (('input', input, 1), ('end', end, 2)):
        if not isinstance(v, Tensor):
            raise _type_error('lerp', arg, pos, v)
    x, e = input._data, end._data
    if e.dtype != x.dtype:
        raise RuntimeError(f'expected dtype {_C_NAMES.get(x.dtype, x.dtype.name)} for `end` but got dtype '
                           f'{_C_NAMES.get(e.dtype, e.dtype.name)}')
    wt = weight if isinstance(weight, Tensor) else None
    if x.dtype.kind != 'f':
        raise _not_implemented('lerp_kernel_tensor' if wt is not None else 'lerp_kernel_scalar', x.dtype)
    if wt is not None:
        w = wt._data
        if w.dtype != x.dtype:
            if w.ndim:
                raise RuntimeError(f'expected dtype {_C_NAMES.get(x.dtype, x.dtype.name)} for `weight` but got '
                                   f'dtype {_C_NAMES.get(w.dtype, w.dtype.name)}')
            w = w.astype(x.dtype)
        try:
            d = e - x
        except ValueError as exc:
            raise _broadcast_error(exc, x, e) from None
        try:
            res = np.where(np.abs(w) < 0.5, x + w * d, e - d * (1 - w))
        except ValueError as exc:
            raise _broadcast_error(exc, d, w) from None
    else:
        w = float(weight)
        try:
            d = e - x
        except ValueError as exc:
            raise _broadcast_error(exc, x, e) from None
        res = x + w * d if builtins.abs(w) < 0.5 else e - d * (1 - w)
    r = _wrap(np.asarray(res, x.dtype, like=x))
    if _grad_enabled() and (input._requires_grad or end._requires_grad or (wt is not None and wt._requires_grad)):
        if wt is None:
            node = LerpBackward0((grad_edge(input), grad_edge(end), (None, 0)))
            node.w = w
            node.save(input, end)
        else:
            node = LerpBackward1((grad_edge(input), grad_edge(end), grad_edge(wt)))
            node.save(input, end, wt)
        node.meta = (_meta(input), _meta(end), _meta(wt))
        r.grad_fn = node
        r._requires_grad = True
    return write_out(out, r) if out is not None else r


def _check_bound(x, v):
    """PyTorch refuses integer bounds that do not fit an integer tensor's dtype."""
    if type(v) is int and x.dtype.kind in 'iu':
        info = np.iinfo(x.dtype)
        bad = v > info.max or (v < info.min if x.dtype.kind == 'i' else -v > info.max)
        if bad:
            raise RuntimeError(f'value cannot be converted to type {x.dtype.name}_t without overflow')


def _clamp_masks(x, lo, hi):
    """The masks of PyTorch's clamp backward: where the gradient goes to self, min and max."""
    if lo is not None and hi is not None:
        return (x >= lo) & (x <= hi), (x < lo) & (lo < hi), (x > hi) | (hi < lo)
    if lo is not None:
        return x >= lo, x < lo, None
    return x <= hi, None, x > hi


class _ClampNode(_TernaryNode):
    __slots__ = ()

    def _grads(self, g, x, lo=None, hi=None):
        lo_v, hi_v = self.w
        lo_v = lo._data if lo is not None else lo_v
        hi_v = hi._data if hi is not None else hi_v
        ms = _clamp_masks(x._data, lo_v, hi_v)
        return tuple(None if m is None else g.masked_fill(_mask(~m), 0) for m in ms)


ClampBackward0 = type('ClampBackward0', (_ClampNode,), {'__slots__': ()})
ClampBackward1 = type('ClampBackward1', (_ClampNode,), {'__slots__': ()})
ClampMinBackward0 = type('ClampMinBackward0', (_ClampNode,), {'__slots__': ()})
ClampMinBackward1 = type('ClampMinBackward1', (_ClampNode,), {'__slots__': ()})
ClampMaxBackward0 = type('ClampMaxBackward0', (_ClampNode,), {'__slots__': ()})
ClampMaxBackward1 = type('ClampMaxBackward1', (_ClampNode,), {'__slots__': ()})
_CLAMP_NODES = {('clamp', False): ClampBackward1, ('clamp', True): ClampBackward0,
                ('clamp_min', False): ClampMinBackward0, ('clamp_min', True): ClampMinBackward1,
                ('clamp_max', False): ClampMaxBackward0, ('clamp_max', True): ClampMaxBackward1}


def _clamp(name, input, min, max, out):
    if not isinstance(input, Tensor):
        raise _type_error(name, 'input', 1, input)
    if min is None and max is None:
        raise RuntimeError(f"torch.{name}: At least one of 'min' or 'max' must not be None")
    tensors = isinstance(min, Tensor) or isinstance(max, Tensor)
    if tensors and not all(v is None or isinstance(v, Tensor) for v in (min, max)):
        raise TypeError(f'{name}() received an invalid combination of arguments: min and max must both be '
                        'Tensors or both be numbers')
    x = input._data
    if tensors:
        d, nd = input.dtype, x.ndim
        for v in (min, max):
            if v is not None:
                d = _dtype.result_type(d, nd, v.dtype, v._data.ndim)
                nd = builtins.max(nd, v._data.ndim)
        xd = x.astype(d.np, copy=False)
        lo = None if min is None else min._data.astype(d.np, copy=False)
        hi = None if max is None else max._data.astype(d.np, copy=False)
    else:
        d = input.dtype
        for v in (min, max):
            if v is not None:
                if not isinstance(v, (int, float)):
                    raise TypeError(f'{name}(): argument must be a number or Tensor, not {type(v).__name__}')
                _check_bound(x, v)
                d = _dtype.scalar_result_dtype(d, v)
        xd = x.astype(d.np, copy=False)
        lo, hi = min, max
        if xd.dtype.kind in 'iu':
            # Bounds that fit are exact; negative bounds of unsigned tensors wrap, as in PyTorch.
            lo = None if lo is None else np.array(lo, like=xd).astype(xd.dtype)[()]
            hi = None if hi is None else np.array(hi, like=xd).astype(xd.dtype)[()]
    try:
        res = xd
        if lo is not None:
            res = np.maximum(res, lo)
        if hi is not None:
            res = np.minimum(res, hi)
    except ValueError as exc:
        raise _broadcast_error(exc, xd, lo if hi is None else hi) from None
    r = _wrap(res)
    if _grad_enabled():
        tmin = min if isinstance(min, Tensor) else None
        tmax = max if isinstance(max, Tensor) else None
        if input._requires_grad or (tmin is not None and tmin._requires_grad) or \
                (tmax is not None and tmax._requires_grad):
            node = _CLAMP_NODES[name, tensors]((grad_edge(input), grad_edge(tmin) if tmin is not None else (None, 0),
                                                grad_edge(tmax) if tmax is not None else (None, 0)))
            node.w = (None if tensors else lo, None if tensors else hi)
            node.save(input, tmin, tmax)
            node.meta = (_meta(input), _meta(tmin), _meta(tmax))
            r.grad_fn = node
            r._requires_grad = True
    return _write_out_same_dtype(out, r) if out is not None else r


def clamp(input, min=None, max=None, *, out=None):
    """Limit ``input`` to ``[min, max]``; either bound may be None, and both are numbers or both
    tensors (broadcast). Where ``min > max`` the result is ``max``. The gradient passes at the
    boundaries (``min <= x <= max``), as in PyTorch."""
    return _clamp('clamp', input, min, max, out)


clip = clamp


def clamp_min(input, min, *, out=None):
    """``clamp(input, min=min)``."""
    if min is None:
        raise TypeError('clamp_min(): argument \'min\' must be a number or Tensor, not NoneType')
    return _clamp('clamp_min', input, min, None, out)


def clamp_max(input, max, *, out=None):
    """``clamp(input, max=max)``."""
    if max is None:
        raise TypeError('clamp_max(): argument \'max\' must be a number or Tensor, not NoneType')
    return _clamp('clamp_max', input, None, max, out)


# ---- comparisons, logical and bitwise ops (never differentiable) ----------------------------------

def _predicate(name, kernel, operands='any', ints=None, doc=None):
    return _binary(name, kernel, operands=operands, ints=ints,
                   doc=doc or f'Elementwise ``{name}``; a bool tensor of the broadcast shape.')


eq = _predicate('eq', np.equal)
ne = _predicate('ne', np.not_equal)
lt = _predicate('lt', np.less)
le = _predicate('le', np.less_equal)
gt = _predicate('gt', np.greater)
ge = _predicate('ge', np.greater_equal)
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge
logical_and = _predicate('logical_and', np.logical_and, 'tensors')
logical_or = _predicate('logical_or', np.logical_or, 'tensors')
logical_xor = _predicate('logical_xor', np.logical_xor, 'tensors')


def _bitwise(name, kernel, kernel_name, kinds='f'):
    def guard(x, y, ta, tb):
        d = _promoted(x, y)
        if d.kind in kinds:
            raise _not_implemented(kernel_name, d)
    return _binary(name, kernel, guard=guard, doc=f'Elementwise ``{name}`` of integer or bool tensors (floats raise).')


bitwise_and = _bitwise('bitwise_and', np.bitwise_and, 'bitwise_and_cpu')
bitwise_or = _bitwise('bitwise_or', np.bitwise_or, 'bitwise_or_cpu')
bitwise_xor = _bitwise('bitwise_xor', np.bitwise_xor, 'bitwise_xor_cpu')
# Shifts past the width give 0 (left) or the sign (right), as in PyTorch; NumPy agrees.
bitwise_left_shift = _bitwise('bitwise_left_shift', np.left_shift, 'lshift_cpu', 'fb')
bitwise_right_shift = _bitwise('bitwise_right_shift', np.right_shift, 'rshift_cpu', 'fb')


def bitwise_not(input, *, out=None):
    """``~input`` for integer and bool tensors (logical not for bool)."""
    if not isinstance(input, Tensor):
        raise _type_error('bitwise_not', 'input', 1, input)
    x = input._data
    if x.dtype.kind == 'f':
        raise _not_implemented('bitwise_not_cpu', x.dtype)
    r = _wrap(np.invert(x))
    return write_out(out, r) if out is not None else r


def _same_dtype(input, other):
    for arg, v, pos in (('input', input, 1), ('other', other, 2)):
        if not isinstance(v, Tensor):
            raise _type_error('isclose', arg, pos, v)
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f'{_TYPE_NAMES[input._data.dtype]} did not match {_TYPE_NAMES[other._data.dtype]}')


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``|input - other| <= atol + rtol * |other|`` elementwise (equal infinities are close; NaNs
    only with ``equal_nan``). Both tensors must have the same dtype."""
    _same_dtype(input, other)
    if rtol < 0:
        raise RuntimeError(f'rtol must be greater than or equal to zero, but got {rtol}')
    if atol < 0:
        raise RuntimeError(f'atol must be greater than or equal to zero, but got {atol}')
    x, y = input._data, other._data
    try:
        close = x == y
    except ValueError as exc:
        raise _broadcast_error(exc, x, y) from None
    if equal_nan and x.dtype.kind == 'f':
        close |= np.isnan(x) & np.isnan(y)
    if rtol == 0 and atol == 0:
        return _wrap(np.asarray(close, like=x))
    if x.dtype.kind != 'f':
        # Integers are compared in the default float dtype (no unsigned wrap-around in x - y).
        f = _dtype._default[0].np
        x, y = x.astype(f), y.astype(f)
    with np.errstate(invalid='ignore', over='ignore'):
        allowed = atol + np.abs(rtol * y)
        actual = np.abs(x - y)
        close |= np.isfinite(actual) & (actual <= allowed)
    return _wrap(np.asarray(close, like=x))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if every element of ``isclose(input, other, ...)`` is True."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """True if the tensors have the same shape and equal elements (NaN is never equal)."""
    for arg, v, pos in (('input', input, 1), ('other', other, 2)):
        if not isinstance(v, Tensor):
            raise _type_error('equal', arg, pos, v)
    x, y = input._data, other._data
    return x.shape == y.shape and bool((x == y).all())


# ---- operator methods -----------------------------------------------------------------------

def _rsub(self, other):
    return _sub(other, self)


def _rdiv(self, other):
    # ``number / tensor`` is ``tensor.reciprocal() * number`` in PyTorch (MulBackward0, and its rounding).
    if isinstance(other, Tensor):
        return _true_div(other, self)
    return mul(reciprocal(self), other)


def _rpow(self, other):
    return _pow(other, self)


def _rfloordiv(self, other):
    return _floor_divide(other, self)


def _rmod(self, other):
    return remainder(other, self)


def _rlshift(self, other):
    return bitwise_left_shift(other, self)


def _rrshift(self, other):
    return bitwise_right_shift(other, self)


def _rmatmul(self, other):
    return other.matmul(self)


def _invert(self):
    if self._data.dtype.kind == 'f':
        raise TypeError('~ (operator.invert) is only implemented on integer and Boolean-type tensors')
    return bitwise_not(self)


def _comparison_operator(fn):
    """``==``/``!=`` with an operand Ember cannot compare (None, a string) defer to Python."""
    def method(self, other):
        try:
            return fn(self, other)
        except TypeError:
            return NotImplemented
    method.__name__ = method.__qualname__ = fn.__name__
    return method


# ---- in-place variants ----------------------------------------------------------------------

def float_power_(self, exponent):
    """In-place ``float_power``; ``self`` must be float64."""
    if self._data.dtype != np.float64:
        raise RuntimeError(f'the base given to float_power_ has dtype {_TYPE_NAMES[self._data.dtype]} but the '
                           "operation's result requires dtype Double")
    return _float_power_inplace(self, exponent)


_float_power_inplace = inplace_variant(float_power, 'float_power_')

_INPLACE_OF = (
    'add', 'sub', 'mul', 'div', 'true_divide', 'floor_divide', 'abs', 'neg', 'exp', 'exp2', 'expm1', 'log', 'log2',
    'log10', 'log1p', 'sqrt', 'rsqrt', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'sinh', 'cosh', 'tanh',
    'asinh', 'acosh', 'atanh', 'sigmoid', 'relu', 'pow', 'clamp', 'clamp_min', 'clamp_max', 'floor', 'ceil',
    'round', 'trunc', 'frac', 'sign', 'sgn', 'reciprocal', 'square', 'lerp', 'erf', 'erfc', 'erfinv', 'fmod',
    'remainder', 'hypot', 'xlogy', 'copysign', 'deg2rad', 'rad2deg', 'logical_and', 'logical_or', 'logical_xor',
    'logical_not', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_not', 'bitwise_left_shift',
    'bitwise_right_shift', 'nan_to_num', 'eq', 'ne', 'lt', 'le', 'gt', 'ge')
_INPLACE = {name + '_': inplace_variant(globals()[name], name + '_') for name in _INPLACE_OF}
_INPLACE['float_power_'] = float_power_
for _alias, _name in (('subtract', 'sub'), ('multiply', 'mul'), ('divide', 'div'), ('absolute', 'abs'),
                      ('negative', 'neg'), ('arcsin', 'asin'), ('arccos', 'acos'), ('arctan', 'atan'),
                      ('arctan2', 'atan2'), ('arcsinh', 'asinh'), ('arccosh', 'acosh'), ('arctanh', 'atanh'),
                      ('clip', 'clamp'), ('fix', 'trunc'), ('not_equal', 'ne'), ('less', 'lt'), ('less_equal', 'le'),
                      ('greater', 'gt'), ('greater_equal', 'ge')):
    _INPLACE[_alias + '_'] = _INPLACE[_name + '_']
globals().update(_INPLACE)

# The in-place forms PyTorch also exports as functions (``torch.exp_(x)``).
_INPLACE_FUNCTIONS = [
    'abs_', 'acos_', 'acosh_', 'arccos_', 'arccosh_', 'arcsin_', 'arcsinh_', 'arctan_', 'arctanh_', 'asin_',
    'asinh_', 'atan_', 'atanh_', 'ceil_', 'clamp_', 'clamp_max_', 'clamp_min_', 'clip_', 'cos_', 'cosh_',
    'deg2rad_', 'erf_', 'erfc_', 'exp2_', 'exp_', 'expm1_', 'fix_', 'floor_', 'frac_', 'log10_', 'log1p_', 'log2_',
    'log_', 'nan_to_num_', 'neg_', 'negative_', 'rad2deg_', 'reciprocal_', 'relu_', 'round_', 'rsqrt_', 'sigmoid_',
    'sin_', 'sinh_', 'sqrt_', 'square_', 'tan_', 'tanh_', 'trunc_', 'xlogy_']

__all__ = [
    'neg', 'negative', 'abs', 'absolute', 'sgn', 'sign', 'exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p',
    'sqrt', 'rsqrt', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh',
    'arcsin', 'arccos', 'arctan', 'arcsinh', 'arccosh', 'arctanh', 'sigmoid', 'relu', 'floor', 'ceil', 'trunc', 'fix',
    'frac', 'reciprocal', 'erf', 'erfc', 'erfinv', 'deg2rad', 'rad2deg', 'isnan', 'isinf', 'isposinf', 'isneginf',
    'isfinite', 'isreal', 'signbit', 'logical_not', 'round', 'positive', 'square', 'nan_to_num',
    'add', 'sub', 'subtract', 'rsub', 'mul', 'multiply', 'div', 'divide', 'true_divide', 'floor_divide', 'pow',
    'float_power', 'atan2', 'arctan2', 'maximum', 'minimum', 'fmax', 'fmin', 'hypot', 'logaddexp', 'logaddexp2',
    'xlogy', 'copysign', 'fmod', 'remainder', 'lerp', 'clamp', 'clip', 'clamp_min', 'clamp_max',
    'eq', 'ne', 'not_equal', 'lt', 'less', 'le', 'less_equal', 'gt', 'greater', 'ge', 'greater_equal',
    'logical_and', 'logical_or', 'logical_xor', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_not',
    'bitwise_left_shift', 'bitwise_right_shift', 'isclose', 'allclose', 'equal',
] + _INPLACE_FUNCTIONS

METHODS = {name: globals()[name] for name in __all__ if name != 'rsub'}
METHODS.update(_INPLACE)
METHODS.update({
    '__neg__': neg, '__pos__': positive, '__abs__': abs, '__invert__': _invert,
    '__add__': _add, '__radd__': _add, '__sub__': _sub, '__rsub__': _rsub, '__mul__': mul, '__rmul__': mul,
    '__truediv__': _true_div, '__rtruediv__': _rdiv, '__div__': _true_div, '__pow__': _pow, '__rpow__': _rpow,
    '__floordiv__': _floor_divide, '__rfloordiv__': _rfloordiv, '__mod__': remainder, '__rmod__': _rmod,
    '__eq__': _comparison_operator(eq), '__ne__': _comparison_operator(ne), '__lt__': lt, '__le__': le,
    '__gt__': gt, '__ge__': ge, '__and__': bitwise_and, '__rand__': bitwise_and, '__or__': bitwise_or,
    '__ror__': bitwise_or, '__xor__': bitwise_xor, '__rxor__': bitwise_xor, '__lshift__': bitwise_left_shift,
    '__rlshift__': _rlshift, '__rshift__': bitwise_right_shift, '__rrshift__': _rrshift,
    '__iadd__': _INPLACE['add_'], '__isub__': _INPLACE['sub_'], '__imul__': _INPLACE['mul_'],
    '__itruediv__': _INPLACE['div_'], '__idiv__': _INPLACE['div_'], '__ipow__': _INPLACE['pow_'],
    '__ifloordiv__': _INPLACE['floor_divide_'], '__imod__': _INPLACE['remainder_'],
    '__iand__': _INPLACE['bitwise_and_'], '__ior__': _INPLACE['bitwise_or_'], '__ixor__': _INPLACE['bitwise_xor_'],
    '__ilshift__': _INPLACE['bitwise_left_shift_'], '__irshift__': _INPLACE['bitwise_right_shift_'],
    '__rmatmul__': _rmatmul,
})
