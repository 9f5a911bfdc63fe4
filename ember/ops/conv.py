"""Convolutions: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``, ``unfold`` and ``fold``.

The kernels live in ``_im2col.py``. Autograd rests on three bilinear ops that are each
other's derivatives, so gradients of any order are convolutions again:

    conv(x, w)        y = A_w x                  (the forward convolution)
    conv_t(g, w)      A_w^T g                    (input gradient; also ``conv_transpose``)
    conv_w(x, g)      B with <B, v> = <g, conv(x, v)>   (weight gradient)

    d conv   = (conv_t(g, w), conv_w(x, g))
    d conv_t = (conv(h, w),   conv_w(h, g))
    d conv_w = (conv_t(g, v), conv(x, v))

Bias gradients are sums of the output gradient. Inputs whose gradient is not needed (a
network's first layer) skip their half of the backward.
"""
import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.graph import Node
from ._im2col import col2im, conv_forward, conv_input_grad, conv_weight_grad, pad_array, window_view
from ._node import attach, edges, needs_grad

_SCALAR_NAME = {'float32': 'Float', 'float64': 'Double', 'float16': 'Half', 'int64': 'Long', 'int32': 'Int',
                'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte', 'bool': 'Bool'}
_C_NAME = {'float32': 'float', 'float64': 'double', 'float16': 'c10::Half', 'int64': 'long int', 'int32': 'int',
           'int16': 'short int', 'int8': 'signed char', 'uint8': 'unsigned char', 'bool': 'bool'}
_DIM_NAMES = {1: ('width',), 2: ('height', 'width'), 3: ('depth', 'height', 'width')}


