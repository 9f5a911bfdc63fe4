"""Converters for tensor ops: elementwise arithmetic and comparisons, reductions, shape and
indexing ops, joins, casts and matrix products.

A converter is called as ``fn(g, res, *args, **kwargs)`` with the op's own arguments and ``res``,
its traced result (whose shape and dtype the nodes must reproduce); it returns the output value
name (a list of names for several outputs). Arithmetic runs in the result's dtype, so inputs
(tensors of other dtypes, Python numbers) are cast to it first, as PyTorch's promotion does.
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._graph import INT64_MAX

CONVERTERS = {}


def register(*names):
    def deco(fn):
        for n in names:
            CONVERTERS[n] = fn
        return fn
    return deco


def _dims(dim, ndim):
    """``dim`` (int, sequence, or None for all) as a sorted list of non-negative axes."""
    if dim is None:
        return list(range(ndim))
    dims = [dim] if isinstance(dim, int) else list(dim)
    if not dims:
        return list(range(ndim))
    return sorted(d % max(ndim, 1) for d in dims)


def _sizes(args):
    """Varargs sizes (``x.view(2, 3)``) or one sequence (``x.view((2, 3))``) as a list of ints."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    return [int(a) for a in args]


# ---- elementwise -----------------------------------------------------------------------------
def _binary(op_type, swap=False):
    def convert(g, res, input, other, *, alpha=1, out=None, **_):
        if swap:
            input, other = other, input
        a, b = g.value(input, res.dtype), g.value(other, res.dtype)
        if alpha != 1:
            if swap:
                a = g.op('Mul', a, g.value(alpha, res.dtype))
            else:
                b = g.op('Mul', b, g.value(alpha, res.dtype))
        return g.op(op_type, a, b)
    return convert


register('add', '__add__', '__radd__', '__iadd__')(_binary('Add'))
register('sub', 'subtract', '__sub__', '__isub__')(_binary('Sub'))
register('rsub', '__rsub__')(_binary('Sub', swap=True))
register('mul', 'multiply', '__mul__', '__rmul__', '__imul__')(_binary('Mul'))
register('maximum', 'fmax')(_binary('Max'))
register('minimum', 'fmin')(_binary('Min'))
register('__rtruediv__')(_binary('Div', swap=True))
register('__rpow__')(_binary('Pow', swap=True))


@register('pow', '__pow__', '__ipow__', 'float_power')
def _pow(g, res, input, exponent, *, out=None):
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool) and exponent == 2:
        x = g.value(input, res.dtype)
        return g.op('Mul', x, x)
    return g.op('Pow', g.value(input, res.dtype), g.value(exponent, res.dtype))


def _trunc(g, x):
    return g.op('Mul', g.op('Sign', x), g.op('Floor', g.op('Abs', x)))


