"""Converters for ``nn.functional``: linear and convolution layers, pooling, normalisation,
activations, softmax, dropout, embedding, resampling and padding (signatures as in
``symbolic_tensor``)."""
import math

import numpy as np

from .. import _dtype

CONVERTERS = {}


def _nn(*names):
    def deco(fn):
        for n in names:
            CONVERTERS[n] = fn
        return fn
    return deco


def _tuple(v, n):
    return [int(x) for x in v] if isinstance(v, (list, tuple)) else [int(v)] * n


def _batched(g, input, nd, run):
    """Run ``run(x)`` on a batched value, adding and removing the batch dimension for unbatched
    inputs (``(C, *spatial)``)."""
    if input.dim() == nd + 1:
        return g.squeeze(run(g.unsqueeze(g.value(input), [0])), [0])
    return run(g.value(input))


# ---- linear and convolution ------------------------------------------------------------------
@_nn('linear')
def _linear(g, res, input, weight, bias=None):
    x, w = g.value(input, res.dtype), g.value(weight, res.dtype)
    if input.dim() == 2 and weight.dim() == 2:
        return g.op('Gemm', x, w, None if bias is None else g.value(bias, res.dtype), transB=1)
    y = g.op('MatMul', x, g.op('Transpose', w, perm=[1, 0]) if weight.dim() == 2 else w)
    return y if bias is None else g.op('Add', y, g.value(bias, res.dtype))


