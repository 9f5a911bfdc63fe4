"""Reductions and scans: sum, mean, prod, max/min, std/var, norm, logsumexp, cumsum, cumprod, ...

Each op reduces over ``dim`` (an int or, where PyTorch allows, a tuple; None means every
dimension) and keeps reduced dimensions as size 1 when ``keepdim``. Kernels are single NumPy
calls along axes; float16 accumulates in float32 as PyTorch's CPU kernels do.

Backward rules follow PyTorch's ``derivatives.yaml``:

- ``sum``/``mean``: the gradient expanded back over the reduced dimensions.
- "value selecting" reductions (``max(dim)``, ``sort``, ``topk``, ``median(dim)``, ...) send
  the gradient to the recorded index only (``_put_along``, whose own backward gathers, so
  double backward works).
- full reductions that pick a value (``max()``, ``amax``, ``median()``) split the gradient
  evenly among all elements equal to the result: ``_WeightedBackward`` keeps those weights.
- ``prod``/``cumprod`` handle zeros in the input without dividing by them.
"""
import builtins
import math

import numpy as np

from .. import _dtype, return_types
from .._tensor import Tensor, _wrap as _wrap_array, _wrap_dim
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge
from ._inplace import inplace_variant
from ._node import SavedOutputNode
from ._operands import array_of, write_out

_TYPE_NAMES = {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int', 'int64': 'Long',
               'float16': 'Half', 'float32': 'Float', 'float64': 'Double'}
_F32 = np.dtype(np.float32)
_F16 = np.dtype(np.float16)
_I64 = np.dtype(np.int64)


# ---- shared helpers ---------------------------------------------------------------------------

def _wrap(arr):
    """A tensor around ``arr`` in C order: PyTorch's reductions and scans return contiguous tensors,
    where NumPy's follow the input's memory order (so ``view`` works on results as in PyTorch)."""
    if type(arr) is not np.ndarray or not arr.flags.c_contiguous:
        arr = np.asarray(arr, order='C', like=array_of(arr))
    return _wrap_array(arr)


