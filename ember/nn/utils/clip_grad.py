"""Gradient clipping: by total norm (``clip_grad_norm_``) and by value (``clip_grad_value_``).

All functions run without recording autograd history and change ``p.grad`` in place. The total norm
is the norm of the per-tensor norms, taken over tensors grouped by dtype in order of first
appearance, as PyTorch does. ``foreach`` selects PyTorch's multi-tensor kernels, which compute the
same values; it is accepted for compatibility.
"""
import types
import warnings
from functools import wraps

import numpy as np

from ... import linalg
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

__all__ = ['clip_grad_norm', 'clip_grad_norm_', 'clip_grad_value_', 'clip_grads_with_norm_', 'get_total_norm']


def _no_grad(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        with no_grad():
            return fn(*args, **kwargs)
    return wrapper


def _by_dtype(tensors):
    groups = {}
    for t in tensors:
        groups.setdefault(t.dtype, []).append(t)
    return [t for group in groups.values() for t in group]


@_no_grad
def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` seen as one vector (a 0-d tensor; ``inf`` for the max
    norm). Raises RuntimeError for a NaN/inf total when ``error_if_nonfinite``."""
    from ...ops.join import stack
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        from ..._creation import tensor
        return tensor(0.0)
    norms = [linalg.vector_norm(t, norm_type) for t in _by_dtype(tensors)]
    total_norm = linalg.vector_norm(stack(norms), norm_type)
    if error_if_nonfinite and bool(total_norm.isnan() | total_norm.isinf()):
        raise RuntimeError(f'The total norm of order {norm_type} for gradients from `parameters` is non-finite, so '
                           'it cannot be clipped. To disable this error and scale the gradients by the non-finite '
                           'norm anyway, set `error_if_nonfinite=False`')
    return total_norm


@_no_grad
def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` by ``min(1, max_norm / (total_norm + 1e-6))``."""
    from ...ops.elementwise import clamp
    parameters = [parameters] if isinstance(parameters, Tensor) else parameters
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    coef = clamp(max_norm / (total_norm + 1e-6), max=1.0)
    # a non-finite total norm turns inf gradients into NaN, silently as in PyTorch
    with np.errstate(invalid='ignore'):
        for g in grads:
            g.mul_(coef)


@_no_grad
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clip the gradients of ``parameters`` (a tensor or an iterable) so that their total
    ``norm_type``-norm is at most ``max_norm``; returns the total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn('`parameters` is an empty generator, no gradient clipping will occur.', stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of ``clip_grad_norm_``."""
    warnings.warn('`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.',
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@_no_grad
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` to ``[-clip_value, clip_value]`` in place."""
    parameters = [parameters] if isinstance(parameters, Tensor) else parameters
    clip_value = float(clip_value)
    grads = [p.grad for p in parameters if p.grad is not None]
    for g in _by_dtype(grads):
        g.clamp_(min=-clip_value, max=clip_value)
