"""Pooling: max / average / adaptive / power-average pooling, max_unpool, in 1 to 3 dims.

Inputs are ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``. Window reductions are written
as one NumPy pass per kernel offset over strided views of the (padded) input, e.g. a 2x2
max-pool is ``np.maximum`` of four stride-2 slices, never a Python loop over output positions.

Every backward is a linear map with a linear adjoint, so each pooling op comes as a pair of
nodes (``AvgPool2DBackward0`` / ``AvgPool2DBackwardBackward0``) that call each other, which
makes double backward work:

- max pooling records, per output, which kernel offset held the first maximum (PyTorch's CPU
  rule: a later value wins only if strictly greater, or NaN); its backward scatters the
  gradient to those positions, and the adjoint gathers;
- average pooling's backward spreads the gradient over each window, its adjoint is the
  average pooling again;
- adaptive average pooling with uneven windows is a product of per-dim averaging matrices.
"""
import itertools
import math

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.graph import Node
from ._im2col import pad_array
from ._node import attach, edges, needs_grad
from .conv import _SCALAR_NAME


# ---- linear ops with their adjoints ---------------------------------------------------------

class _LinearNode(Node):
    """Backward of a linear map: applies its adjoint (``pair`` = (adjoint, map, adjoint node class))."""

    __slots__ = ('pair',)

    def backward(self, g):
        if self.pair is None:
            self.saved()  # raises the "backward through the graph a second time" error
        adj, fwd, adj_cls = self.pair
        return (_linear(g, adj, fwd, adj_cls, type(self)),)

    def _release_extra(self):
        self.pair = None
        self._released = True


def _linear_nodes(name):
    """The node classes ``<name>Backward0`` (of the op) and ``<name>BackwardBackward0`` (of its backward)."""
    fwd = type(name + 'Backward0', (_LinearNode,), {'__slots__': ()})
    bwd = type(name + 'BackwardBackward0', (_LinearNode,), {'__slots__': ()})
    return fwd, bwd


def _linear(x, fwd, adj, node_cls, adj_cls):
    """``fwd(x)`` as a tensor (``fwd``/``adj`` act on arrays); its node applies ``adj`` to the gradient."""
    return _record(_wrap(fwd(x._data)), x, fwd, adj, node_cls, adj_cls)


def _record(y, x, fwd, adj, node_cls, adj_cls):
    """Attach to ``y``, already computed as ``fwd(x)``, the node of the linear map ``fwd``."""
    if needs_grad(x):
        node = node_cls(edges(x))
        node.pair = (adj, fwd, adj_cls)
        attach(y, node)
    return y


_NODES = {}


def _nodes(name):
    if name not in _NODES:
        _NODES[name] = _linear_nodes(name)
    return _NODES[name]


# ---- geometry ---------------------------------------------------------------------------------

def _tuple(value, nd, name, fn):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * nd
    if isinstance(value, Tensor):
        value = value.tolist()
    try:
        items = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f'{fn}(): argument \'{name}\' must be tuple of ints, not {type(value).__name__}') from None
    if len(items) == 1:
        return items * nd
    if len(items) != nd:
        raise RuntimeError(f'{fn}: {name} must either be a single int, or a tuple of {nd} ints')
    return items