def normalize_dims(dim, ndim):
    """``dim`` (None, int, or sequence) as a sorted tuple of non-negative axes; None or () means all.

    A 0-d tensor accepts dim 0 or -1 and has no axes to reduce, so the result is ().
    """
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        d = _wrap_dim(int(dim), ndim)
        return (d,) if ndim else ()
    dims = tuple(_wrap_dim(int(d), ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f'dim {_first_repeat(dims)} appears multiple times in the list of dims')
    if not dims or not ndim:
        return tuple(range(ndim))
    return tuple(sorted(dims))


def _first_repeat(dims):
    seen = set()
    for d in dims:
        if d in seen:
            return d
        seen.add(d)
    return dims[0]


def _keep_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _numel(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _one_dim(dim, ndim):
    """A single ``dim`` argument as a non-negative axis (0 for a 0-d tensor)."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, not {type(dim).__name__}")
    return _wrap_dim(int(dim), ndim)


def _acc(dt):
    """Accumulation dtype: float16 sums in float32 (as PyTorch's CPU kernels)."""
    return _F32 if dt == _F16 else dt


def _result(r, out):
    return write_out(out, r) if out is not None else r


def _results(cls, values, indices, out):
    """A named tuple ``cls((values, indices))``, written into ``out=(values, indices)`` when given."""
    if out is not None:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f'{cls.__name__}(): argument \'out\' must be tuple of Tensors')
        values = write_out(out[0], values)
        indices = write_out(out[1], indices)
    return cls((values, indices))


def _attach(r, node):
    r.grad_fn = node
    r._requires_grad = True
    return r


def _records(input, r_arr):
    """True when the op on ``input`` producing a floating array must be recorded."""
    return _grad_enabled() and input._requires_grad and r_arr.dtype.kind == 'f'


def _type_name(d):
    return _TYPE_NAMES[d.name]


def _as_float(input, name):
    """Reject integer input with PyTorch's message for float-only reductions."""
    if input._data.dtype.kind != 'f':
        raise RuntimeError(f'{name}(): could not infer output dtype. Input dtype must be either a floating point '
                           f'or complex dtype. Got: {_type_name(input.dtype)}')


def _cast_input(input, dtype):
    """``input.to(dtype)`` (recorded, so the gradient is cast back) when ``dtype`` is given."""
    return input if dtype is None else input.to(_dtype.to_dtype(dtype))


def _check_nonempty(name, x, d):
    if x.shape[d] == 0:
        raise IndexError(f'{name}(): Expected reduction dim {d} to have non-zero size.')


# ---- differentiable gather / scatter along a dimension ----------------------------------------------

class GatherBackward0(Node):
    """Backward of ``_take_along``: scatter-add the gradient back to the gathered positions."""

    __slots__ = ('idx', 'dim', 'shape')

    def backward(self, g):
        return (_put_along(g, self.idx, self.dim, self.shape, accumulate=True),)


class ScatterAddBackward0(Node):
    """Backward of ``_put_along``: gather the gradient at the scattered positions."""

    __slots__ = ('idx', 'dim')

    def backward(self, g):
        return (_take_along(g, self.idx, self.dim),)


def _take_along(src, idx, dim):
    """``src`` gathered at int64 array ``idx`` along ``dim`` (``torch.gather``)."""
    out = _wrap(np.take_along_axis(src._data, idx, dim))
    if _grad_enabled() and src._requires_grad:
        node = GatherBackward0((grad_edge(src),))
        node.idx, node.dim, node.shape = idx, dim, src._data.shape
        _attach(out, node)
    return out


def _full_index(idx, dim):
    """Index arrays addressing ``idx``'s positions, with ``idx`` itself along ``dim``."""
    nd = idx.ndim
    return tuple(idx if i == dim else np.arange(n, like=idx).reshape((-1,) + (1,) * (nd - i - 1))
                 for i, n in enumerate(idx.shape))


def _put_along(src, idx, dim, shape, accumulate=False):
    """Zeros of ``shape`` with ``src`` written (or, with ``accumulate``, added) at ``idx`` along ``dim``.

    ``accumulate`` must be set when ``idx`` repeats positions (``cummax``); it sums through
    ``bincount`` on flat indices, a single vectorised pass.
    """
    s = src._data
    if accumulate:
        size = int(np.prod(shape))
        flat = np.ravel_multi_index(np.broadcast_arrays(*_full_index(idx, dim)), shape).ravel()
        z = np.bincount(flat, weights=s.ravel(), minlength=size).astype(s.dtype, copy=False).reshape(shape)
    else:
        z = np.zeros(shape, s.dtype, like=s)
        np.put_along_axis(z, idx, s, dim)
    out = _wrap(z)
    if _grad_enabled() and src._requires_grad:
        node = ScatterAddBackward0((grad_edge(src),))
        node.idx, node.dim = idx, dim
        _attach(out, node)
    return out


class _ValueSelectingBackward(Node):
    """Gradient of an op returning values picked at ``idx`` along ``dim``: scattered back there.

    ``idx`` is in "keepdim" form (same ndim as the computation's input of shape ``shape``);
    ``in_shape`` is the true input shape (differs for 0-d inputs, computed as shape (1,)).
    """

    __slots__ = ('idx', 'dim', 'shape', 'in_shape')

    def backward(self, g):
        if g._data.shape != self.idx.shape:
            g = g.reshape(self.idx.shape)
        r = _put_along(g, self.idx, self.dim, self.shape)
        if self.in_shape != self.shape:
            r = r.reshape(self.in_shape)
        return (r,)


def _value_selecting_node(cls, input, idx, dim, shape):
    node = cls((grad_edge(input),))
    node.idx, node.dim, node.shape, node.in_shape = idx, dim, shape, input._data.shape
    return node


def _selected(cls, node_cls, input, x, idx, d, keepdim, out, scalar=False):
    """Values of ``x`` at ``idx`` (keepdim form) along ``d`` plus indices, as named tuple ``cls``."""
    values = np.take_along_axis(x, idx, d)
    if scalar:
        values, idx_out = values.reshape(()), idx.reshape(())
    elif not keepdim:
        values, idx_out = np.squeeze(values, d), np.squeeze(idx, d)
    else:
        idx_out = idx
    v = _wrap(values)
    if _records(input, values):
        _attach(v, _value_selecting_node(node_cls, input, idx, d, x.shape))
    return _results(cls, v, _wrap(np.array(idx_out, _I64, like=x)), out)


class _WeightedBackward(Node):
    """Gradient ``g * weights`` with ``g`` reshaped to ``red_shape`` (the keepdim shape).

    Used where the gradient is split evenly among tied extreme values: ``weights`` is the tie
    mask divided by the number of ties, fixed at forward time (it has zero derivative).
    """

    __slots__ = ('weights', 'red_shape')

    def backward(self, g):
        if g._data.shape != self.red_shape:
            g = g.reshape(self.red_shape)
        return (g * _wrap(self.weights),)


def _even_weights(x, r_keep, dims):
    """Tie mask of ``x`` against the (keepdim) result, divided by the tie count per reduced slice."""
    mask = (x == r_keep) | (np.isnan(x) & np.isnan(r_keep))
    count = np.add.reduce(mask, axis=dims, keepdims=True, dtype=x.dtype)  # >= 1 in every non-empty slice
    return (mask / count).astype(x.dtype, copy=False)


def _weighted(cls, input, x, r, dims):
    r_keep = np.asarray(r, like=x).reshape(_keep_shape(x.shape, dims))
    node = cls((grad_edge(input),))
    node.weights = _even_weights(x, r_keep, dims)
    node.red_shape = r_keep.shape
    return node


# ---- sum, nansum, mean, nanmean ---------------------------------------------------------------------

class SumBackward0(Node):
    """Gradient of a sum: ``g`` expanded back over the reduced dimensions."""

    __slots__ = ('shape', 'red_shape')

    def backward(self, g):
        if g._data.shape != self.red_shape:
            g = g.reshape(self.red_shape)
        return (g.expand(self.shape),)


class SumBackward1(SumBackward0):
    __slots__ = ()


def _sum_dtype(arr, dtype):
    """PyTorch sums integers and bools in int64 unless ``dtype`` is given."""
    if dtype is not None:
        return _dtype.to_dtype(dtype).np
    if arr.dtype.kind in 'biu':
        return _I64
    return arr.dtype


def _sum_kernel(x, dims, keepdim, rdt):
    r = np.add.reduce(x, axis=dims, dtype=_acc(rdt), keepdims=keepdim)
    if type(r) is not np.ndarray or r.dtype != rdt:
        r = np.asarray(r, rdt, like=x)
    return r


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of ``input`` over ``dim`` (all dims when None); ints and bools accumulate in int64."""
    x = input._data
    if dtype is not None and x.dtype.kind == 'f':
        input = _cast_input(input, dtype)
        x = input._data
    dims = normalize_dims(dim, x.ndim)
    r_arr = _sum_kernel(x, dims, keepdim, _sum_dtype(x, dtype))
    r = _wrap(r_arr)
    if _records(input, r_arr):
        node = (SumBackward0 if dim is None else SumBackward1)((grad_edge(input),))
        node.shape = x.shape
        node.red_shape = _keep_shape(x.shape, dims)
        _attach(r, node)
    return _result(r, out)


class NansumBackward0(Node):
    """Gradient of ``nansum``: ``g`` expanded, zero where the input was NaN."""

    __slots__ = ('mask', 'red_shape')

    def backward(self, g):
        if g._data.shape != self.red_shape:
            g = g.reshape(self.red_shape)
        with np.errstate(invalid='ignore'):  # an infinite g times the NaN mask's zeros is nan, as in PyTorch
            return (g * _wrap(self.mask),)


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """``sum`` treating NaN as zero."""
    x = input._data
    if dtype is not None and x.dtype.kind == 'f':
        input = _cast_input(input, dtype)
        x = input._data
    dims = normalize_dims(dim, x.ndim)
    nan = np.isnan(x) if x.dtype.kind == 'f' else None
    xz = np.where(nan, x.dtype.type(0), x) if nan is not None and nan.any() else x
    r_arr = _sum_kernel(xz, dims, keepdim, _sum_dtype(x, dtype))
    r = _wrap(r_arr)
    if _records(input, r_arr):
        node = NansumBackward0((grad_edge(input),))
        node.mask = (~nan).astype(x.dtype)
        node.red_shape = _keep_shape(x.shape, dims)
        _attach(r, node)
    return _result(r, out)


class MeanBackward0(Node):
    """Gradient of a mean: ``g`` expanded back over the reduced dimensions, divided by their size."""

    __slots__ = ('shape', 'red_shape', 'n')

    def backward(self, g):
        if g._data.shape != self.red_shape:
            g = g.reshape(self.red_shape)
        return (g.expand(self.shape) / self.n,)


class MeanBackward1(MeanBackward0):
    __slots__ = ()


def _mean_dtype(input, dtype, name='mean'):
    if dtype is not None:
        d = _dtype.to_dtype(dtype)
        if not d.is_floating_point:
            raise RuntimeError(f'{name}(): could not infer output dtype. Optional dtype must be either a floating '
                               f'point or complex dtype. Got: {_type_name(d)}')
        return _cast_input(input, d)
    _as_float(input, name)
    return input


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over ``dim``; floating dtypes only (PyTorch's error for integer input). Empty -> nan."""
    input = _mean_dtype(input, dtype)
    x = input._data
    dims = normalize_dims(dim, x.ndim)
    n = _numel(x.shape, dims)
    s = np.add.reduce(x, axis=dims, dtype=_acc(x.dtype), keepdims=keepdim)
    r_arr = np.asarray(s / n if n else s * np.nan, x.dtype, like=x)
    r = _wrap(r_arr)
    if _records(input, r_arr):
        node = (MeanBackward0 if dim is None else MeanBackward1)((grad_edge(input),))
        node.shape, node.red_shape, node.n = x.shape, _keep_shape(x.shape, dims), n
        _attach(r, node)
    return _result(r, out)


class NanmeanBackward0(_WeightedBackward):
    """Gradient of ``nanmean``: ``g / count`` at the non-NaN elements (nan for all-NaN slices, as PyTorch)."""

    __slots__ = ()


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the non-NaN elements over ``dim`` (``nansum / count``); nan where all are NaN."""
    if dtype is None and input._data.dtype.kind != 'f':
        raise RuntimeError(f'nanmean(): expected input to have floating point or complex dtype but got '
                           f'{_type_name(input.dtype)}')
    input = _mean_dtype(input, dtype, 'nanmean')
    x = input._data
    dims = normalize_dims(dim, x.ndim)
    keep = ~np.isnan(x)
    count = np.add.reduce(keep, axis=dims, keepdims=True, dtype=x.dtype)
    s = np.add.reduce(np.where(keep, x, 0), axis=dims, keepdims=True, dtype=_acc(x.dtype))
    if count.all():
        r_arr, weights = s / count, keep / count
    else:
        with np.errstate(invalid='ignore', divide='ignore'):  # slices of NaNs only: 0 / 0
            r_arr, weights = s / count, keep / count
    r_arr = r_arr.astype(x.dtype, copy=False)
    if not keepdim:
        r_arr = r_arr.reshape(tuple(n for i, n in enumerate(x.shape) if i not in dims))
    r = _wrap(r_arr)
    if _records(input, r_arr):
        node = NanmeanBackward0((grad_edge(input),))
        node.weights = weights.astype(x.dtype, copy=False)
        node.red_shape = count.shape
        _attach(r, node)
    return _result(r, out)


# ---- prod ---------------------------------------------------------------------------------------

class ProdBackward0(SavedOutputNode):
    """Gradient of a product: ``g * prod(others)``, computed without dividing by zeros.

    Without zeros in the input it is ``g * result / input``. With zeros, a plain backward uses
    exclusive cumulative products from both ends (O(n)); a backward that must itself be
    differentiable (``create_graph``) builds the products of all-but-one element with Ember ops.
    """

    __slots__ = ('dim', 'red_shape')

    def backward(self, g):
        x, = self.saved()
        r = self.saved_output()
        if g._data.shape != self.red_shape:
            g = g.reshape(self.red_shape)
            r = r.reshape(self.red_shape)
        xa = x._data
        if xa.ndim == 0:
            return (g,)
        if not (xa == 0).any():
            return (g * r / x,)
        if self.dim is None:
            return ((g * _prod_others(x.reshape(-1), 0)).reshape(xa.shape),)
        return (g * _prod_others(x, self.dim),)


class ProdBackward1(ProdBackward0):
    __slots__ = ()


def _prod_others(x, d):
    """For each element along ``d``, the product of all the other elements along ``d``."""
    xa = x._data
    if not _grad_enabled():
        a = np.moveaxis(xa, d, -1)
        ones = np.ones(a.shape[:-1] + (1,), a.dtype, like=a)
        left = np.cumprod(np.concatenate([ones, a[..., :-1]], -1), -1)
        right = np.cumprod(np.concatenate([ones, a[..., :0:-1]], -1), -1)[..., ::-1]
        return _wrap(np.moveaxis(left * right, -1, d))
    # Differentiable form: row k of an (n, n) matrix holds the slice with element k replaced by 1.
    xt = x.transpose(d, -1)
    n = xa.shape[d]
    eye = np.eye(n, dtype=xa.dtype, like=xa)
    others = prod(xt.unsqueeze(-2) * _wrap(1 - eye) + _wrap(eye), -1)
    return others.transpose(d, -1)


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product over one ``dim`` (all elements when None); ints and bools give int64."""
    x = input._data
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    if dtype is not None and x.dtype.kind == 'f':
        input = _cast_input(input, dtype)
        x = input._data
    dims = normalize_dims(dim, x.ndim)
    rdt = _sum_dtype(x, dtype)
    r_arr = np.asarray(np.multiply.reduce(x, axis=dims, dtype=_acc(rdt), keepdims=keepdim), like=x)
    r_arr = r_arr.astype(rdt, copy=False)
    r = _wrap(r_arr)
    if _records(input, r_arr):
        node = (ProdBackward0 if dim is None else ProdBackward1)((grad_edge(input),))
        node.save(input)
        node.save_output(r)
        node.dim = dims[0] if dim is not None and dims else None
        node.red_shape = _keep_shape(x.shape, dims)
        _attach(r, node)
    return _result(r, out)


# ---- max, min, amax, amin, aminmax, argmax, argmin -----------------------------------------------------

class MaxBackward0(_ValueSelectingBackward):
    __slots__ = ()


class MinBackward0(_ValueSelectingBackward):
    __slots__ = ()


class MaxBackward1(_WeightedBackward):
    __slots__ = ()


class MinBackward1(_WeightedBackward):
    __slots__ = ()


class AmaxBackward0(_WeightedBackward):
    __slots__ = ()


class AminBackward0(_WeightedBackward):
    __slots__ = ()


def _no_dim_empty(name):
    return RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                        "reduction dim with the 'dim' argument.")


def _extreme(name, input, dim, keepdim, out, is_max):
    x = input._data
    if dim is None:
        if x.size == 0:
            raise _no_dim_empty(name)
        r_arr = np.asarray(np.max(x) if is_max else np.min(x), like=x)
        r = _wrap(r_arr)
        if _records(input, r_arr):
            _attach(r, _weighted(MaxBackward1 if is_max else MinBackward1, input, x, r_arr, tuple(range(x.ndim))))
        return _result(r, out)
    d = _one_dim(dim, x.ndim)
    scalar = x.ndim == 0
    if scalar:
        x = x.reshape(1)
    _check_nonempty(name, x, d)
    idx = (np.argmax if is_max else np.argmin)(x, axis=d, keepdims=True)
    return _selected(getattr(return_types, name), MaxBackward0 if is_max else MinBackward0, input, x, idx, d,
                     keepdim, out, scalar)


def max(input, dim=None, keepdim=False, *, other=None, out=None):
    """``max(input)``: the largest element (gradient split evenly among ties).
    ``max(input, dim, keepdim=False)``: named tuple (values, indices), first index among ties.
    ``max(input, other)``: elementwise ``maximum``. NaN propagates."""
    if isinstance(dim, Tensor) or other is not None:
        from .elementwise import maximum
        return maximum(input, dim if other is None else other, out=out)
    return _extreme('max', input, dim, keepdim, out, True)


def min(input, dim=None, keepdim=False, *, other=None, out=None):
    """Smallest element, or (values, indices) along ``dim``, or elementwise ``minimum`` with a tensor."""
    if isinstance(dim, Tensor) or other is not None:
        from .elementwise import minimum
        return minimum(input, dim if other is None else other, out=out)
    return _extreme('min', input, dim, keepdim, out, False)


def _amax_dims(name, x, dim):
    dims = normalize_dims(None if isinstance(dim, (tuple, list)) and not dim else dim, x.ndim)
    if x.size == 0:
        if dim is None or (isinstance(dim, (tuple, list)) and not dim):
            raise _no_dim_empty(name)
        for d in dims:
            _check_nonempty(name, x, d)
    return dims


def _amaxmin(name, input, dim, keepdim, out, is_max):
    x = input._data
    dims = _amax_dims(name, x, dim)
    r_arr = np.asarray((np.max if is_max else np.min)(x, axis=dims, keepdims=keepdim), like=x)
    r = _wrap(r_arr)
    if _records(input, r_arr):
        _attach(r, _weighted(AmaxBackward0 if is_max else AminBackward0, input, x, r_arr, dims))
    return _result(r, out)


def amax(input, dim=(), keepdim=False, *, out=None):
    """Largest values over ``dim`` (int or tuple; () means all); gradient split evenly among ties."""
    return _amaxmin('amax', input, dim, keepdim, out, True)


def amin(input, dim=(), keepdim=False, *, out=None):
    """Smallest values over ``dim`` (int or tuple; () means all); gradient split evenly among ties."""
    return _amaxmin('amin', input, dim, keepdim, out, False)


class AminmaxBackward0(Node):
    """Gradient of ``aminmax``: the ``amin`` and ``amax`` gradients of its two outputs, added."""

    __slots__ = ('w_min', 'w_max', 'red_shape')
    n_outputs = 2

    def backward(self, grads):
        total = None
        for g, w in zip(grads, (self.w_min, self.w_max)):
            if g is None:
                continue
            if g._data.shape != self.red_shape:
                g = g.reshape(self.red_shape)
            term = g * _wrap(w)
            total = term if total is None else total + term
        return (total,)


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """Named tuple (min, max) over ``dim`` (an int, or None for all elements)."""
    x = input._data
    if dim is None:
        if x.size == 0:
            raise RuntimeError('aminmax(): cannot compute aminmax over an empty dimension as the operation has no '
                               'identity.')
        dims = tuple(range(x.ndim))
    else:
        d = _one_dim(dim, x.ndim)
        if x.ndim and x.shape[d] == 0:
            raise IndexError(f'aminmax: Expected reduction dim {d} to have non-zero size.')
        dims = (d,) if x.ndim else ()
    lo = np.asarray(np.min(x, axis=dims, keepdims=keepdim), like=x)
    hi = np.asarray(np.max(x, axis=dims, keepdims=keepdim), like=x)
    rlo, rhi = _wrap(lo), _wrap(hi)
    if _records(input, lo):
        node = AminmaxBackward0((grad_edge(input),))
        red = _keep_shape(x.shape, dims)
        node.w_min = _even_weights(x, lo.reshape(red), dims)
        node.w_max = _even_weights(x, hi.reshape(red), dims)
        node.red_shape = red
        _attach(rlo, node)
        _attach(rhi, node)
        rhi._output_nr = 1
    if out is not None:
        rlo, rhi = write_out(out[0], rlo), write_out(out[1], rhi)
    return return_types.aminmax((rlo, rhi))


def _arg_extreme(name, input, dim, keepdim, out, fn):
    x = input._data
    if x.dtype == np.bool_:
        raise RuntimeError(f'{name}(): does not support bool input')
    if dim is None:
        if x.size == 0:
            raise IndexError(f'{name}(): Expected reduction dim to be specified for input.numel() == 0.')
        r = np.asarray(fn(x.reshape(-1)), _I64, like=x)
        if keepdim:
            r = r.reshape((1,) * x.ndim)
    else:
        d = _one_dim(dim, x.ndim)
        if x.ndim == 0:
            r = np.zeros((), _I64, like=x)
        else:
            _check_nonempty(name, x, d)
            r = np.asarray(fn(x, axis=d, keepdims=keepdim), _I64, like=x)
    return _result(_wrap(r), out)


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the largest element (of the flattened input when ``dim`` is None); first among ties."""
    return _arg_extreme('argmax', input, dim, keepdim, out, np.argmax)


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the smallest element (of the flattened input when ``dim`` is None); first among ties."""
    return _arg_extreme('argmin', input, dim, keepdim, out, np.argmin)


# ---- var, std, var_mean, std_mean ---------------------------------------------------------------------

def _std_args(name, input, dim, unbiased, correction):
    """Resolve PyTorch's overloads: ``(dim, unbiased)``, ``(unbiased)`` and ``correction=``."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f'{name}() received an invalid combination of arguments')
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got both 'unbiased' and "
                        "'correction'")
    if correction is None:
        correction = 0 if unbiased is False else 1
    if input._data.dtype.kind != 'f':
        raise RuntimeError('std and var only support floating point and complex dtypes')
    return dim, correction


def _moments(x, dims, correction, keepdim):
    """(variance, mean) arrays over ``dims``: two passes, in float32 for float16 input."""
    a = x.astype(_acc(x.dtype), copy=False)
    n = _numel(x.shape, dims)
    if n:
        m = np.add.reduce(a, axis=dims, keepdims=True) / n
    else:
        m = np.full(_keep_shape(x.shape, dims), np.nan, a.dtype, like=x)
    dev = a - m
    ss = np.add.reduce(dev * dev, axis=dims, keepdims=keepdim)
    denom = builtins.max(n - correction, 0)
    if denom:
        var = ss / denom
    else:
        with np.errstate(invalid='ignore', divide='ignore'):  # 0/0 -> nan, x/0 -> inf, as PyTorch
            var = ss / denom
    if not keepdim:
        m = m.reshape(np.shape(var))
    return np.asarray(var, like=x).astype(x.dtype, copy=False), np.asarray(m, like=x).astype(x.dtype, copy=False)


def _var_grad(g, x, dims, correction, red_shape):
    """``2 / (n - correction) * g * (x - mean(x))``, written with Ember ops."""
    if g._data.shape != red_shape:
        g = g.reshape(red_shape)
    n = _numel(x._data.shape, dims)
    denom = n - correction
    scale = 2.0 / denom if denom else math.inf
    return g * scale * (x - mean(x, dims, True))


class VarBackward0(Node):
    __slots__ = ('dims', 'correction', 'red_shape')

    def backward(self, g):
        x, = self.saved()
        return (_var_grad(g, x, self.dims, self.correction, self.red_shape),)


class StdBackward0(SavedOutputNode):
    """``var``'s gradient with ``g / (2 * std)`` (zero where std is zero)."""

    __slots__ = ('dims', 'correction', 'red_shape')

    def backward(self, g):
        x, = self.saved()
        r = self.saved_output()
        with np.errstate(invalid='ignore', divide='ignore'):
            gv = (g / (r * 2)).masked_fill(r == 0, 0)
            return (_var_grad(gv, x, self.dims, self.correction, self.red_shape),)


class VarMeanBackward0(SavedOutputNode):
    """Gradient of ``(var or std, mean)``: the two gradients added."""

    __slots__ = ('dims', 'correction', 'red_shape', 'is_std')
    n_outputs = 2

    def backward(self, grads):
        x, = self.saved()
        g_sd, g_mean = grads
        total = None
        if g_sd is not None:
            with np.errstate(invalid='ignore', divide='ignore'):
                if self.is_std:
                    r = self.saved_output()
                    g_sd = (g_sd / (r * 2)).masked_fill(r == 0, 0)
                total = _var_grad(g_sd, x, self.dims, self.correction, self.red_shape)
        if g_mean is not None:
            if g_mean._data.shape != self.red_shape:
                g_mean = g_mean.reshape(self.red_shape)
            term = g_mean.expand(x._data.shape) / _numel(x._data.shape, self.dims)
            total = term if total is None else total + term
        return (total,)


class StdMeanBackward0(VarMeanBackward0):
    __slots__ = ()


def _var_std(name, input, dim, unbiased, keepdim, correction, out, is_std, with_mean):
    dim, correction = _std_args(name, input, dim, unbiased, correction)
    x = input._data
    dims = normalize_dims(dim, x.ndim)
    n = _numel(x.shape, dims)
    if n - correction <= 0:
        import warnings
        warnings.warn(f'{name}(): degrees of freedom is <= 0. Correction should be strictly less than the '
                      'reduction factor (input numel divided by output numel).', UserWarning, stacklevel=3)
    var, m = _moments(x, dims, correction, keepdim)
    r_arr = np.sqrt(var) if is_std else var
    r = _wrap(r_arr)
    rm = _wrap(m) if with_mean else None
    if _records(input, r_arr):
        if with_mean:
            node = (StdMeanBackward0 if is_std else VarMeanBackward0)((grad_edge(input),))
            node.is_std = is_std
        else:
            node = (StdBackward0 if is_std else VarBackward0)((grad_edge(input),))
        node.save(input)
        if is_std:
            node.save_output(r)
        node.dims, node.correction, node.red_shape = dims, correction, _keep_shape(x.shape, dims)
        _attach(r, node)
        if with_mean:
            _attach(rm, node)
            rm._output_nr = 1
    if with_mean:
        return r, rm
    return _result(r, out)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; legacy ``unbiased=False`` means 0)."""
    return _var_std('var', input, dim, unbiased, keepdim, correction, out, False, False)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation over ``dim`` (``sqrt(var)``; same arguments as ``var``)."""
    return _var_std('std', input, dim, unbiased, keepdim, correction, out, True, False)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim`` in one pass (a plain tuple, as PyTorch)."""
    return _var_std('var_mean', input, dim, unbiased, keepdim, correction, None, False, True)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim`` in one pass (a plain tuple, as PyTorch)."""
    return _var_std('std_mean', input, dim, unbiased, keepdim, correction, None, True, True)


