"""Resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, trilinear, bicubic, area) and
``pixel_shuffle``/``pixel_unshuffle``.

Interpolation is separable: each spatial axis is resampled in turn with ``index_select`` and
per-output weights computed exactly as PyTorch's kernels compute source coordinates
(``align_corners``, ``scale_factor`` vs. computed scale), so gradients come from those ops.
"""
import math

import numpy as np

from .._tensor import _wrap

_MODES = ('nearest', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area', 'nearest-exact')
_MODE_DIMS = {'linear': 1, 'bilinear': 2, 'trilinear': 3, 'bicubic': 2}


def _scale(in_size, out_size, align_corners, scale):
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale is not None and scale > 0:
        return 1.0 / scale
    return in_size / out_size


def _axis_select(x, axis, idx):
    return x.index_select(axis, _wrap(np.asarray(idx, np.int64, like=x._data)))


def _weights_view(w, ndim, axis, like):
    shape = [1] * ndim
    shape[axis] = -1
    return _wrap(np.asarray(w, like=like._data).astype(like._data.dtype).reshape(shape))


def _opmath(x):
    """PyTorch computes source coordinates in the input's precision (float for float32 and float16)."""
    return np.float64 if x._data.dtype == np.float64 else np.float32


def _nearest_axis(x, axis, out_size, scale, exact):
    in_size = x.shape[axis]
    dt = np.float32
    s = dt((in_size / out_size) if scale is None else 1.0 / scale)
    dst = np.arange(out_size, dtype=dt, like=x._data)
    src = np.floor((dst + dt(0.5)) * s) if exact else np.floor(dst * s)
    return _axis_select(x, axis, np.minimum(src.astype(np.int64), in_size - 1))


def _linear_axis(x, axis, out_size, align_corners, scale):
    in_size = x.shape[axis]
    dt = _opmath(x)
    s = dt(_scale(in_size, out_size, align_corners, scale))
    dst = np.arange(out_size, dtype=dt, like=x._data)
    if align_corners:
        src = dst * s
    else:
        src = np.maximum((dst + dt(0.5)) * s - dt(0.5), dt(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    lam = src - i0
    a = _axis_select(x, axis, i0) * _weights_view(1 - lam, x.dim(), axis, x)
    return a + _axis_select(x, axis, i1) * _weights_view(lam, x.dim(), axis, x)


def _cubic_coeffs(t, A=-0.75):
    def near(v):
        return ((A + 2) * v - (A + 3)) * v * v + 1

    def far(v):
        return ((A * v - 5 * A) * v + 8 * A) * v - 4 * A
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _cubic_axis(x, axis, out_size, align_corners, scale):
    in_size = x.shape[axis]
    dt = _opmath(x)
    s = dt(_scale(in_size, out_size, align_corners, scale))
    dst = np.arange(out_size, dtype=dt, like=x._data)
    src = dst * s if align_corners else (dst + dt(0.5)) * s - dt(0.5)
    base = np.floor(src).astype(np.int64)
    t = src - base
    out = None
    for k, c in enumerate(_cubic_coeffs(t)):
        idx = np.clip(base - 1 + k, 0, in_size - 1)
        term = _axis_select(x, axis, idx) * _weights_view(c, x.dim(), axis, x)
        out = term if out is None else out + term
    return out


def interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of ``(N, C, *spatial)`` input to ``size`` or by ``scale_factor``."""
    if mode not in _MODES:
        raise NotImplementedError(f'Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for '
                                  f'the modes: nearest | linear | bilinear | bicubic | trilinear | area | '
                                  f'nearest-exact (got {mode})')
    if antialias:
        raise NotImplementedError('interpolate: antialias=True is not supported')
    if mode in ('nearest', 'area', 'nearest-exact'):
        if align_corners is not None:
            raise ValueError('align_corners option can only be set with the interpolating modes: linear | bilinear '
                             '| bicubic | trilinear')
    elif align_corners is None:
        align_corners = False
    dims = input.dim() - 2
    if dims < 1:
        raise ValueError(f'Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the '
                         f'modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact '
                         f'(got {mode})')
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != dims:
        raise NotImplementedError(f'Got {input.dim()}D input, but {mode} mode needs {_MODE_DIMS[mode] + 2}D input')
    if (size is None) == (scale_factor is None):
        raise ValueError('either size or scale_factor should be defined' if size is None
                         else 'only one of size or scale_factor should be defined')
    spatial = tuple(input.shape[2:])
    if size is not None:
        sizes = (size,) * dims if isinstance(size, int) else tuple(size)
        if len(sizes) != dims:
            raise ValueError(f'Input and output must have the same number of spatial dimensions, but got input with '
                             f'spatial dimensions of {list(spatial)} and output size of {list(sizes)}. Please '
                             'provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, '
                             '...,oK) format.')
        scales = (None,) * dims
    else:
        scales = (scale_factor,) * dims if not isinstance(scale_factor, (tuple, list)) else tuple(scale_factor)
        if len(scales) != dims:
            raise ValueError(f'Input and scale_factor must have the same number of spatial dimensions, but got input '
                             f'with spatial dimensions of {list(spatial)} and scale_factor of shape {list(scales)}.')
        sizes = tuple(int(math.floor(float(d) * float(s))) for d, s in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * dims
    if mode == 'area':
        from .pool import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dims - 1](input, sizes)
    out = input
    for k in range(dims):
        axis = 2 + k
        if mode in ('nearest', 'nearest-exact'):
            out = _nearest_axis(out, axis, sizes[k], scales[k], mode == 'nearest-exact')
        elif mode == 'bicubic':
            out = _cubic_axis(out, axis, sizes[k], align_corners, scales[k])
        else:
            out = _linear_axis(out, axis, sizes[k], align_corners, scales[k])
    return out


def upsample(input, size=None, scale_factor=None, mode='nearest', align_corners=None):
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode='nearest')


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)


def pixel_shuffle(input, upscale_factor):
    """``(*, C r^2, H, W)`` -> ``(*, C, H r, W r)``."""
    r = upscale_factor
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f'pixel_shuffle expects its input\'s \'channel\' dimension to be divisible by the square '
                           f'of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}')
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H r, W r)`` -> ``(*, C r^2, H, W)``."""
    r = downscale_factor
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f'pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)='
                           f'{h} is not divisible by {r}' if h % r else
                           f'pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)='
                           f'{w} is not divisible by {r}')
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


__all__ = ['pixel_shuffle', 'pixel_unshuffle']
METHODS = {}