def _conv(nd):
    def convert(g, res, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        k = list(weight.shape[2:])
        d = _tuple(dilation, nd)
        if padding == 'valid':
            pads = [0] * nd * 2
        elif padding == 'same':
            total = [dd * (kk - 1) for dd, kk in zip(d, k)]
            pads = [t // 2 for t in total] + [t - t // 2 for t in total]
        else:
            p = _tuple(padding, nd)
            pads = p + p
        return _batched(g, input, nd, lambda x: g.op(
            'Conv', x, g.value(weight, res.dtype), None if bias is None else g.value(bias, res.dtype),
            kernel_shape=k, strides=_tuple(stride, nd), pads=pads, dilations=d, group=int(groups)))
    return convert


def _conv_transpose(nd):
    def convert(g, res, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        p = _tuple(padding, nd)
        return _batched(g, input, nd, lambda x: g.op(
            'ConvTranspose', x, g.value(weight, res.dtype), None if bias is None else g.value(bias, res.dtype),
            kernel_shape=list(weight.shape[2:]), strides=_tuple(stride, nd), pads=p + p,
            output_padding=_tuple(output_padding, nd), dilations=_tuple(dilation, nd), group=int(groups)))
    return convert


for _n in (1, 2, 3):
    CONVERTERS[f'conv{_n}d'] = _conv(_n)
    CONVERTERS[f'conv_transpose{_n}d'] = _conv_transpose(_n)


# ---- pooling ---------------------------------------------------------------------------------
def _max_pool(nd):
    def convert(g, res, input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                return_indices=False):
        if return_indices:
            g.fail(f'max_pool{nd}d', 'return_indices=True (ONNX MaxPool indices are laid out differently)')
        k = _tuple(kernel_size, nd)
        s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _tuple(stride, nd)
        p = _tuple(padding, nd)
        return _batched(g, input, nd, lambda x: g.op('MaxPool', x, kernel_shape=k, strides=s, pads=p + p,
                                                      dilations=_tuple(dilation, nd), ceil_mode=int(ceil_mode)))
    return convert


def _avg_pool(nd):
    def convert(g, res, input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
        if divisor_override is not None:
            g.fail(f'avg_pool{nd}d', 'divisor_override')
        k = _tuple(kernel_size, nd)
        s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _tuple(stride, nd)
        p = _tuple(padding, nd)
        return _batched(g, input, nd, lambda x: g.op('AveragePool', x, kernel_shape=k, strides=s, pads=p + p,
                                                      ceil_mode=int(ceil_mode),
                                                      count_include_pad=int(count_include_pad)))
    return convert


def _adaptive(nd, kind):
    def convert(g, res, input, output_size, return_indices=False):
        if return_indices:
            g.fail(f'adaptive_{kind}_pool{nd}d', 'return_indices=True')
        spatial = list(input.shape[-nd:])
        out = list(res.shape[-nd:])

        def run(x):
            if all(o == 1 for o in out):
                return g.op('GlobalAveragePool' if kind == 'avg' else 'GlobalMaxPool', x)
            if all(i % o == 0 for i, o in zip(spatial, out)):
                k = [i // o for i, o in zip(spatial, out)]
                if all(v == 1 for v in k):
                    return x
                op_type = 'AveragePool' if kind == 'avg' else 'MaxPool'
                return g.op(op_type, x, kernel_shape=k, strides=k)
            if all(o % i == 0 for i, o in zip(spatial, out)):
                # every output bin lies inside one input element: a nearest-neighbour repeat
                scales = [1.0, 1.0] + [o / i for i, o in zip(spatial, out)]
                return g.op('Resize', x, None, g.const(np.array(scales, np.float32)), mode='nearest',
                            coordinate_transformation_mode='asymmetric', nearest_mode='floor')
            g.fail(f'adaptive_{kind}_pool{nd}d', f'input size {spatial} is not a multiple of output size {out} '
                                                 '(or the reverse); ONNX has no adaptive pooling')
        return _batched(g, input, nd, run)
    return convert


for _n in (1, 2, 3):
    CONVERTERS[f'max_pool{_n}d'] = _max_pool(_n)
    CONVERTERS[f'avg_pool{_n}d'] = _avg_pool(_n)
    CONVERTERS[f'adaptive_avg_pool{_n}d'] = _adaptive(_n, 'avg')
    CONVERTERS[f'adaptive_max_pool{_n}d'] = _adaptive(_n, 'max')


# ---- normalisation ---------------------------------------------------------------------------
def _affine_or_const(g, t, fill, n, dtype):
    return g.value(t, dtype) if t is not None else g.const(np.full(n, fill, dtype.np))


@_nn('batch_norm')
def _batch_norm(g, res, input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                eps=1e-5):
    if training or running_mean is None:
        g.fail('batch_norm', 'batch statistics (training mode or no running stats); export in eval mode')
    c, dt = input.shape[1], res.dtype
    return g.op('BatchNormalization', g.value(input, dt), _affine_or_const(g, weight, 1, c, dt),
                _affine_or_const(g, bias, 0, c, dt), g.value(running_mean, dt), g.value(running_var, dt),
                epsilon=float(eps))


@_nn('layer_norm')
def _layer_norm(g, res, input, normalized_shape, weight=None, bias=None, eps=1e-5):
    shape = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
    dt = res.dtype
    scale = g.value(weight, dt) if weight is not None else g.const(np.ones(shape, dt.np))
    return g.op('LayerNormalization', g.value(input, dt), scale, None if bias is None else g.value(bias, dt),
                axis=-len(shape), epsilon=float(eps))


def _channel_affine(g, x, weight, bias, ndim, dt):
    # per-channel (C,) parameters broadcast over (N, C, *spatial)
    axes = list(range(1, ndim - 1))
    if weight is not None:
        x = g.op('Mul', x, g.unsqueeze(g.value(weight, dt), axes) if axes else g.value(weight, dt))
    if bias is not None:
        x = g.op('Add', x, g.unsqueeze(g.value(bias, dt), axes) if axes else g.value(bias, dt))
    return x


@_nn('group_norm')
def _group_norm(g, res, input, num_groups, weight=None, bias=None, eps=1e-5):
    dt = res.dtype
    x = g.value(input, dt)
    xr = g.op('Reshape', x, g.ints([0, int(num_groups), -1]))
    d = g.op('Sub', xr, g.reduce('ReduceMean', xr, [2], True))
    var = g.reduce('ReduceMean', g.op('Mul', d, d), [2], True)
    y = g.op('Div', d, g.op('Sqrt', g.op('Add', var, g.value(float(eps), dt))))
    y = g.op('Reshape', y, g.op('Shape', x))
    return _channel_affine(g, y, weight, bias, input.dim(), dt)


@_nn('instance_norm')
def _instance_norm(g, res, input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                   momentum=0.1, eps=1e-5):
    if not use_input_stats:
        return _batch_norm(g, res, input, running_mean, running_var, weight, bias, False, momentum, eps)
    c, dt = input.shape[1], res.dtype
    return g.op('InstanceNormalization', g.value(input, dt), _affine_or_const(g, weight, 1, c, dt),
                _affine_or_const(g, bias, 0, c, dt), epsilon=float(eps))


@_nn('rms_norm')
def _rms_norm(g, res, input, normalized_shape, weight=None, eps=None):
    shape = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
    dt = res.dtype
    eps = float(np.finfo(dt.np).eps) if eps is None else float(eps)
    x = g.value(input, dt)
    axes = list(range(input.dim() - len(shape), input.dim()))
    ms = g.reduce('ReduceMean', g.op('Mul', x, x), axes, True)
    y = g.op('Div', x, g.op('Sqrt', g.op('Add', ms, g.value(eps, dt))))
    return y if weight is None else g.op('Mul', y, g.value(weight, dt))


@_nn('local_response_norm')
def _lrn(g, res, input, size, alpha=1e-4, beta=0.75, k=1.0):
    return g.op('LRN', g.value(input, res.dtype), size=int(size), alpha=float(alpha), beta=float(beta),
                bias=float(k))


@_nn('normalize')
def _normalize(g, res, input, p=2.0, dim=1, eps=1e-12, out=None):
    if p not in (1, 2):
        g.fail('normalize', f'p={p!r} (supported: 1, 2)')
    dt = res.dtype
    x = g.value(input, dt)
    n = g.reduce('ReduceL2' if p == 2 else 'ReduceL1', x, [dim % input.dim()], True)
    return g.op('Div', x, g.op('Max', n, g.value(float(eps), dt)))


# ---- activations -----------------------------------------------------------------------------
def _act(build):
    # ``build(g, x, dtype, *args)``: ``args`` may end with a positional ``inplace`` flag, which builders ignore
    def convert(g, res, input, *args, inplace=False, **kwargs):
        return build(g, g.value(input, res.dtype), res.dtype, *args, **kwargs)
    return convert


def _k(g, v, dt):
    return g.value(float(v), dt)


CONVERTERS.update({
    'relu': _act(lambda g, x, dt, *_: g.op('Relu', x)),
    'relu6': _act(lambda g, x, dt, *_: g.op('Clip', x, _k(g, 0, dt), _k(g, 6, dt))),
    'hardtanh': _act(lambda g, x, dt, min_val=-1.0, max_val=1.0, *_: g.op('Clip', x, _k(g, min_val, dt),
                                                                       _k(g, max_val, dt))),
    'leaky_relu': _act(lambda g, x, dt, negative_slope=0.01, *_: g.op('LeakyRelu', x, alpha=float(negative_slope))),
    'elu': _act(lambda g, x, dt, alpha=1.0, *_: g.op('Elu', x, alpha=float(alpha))),
    'celu': _act(lambda g, x, dt, alpha=1.0, *_: g.op('Celu', x, alpha=float(alpha))),
    'selu': _act(lambda g, x, dt, *_: g.op('Selu', x, alpha=1.6732632423543772, gamma=1.0507009873554805)),
    'silu': _act(lambda g, x, dt, *_: g.op('Mul', x, g.op('Sigmoid', x))),
    'mish': _act(lambda g, x, dt, *_: g.op('Mul', x, g.op('Tanh', g.op('Softplus', x)))),
    'hardswish': _act(lambda g, x, dt, *_: g.op('HardSwish', x)),
    'hardsigmoid': _act(lambda g, x, dt, *_: g.op('HardSigmoid', x, alpha=1.0 / 6, beta=0.5)),
    'sigmoid': _act(lambda g, x, dt, *_: g.op('Sigmoid', x)),
    'tanh': _act(lambda g, x, dt, *_: g.op('Tanh', x)),
    'logsigmoid': _act(lambda g, x, dt, *_: g.op('Neg', g.op('Softplus', g.op('Neg', x)))),
    'softsign': _act(lambda g, x, dt, *_: g.op('Softsign', x)),
    'tanhshrink': _act(lambda g, x, dt, *_: g.op('Sub', x, g.op('Tanh', x))),
    'threshold': _act(lambda g, x, dt, threshold, value, *_: g.op('Where', g.op('Greater', x, _k(g, threshold, dt)), x,
                                                                _k(g, value, dt))),
})


@_nn('gelu')
def _gelu(g, res, input, approximate='none'):
    dt = res.dtype
    x = g.value(input, dt)
    if approximate == 'tanh':
        inner = g.op('Mul', _k(g, math.sqrt(2 / math.pi), dt),
                     g.op('Add', x, g.op('Mul', _k(g, 0.044715, dt), g.op('Mul', x, g.op('Mul', x, x)))))
        return g.op('Mul', g.op('Mul', _k(g, 0.5, dt), x), g.op('Add', _k(g, 1, dt), g.op('Tanh', inner)))
    cdf = g.op('Add', _k(g, 1, dt), g.op('Erf', g.op('Div', x, _k(g, math.sqrt(2), dt))))
    return g.op('Mul', g.op('Mul', _k(g, 0.5, dt), x), cdf)


@_nn('softplus')
def _softplus(g, res, input, beta=1.0, threshold=20.0):
    dt = res.dtype
    x = g.value(input, dt)
    bx = x if beta == 1 else g.op('Mul', x, _k(g, beta, dt))
    soft = g.op('Softplus', bx)
    soft = soft if beta == 1 else g.op('Div', soft, _k(g, beta, dt))
    return g.op('Where', g.op('Greater', bx, _k(g, threshold, dt)), x, soft)


@_nn('prelu')
def _prelu(g, res, input, weight):
    w = g.value(weight, res.dtype)
    if weight.numel() > 1 and input.dim() > 2:
        w = g.unsqueeze(w, list(range(1, input.dim() - 1)))
    return g.op('PRelu', g.value(input, res.dtype), w)


@_nn('glu')
def _glu(g, res, input, dim=-1):
    d = dim % input.dim()
    half = input.shape[d] // 2
    a, b = g.split(g.value(input, res.dtype), [half, half], d)
    return g.op('Mul', a, g.op('Sigmoid', b))


@_nn('hardshrink', 'softshrink')
def _shrink(g, res, input, lambd=0.5):
    soft = not np.array_equal(np.where(np.abs(input._data) > lambd, input._data, 0).astype(res._data.dtype),
                              res._data)
    return g.op('Shrink', g.value(input, res.dtype), lambd=float(lambd), bias=float(lambd) if soft else 0.0)


def _softmax(op_type, negate=False):
    def convert(g, res, input, dim=None, _stacklevel=3, dtype=None):
        if dim is None:
            dim = 0 if input.dim() in (0, 1, 3) else 1
        x = g.value(input, res.dtype)
        if input.dim() == 0:
            return g.op('Identity', x) if op_type == 'Softmax' else g.op('Sub', x, x)
        return g.op(op_type, g.op('Neg', x) if negate else x, axis=dim % input.dim())
    return convert


CONVERTERS['softmax'] = _softmax('Softmax')
CONVERTERS['log_softmax'] = _softmax('LogSoftmax')
CONVERTERS['softmin'] = _softmax('Softmax', negate=True)


# ---- dropout, embedding ----------------------------------------------------------------------
def _dropout(name):
    def convert(g, res, input, p=0.5, training=True, inplace=False):
        if training and p > 0:
            g.fail(name, 'dropout in training mode; export with training=TrainingMode.EVAL')
        return g.value(input)
    return convert


for _name in ('dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'alpha_dropout', 'feature_alpha_dropout'):
    CONVERTERS[_name] = _dropout(_name)


@_nn('embedding')
def _embedding(g, res, input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
               sparse=False):
    if max_norm is not None:
        g.fail('embedding', 'max_norm (it renormalises the weight in place)')
    return g.op('Gather', g.value(weight), g.value(input, _dtype.int64), axis=0)


# ---- resampling and padding ------------------------------------------------------------------
@_nn('interpolate', 'upsample')
def _interpolate(g, res, input, size=None, scale_factor=None, mode='nearest', align_corners=None,
                 recompute_scale_factor=None, antialias=False):
    if antialias:
        g.fail('interpolate', 'antialias=True')
    nd = input.dim() - 2
    x = g.value(input, res.dtype)
    attrs = {}
    if mode in ('nearest', 'nearest-exact'):
        attrs = dict(mode='nearest', coordinate_transformation_mode='asymmetric' if mode == 'nearest' else 'half_pixel',
                     nearest_mode='floor' if mode == 'nearest' else 'round_prefer_ceil')
    elif mode in ('linear', 'bilinear', 'trilinear', 'bicubic'):
        attrs = dict(mode='cubic' if mode == 'bicubic' else 'linear',
                     coordinate_transformation_mode='align_corners' if align_corners else 'pytorch_half_pixel')
        if mode == 'bicubic':
            attrs['cubic_coeff_a'] = -0.75
    else:
        g.fail('interpolate', f'mode={mode!r}')
    if scale_factor is not None and not recompute_scale_factor and mode != 'nearest-exact' and \
            not (align_corners and mode != 'nearest'):
        # PyTorch maps coordinates with the given scale, not with out/in
        s = [float(v) for v in (scale_factor if isinstance(scale_factor, (list, tuple)) else [scale_factor] * nd)]
        return g.op('Resize', x, None, g.const(np.array([1.0, 1.0] + s, np.float32)), **attrs)
    return g.op('Resize', x, None, None, g.op('Concat', g.op('Slice', g.op('Shape', x), g.ints([0]), g.ints([2])),
                                              g.ints(res.shape[2:]), axis=0), **attrs)


@_nn('upsample_nearest')
def _upsample_nearest(g, res, input, size=None, scale_factor=None):
    return _interpolate(g, res, input, size, scale_factor, 'nearest')


@_nn('upsample_bilinear')
def _upsample_bilinear(g, res, input, size=None, scale_factor=None):
    return _interpolate(g, res, input, size, scale_factor, 'bilinear', align_corners=True)


@_nn('pad')
def _pad(g, res, input, pad, mode='constant', value=None):
    nd, n = input.dim(), len(pad) // 2
    begins, ends = [0] * nd, [0] * nd
    for i in range(n):
        begins[nd - 1 - i], ends[nd - 1 - i] = int(pad[2 * i]), int(pad[2 * i + 1])
    modes = {'constant': 'constant', 'reflect': 'reflect', 'replicate': 'edge', 'circular': 'wrap'}
    if mode not in modes or (mode == 'circular' and g.opset < 19):
        g.fail('pad', f"mode={mode!r}" + (' needs opset_version >= 19' if mode == 'circular' else ''))
    x = g.value(input, res.dtype)
    fill = g.value(0 if value is None else value, res.dtype) if mode == 'constant' else None
    return g.op('Pad', x, g.ints(begins + ends), fill, mode=modes[mode])


@_nn('pixel_shuffle')
def _pixel_shuffle(g, res, input, upscale_factor):
    return g.op('DepthToSpace', g.value(input), blocksize=int(upscale_factor), mode='CRD')