# ---- norm -----------------------------------------------------------------------------------------

class LinalgVectorNormBackward0(SavedOutputNode):
    """Gradient of the p-norm (PyTorch's ``norm_backward``), zero where the norm is zero."""

    __slots__ = ('ord', 'red_shape', 'weights')

    def backward(self, g):
        x, = self.saved()
        if g._data.shape != self.red_shape:
            g = g.reshape(self.red_shape)
        p = self.ord
        if self.weights is not None:  # inf / -inf: d|x|_inf is the sign at the (tied) extreme entries
            return (g * _wrap(self.weights),)
        if p == 0:
            return (g.expand(x._data.shape) * 0,)
        if p == 1:
            return (x.sign() * g,)
        r = self.saved_output()
        if r._data.shape != self.red_shape:
            r = r.reshape(self.red_shape)
        with np.errstate(invalid='ignore', divide='ignore', over='ignore'):
            return (self._formula(g, x, r, p),)

    @staticmethod
    def _formula(g, x, r, p):
        if p == 2:
            return x * (g / r).masked_fill(r == 0, 0)
        if p < 1:
            return x.sign() * x.abs().pow(p - 1).masked_fill(x == 0, 0) * g * r.pow(1 - p)
        scale = (g / r.pow(p - 1)).masked_fill(r == 0, 0)
        if p < 2:
            return x.sign() * x.abs().pow(p - 1) * scale
        return x * x.abs().pow(p - 2) * scale


