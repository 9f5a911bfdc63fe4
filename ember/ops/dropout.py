"""Dropout family. Masks come from ``bernoulli_(1 - p)`` on the global generator, exactly as
PyTorch's CPU kernels draw them, so a seeded run drops the same elements."""
import math

from .._creation import empty, empty_like


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f'dropout probability has to be between 0 and 1, but got {p}')


def _apply(input, noise, inplace):
    if inplace:
        return input.mul_(noise)
    return input * noise


def _feature_noise_shape(input, name):
    d = input.dim()
    if d < 2:
        raise RuntimeError(f'{name}: feature dropout requires at least 2 dimensions in the input')
    return tuple(input.shape[:2]) + (1,) * (d - 2)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (training only)."""
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        return _apply(input, input.new_zeros(()), inplace)
    # the mask takes the input's strides, as PyTorch's does: its draws follow memory order
    noise = empty_like(input).bernoulli_(1 - p).div_(1 - p)
    return _apply(input, noise, inplace)


def _feature_dropout(input, p, training, inplace, batched_dims, name):
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    unbatched = input.dim() == batched_dims - 1
    x = input.unsqueeze(0) if unbatched else input
    if p == 1:
        out = _apply(x, x.new_zeros(()), inplace)
    else:
        noise = empty(_feature_noise_shape(x, name), dtype=input.dtype).bernoulli_(1 - p).div_(1 - p)
        out = _apply(x, noise, inplace)
    return out.squeeze(0) if unbatched else out


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, L)`` / ``(C, L)`` input with probability ``p``."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f'dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that '
                           'dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a '
                           'channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).')
    return _feature_dropout(input, p, training, inplace, 3, 'dropout1d')


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, H, W)`` input with probability ``p``."""
    if input.dim() not in (3, 4):
        import warnings
        warnings.warn(f'dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and will '
                      'result in an error in a future release.', stacklevel=2)
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    noise_shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    noise = empty(noise_shape, dtype=input.dtype).bernoulli_(1 - p).div_(1 - p) if p < 1 else input.new_zeros(())
    return _apply(input, noise, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, D, H, W)`` / ``(C, D, H, W)`` input with probability ``p``."""
    if input.dim() not in (4, 5):
        import warnings
        warnings.warn(f'dropout3d: Received a {input.dim()}-D input to dropout3d, which is deprecated and will '
                      'result in an error in a future release.', stacklevel=2)
    return _feature_dropout(input, p, training, inplace, 5, 'dropout3d')


_ALPHA = 1.7580993408473766


def _alpha(input, p, training, inplace, feature):
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        return _apply(input, input.new_zeros(()), inplace)
    shape = _feature_noise_shape(input, 'feature_alpha_dropout') if feature else tuple(input.shape)
    noise = empty(shape, dtype=input.dtype).bernoulli_(1 - p)
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    b = (noise - 1) * (_ALPHA * a) + _ALPHA * a * p
    noise = noise * a
    if inplace:
        return input.mul_(noise).add_(b)
    return input * noise + b


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalising mean and variance."""
    return _alpha(input, p, training, inplace, False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Channel-wise alpha dropout."""
    return _alpha(input, p, training, inplace, True)


__all__ = []
METHODS = {}