@register('div', 'divide', 'true_divide', '__truediv__', '__div__', '__itruediv__', '__idiv__')
def _div(g, res, input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        return g.op('Div', g.value(input, res.dtype), g.value(other, res.dtype))
    work = res.dtype if res.dtype.is_floating_point else _dtype.float64
    q = g.op('Div', g.value(input, work), g.value(other, work))
    q = g.op('Floor', q) if rounding_mode == 'floor' else _trunc(g, q)
    return q if work == res.dtype else g.cast(q, res.dtype)


@register('floor_divide', '__floordiv__', '__ifloordiv__')
def _floor_divide(g, res, input, other, *, out=None):
    return _div(g, res, input, other, rounding_mode='floor')


@register('remainder', '__mod__', '__imod__')
def _remainder(g, res, input, other, *, out=None):
    a, b = g.value(input, res.dtype), g.value(other, res.dtype)
    return g.op('Mod', a, b, fmod=int(res.dtype.is_floating_point)) if not res.dtype.is_floating_point else \
        g.op('Sub', a, g.op('Mul', g.op('Floor', g.op('Div', a, b)), b))


def _unary(op_type):
    def convert(g, res, input, *, out=None, **_):
        return g.op(op_type, g.value(input, res.dtype))
    return convert


for _name, _op in {'neg': 'Neg', 'negative': 'Neg', '__neg__': 'Neg', 'abs': 'Abs', 'absolute': 'Abs',
                   '__abs__': 'Abs', 'sqrt': 'Sqrt', 'exp': 'Exp', 'log': 'Log', 'sigmoid': 'Sigmoid',
                   'tanh': 'Tanh', 'relu': 'Relu', 'reciprocal': 'Reciprocal', 'sin': 'Sin', 'cos': 'Cos',
                   'tan': 'Tan', 'asin': 'Asin', 'acos': 'Acos', 'atan': 'Atan', 'sinh': 'Sinh', 'cosh': 'Cosh',
                   'erf': 'Erf', 'floor': 'Floor', 'ceil': 'Ceil', 'sign': 'Sign', 'softsign': 'Softsign',
                   'logical_not': 'Not', 'bitwise_not': 'Not', '__invert__': 'Not'}.items():
    register(_name)(_unary(_op))


@register('positive', '__pos__', 'contiguous', 'clone', 'Tensor.detach', 'cpu', 'Tensor.cpu', 'to', 'type_as',
          'Tensor.type', 'float', 'double', 'half', 'int', 'long', 'short', 'bool', 'byte', 'char')
def _cast_like(g, res, input, *args, **kwargs):
    return g.value(input, res.dtype)


@register('rsqrt')
def _rsqrt(g, res, input, *, out=None):
    return g.op('Reciprocal', g.op('Sqrt', g.value(input, res.dtype)))


@register('square')
def _square(g, res, input, *, out=None):
    x = g.value(input, res.dtype)
    return g.op('Mul', x, x)


def _compose(kind):
    def convert(g, res, input, *, out=None):
        x = g.value(input, res.dtype)
        one = g.value(1, res.dtype)
        if kind == 'log1p':
            return g.op('Log', g.op('Add', x, one))
        if kind == 'expm1':
            return g.op('Sub', g.op('Exp', x), one)
        if kind == 'exp2':
            return g.op('Pow', g.value(2, res.dtype), x)
        return g.op('Div', g.op('Log', x), g.value(np.log(2.0 if kind == 'log2' else 10.0), res.dtype))
    return convert


for _name in ('log1p', 'expm1', 'log2', 'log10', 'exp2'):
    CONVERTERS[_name] = _compose(_name)


@register('round')
def _round(g, res, input, *, decimals=0, out=None):
    x = g.value(input, res.dtype)
    if decimals:
        scale = g.value(10.0 ** decimals, res.dtype)
        return g.op('Div', g.op('Round', g.op('Mul', x, scale)), scale)
    return g.op('Round', x)


@register('trunc', 'fix')
def _trunc_op(g, res, input, *, out=None):
    return _trunc(g, g.value(input, res.dtype))


def _compare(op_type, negate=False):
    def convert(g, res, input, other, *, out=None):
        dt = _dtype.tensor_result_type(input, other)
        y = g.op(op_type, g.value(input, dt), g.value(other, dt))
        return g.op('Not', y) if negate else y
    return convert


for _names, _op, _neg in ((('eq', '__eq__'), 'Equal', False), (('ne', 'not_equal', '__ne__'), 'Equal', True),
                          (('lt', 'less', '__lt__'), 'Less', False), (('le', 'less_equal', '__le__'), 'LessOrEqual',
                                                                      False),
                          (('gt', 'greater', '__gt__'), 'Greater', False),
                          (('ge', 'greater_equal', '__ge__'), 'GreaterOrEqual', False)):
    register(*_names)(_compare(_op, _neg))


def _logical(op_type):
    def convert(g, res, input, other, *, out=None):
        return g.op(op_type, g.value(input, _dtype.bool_), g.value(other, _dtype.bool_))
    return convert


register('logical_and', '__and__')(_logical('And'))
register('logical_or', '__or__')(_logical('Or'))
register('logical_xor', '__xor__')(_logical('Xor'))


@register('isnan')
def _isnan(g, res, input):
    return g.op('IsNaN', g.value(input))


@register('clamp', 'clip')
def _clamp(g, res, input, min=None, max=None, *, out=None):
    x = g.value(input, res.dtype)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None:
            x = g.op('Max', x, g.value(min, res.dtype))
        if max is not None:
            x = g.op('Min', x, g.value(max, res.dtype))
        return x
    lo = None if min is None else g.value(min, res.dtype)
    hi = None if max is None else g.value(max, res.dtype)
    return g.op('Clip', x, lo, hi)


@register('clamp_min')
def _clamp_min(g, res, input, min, *, out=None):
    return _clamp(g, res, input, min=min)


@register('clamp_max')
def _clamp_max(g, res, input, max, *, out=None):
    return _clamp(g, res, input, max=max)


@register('where')
def _where(g, res, condition, input=None, other=None, *, out=None):
    if input is None:
        g.fail('where(condition)', 'the one-argument form (nonzero) has a data-dependent shape')
    return g.op('Where', g.value(condition, _dtype.bool_), g.value(input, res.dtype), g.value(other, res.dtype))


@register('Tensor.where')
def _where_method(g, res, input, condition, other):
    return _where(g, res, condition, input, other)


@register('masked_fill')
def _masked_fill(g, res, input, mask, value):
    return g.op('Where', g.value(mask, _dtype.bool_), g.value(value, res.dtype), g.value(input, res.dtype))


@register('lerp')
def _lerp(g, res, input, end, weight):
    a = g.value(input, res.dtype)
    return g.op('Add', a, g.op('Mul', g.value(weight, res.dtype), g.op('Sub', g.value(end, res.dtype), a)))


# ---- reductions ------------------------------------------------------------------------------
def _reduction(op_type):
    def convert(g, res, input, dim=None, keepdim=False, *, dtype=None, out=None):
        x = g.value(input, res.dtype)
        if input.dim() == 0:
            return x
        return g.reduce(op_type, x, _dims(dim, input.dim()), keepdim)
    return convert


register('sum', 'nansum')(_reduction('ReduceSum'))
register('mean')(_reduction('ReduceMean'))
register('prod')(_reduction('ReduceProd'))


def _extreme(op_type):
    def convert(g, res, input, dim=(), keepdim=False, *, out=None):
        return _reduction(op_type)(g, res, input, dim, keepdim)
    return convert


def _truth(op_type):
    # ONNX reduces no bools before opset 20: reduce 0/1 as int32
    def convert(g, res, input, dim=None, keepdim=False, *, out=None):
        x = g.value(input)
        if input.dtype != _dtype.bool_:
            x = g.op('Not', g.op('Equal', x, g.value(0, input.dtype)))
        x = g.cast(x, _dtype.int32)
        if input.dim():
            x = g.reduce(op_type, x, _dims(dim, input.dim()), keepdim)
        return g.cast(x, res.dtype)
    return convert


register('all')(_truth('ReduceMin'))
register('any')(_truth('ReduceMax'))
register('amax')(_extreme('ReduceMax'))
register('amin')(_extreme('ReduceMin'))


def _max_min(kind):
    def convert(g, res, input, dim=None, keepdim=False, *, other=None, out=None):
        if isinstance(dim, Tensor) or other is not None:
            other = dim if other is None else other
            return g.op(kind, g.value(input, res.dtype), g.value(other, res.dtype))
        x = g.value(input)
        if dim is None:
            return x if input.dim() == 0 else g.reduce('Reduce' + kind, x, _dims(None, input.dim()), False)
        if input.dim() == 0:
            return [x, g.value(0)]
        values = g.reduce('Reduce' + kind, x, _dims(dim, input.dim()), keepdim)
        indices = g.op('Arg' + kind, x, axis=int(dim) % input.dim(), keepdims=int(keepdim), select_last_index=0)
        return [values, indices]
    return convert


register('max')(_max_min('Max'))
register('min')(_max_min('Min'))


def _arg(op_type):
    def convert(g, res, input, dim=None, keepdim=False, *, out=None):
        x = g.value(input)
        if dim is None:
            y = g.op(op_type, g.op('Reshape', x, g.ints([-1])), axis=0, keepdims=0)
            return g.op('Reshape', y, g.ints([1] * input.dim())) if keepdim else y
        if input.dim() == 0:
            return g.value(0)
        return g.op(op_type, x, axis=int(dim) % input.dim(), keepdims=int(keepdim))
    return convert


register('argmax')(_arg('ArgMax'))
register('argmin')(_arg('ArgMin'))


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _variance(g, res, input, dim, unbiased, keepdim, correction):
    x = g.value(input, res.dtype)
    axes = _dims(dim, input.dim())
    n = int(np.prod([input.shape[a] for a in axes]))
    d = g.op('Sub', x, g.reduce('ReduceMean', x, axes, True))
    ss = g.reduce('ReduceSum', g.op('Mul', d, d), axes, keepdim)
    return g.op('Div', ss, g.value(max(n - _correction(unbiased, correction), 0), res.dtype))


@register('var')
def _var(g, res, input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    return _variance(g, res, input, dim, unbiased, keepdim, correction)


@register('std')
def _std(g, res, input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    return g.op('Sqrt', _variance(g, res, input, dim, unbiased, keepdim, correction))


@register('logsumexp')
def _logsumexp(g, res, input, dim, keepdim=False, *, out=None):
    return g.reduce('ReduceLogSumExp', g.value(input, res.dtype), _dims(dim, input.dim()), keepdim)


@register('norm')
def _norm(g, res, input, p='fro', dim=None, keepdim=False, out=None, dtype=None):
    ops = {'fro': 'ReduceL2', 2: 'ReduceL2', 1: 'ReduceL1'}
    if p not in ops:
        g.fail('norm', f'p={p!r} (supported: 1, 2, "fro")')
    return g.reduce(ops[p], g.value(input, res.dtype), _dims(dim, input.dim()), keepdim)


@register('cumsum')
def _cumsum(g, res, input, dim, *, dtype=None, out=None):
    return g.op('CumSum', g.value(input, res.dtype), g.value(int(dim) % max(input.dim(), 1)))


# ---- shape -----------------------------------------------------------------------------------
def _reshape_to(g, input, spec, res):
    """Reshape to ``spec``, copying leading dims equal to the input's (ONNX ``0``) so that a
    symbolic batch dimension stays symbolic."""
    shape = list(spec)
    for i, (s, d) in enumerate(zip(shape, input.shape)):
        if s != d or s == 0:
            break
        shape[i] = 0
    if len(shape) != len(res.shape):
        shape = list(res.shape)
    return g.op('Reshape', g.value(input), g.ints(shape))


@register('view', 'reshape')
def _view(g, res, input, *shape):
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        g.fail('view(dtype)', 'reinterpreting bytes as another dtype has no ONNX equivalent')
    return _reshape_to(g, input, _sizes(shape), res)


@register('view_as', 'reshape_as')
def _view_as(g, res, input, other):
    return _reshape_to(g, input, list(other.shape), res)


@register('flatten', 'ravel')
def _flatten(g, res, input, start_dim=0, end_dim=-1):
    nd = input.dim()
    if nd == 0:
        return g.op('Reshape', g.value(input), g.ints([1]))
    s, e = start_dim % nd, end_dim % nd
    if s == e:
        return g.value(input)
    return g.op('Reshape', g.value(input), g.ints([0] * s + [-1] + list(input.shape[e + 1:])))


@register('unflatten')
def _unflatten(g, res, input, dim, sizes):
    dim = dim % input.dim()
    return g.op('Reshape', g.value(input), g.ints([0] * dim + list(res.shape[dim:])))


@register('squeeze')
def _squeeze(g, res, input, dim=None):
    dims = [d for d in _dims(dim, input.dim()) if input.dim() and input.shape[d] == 1]
    return g.squeeze(g.value(input), dims) if dims else g.value(input)


@register('unsqueeze')
def _unsqueeze(g, res, input, dim):
    return g.unsqueeze(g.value(input), [dim % res.dim()])


def _transpose_perm(g, input, perm):
    return g.value(input) if list(perm) == sorted(perm) else g.op('Transpose', g.value(input), perm=list(perm))


@register('permute')
def _permute(g, res, input, *dims):
    return _transpose_perm(g, input, [d % max(input.dim(), 1) for d in _sizes(dims)])


@register('transpose', 'swapaxes', 'swapdims')
def _transpose(g, res, input, dim0, dim1):
    nd = input.dim()
    if nd == 0:
        return g.value(input)
    perm = list(range(nd))
    a, b = dim0 % nd, dim1 % nd
    perm[a], perm[b] = perm[b], perm[a]
    return _transpose_perm(g, input, perm)


@register('t', 'T', 'Tensor.T')
def _t(g, res, input):
    return _transpose_perm(g, input, list(range(input.dim()))[::-1])


@register('mT', 'Tensor.mT')
def _mt(g, res, input):
    return _transpose(g, res, input, -2, -1)


@register('movedim', 'moveaxis')
def _movedim(g, res, input, source, destination):
    nd = input.dim()
    src = [source % nd] if isinstance(source, int) else [s % nd for s in source]
    dst = [destination % nd] if isinstance(destination, int) else [d % nd for d in destination]
    perm = [None] * nd
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(i for i in range(nd) if i not in src)
    perm = [p if p is not None else next(rest) for p in perm]
    return _transpose_perm(g, input, perm)


@register('expand', 'broadcast_to')
def _expand(g, res, input, *sizes):
    shape = [1 if s == -1 else s for s in _sizes(sizes)]
    return g.op('Expand', g.value(input), g.ints(shape))


@register('expand_as')
def _expand_as(g, res, input, other):
    return g.op('Expand', g.value(input), g.ints(other.shape))


@register('repeat', 'tile')
def _repeat(g, res, input, *sizes):
    reps = _sizes(sizes)
    x = g.value(input)
    if len(reps) > input.dim():
        x = g.unsqueeze(x, list(range(len(reps) - input.dim())))
    elif len(reps) < input.dim():
        reps = [1] * (input.dim() - len(reps)) + reps
    return g.op('Tile', x, g.ints(reps))


@register('flip')
def _flip(g, res, input, *dims):
    axes = _dims(_sizes(dims), input.dim())
    n = len(axes)
    return g.op('Slice', g.value(input), g.ints([-1] * n), g.ints([-INT64_MAX] * n), g.ints(axes), g.ints([-1] * n))


@register('tril', 'triu')
def _tri(g, res, input, diagonal=0, *, out=None):
    upper = np.array_equal(np.triu(input._data, diagonal), res._data)
    return g.op('Trilu', g.value(input), g.value(int(diagonal)), upper=int(upper))


# ---- joins and splits ------------------------------------------------------------------------
@register('cat', 'concat', 'concatenate')
def _cat(g, res, tensors, dim=0, *, out=None, axis=None):
    dim = axis if axis is not None else dim
    items = [t for t in tensors if not (t.dim() == 1 and t.shape[0] == 0 and res.dim() != 1)]
    return g.op('Concat', *[g.value(t, res.dtype) for t in items], axis=dim % res.dim())


@register('stack')
def _stack(g, res, tensors, dim=0, *, out=None):
    d = dim % res.dim()
    return g.op('Concat', *[g.unsqueeze(g.value(t, res.dtype), [d]) for t in tensors], axis=d)


def _split_like(g, res, input, dim):
    d = dim % input.dim()
    return g.split(g.value(input), [t.shape[d] for t in res], d)


@register('chunk')
def _chunk(g, res, input, chunks, dim=0):
    return _split_like(g, res, input, dim)


@register('split', 'tensor_split')
def _split(g, res, tensor, split_size_or_sections, dim=0):
    return _split_like(g, res, tensor, dim)


@register('unbind')
def _unbind(g, res, input, dim=0):
    d = dim % input.dim()
    return [g.squeeze(p, [d]) for p in g.split(g.value(input), [1] * input.shape[d], d)]


@register('narrow')
def _narrow(g, res, input, dim, start, length):
    d = dim % input.dim()
    start = int(start) % input.shape[d] if int(start) < 0 else int(start)
    return g.op('Slice', g.value(input), g.ints([start]), g.ints([start + int(length)]), g.ints([d]))


@register('select')
def _select(g, res, input, dim, index):
    return g.op('Gather', g.value(input), g.value(int(index)), axis=dim % input.dim())


@register('index_select')
def _index_select(g, res, input, dim, index, *, out=None):
    return g.op('Gather', g.value(input), g.value(index, _dtype.int64), axis=dim % max(input.dim(), 1))


@register('gather', 'take_along_dim')
def _gather(g, res, input, dim, index, *, sparse_grad=False, out=None):
    if isinstance(dim, Tensor):
        dim, index = index, dim
    return g.op('GatherElements', g.value(input), g.value(index, _dtype.int64), axis=dim % max(input.dim(), 1))


@register('__getitem__')
def _getitem(g, res, input, key):
    """Basic indexing (ints, slices, None, Ellipsis) plus one integer or boolean tensor index."""
    key = key if isinstance(key, tuple) else (key,)
    advanced = [k for k in key if isinstance(k, (Tensor, list, np.ndarray))]
    if len(advanced) > 1:
        g.fail('__getitem__', 'more than one tensor index')
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis and not isinstance(k, (bool, np.bool_)))
    x, d = g.value(input), 0
    for k in key:
        if k is None:
            x, d = g.unsqueeze(x, [d]), d + 1
        elif k is Ellipsis:
            d += input.dim() - consumed
        elif isinstance(k, (bool, np.bool_)):
            g.fail('__getitem__', 'a boolean index')
        elif isinstance(k, slice):
            step = 1 if k.step is None else int(k.step)
            if (k.start, k.stop, step) != (None, None, 1):
                start = 0 if k.start is None else int(k.start)
                stop = INT64_MAX if k.stop is None else int(k.stop)
                x = g.op('Slice', x, g.ints([start]), g.ints([stop]), g.ints([d]), g.ints([step]))
            d += 1
        elif isinstance(k, (list, np.ndarray)) or (isinstance(k, Tensor) and k.dtype != _dtype.bool_):
            idx = k if isinstance(k, Tensor) else np.asarray(k, dtype=np.int64)
            x = g.op('Gather', x, g.value(idx, _dtype.int64), axis=d)
            d += idx.ndim if isinstance(idx, np.ndarray) else idx.dim()
        elif isinstance(k, Tensor):
            if k.dim() != 1:
                g.fail('__getitem__', 'a boolean mask with more than one dimension')
            x = g.op('Compress', x, g.value(k), axis=d)
            d += 1
        else:
            x = g.op('Gather', x, g.value(int(k)), axis=d)
    return x


# ---- matrix products -------------------------------------------------------------------------
@register('matmul', 'mm', 'bmm', '__matmul__')
def _matmul(g, res, input, other, *, out=None):
    return g.op('MatMul', g.value(input, res.dtype), g.value(other, res.dtype))


@register('__rmatmul__')
def _rmatmul(g, res, input, other):
    return _matmul(g, res, other, input)


@register('addmm')
def _addmm(g, res, input, mat1, mat2, *, beta=1, alpha=1, out=None):
    return g.op('Gemm', g.value(mat1, res.dtype), g.value(mat2, res.dtype), g.value(input, res.dtype),
                alpha=float(alpha), beta=float(beta))


@register('baddbmm')
def _baddbmm(g, res, input, batch1, batch2, *, beta=1, alpha=1, out=None):
    prod = g.op('MatMul', g.value(batch1, res.dtype), g.value(batch2, res.dtype))
    if alpha != 1:
        prod = g.op('Mul', prod, g.value(alpha, res.dtype))
    if beta == 0:
        return prod
    c = g.value(input, res.dtype)
    return g.op('Add', prod, c if beta == 1 else g.op('Mul', c, g.value(beta, res.dtype)))


@register('einsum')
def _einsum(g, res, equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    return g.op('Einsum', *[g.value(t, res.dtype) for t in operands], equation=equation.replace(' ', ''))


@register('fill_', 'zero_')
def _fill(g, res, *args, **kwargs):
    return g.const(res._data.copy())