def _vector_norm(input, p, dim, keepdim, dtype):
    x = input._data
    if x.dtype.kind != 'f':
        raise RuntimeError(f'linalg.vector_norm: Expected a floating point or complex tensor as input. Got '
                           f'{_type_name(input.dtype)}')
    if dtype is not None:
        input = _cast_input(input, dtype)
        x = input._data
    dims = normalize_dims(dim, x.ndim)
    p = float(p)
    a = x.astype(_acc(x.dtype), copy=False)
    if math.isinf(p):
        name = 'inf' if p > 0 else '-inf'
        empty = [d for d in dims if x.shape[d] == 0]
        if x.size == 0 and (dim is None or x.ndim == 0 or empty):
            # PyTorch's message has no space after the dimension number.
            where = 'an empty tensor because' if dim is None or x.ndim == 0 else \
                f'the dimension {empty[0]}because this dimension is empty and'
            raise RuntimeError(f'linalg.vector_norm cannot compute the {name} norm on {where} the operation does '
                               'not have an identity')
        r = (np.max if p > 0 else np.min)(np.abs(a), axis=dims, keepdims=keepdim)
    elif p == 2:
        r = np.sqrt(np.add.reduce(a * a, axis=dims, keepdims=keepdim))
    elif p == 1:
        r = np.add.reduce(np.abs(a), axis=dims, keepdims=keepdim)
    elif p == 0:
        r = np.add.reduce(a != 0, axis=dims, keepdims=keepdim, dtype=a.dtype)
    else:
        with np.errstate(divide='ignore'):
            r = np.add.reduce(np.abs(a) ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
    r_arr = np.asarray(r, like=x).astype(x.dtype, copy=False)
    out = _wrap(r_arr)
    if _records(input, r_arr):
        node = LinalgVectorNormBackward0((grad_edge(input),))
        node.save(input)
        node.save_output(out)
        node.ord = p
        node.red_shape = _keep_shape(x.shape, dims)
        node.weights = None
        if math.isinf(p):
            node.weights = _even_weights(np.abs(x), r_arr.reshape(node.red_shape), dims) * np.sign(x)
        _attach(out, node)
    return out


def norm(input, p='fro', dim=None, keepdim=False, out=None, dtype=None):
    """Vector p-norm over ``dim`` (all elements when None): p = 2 ('fro'), 1, inf, -inf, 0 or any float.

    ``p='nuc'`` (the nuclear norm, which needs an SVD) is not supported.
    """
    if isinstance(p, str):
        if p == 'nuc':
            raise NotImplementedError("norm(p='nuc'): the nuclear norm is not supported by Ember")
        if p != 'fro':
            raise RuntimeError(f'linalg.matrix_norm: Order {p} not supported.')
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) > 2:
            raise RuntimeError(f'linalg.matrix_norm: dim must be a 2-tuple. Got {" ".join(map(str, dim))}')
        p = 2
    if p is None:
        p = 2
    return _result(_vector_norm(input, p, dim, keepdim, dtype), out)


