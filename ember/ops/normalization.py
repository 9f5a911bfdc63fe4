"""Normalisation: ``batch_norm``, ``layer_norm``, ``group_norm``, ``instance_norm``, ``local_response_norm``.

All of them normalise with batch statistics through one fused op, ``_normalize_affine``: mean
and biased variance over ``axes``, ``xhat = (x - mean) / sqrt(var + eps)``, then ``xhat * w + b``.
Its backward is the closed form ``dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``;
under ``create_graph`` it instead differentiates the same computation written with Ember ops,
so second derivatives are exact.
"""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge


class NativeNormBackward0(Node):
    __slots__ = ('axes', 'eps', 'xhat', 'invstd', 'wshape', 'w', 'b', 'x')

    def backward(self, g):
        (nx, _), (nw, _), (nb, _) = self.next_functions
        if _grad_enabled():
            return self._double_differentiable(g)
        axes = self.axes
        xhat = self.xhat
        invstd = self.invstd
        gd = g._data
        dw = db = dx = None
        param_axes = tuple(i for i in range(gd.ndim) if self.wshape is None or self.wshape[i] == 1)
        if nb is not None:
            db = _wrap(gd.sum(param_axes).reshape(self.b._data.shape))
        if nw is not None:
            dw = _wrap((gd * xhat).sum(param_axes).reshape(self.w._data.shape))
        if nx is not None:
            dxhat = gd * self.w._data.reshape(self.wshape) if self.w is not None else gd
            m1 = dxhat.mean(axes, keepdims=True)
            m2 = (dxhat * xhat).mean(axes, keepdims=True)
            dx = _wrap((dxhat - m1 - xhat * m2) * invstd)
        return dx, dw, db

    def _double_differentiable(self, g):
        from .. import autograd
        x, w, b = self.saved()
        inputs = [t for t in (x, w, b) if t is not None and t.requires_grad]
        y = _composite(x, self.axes, self.eps, w, b, self.wshape)
        grads = iter(autograd.grad(y, inputs, g, create_graph=True, allow_unused=True))
        return tuple(next(grads) if t is not None and t.requires_grad else None for t in (x, w, b))


def _composite(x, axes, eps, w, b, wshape):
    mean = x.mean(axes, keepdim=True)
    xc = x - mean
    var = (xc * xc).mean(axes, keepdim=True)
    y = xc * (var + eps).rsqrt()
    if w is not None:
        y = y * w.reshape(wshape)
    if b is not None:
        y = y + b.reshape(wshape)
    return y


def _normalize_affine(input, axes, eps, weight=None, bias=None, wshape=None):
    """Normalise ``input`` over ``axes`` with its own statistics, then scale/shift by ``weight``/``bias``
    reshaped to ``wshape``. Returns ``(output, mean, biased_var)`` (statistics as arrays)."""
    x = input._data
    mean = x.mean(axes, keepdims=True)
    xc = x - mean
    var = np.square(xc).mean(axes, keepdims=True)
    invstd = 1 / np.sqrt(var + x.dtype.type(eps))
    xhat = xc * invstd
    y = xhat
    if weight is not None:
        y = y * weight._data.reshape(wshape)
    if bias is not None:
        y = y + bias._data.reshape(wshape)
    out = _wrap(y.astype(x.dtype, copy=False))
    if _grad_enabled() and (input._requires_grad or (weight is not None and weight._requires_grad) or
                        (bias is not None and bias._requires_grad)):
        node = NativeNormBackward0((grad_edge(input), grad_edge(weight) if weight is not None else (None, 0),
                                    grad_edge(bias) if bias is not None else (None, 0)))
        node.axes = axes
        node.eps = eps
        node.xhat = xhat
        node.invstd = invstd
        node.wshape = wshape
        node.w = weight
        node.b = bias
        node.save(input, weight, bias)
        out.grad_fn = node
        out._requires_grad = True
    return out, mean, var