def _ntuple(value, n, name):
    """``value`` (int or sequence of 1 or ``n`` ints) as an ``n``-tuple, with PyTorch's error otherwise."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, Tensor):
        value = value.tolist()
    try:
        items = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f'{name} must be an int or a tuple of ints, not {type(value).__name__}') from None
    if len(items) == 1:
        return items * n
    if len(items) != n:
        raise RuntimeError(f'expected {name} to be a single integer value or a list of {n} values to match the '
                           f'convolution dimensions, but got {name}={list(items)}')
    return items


def _fmt(sizes):
    return ' x '.join(str(s) for s in sizes)


# ---- the three differentiable primitives ----------------------------------------------------

class ConvolutionBackward0(Node):
    """Backward of ``conv`` (``transposed`` False) and ``conv_t`` (``transposed`` True).

    Edges: (input, weight, bias). The saved input is ``x`` for ``conv`` and ``g`` for ``conv_t``.
    """

    __slots__ = ('geo', 'transposed', 'in_spatial', 'bias_dims')

    def backward(self, g):
        a, w = self.saved()
        nf = self.next_functions
        ga = gw = gb = None
        geo = self.geo
        if not self.transposed:
            if nf[0][0] is not None:
                ga = _conv_t(g, w, None, geo, a._data.shape[2:])
            if nf[1][0] is not None:
                gw = _conv_w(a, g, w._data.shape, geo)
        else:
            if nf[0][0] is not None:
                ga = _conv(g, w, None, geo)
            if nf[1][0] is not None:
                gw = _conv_w(g, a, w._data.shape, geo)
        if nf[2][0] is not None:
            gb = g.sum(self.bias_dims)
        return (ga, gw, gb)


class ConvolutionBackwardBackward0(Node):
    """Backward of the weight-gradient op ``conv_w(x, g)``; edges (x, g)."""

    __slots__ = ('geo',)

    def backward(self, v):
        x, g = self.saved()
        nf = self.next_functions
        gx = _conv_t(g, v, None, self.geo, x._data.shape[2:]) if nf[0][0] is not None else None
        gg = _conv(x, v, None, self.geo) if nf[1][0] is not None else None
        return (gx, gg)


def _record_conv(y, a, w, b, geo, transposed):
    node = ConvolutionBackward0(edges(a, w, b))
    node.save(a, w)
    node.geo = geo
    node.transposed = transposed
    node.bias_dims = (0,) + tuple(range(2, y._data.ndim))
    return attach(y, node)


def _conv(x, w, b, geo):
    y = _wrap(conv_forward(x._data, w._data, None if b is None else b._data, geo))
    if needs_grad(x, w, b):
        _record_conv(y, x, w, b, geo, False)
    return y


def _conv_t(g, w, b, geo, in_spatial):
    y = conv_input_grad(g._data, w._data, geo, tuple(in_spatial))
    if b is not None:
        y += b._data.reshape((-1,) + (1,) * len(in_spatial))
    y = _wrap(y)
    if needs_grad(g, w, b):
        _record_conv(y, g, w, b, geo, True)
    return y


def _conv_w(x, g, wshape, geo):
    y = _wrap(conv_weight_grad(x._data, g._data, tuple(wshape), geo))
    if needs_grad(x, g):
        node = ConvolutionBackwardBackward0(edges(x, g))
        node.save(x, g)
        node.geo = geo
        attach(y, node)
    return y


# ---- argument checking shared by conv and conv_transpose -------------------------------------

def _check_common(name, nd, input, weight, bias, stride, dilation, groups):
    if not isinstance(input, Tensor):
        raise TypeError(f'{name}(): argument \'input\' (position 1) must be Tensor, not {type(input).__name__}')
    if not isinstance(weight, Tensor):
        raise TypeError(f'{name}(): argument \'weight\' (position 2) must be Tensor, not {type(weight).__name__}')
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f'{name}(): argument \'bias\' (position 3) must be Tensor, not {type(bias).__name__}')
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f'Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input '
                           f'of size: {list(input.shape)}')
    if weight.dim() != nd + 2:
        raise RuntimeError(f'expected stride to be a single integer value or a list of {weight.dim() - 2} values to '
                           f'match the convolution dimensions, but got stride={list(_ntuple(stride, nd, "stride"))}')
    s = _ntuple(stride, nd, 'stride')
    d = _ntuple(dilation, nd, 'dilation')
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f'{name}(): argument \'groups\' must be int, not {type(groups).__name__}')
    if any(v <= 0 for v in s):
        raise RuntimeError('non-positive stride is not supported')
    if any(v <= 0 for v in d):
        raise RuntimeError(f'dilation should be greater than zero, but got {list(d)}')
    if groups <= 0:
        raise RuntimeError('non-positive groups is not supported')
    dt = input._data.dtype
    if weight._data.dtype != dt:
        raise RuntimeError(f'expected scalar type {_SCALAR_NAME[dt.name]} but found '
                           f'{_SCALAR_NAME[weight._data.dtype.name]}')
    if bias is not None and bias._data.dtype != dt:
        raise RuntimeError(f'Input type ({_C_NAME[dt.name]}) and bias type ({_C_NAME[bias._data.dtype.name]}) '
                           'should be the same')
    if dt.kind == 'b':
        raise NotImplementedError(f'"slow_conv{nd}d_cpu" not implemented for \'Bool\'')
    if weight.shape[0] % groups:
        raise RuntimeError(f'Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but '
                           f'got weight of size [{list(weight.shape)}] instead')
    return s, d


def _convnd(nd, name, input, weight, bias, stride, padding, dilation, groups):
    s, d = _check_common(name, nd, input, weight, bias, stride, dilation, groups)
    k = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == 'valid':
            pads = ((0, 0),) * nd
        elif padding == 'same':
            if any(v != 1 for v in s):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = tuple((dd * (kk - 1) // 2, dd * (kk - 1) - dd * (kk - 1) // 2) for dd, kk in zip(d, k))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        p = _ntuple(padding, nd, 'padding')
        if any(v < 0 for v in p):
            raise RuntimeError('negative padding is not supported')
        pads = tuple((v, v) for v in p)
    unbatched = input.dim() == nd + 1
    shape = (1,) + tuple(input.shape) if unbatched else tuple(input.shape)
    o = weight.shape[0]
    if shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f'Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(shape)} '
                           f'to have {weight.shape[1] * groups} channels, but got {shape[1]} channels instead')
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != o):
        raise RuntimeError(f'Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with {o} '
                           f'elements, but got bias of size {list(bias.shape)} instead')
    padded = tuple(sz + lo + hi for sz, (lo, hi) in zip(shape[2:], pads))
    ext = tuple(dd * (kk - 1) + 1 for dd, kk in zip(d, k))
    if any(p < e for p, e in zip(padded, ext)):
        raise RuntimeError(f'Calculated padded input size per channel: ({_fmt(padded)}). Kernel size: ({_fmt(ext)}). '
                           "Kernel size can't be greater than actual input size")
    x = input.unsqueeze(0) if unbatched else input
    y = _conv(x, weight, bias, (s, d, pads, int(groups)))
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation: input (N, C_in, L) or (C_in, L), weight (C_out, C_in/groups, kL).

    ``padding`` is an int, a 1-tuple, ``'valid'`` or ``'same'`` (stride 1 only; for an even effective
    kernel the extra zero goes at the end, as in PyTorch). Output (N, C_out, L_out) with
    ``L_out = (L + 2*padding - dilation*(kL-1) - 1) // stride + 1``.
    """
    return _convnd(1, 'conv1d', input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation: input (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in/groups, kH, kW).

    ``stride``, ``padding`` and ``dilation`` are ints or pairs; ``padding`` may also be ``'valid'`` or
    ``'same'``. ``groups`` splits the channels into independent convolutions (``groups == C_in`` is a
    depthwise convolution). Output (N, C_out, H_out, W_out), ``H_out = (H + 2p - d*(kH-1) - 1) // s + 1``.
    """
    return _convnd(2, 'conv2d', input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation: input (N, C_in, D, H, W) or unbatched, weight (C_out, C_in/groups, kD, kH, kW).

    Arguments as in ``conv2d`` with triples.
    """
    return _convnd(3, 'conv3d', input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(nd, name, input, weight, bias, stride, padding, output_padding, groups, dilation):
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    s, d = _check_common(name, nd, input, weight, bias, stride, dilation, groups)
    p = _ntuple(padding, nd, 'padding')
    op = _ntuple(output_padding, nd, 'output_padding')
    if any(v < 0 for v in p):
        raise RuntimeError('negative padding is not supported')
    if any(v < 0 for v in op):
        raise RuntimeError('negative output_padding is not supported')
    if any(o >= st and o >= dd for o, st, dd in zip(op, s, d)):
        names, vals = _DIM_NAMES[nd], (op, s, d)
        if nd == 1:  # PyTorch runs 1-d convolutions as 2-d ones with height 1
            names, vals = _DIM_NAMES[2], tuple((0 if i == 0 else 1,) + v for i, v in enumerate((op, s, d)))
        parts = [f'{label}_{n}: {v}' for label, vv in zip(('output_padding', 'stride', 'dilation'), vals)
                 for n, v in zip(names, vv)]
        raise RuntimeError('output padding must be smaller than either stride or dilation, but got ' + ' '.join(parts))
    unbatched = input.dim() == nd + 1
    shape = (1,) + tuple(input.shape) if unbatched else tuple(input.shape)
    k = tuple(weight.shape[2:])
    if shape[1] != weight.shape[0]:
        raise RuntimeError(f'Given transposed=1, weight of size {list(weight.shape)}, expected input{list(shape)} to '
                           f'have {weight.shape[0]} channels, but got {shape[1]} channels instead')
    c_out = weight.shape[1] * groups
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != c_out):
        raise RuntimeError(f'Given transposed=1, weight of size {list(weight.shape)}, expected bias to be '
                           f'1-dimensional with {c_out} elements, but got bias of size {list(bias.shape)} instead')
    out = tuple((i - 1) * st - 2 * pp + dd * (kk - 1) + o + 1
                for i, st, pp, dd, kk, o in zip(shape[2:], s, p, d, k, op))
    if any(v <= 0 for v in out):
        raise RuntimeError(f'Given input size per channel: ({_fmt(shape[2:])}). Calculated output size per channel: '
                           f'({_fmt(out)}). Output size is too small')
    x = input.unsqueeze(0) if unbatched else input
    # The high pad p - output_padding makes the forward convolution of this geometry map the
    # output size back to the input size exactly (a negative pad crops), as the backward needs.
    y = _conv_t(x, weight, bias, (s, d, tuple((v, v - o) for v, o in zip(p, op)), int(groups)), out)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution (the input gradient of ``conv1d``): input (N, C_in, L), weight
    (C_in, C_out/groups, kL). ``L_out = (L-1)*stride - 2*padding + dilation*(kL-1) + output_padding + 1``."""
    return _conv_transposend(1, 'conv_transpose1d', input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution: input (N, C_in, H, W) or unbatched, weight (C_in, C_out/groups, kH, kW).

    ``H_out = (H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1``; ``output_padding``
    (smaller than stride or dilation) picks among the input sizes a strided ``conv2d`` maps to H.
    """
    return _conv_transposend(2, 'conv_transpose2d', input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution: input (N, C_in, D, H, W), weight (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transposend(3, 'conv_transpose3d', input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


# ---- unfold / fold (im2col / col2im as tensors) ---------------------------------------------

class Im2ColBackward0(Node):
    __slots__ = ('in_spatial', 'k', 'd', 'p', 's')

    def backward(self, g):
        return (_fold(g, self.in_spatial, self.k, self.d, self.p, self.s),)


class Col2ImBackward0(Node):
    __slots__ = ('k', 'd', 'p', 's')

    def backward(self, g):
        return (_unfold(g, self.k, self.d, self.p, self.s),)


def _blocks(spatial, k, d, p, s):
    return tuple((sz + 2 * pp - dd * (kk - 1) - 1) // st + 1 for sz, kk, dd, pp, st in zip(spatial, k, d, p, s))


def _unfold(x, k, d, p, s):
    a = x._data
    out = _blocks(a.shape[2:], k, d, p, s)
    v = window_view(pad_array(a, [(pp, pp) for pp in p]), k, s, d, out, channel_major=False)
    r = np.empty(v.shape, a.dtype, like=a)
    np.copyto(r, v)
    y = _wrap(r.reshape(a.shape[0], a.shape[1] * int(np.prod(k)), int(np.prod(out))))
    if needs_grad(x):
        node = Im2ColBackward0(edges(x))
        node.in_spatial, node.k, node.d, node.p, node.s = a.shape[2:], k, d, p, s
        attach(y, node)
    return y


def _fold(x, out_spatial, k, d, p, s):
    a = x._data
    n = a.shape[0]
    c = a.shape[1] // int(np.prod(k))
    blocks = _blocks(out_spatial, k, d, p, s)
    cols = a.reshape((n, c) + tuple(k) + blocks)
    y = _wrap(np.ascontiguousarray(col2im(cols, tuple(out_spatial), k, s, d, p, batch_major=True), like=cols))
    if needs_grad(x):
        node = Col2ImBackward0(edges(x))
        node.k, node.d, node.p, node.s = k, d, p, s
        attach(y, node)
    return y


def _fold_args(kernel_size, dilation, padding, stride):
    k = _ntuple(kernel_size, 2, 'kernel_size')
    d = _ntuple(dilation, 2, 'dilation')
    p = _ntuple(padding, 2, 'padding')
    s = _ntuple(stride, 2, 'stride')
    if any(v <= 0 for v in k):
        raise RuntimeError(f'kernel size should be greater than zero, but got kernel_height: {k[0]} kernel_width: '
                           f'{k[1]}')
    if any(v <= 0 for v in s):
        raise RuntimeError(f'stride should be greater than zero, but got stride_height: {s[0]} stride_width: {s[1]}')
    if any(v <= 0 for v in d):
        raise RuntimeError(f'dilation should be greater than zero, but got dilation_height: {d[0]} dilation_width: '
                           f'{d[1]}')
    if any(v < 0 for v in p):
        raise RuntimeError(f'padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}')
    return k, d, p, s


def _float_only(input, op):
    dt = input._data.dtype
    if dt.kind != 'f':
        raise NotImplementedError(f'"{op}" not implemented for \'{_SCALAR_NAME[dt.name]}\'')


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks (im2col): input (N, C, H, W) or (C, H, W) -> (N, C*kH*kW, L).

    Column ``l`` holds block ``l`` (row-major over the ``L = L_h * L_w`` block positions), its rows
    ordered (channel, kernel row, kernel column) as ``conv2d``'s flattened weight.
    """
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride)
    if input.dim() not in (3, 4):
        raise RuntimeError(f'Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)')
    _float_only(input, 'im2col_out_cpu')
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    spatial = tuple(x.shape[2:])
    blocks = _blocks(spatial, k, d, p, s)
    if any(b < 1 for b in blocks) or x.shape[1] == 0:
        raise RuntimeError(f'Given input with spatial size {spatial}, kernel_size={k}, dilation={d}, padding={p}, '
                           f'calculated shape of the array of sliding blocks as {blocks}, but its components must be '
                           'at least one.')
    y = _unfold(x, k, d, p, s)
    return y.squeeze(0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image (col2im), the adjoint of ``unfold``:
    input (N, C*kH*kW, L) or (C*kH*kW, L) -> (N, C, *output_size); overlapping values add up."""
    out = _ntuple(output_size, 2, 'output_size')
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride)
    if input.dim() not in (2, 3):
        raise RuntimeError(f'Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got '
                           f'{input.dim()}D)')
    _float_only(input, 'col2im_out_cpu')
    unbatched = input.dim() == 2
    x = input.unsqueeze(0) if unbatched else input
    kk = k[0] * k[1]
    if x.shape[1] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f'got input.size(1)={x.shape[1]} and kernel_size={k}.')
    blocks = _blocks(out, k, d, p, s)
    if any(b < 1 for b in blocks) or x.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f'Given output_size={out}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, '
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f'{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={x.shape[2]}.')
    y = _fold(x, out, k, d, p, s)
    return y.squeeze(0) if unbatched else y


__all__ = ['conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d']
METHODS = {}