# ---- logsumexp ------------------------------------------------------------------------------------

class LogsumexpBackward0(SavedOutputNode):
    """``g * exp(x - result)`` (the softmax of ``x`` over the reduced dimensions)."""

    __slots__ = ('red_shape',)

    def backward(self, g):
        x, = self.saved()
        r = self.saved_output()
        if g._data.shape != self.red_shape:
            g = g.reshape(self.red_shape)
            r = r.reshape(self.red_shape)
        with np.errstate(invalid='ignore'):  # inf - inf where the input holds infinities
            return (g * (x - r).exp(),)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """``log(sum(exp(input)))`` over ``dim``, computed stably (the max is subtracted first)."""
    if input._data.dtype.kind != 'f':
        input = input.to(_dtype._default[0])
    x = input._data
    dims = normalize_dims(dim, x.ndim)
    a = x.astype(_acc(x.dtype), copy=False)
    finite = False
    if _numel(x.shape, dims) and x.size:
        m = np.max(a, axis=dims, keepdims=True)
        finite = np.isfinite(m).all()
        if not finite:
            m = np.where(np.isfinite(m), m, 0)
    else:
        m = np.zeros(_keep_shape(x.shape, dims), a.dtype, like=x)
    if finite:
        r = np.log(np.add.reduce(np.exp(a - m), axis=dims, keepdims=True)) + m
    else:
        with np.errstate(divide='ignore', invalid='ignore'):  # log(0) for empty or all -inf slices, inf - inf
            r = np.log(np.add.reduce(np.exp(a - m), axis=dims, keepdims=True)) + m
    if not keepdim:
        r = r.reshape(tuple(s for i, s in enumerate(x.shape) if i not in dims))
    r_arr = r.astype(x.dtype, copy=False)
    res = _wrap(r_arr)
    if _records(input, r_arr):
        node = LogsumexpBackward0((grad_edge(input),))
        node.save(input)
        node.save_output(res)
        node.red_shape = _keep_shape(x.shape, dims)
        _attach(res, node)
    return _result(res, out)