def _channel_shape(input):
    return (1, input.shape[1]) + (1,) * (input.dim() - 2)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over ``(N, C, *)`` per channel ``C``.

    In training (or without running statistics) it normalises with the batch's statistics and,
    if given, updates ``running_mean``/``running_var`` in place:
    ``running = (1 - momentum) * running + momentum * batch_stat`` (unbiased variance).
    Otherwise it uses the running statistics.
    """
    if input.dim() < 2:
        raise ValueError(f'Expected 2D or more input (got {input.dim()}D input)')
    c = input.shape[1]
    for name, t in (('running_mean', running_mean), ('running_var', running_var), ('weight', weight),
                    ('bias', bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f'{name} should contain {c} elements not {t.numel()}')
    if training and eps <= 0.0:
        raise ValueError(f'batch_norm eps must be positive during training, but got {eps}')
    if eps < 0.0:
        raise ValueError(f'batch_norm eps must be non-negative, but got {eps}')
    wshape = _channel_shape(input)
    axes = (0,) + tuple(range(2, input.dim()))
    if training or running_mean is None or running_var is None:
        n = input.numel() // c
        if training and n <= 1:
            raise ValueError(f'Expected more than 1 value per channel when training, got input size {input.shape}')
        out, mean, var = _normalize_affine(input, axes, eps, weight, bias, wshape)
        if training and running_mean is not None:
            m = momentum
            rm = running_mean._data
            rm *= 1 - m
            rm += (m * mean.reshape(-1)).astype(rm.dtype)
            running_mean._vc[0] += 1
        if training and running_var is not None:
            rv = running_var._data
            rv *= 1 - momentum
            rv += (momentum * var.reshape(-1) * (n / max(n - 1, 1))).astype(rv.dtype)
            running_var._vc[0] += 1
        return out
    invstd = (running_var.reshape(wshape) + eps).rsqrt()
    scale = invstd if weight is None else invstd * weight.reshape(wshape)
    out = (input - running_mean.reshape(wshape)) * scale
    if bias is not None:
        out = out + bias.reshape(wshape)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims; ``weight``/``bias`` have that shape."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != normalized_shape or k > input.dim():
        raise RuntimeError(f'Given normalized_shape={list(normalized_shape)}, expected input with shape '
                           f'[*, {", ".join(map(str, normalized_shape))}], but got input of size{input.shape}')
    axes = tuple(range(input.dim() - k, input.dim()))
    wshape = (1,) * (input.dim() - k) + normalized_shape
    return _normalize_affine(input, axes, eps, weight, bias, wshape)[0]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dims."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    k = len(normalized_shape)
    axes = tuple(range(input.dim() - k, input.dim()))
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    y = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise ``(N, C, *)`` over groups of ``C / num_groups`` channels (and all spatial positions)."""
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f'Expected number of channels in input to be divisible by num_groups, but got input of '
                           f'shape {input.shape} and num_groups={num_groups}')
    grouped = input.reshape(n, num_groups, -1)
    normed = _normalize_affine(grouped, (2,), eps)[0].reshape(input.shape)
    wshape = _channel_shape(input)
    if weight is not None:
        normed = normed * weight.reshape(wshape)
    if bias is not None:
        normed = normed + bias.reshape(wshape)
    return normed


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each ``(n, c)`` instance over its spatial dims (running stats averaged over the batch)."""
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    axes = tuple(range(2, input.dim()))
    out, mean, var = _normalize_affine(input, axes, eps, weight, bias, _channel_shape(input))
    if running_mean is not None:
        m = mean.reshape(input.shape[0], -1).mean(0)
        running_mean._data *= 1 - momentum
        running_mean._data += (momentum * m).astype(running_mean._data.dtype)
        running_mean._vc[0] += 1
    if running_var is not None:
        cnt = int(np.prod(input.shape[2:]))
        v = (var.reshape(input.shape[0], -1) * (cnt / max(cnt - 1, 1))).mean(0)
        running_var._data *= 1 - momentum
        running_var._data += (momentum * v).astype(running_var._data.dtype)
        running_var._vc[0] += 1
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """``x / (k + alpha / size * sum_{neighbouring channels} x^2) ** beta`` over ``size`` channels."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f'Expected 3D or higher dimensionality input (got {dim} dimensions)')
    if input.numel() == 0:
        return input
    from .pad import pad
    from .pool import avg_pool2d, avg_pool3d
    div = (input * input).unsqueeze(1)
    if dim == 3:
        div = pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = div.reshape(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1)
        div = div.reshape(sizes)
    div = (div * alpha + k) ** beta
    return input / div


__all__ = ['layer_norm', 'group_norm', 'rms_norm']
METHODS = {}