def _pool_out(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape: with ``ceil_mode`` a last window that would start in the
    right padding (or past the input) is dropped."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _batched(input, nd, fn, msg):
    """``input`` with a batch dim (unsqueezed when unbatched) and whether it was unbatched."""
    if not isinstance(input, Tensor):
        raise TypeError(f'{fn}(): argument \'input\' (position 1) must be Tensor, not {type(input).__name__}')
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(msg)
    if input.dim() == nd + 1:
        return input.unsqueeze(0), True
    return input, False


def _window_args(nd, fn, x, kernel_size, stride, padding, dilation, ceil_mode, max_pool):
    """Validated (k, s, p, d, out, pads) for a sliding-window pooling of batched ``x``."""
    k = _tuple(kernel_size, nd, 'kernel_size', fn)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _tuple(stride, nd, 'stride', fn)
    p = _tuple(padding, nd, 'padding', fn)
    d = _tuple(dilation, nd, 'dilation', fn)
    if any(v <= 0 for v in k):
        raise RuntimeError(f'kernel size should be greater than zero, but got {_labels("k", k)}')
    if any(v == 0 for v in s):
        raise RuntimeError('stride should not be zero')
    if any(v < 0 for v in s):
        raise RuntimeError(f'stride should be greater than zero, but got {_labels("d", s)}')
    if any(v <= 0 for v in d):
        raise RuntimeError(f'dilation should be greater than zero, but got {_labels("dilation", d)}')
    if any(v < 0 for v in p):
        raise RuntimeError(f'pad must be non-negative, but got pad: {list(p)}')
    for kk, pp, dd in zip(k, p, d):
        half = (dd * (kk - 1) + 1) // 2 if max_pool else kk // 2
        if pp > half:
            raise RuntimeError(f'pad should be at most half of effective kernel size, but got pad={pp}, '
                               f'kernel_size={kk} and dilation={dd}')
    spatial = tuple(x.shape[2:])
    if any(v == 0 for v in spatial) or x.shape[1] == 0:
        raise RuntimeError(f'Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim batch size for '
                           f'input, but got:{list(x.shape)}')
    out = tuple(_pool_out(sz, kk, st, pp, dd, ceil_mode) for sz, kk, st, pp, dd in zip(spatial, k, s, p, d))
    if any(v < 1 for v in out):
        c = x.shape[1]
        raise RuntimeError(f'Given input size: ({"x".join(map(str, (c,) + spatial))}). Calculated output size: '
                           f'({"x".join(map(str, (c,) + out))}). Output size is too small')
    # High pads reach the end of the last window (ceil_mode windows may run past the padding).
    pads = tuple((pp, max(0, (o - 1) * st + dd * (kk - 1) + 1 - sz - pp))
                 for sz, kk, st, pp, dd, o in zip(spatial, k, s, p, d, out))
    return k, s, p, d, out, pads


def _labels(prefix, vals):
    names = ('T', 'H', 'W')[3 - len(vals):] if len(vals) > 1 else ('W',)
    return ' '.join(f'{prefix}{n}: {v}' for n, v in zip(names, vals))


def _offsets(k):
    return list(itertools.product(*(range(kk) for kk in k)))


def _view(xp, off, d, s, out):
    """The (N, C, *out) strided slice of padded ``xp`` read by kernel offset ``off``."""
    return xp[(slice(None), slice(None)) + tuple(slice(o * dd, o * dd + (m - 1) * st + 1, st)
                                                 for o, dd, st, m in zip(off, d, s, out))]


def _crop(buf, pads, spatial):
    return buf[(slice(None), slice(None)) + tuple(slice(lo, lo + sz) for (lo, _), sz in zip(pads, spatial))]


def _padded_shape(shape, pads):
    return tuple(shape[:2]) + tuple(sz + lo + hi for sz, (lo, hi) in zip(shape[2:], pads))


def _disjoint(k, s, d):
    """True when no two (window, offset) pairs read the same input element."""
    return all(st >= dd * (kk - 1) + 1 for kk, st, dd in zip(k, s, d))


# ---- max pooling ------------------------------------------------------------------------------

def _max_windows(a, k, s, d, pads, out, need_arg):
    """Max over each window of ``a`` and, if ``need_arg``, the kernel offset of the first maximum."""
    if a.dtype.kind == 'f':
        fill = -np.inf
    else:
        fill = np.iinfo(a.dtype).min
    xp = pad_array(a, pads, fill)
    offs = _offsets(k)
    if not need_arg:
        r = np.array(_view(xp, offs[0], d, s, out), copy=True, like=xp)
        for off in offs[1:]:
            np.maximum(r, _view(xp, off, d, s, out), out=r)
        return r, None
    # As PyTorch's kernel: start from the lowest value at the window's first in-bounds element,
    # then a later element wins only if strictly greater (or NaN), so padding never wins a tie.
    r = np.full(a.shape[:2] + tuple(out), fill, a.dtype, like=a)
    atype = np.min_scalar_type(len(offs))
    arg = np.zeros((1, 1) + tuple(out), atype, like=a)
    for i, (kk, st, dd, (lo, _), o) in enumerate(zip(k, s, d, pads, out)):
        first = np.maximum(0, -((np.arange(o, like=a) * st - lo) // dd))
        shape = [1] * (len(k) + 2)
        shape[2 + i] = o
        arg = arg * kk + first.reshape(shape).astype(atype)
    arg = np.broadcast_to(arg, r.shape).copy()
    m = np.empty(r.shape, bool, like=r)
    if a.dtype.kind == 'f' and bool(np.isnan(a).any()):
        for i, off in enumerate(offs):
            v = _view(xp, off, d, s, out)
            np.greater(v, r, out=m)
            m |= np.isnan(v)
            np.copyto(r, v, where=m)
            np.copyto(arg, i, where=m)
        return r, arg
    step = np.empty(r.shape, atype, like=r)
    for i, off in enumerate(offs):
        v = _view(xp, off, d, s, out)
        np.greater(v, r, out=m)
        np.maximum(r, v, out=r)
        # Offsets come in increasing order, so "arg = i where m" is a max with m * i (no masked copy).
        np.multiply(m.view(np.uint8), i, out=step, casting='unsafe')
        np.maximum(arg, step, out=arg)
    return r, arg


def _arg_scatter(g, arg, shape, k, s, d, pads):
    """Adjoint of ``_arg_gather``: add ``g`` (N, C, *out) at the arg-selected input positions."""
    out = g.shape[2:]
    buf = np.zeros(_padded_shape(shape, pads), g.dtype, like=g)
    disjoint = _disjoint(k, s, d)
    # Multiplying by the mask is several times faster than a masked copy, but only exact when
    # g is finite (inf * 0 is nan).
    finite = bool(np.isfinite(g).all())
    m = np.empty(arg.shape, bool, like=arg)
    tmp = None if disjoint else np.empty(g.shape, g.dtype, like=g)
    for i, off in enumerate(_offsets(k)):
        np.equal(arg, i, out=m)
        view = _view(buf, off, d, s, out)
        if not finite:
            np.add(view, g, out=view, where=m)
        elif disjoint:
            np.multiply(g, m, out=view)
        else:
            np.multiply(g, m, out=tmp)
            view += tmp
    return np.ascontiguousarray(_crop(buf, pads, shape[2:]), like=buf)


def _arg_gather(h, arg, k, s, d, pads, out):
    """Values of ``h`` (N, C, *in) at the arg-selected position of each window."""
    hp = pad_array(h, pads)
    r = np.zeros(h.shape[:2] + tuple(out), h.dtype, like=h)
    m = np.empty(arg.shape, bool, like=arg)
    for i, off in enumerate(_offsets(k)):
        np.equal(arg, i, out=m)
        np.copyto(r, _view(hp, off, d, s, out), where=m)
    return r


def _flat_indices(arg, k, s, d, pads, out, spatial):
    """PyTorch's ``return_indices``: flat positions in each (unpadded) input plane."""
    offs = np.unravel_index(arg, k)
    nd = len(k)
    idx = np.zeros(arg.shape, np.int64, like=arg)
    for i in range(nd):
        shape = [1] * (nd + 2)
        shape[2 + i] = out[i]
        start = (np.arange(out[i], dtype=np.int64, like=arg) * s[i] - pads[i][0]).reshape(shape)
        idx *= spatial[i]
        idx += start + offs[i].astype(np.int64) * d[i]
    return idx


def _max_pool(nd, fn, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, msg):
    x, unbatched = _batched(input, nd, fn, msg)
    a = x._data
    if a.dtype.kind == 'b':
        raise NotImplementedError(f'"max_pool{nd}d" not implemented for \'Bool\'')
    k, s, p, d, out, pads = _window_args(nd, fn, x, kernel_size, stride, padding, dilation, ceil_mode, True)
    r, arg = _max_windows(a, k, s, d, pads, out, needs_grad(x) or return_indices)
    shape = a.shape
    y = _record(_wrap(r), x, lambda h: _arg_gather(h, arg, k, s, d, pads, out),
                lambda g: _arg_scatter(g, arg, shape, k, s, d, pads), *_nodes(f'MaxPool{nd}DWithIndices'))
    if unbatched:
        y = y.squeeze(0)
    if return_indices:
        idx = _wrap(_flat_indices(arg, k, s, d, pads, out, a.shape[2:]))
        return y, idx.squeeze(0) if unbatched else idx
    return y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L); ``stride`` defaults to ``kernel_size``; padding is
    -inf and at most half the effective kernel. With ``return_indices`` also returns the flat position
    of each maximum (the first one on ties) in the input, as ``max_unpool1d`` takes."""
    return _max_pool(1, 'max_pool1d', input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     f'max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, '
                     f'but got:{list(input.shape)}')


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W).

    ``H_out = floor_or_ceil((H + 2*padding - dilation*(kH-1) - 1) / stride) + 1``; in ``ceil_mode`` a
    last window starting in the right padding is dropped. The gradient goes to the first maximum.
    """
    return _max_pool(2, 'max_pool2d', input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     'non-empty 3D or 4D (batch mode) tensor expected for input')


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W); arguments as ``max_pool2d``."""
    return _max_pool(3, 'max_pool3d', input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     'non-empty 4D or 5D (batch mode) tensor expected for input')


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool1d`` returning ``(values, indices)``."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool2d`` returning ``(values, indices)``."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool3d`` returning ``(values, indices)``."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---- average pooling --------------------------------------------------------------------------

def _divisor(spatial, k, s, p, out, count_include_pad, like):
    """Per-output divisors (broadcastable to (*out), an array of ``like``'s kind) as PyTorch computes
    them: the window clipped to the padded input, and further to the input when padding is not counted."""
    div = np.ones((), np.float64, like=like)
    for i, (sz, kk, st, pp, o) in enumerate(zip(spatial, k, s, p, out)):
        start = np.arange(o, like=like) * st - pp
        end = np.minimum(start + kk, sz + pp)
        size = end - start
        if not count_include_pad:
            size = np.minimum(end, sz) - np.maximum(start, 0)
        shape = [1] * len(k)
        shape[i] = o
        div = div * size.reshape(shape)
    return div


def _blockwise(k, s, pads, d, spatial, out):
    """True when windows tile the input without overlap or padding (a reshape gives them all)."""
    return all(st == kk and dd == 1 and lo == 0 and hi == 0 and o * kk <= sz
               for kk, st, (lo, hi), dd, sz, o in zip(k, s, pads, d, spatial, out))


def _block_axes(nd):
    return tuple(3 + 2 * i for i in range(nd))


def _block_shape(shape, k, out):
    return tuple(shape[:2]) + tuple(v for o, kk in zip(out, k) for v in (o, kk))


def _window_sum(a, k, s, pads, out):
    """Sum over each window of ``a`` (zero padding), in ``a``'s dtype."""
    d = (1,) * len(k)
    if math.prod(k) >= 16 and _blockwise(k, s, pads, d, a.shape[2:], out):
        crop = a[(slice(None), slice(None)) + tuple(slice(0, o * kk) for o, kk in zip(out, k))]
        return crop.reshape(_block_shape(a.shape, k, out)).sum(axis=_block_axes(len(k)), dtype=a.dtype)
    xp = pad_array(a, pads)
    offs = _offsets(k)
    r = np.array(_view(xp, offs[0], d, s, out), copy=True, like=xp)
    for off in offs[1:]:
        r += _view(xp, off, d, s, out)
    return r


def _window_spread(g, shape, k, s, pads):
    """Adjoint of ``_window_sum``: every input position gets the sum of ``g`` over windows covering it."""
    out = g.shape[2:]
    d = (1,) * len(k)
    if math.prod(k) >= 16 and _blockwise(k, s, pads, d, shape[2:], out):
        r = np.zeros(shape, g.dtype, like=g)
        blocks = r[(slice(None), slice(None)) + tuple(slice(0, o * kk) for o, kk in zip(out, k))]
        bshape = _block_shape(shape, k, out)
        gb = g.reshape(tuple(g.shape) + (1,) * len(k)).transpose(
            (0, 1) + tuple(v for i in range(len(k)) for v in (2 + i, 2 + len(k) + i)))
        blocks[...] = np.broadcast_to(gb, bshape).reshape(blocks.shape)
        return r
    buf = np.zeros(_padded_shape(shape, pads), g.dtype, like=g)
    disjoint = _disjoint(k, s, d)
    for off in _offsets(k):
        view = _view(buf, off, d, s, out)
        if disjoint:
            view[...] = g
        else:
            view += g
    return np.ascontiguousarray(_crop(buf, pads, shape[2:]), like=buf)


def _int_div(a, div):
    """PyTorch's integer average: the quotient truncated toward zero."""
    q = np.abs(a) // np.asarray(div, np.int64, like=a)
    return np.where(a < 0, -q, q)


def _avg_pool(nd, fn, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, msg):
    x, unbatched = _batched(input, nd, fn, msg)
    a = x._data
    if a.dtype.kind in 'biu' and a.dtype != np.int64:
        kernel = 'avg_pool3d_out_frame' if nd == 3 else 'avg_pool2d'
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_SCALAR_NAME[a.dtype.name]}\'')
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError('divisor must be not zero')
    k, s, p, _, out, pads = _window_args(nd, fn, x, kernel_size, stride, padding, 1, ceil_mode, False)
    shape = a.shape
    if divisor_override is not None:
        div = np.asarray(divisor_override, np.float64, like=a)
    else:
        div = _divisor(shape[2:], k, s, p, out, count_include_pad, a)
    if a.dtype.kind != 'f':
        y = _wrap(_int_div(_window_sum(a, k, s, pads, out), div.astype(np.int64)))
    else:
        div = div.astype(a.dtype)

        def fwd(v):
            r = _window_sum(v, k, s, pads, out)
            r /= div
            return r

        def adj(g):
            return _window_spread(g / div, shape, k, s, pads)

        y = _linear(x, fwd, adj, *_nodes(f'AvgPool{nd}D'))
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L); zero padding counted in the divisor unless
    ``count_include_pad`` is False; ``stride`` defaults to ``kernel_size``."""
    return _avg_pool(1, 'avg_pool1d', input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     f'Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 \'self\' '
                     '(while checking arguments for avg_pool1d)')


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W).

    Each window's sum is divided by its size clipped to the padded input (``count_include_pad``),
    by the number of real input elements in it (otherwise), or by ``divisor_override``.
    """
    return _avg_pool(2, 'avg_pool2d', input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 'non-empty 3D or 4D (batch mode) tensor expected for input')


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W); arguments as ``avg_pool2d``."""
    return _avg_pool(3, 'avg_pool3d', input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 'non-empty 4D or 5D (batch mode) tensor expected for input')


# ---- adaptive pooling -------------------------------------------------------------------------

def _adaptive_args(nd, fn, input, output_size):
    if not isinstance(input, Tensor):
        raise TypeError(f'{fn}(): argument \'input\' (position 1) must be Tensor, not {type(input).__name__}')
    if input.dim() not in (nd + 1, nd + 2):
        if nd == 1:
            raise RuntimeError(f'Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument '
                               f'#1 \'self\' (while checking arguments for {fn})')
        colon = ':' if 'max' in fn else ''
        raise RuntimeError(f'{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got{colon} {list(input.shape)}')
    spatial = tuple(input.shape[-nd:])
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) == 1:
        output_size = output_size * nd
    if len(output_size) != nd:
        raise RuntimeError(f'{fn}(): internal error: output_size.size() must be {nd}')
    out = tuple(sz if o is None else int(o) for o, sz in zip(output_size, spatial))
    if any(o < 0 for o in out):
        raise RuntimeError(f'{fn}: elements of output_size must be greater than or equal to 0 but received '
                           f'{{{", ".join(map(str, out))}}}')
    for i in range(input.dim() - nd, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f'{fn}(): Expected input to have non-zero size for non-batch dimensions, but input '
                               f'has sizes {list(input.shape)} with dimension {i} being empty')
    return out


def _adaptive_bounds(size, o, like):
    """Start and end (exclusive) of each of the ``o`` adaptive windows along a length-``size`` axis."""
    i = np.arange(o, like=like)
    return (i * size) // o, -((-(i + 1) * size) // o)


def _avg_matrix(size, o, like):
    """(o, size) matrix (``like``'s dtype and kind) averaging each adaptive window of a length-``size`` axis."""
    start, end = _adaptive_bounds(size, o, like)
    pos = np.arange(size, like=like)
    m = ((pos >= start[:, None]) & (pos < end[:, None])).astype(np.float64)
    return (m / (end - start)[:, None]).astype(like.dtype)


def _apply_axes(a, mats):
    """Apply ``mats[i]`` (o_i, s_i) along spatial axis i of ``a`` (N, C, *s)."""
    for i, m in enumerate(mats):
        if m is None:
            continue
        a = np.moveaxis(np.matmul(m, np.moveaxis(a, 2 + i, -2)), -2, 2 + i)
    return np.ascontiguousarray(a, like=a)


def _adaptive_avg(nd, fn, input, output_size):
    out = _adaptive_args(nd, fn, input, output_size)
    x, unbatched = (input.unsqueeze(0), True) if input.dim() == nd + 1 else (input, False)
    a = x._data
    if a.dtype.kind != 'f':
        raise NotImplementedError(f'"adaptive_avg_pool{max(nd, 2)}d" not implemented for '
                                  f'\'{_SCALAR_NAME[a.dtype.name]}\'')
    spatial = a.shape[2:]
    nodes = _nodes(f'AdaptiveAvgPool{nd}D')
    shape = a.shape
    if any(o == 0 for o in out):
        def fwd(v):
            return np.zeros(shape[:2] + out, v.dtype, like=v)

        def adj(g):
            return np.zeros(shape, g.dtype, like=g)
    elif all(sz % o == 0 for sz, o in zip(spatial, out)):
        k = tuple(sz // o for sz, o in zip(spatial, out))
        pads = ((0, 0),) * nd
        div = np.asarray(math.prod(k), a.dtype, like=a)

        def fwd(v):
            r = _window_sum(v, k, k, pads, out)
            r /= div
            return r

        def adj(g):
            return _window_spread(g / div, shape, k, k, pads)
    else:
        mats = [None if sz == o else _avg_matrix(sz, o, a) for sz, o in zip(spatial, out)]
        mats_t = [None if m is None else np.ascontiguousarray(m.T, like=m) for m in mats]

        def fwd(v):
            return _apply_axes(v, mats)

        def adj(g):
            return _apply_axes(g, mats_t)
    y = _linear(x, fwd, adj, *nodes)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) to length ``output_size``; window i covers
    ``[floor(i*L/out), ceil((i+1)*L/out))``."""
    return _adaptive_avg(1, 'adaptive_avg_pool1d', input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (int or pair; None keeps a size)."""
    return _adaptive_avg(2, 'adaptive_avg_pool2d', input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size``."""
    return _adaptive_avg(3, 'adaptive_avg_pool3d', input, output_size)


def _flat_scatter(g, idx, shape):
    """Add ``g`` (N, C, *) at flat positions ``idx`` of each (N, C) plane of a zero array of ``shape``."""
    n, c = shape[:2]
    r = np.zeros((n * c, math.prod(shape[2:])), g.dtype, like=g)
    rows = np.arange(n * c, like=g).reshape(n * c, 1)
    np.add.at(r, (rows, idx.reshape(n * c, -1)), g.reshape(n * c, -1))
    return r.reshape(shape)


def _flat_gather(h, idx):
    n, c = h.shape[:2]
    return np.take_along_axis(h.reshape(n, c, -1), idx.reshape(n, c, -1), axis=2).reshape(idx.shape)


def _adaptive_max(nd, fn, input, output_size, return_indices):
    out = _adaptive_args(nd, fn, input, output_size)
    x, unbatched = (input.unsqueeze(0), True) if input.dim() == nd + 1 else (input, False)
    a = x._data
    if a.dtype.kind != 'f':
        raise NotImplementedError(f'"adaptive_max_pool{max(nd, 2)}d" not implemented for '
                                  f'\'{_SCALAR_NAME[a.dtype.name]}\'')
    spatial = a.shape[2:]
    shape = a.shape
    fwd_cls, bwd_cls = _nodes(f'AdaptiveMaxPool{nd}D')
    if any(o == 0 for o in out):
        r, idx = np.zeros(shape[:2] + out, a.dtype, like=a), np.zeros(shape[:2] + out, np.int64, like=a)
        y = _wrap(r)
    elif all(sz % o == 0 for sz, o in zip(spatial, out)):
        k = tuple(sz // o for sz, o in zip(spatial, out))
        one, pads = (1,) * nd, ((0, 0),) * nd
        r, arg = _max_windows(a, k, k, one, pads, out, True)
        idx = _flat_indices(arg, k, k, one, pads, out, spatial)
        y = _record(_wrap(r), x, lambda h: _arg_gather(h, arg, k, k, one, pads, out),
                    lambda g: _arg_scatter(g, arg, shape, k, k, one, pads), fwd_cls, bwd_cls)
    else:
        # Uneven windows: gather every window padded to the longest by repeating its last element
        # (a repeat never changes the max nor the first position of the max).
        idxs = []
        for sz, o in zip(spatial, out):
            start, end = _adaptive_bounds(sz, o, a)
            kmax = int((end - start).max())
            idxs.append(np.minimum(start[:, None] + np.arange(kmax, like=a), end[:, None] - 1))
        flat = np.zeros((), np.int64, like=a)
        for i, (sz, ix) in enumerate(zip(spatial, idxs)):
            sh = [1] * (2 * nd)
            sh[i], sh[nd + i] = ix.shape
            flat = flat * sz + ix.reshape(sh)
        cand = flat.reshape(out + (-1,))
        win = a.reshape(shape[:2] + (-1,))[:, :, cand]
        pos = np.argmax(win, axis=-1)
        idx = np.take_along_axis(np.broadcast_to(cand, win.shape), pos[..., None], -1)[..., 0]
        r = np.take_along_axis(win, pos[..., None], -1)[..., 0]
        y = _record(_wrap(r), x, lambda h: _flat_gather(h, idx), lambda g: _flat_scatter(g, idx, shape),
                    fwd_cls, bwd_cls)
    if unbatched:
        y, idx = y.squeeze(0), idx[0]
    if return_indices:
        return y, _wrap(np.ascontiguousarray(idx, np.int64, like=idx))
    return y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to length ``output_size`` (windows as ``adaptive_avg_pool1d``);
    with ``return_indices`` also the flat input position of each maximum."""
    return _adaptive_max(1, 'adaptive_max_pool1d', input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of (N, C, H, W) or (C, H, W) to ``output_size``; see ``adaptive_max_pool1d``."""
    return _adaptive_max(2, 'adaptive_max_pool2d', input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size``; see ``adaptive_max_pool1d``."""
    return _adaptive_max(3, 'adaptive_max_pool3d', input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d`` returning ``(values, indices)``."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d`` returning ``(values, indices)``."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d`` returning ``(values, indices)``."""
    return adaptive_max_pool3d(input, output_size, True)


# ---- max_unpool, lp_pool ------------------------------------------------------------------------

def _max_unpool(nd, fn, input, indices, kernel_size, stride, padding, output_size):
    k = _tuple(kernel_size, nd, 'kernel_size', fn)
    s = k if stride is None else _tuple(stride, nd, 'stride', fn)
    p = _tuple(padding, nd, 'padding', fn)
    if not isinstance(indices, Tensor) or indices._data.dtype != np.int64:
        raise RuntimeError(f'elements in indices should be type int64 but got: '
                           f'{getattr(indices, "dtype", type(indices).__name__)}')
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f'Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) '
                           f'but got indices tensor with shape: {list(indices.shape)}')
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f'{fn}: Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}')
    spatial = tuple(input.shape[-nd:])
    default = tuple((sz - 1) * st - 2 * pp + kk for sz, st, pp, kk in zip(spatial, s, p, k))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)
        if len(out) == nd + 2:
            out = out[2:]
        if len(out) != nd:
            raise ValueError(f'output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a '
                             f'length of \'{len(out)}\'')
        for i, (o, dflt, st) in enumerate(zip(out, default, s)):
            if not dflt - st < o < dflt + st:
                raise ValueError(f'invalid output_size "{tuple(out)}" (dim {i} must be between {dflt - st} and '
                                 f'{dflt + st})')
    unbatched = input.dim() == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    idx = indices._data[None] if unbatched else indices._data
    size = math.prod(out)
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise RuntimeError(f'Found an invalid max index: {bad} (output volumes are of size {"x".join(map(str, out))})')
    shape = x._data.shape[:2] + out
    nodes = _nodes(f'MaxUnpool{nd}D')

    def fwd(v):
        r = np.zeros(shape[:2] + (size,), v.dtype, like=v)
        np.put_along_axis(r, idx.reshape(shape[:2] + (-1,)), v.reshape(shape[:2] + (-1,)), axis=2)
        return r.reshape(shape)

    y = _linear(x, fwd, lambda g: _flat_gather(g, idx), *nodes)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: puts each value of (N, C, L) at its flat index in a zero
    output of length ``(L-1)*stride - 2*padding + kernel_size`` (or ``output_size``)."""
    return _max_unpool(1, 'max_unpool1d', input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d`` (see ``max_unpool1d``); ``output_size`` may include (N, C)."""
    return _max_unpool(2, 'max_unpool2d', input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d`` (see ``max_unpool1d``)."""
    return _max_unpool(3, 'max_unpool3d', input, indices, kernel_size, stride, padding, output_size)


def _lp_pool(nd, avg, input, norm_type, kernel_size, stride, ceil_mode):
    k = _tuple(kernel_size, nd, 'kernel_size', f'lp_pool{nd}d')
    out = avg(input.pow(norm_type), k, stride, 0, ceil_mode)
    from .elementwise import relu
    return (out.sign() * relu(out.abs())).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling ``(sum over window of x**p) ** (1/p)`` over (N, C, L); p = ``norm_type``."""
    return _lp_pool(1, avg_pool1d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, H, W); see ``lp_pool1d``."""
    return _lp_pool(2, avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, D, H, W); see ``lp_pool1d``."""
    return _lp_pool(3, avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode)


__all__ = ['max_pool1d', 'max_pool2d', 'max_pool3d', 'max_pool1d_with_indices', 'avg_pool1d', 'adaptive_avg_pool1d']
METHODS = {}