# ---- cumulative ops ------------------------------------------------------------------------------------

class ReverseCumsumBackward0(Node):
    __slots__ = ('dim',)

    def backward(self, g):
        return (cumsum(g, self.dim),)


def _reverse_cumsum(g, d):
    """Sums from each position to the end along ``d`` (the gradient of ``cumsum``)."""
    a = g._data
    out = _wrap(np.flip(np.cumsum(np.flip(a, d), d, dtype=_acc(a.dtype)), d).astype(a.dtype))
    if _grad_enabled() and g._requires_grad:
        node = ReverseCumsumBackward0((grad_edge(g),))
        node.dim = d
        _attach(out, node)
    return out


class CumsumBackward0(Node):
    __slots__ = ('dim',)

    def backward(self, g):
        if g._data.ndim == 0:
            return (g,)
        return (_reverse_cumsum(g, self.dim),)


def _scan_setup(input, dim, dtype):
    x = input._data
    if dtype is not None and x.dtype.kind == 'f':
        input = _cast_input(input, dtype)
        x = input._data
    d = _one_dim(dim, x.ndim)
    return input, x, d, _sum_dtype(x, dtype)


def cumsum(input, dim, *, dtype=None, out=None):
    """Cumulative sums along ``dim``; ints and bools accumulate in int64 unless ``dtype`` is given."""
    input, x, d, rdt = _scan_setup(input, dim, dtype)
    a = x.reshape(1) if x.ndim == 0 else x
    r_arr = np.cumsum(a, d, dtype=_acc(rdt)).astype(rdt, copy=False).reshape(x.shape)
    r = _wrap(r_arr)
    if _records(input, r_arr):
        node = CumsumBackward0((grad_edge(input),))
        node.dim = d
        _attach(r, node)
    return _result(r, out)


