"""Muon (Jordan et al., 2024): momentum SGD whose update is orthogonalised by a Newton-Schulz iteration.

PyTorch runs the iteration in bfloat16. Ember has no bfloat16 dtype, so the iteration computes in
float32 and rounds every result to the nearest bfloat16 (ties to even), which is what PyTorch's
bfloat16 CPU kernels do: each matmul, ``addmm`` (fused: one rounding), norm and division accumulates
in float32 and rounds once.
"""
import math

import numpy as np

from .._tensor import Tensor, _wrap
from .optimizer import Optimizer, bump, bump_state, lerp_, to_scalar

__all__ = ['Muon']

EPS = 1e-07
DEFAULT_A = 3.4445
DEFAULT_B = -4.775
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _bf16(x):
    """Round float32 values to the nearest bfloat16 (kept in float32 storage), ties to even."""
    x = np.asarray(x, np.float32)
    bits = x.view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000)
    # NaN payloads must not round into infinity
    return np.where(np.isnan(x), x, rounded.view(np.float32))


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """Approximately orthogonalise the 2-D array ``grad`` (``U V^T`` of its SVD) in bfloat16 precision."""
    if ns_steps >= 100:
        raise ValueError('Number of steps must be less than 100 for computational efficiency')
    if grad.ndim != 2:
        raise ValueError('Input tensor gradient must be a 2D matrix')
    if len(ns_coefficients) != 3:
        raise ValueError('Coefficients must be a tuple of exactly 3 values')
    a, b, c = (np.float32(v) for v in ns_coefficients)
    x = _bf16(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _bf16(np.sqrt(np.vdot(x, x)))
    x = _bf16(x / np.maximum(norm, _bf16(eps)))
    for _ in range(ns_steps):
        gram = _bf16(x @ x.T)
        gram_update = _bf16(b * gram + c * (gram @ gram))
        x = _bf16(a * x + gram_update @ x)
    return x.T if tall else x


def _adjust_lr(lr, adjust_lr_fn, param_shape):
    """Scale ``lr`` by the parameter's shape: sqrt(max(1, A/B)) ('original') or 0.2 sqrt(max(A, B))
    ('match_rms_adamw', to match AdamW's update RMS)."""
    A, B = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == 'original':
        ratio = math.sqrt(max(1, A / B))
    elif adjust_lr_fn == 'match_rms_adamw':
        ratio = 0.2 * math.sqrt(max(A, B))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    r"""Muon, for 2-D parameters only::

        b = lerp(b, g, 1 - momentum);  u = lerp(g, b, momentum) if nesterov else b
        u = NewtonSchulz(u)  (ns_steps iterations of X <- a X + (b G + c G G) X with G = X X^T)
        p *= 1 - lr * weight_decay;  p -= adjusted_lr * u

    State per parameter: ``momentum_buffer``.
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS, ns_steps=DEFAULT_NS_STEPS,
                 adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError('Tensor lr must be 1-element')
        if not 0.0 <= to_scalar(lr):
            raise ValueError(f'Learning rate should be >= 0 but is: {lr}')
        if not 0.0 <= momentum:
            raise ValueError(f'momentum should be >= 0 but is: {momentum}')
        if not 0.0 <= weight_decay:
            raise ValueError(f'weight decay should be >= 0 but is: {weight_decay}')
        if adjust_lr_fn is not None and adjust_lr_fn not in ['original', 'match_rms_adamw']:
            raise ValueError(f'Adjust learning rate function {adjust_lr_fn} is not supported')
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group['params']:
                if p.ndim != 2:
                    raise ValueError(f'Muon only supports 2D parameters whereas we found a parameter with size: '
                                     f'{p.size()}')

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        return self._run_step(closure, self._update)

    def _update(self):
        for group in self.param_groups:
            lr, wd, momentum = to_scalar(group['lr']), group['weight_decay'], group['momentum']
            for p in group['params']:
                if p.grad is None:
                    continue
                x, g = p._data, p.grad._data
                state = self.state[p]
                if 'momentum_buffer' not in state:
                    state['momentum_buffer'] = _wrap(np.zeros_like(g))
                if g.ndim != 2:
                    raise ValueError('Param gradient must be a 2D matrix')
                buf = state['momentum_buffer']._data
                lerp_(buf, g, 1 - momentum)
                if group['nesterov']:
                    update = np.array(g, copy=True)
                    lerp_(update, buf, momentum)
                else:
                    update = buf
                update = _zeropower_via_newtonschulz(update, group['ns_coefficients'], group['ns_steps'],
                                                     group['eps'])
                adjusted_lr = _adjust_lr(lr, group['adjust_lr_fn'], x.shape)
                x *= 1 - lr * wd
                x -= (update * adjusted_lr).astype(x.dtype, copy=False)
                bump_state(state)
                bump(p)