class CumprodBackward0(SavedOutputNode):
    """Gradient of ``cumprod`` (PyTorch's ``cumprod_backward``), correct with zeros in the input.

    Without zeros: ``reverse_cumsum(g * result) / input``. With zeros and no ``create_graph``, an
    O(n) masked formula: positions before the first zero use the formula above, the first zero
    gets ``prod(x[:z]) * sum_j g_j prod(x[z+1..j])`` over the run up to the next zero, later
    positions get 0. With ``create_graph``, the (n, n) matrix of "products omitting element k"
    is built with Ember ops so the result is differentiable again.
    """

    __slots__ = ('dim',)

    def backward(self, g):
        x, = self.saved()
        r = self.saved_output()
        xa = x._data
        d = self.dim
        if xa.ndim == 0 or xa.size <= 1 or xa.shape[d] == 1:
            return (g,)
        if not (xa == 0).any():
            return (_reverse_cumsum(g * r, d) / x,)
        if not _grad_enabled():
            return (_wrap(_cumprod_grad_zeros(g._data, xa, r._data, d)),)
        xt, gt = x.transpose(d, -1), g.transpose(d, -1)
        n = xa.shape[d]
        eye = np.eye(n, dtype=xa.dtype, like=xa)
        omitted = cumprod(xt.unsqueeze(-2) * _wrap(1 - eye) + _wrap(eye), -1)  # [k, j]: prod_{i<=j, i!=k} x_i
        upper = _wrap(np.triu(np.ones((n, n), xa.dtype, like=xa)))  # only j >= k contribute to x_k
        return ((gt.unsqueeze(-2) * omitted * upper).sum(-1).transpose(d, -1),)


def _cumprod_grad_zeros(g, x, y, d):
    zeros = np.cumsum(x == 0, d)
    before = zeros == 0
    with np.errstate(divide='ignore', invalid='ignore'):
        w = np.where(before, y * g, 0)
        grad = np.where(before, np.flip(np.cumsum(np.flip(w, d), d), d) / np.where(before, x, 1), 0)
    run = zeros == 1
    first = run & (x == 0)
    after_first = run & ~first
    seg = np.cumprod(np.where(after_first, x, 1), d)
    total = np.add.reduce(np.where(run, seg * g, 0), axis=d, keepdims=True)
    # prod(x[:z]) is y at the position before the first zero (1 when the zero comes first).
    z = np.argmax(first, axis=d, keepdims=True)
    prev = np.take_along_axis(y, np.maximum(z - 1, 0), d)
    prev = np.where(z == 0, 1, prev)
    return np.where(first, total * prev, grad).astype(x.dtype, copy=False)


def cumprod(input, dim, *, dtype=None, out=None):
    """Cumulative products along ``dim``; ints and bools give int64 unless ``dtype`` is given."""
    input, x, d, rdt = _scan_setup(input, dim, dtype)
    a = x.reshape(1) if x.ndim == 0 else x
    r_arr = np.cumprod(a, d, dtype=_acc(rdt)).astype(rdt, copy=False).reshape(x.shape)
    r = _wrap(r_arr)
    if _records(input, r_arr):
        node = CumprodBackward0((grad_edge(input),))
        node.save(input)
        node.save_output(r)
        node.dim = d
        _attach(r, node)
    return _result(r, out)


class CummaxBackward0(Node):
    """Gradient of ``cummax``/``cummin``: ``g`` scatter-added at the recorded indices."""

    __slots__ = ('idx', 'dim', 'shape')

    def backward(self, g):
        r = _put_along(g.reshape(self.idx.shape), self.idx, self.dim, self.idx.shape, accumulate=True)
        return (r.reshape(self.shape) if self.shape != self.idx.shape else r,)


class CumminBackward0(CummaxBackward0):
    __slots__ = ()


def _cum_extreme(name, input, dim, out, is_max):
    x = input._data
    d = _one_dim(dim, x.ndim)
    a = x.reshape(1) if x.ndim == 0 else x
    ufunc = np.maximum if is_max else np.minimum
    values = ufunc.accumulate(a, axis=d) if a.size else a.copy()
    # The index is the latest position holding the running extreme (or the latest NaN once one appeared).
    pos = np.arange(a.shape[d], like=a).reshape((-1,) + (1,) * (a.ndim - d - 1))
    hit = a == values
    if a.dtype.kind == 'f':
        hit |= np.isnan(a)
    idx = np.maximum.accumulate(np.where(hit, pos, 0), axis=d) if a.size else np.zeros(a.shape, _I64, like=a)
    idx = idx.astype(_I64, copy=False)
    v = _wrap(values.reshape(x.shape))
    if _records(input, values):
        node = (CummaxBackward0 if is_max else CumminBackward0)((grad_edge(input),))
        node.idx, node.dim, node.shape = idx, d, x.shape
        _attach(v, node)
    return _results(getattr(return_types, name), v, _wrap(idx.reshape(x.shape)), out)


def cummax(input, dim, *, out=None):
    """Named tuple (values, indices): running maximum along ``dim`` and where it was last attained."""
    return _cum_extreme('cummax', input, dim, out, True)


def cummin(input, dim, *, out=None):
    """Named tuple (values, indices): running minimum along ``dim`` and where it was last attained."""
    return _cum_extreme('cummin', input, dim, out, False)


# ---- all, any, count_nonzero --------------------------------------------------------------------------

def _logical_reduce(input, dim, keepdim, out, fn):
    x = input._data
    if isinstance(dim, (tuple, list)) and not dim:
        dims = ()  # an empty tuple reduces nothing here, unlike sum
    else:
        dims = normalize_dims(dim, x.ndim)
    r = np.asarray(fn(x, axis=dims, keepdims=keepdim), like=x)
    if x.dtype == np.uint8:
        r = r.astype(np.uint8)  # PyTorch keeps uint8 for backward compatibility
    return _result(_wrap(r), out)


def all(input, dim=None, keepdim=False, *, out=None):
    """True where every element over ``dim`` is nonzero (bool result; uint8 input gives uint8)."""
    return _logical_reduce(input, dim, keepdim, out, np.all)


def any(input, dim=None, keepdim=False, *, out=None):
    """True where some element over ``dim`` is nonzero (bool result; uint8 input gives uint8)."""
    return _logical_reduce(input, dim, keepdim, out, np.any)


def count_nonzero(input, dim=None):
    """Number of nonzero elements over ``dim`` (int or tuple; all when None), as int64."""
    x = input._data
    dims = normalize_dims(dim, x.ndim)
    return _wrap(np.asarray(np.add.reduce(x != 0, axis=dims, dtype=_I64), like=x))


# ---- sum_to_size ------------------------------------------------------------------------------------

def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (which ``input`` must be broadcastable from)."""
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = tuple(size[0])
    from ._node import sum_to_shape
    if not _expandable(tuple(size), input._data.shape):
        raise RuntimeError(f'size {{{", ".join(map(str, size))}}} is not expandable to size '
                           f'{{{", ".join(map(str, input.shape))}}}.')
    return sum_to_shape(input, tuple(size))


def _expandable(small, big):
    if len(small) > len(big):
        return False
    for s, b in zip(reversed(small), reversed(big)):
        if s != 1 and s != b:
            return False
    return True


__all__ = ['sum', 'nansum', 'mean', 'nanmean', 'prod', 'max', 'min', 'amax', 'amin', 'aminmax', 'argmax', 'argmin',
           'std', 'var', 'std_mean', 'var_mean', 'norm', 'logsumexp', 'cumsum', 'cumprod', 'cummax', 'cummin', 'all',
           'any', 'count_nonzero']
METHODS = {name: globals()[name] for name in __all__ if name not in ('std_mean', 'var_mean')}
METHODS.update(sum_to_size=sum_to_size, cumsum_=inplace_variant(cumsum, 'cumsum_'),
               cumprod_=inplace_variant(cumprod, 'cumprod_'))
