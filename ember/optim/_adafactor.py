"""Adafactor (Shazeer & Stern, 2018) in PyTorch's variant: factored second moments for matrices,
``lr`` as the cap on the relative step size and as decoupled weight-decay coefficient."""
import numpy as np

from .._tensor import Tensor, _wrap
from .optimizer import Optimizer, bump, bump_state, lerp_, scalar_state, step_tensor, to_scalar


class Adafactor(Optimizer):
    r"""Adafactor::

        beta2_hat = 1 - t^beta2_decay;  rho = min(lr, 1 / sqrt(t));  alpha = max(eps2, RMS(p)) * rho
        p *= 1 - lr * weight_decay
        ndim > 1: R = lerp(R, mean(g^2, -1), t^beta2_decay);  C = lerp(C, mean(g^2, -2), t^beta2_decay)
                  V = R C / max(mean(R, -2), eps1)
        else:     V = lerp(V, g^2, t^beta2_decay)
        U = g / sqrt(max(V, eps1^2));  p -= alpha * U / max(1, RMS(U) / d)

    ``eps1=None`` means the machine epsilon of the first updated parameter's dtype (PyTorch keeps that
    value for the rest of the group). State per parameter: ``step`` and ``row_var``/``col_var``
    (shapes ``(..., m, 1)`` and ``(..., 1, n)``) for matrices, ``variance`` otherwise.
    """

    _tensor_step = True

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError('Tensor lr must be 1-element')
        if not 0.0 <= to_scalar(lr):
            raise ValueError(f'Learning rate should be >= 0 but is: {lr}')
        if not 0.0 >= beta2_decay:
            raise ValueError(f'beta2_decay should be <= 0 but is: {beta2_decay}')
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f'epsilon1 should be >= 0 but is: {eps[0]}')
        if not 0.0 <= eps[1]:
            raise ValueError(f'epsilon2 should be >= 0 but is: {eps[1]}')
        if not 1.0 <= d:
            raise ValueError(f'Clipping threshold d should be >= 1 but is: {d}')
        if not 0.0 <= weight_decay:
            raise ValueError(f'weight_decay should be >= 0 but is: {weight_decay}')
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault('foreach', None)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        return self._run_step(closure, self._update)

    def _update(self):
        for group in self.param_groups:
            lr, beta2_decay, d, wd = to_scalar(group['lr']), group['beta2_decay'], group['d'], group['weight_decay']
            eps1, eps2 = group['eps']
            for p in group['params']:
                if p.grad is None:
                    continue
                x, g = p._data, p.grad._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = scalar_state()
                    if g.ndim > 1:
                        state['row_var'] = _wrap(np.zeros(g.shape[:-1] + (1,), g.dtype))
                        state['col_var'] = _wrap(np.zeros(g.shape[:-2] + (1, g.shape[-1]), g.dtype))
                    else:
                        state['variance'] = _wrap(np.zeros_like(g))
                if group['maximize']:
                    g = -g
                if eps1 is None:
                    eps1 = float(np.finfo(x.dtype).eps)
                step = step_tensor(state)
                one_minus_beta2 = step ** beta2_decay
                rho = min(lr, 1 / step ** 0.5)
                alpha = max(eps2, float(np.sqrt(np.vdot(x, x))) / x.size ** 0.5) * rho
                if wd != 0:
                    x *= 1 - lr * wd
                sq = np.multiply(g, g)
                if g.ndim > 1:
                    row, col = state['row_var']._data, state['col_var']._data
                    # mean of squares as PyTorch computes it: the 2-norm, squared, over the length
                    row_mean = np.sqrt(sq.sum(-1, keepdims=True))
                    np.square(row_mean, out=row_mean)
                    row_mean /= g.shape[-1]
                    lerp_(row, row_mean, one_minus_beta2)
                    col_mean = np.sqrt(sq.sum(-2, keepdims=True))
                    np.square(col_mean, out=col_mean)
                    col_mean /= g.shape[-2]
                    lerp_(col, col_mean, one_minus_beta2)
                    var = np.matmul(row, col)
                    var /= np.maximum(row.mean(-2, keepdims=True), eps1)
                else:
                    variance = state['variance']._data
                    lerp_(variance, sq, one_minus_beta2)
                    var = np.array(variance, copy=True)
                np.maximum(var, eps1 * eps1, out=var)
                update = np.sqrt(var, out=var)
                np.divide(1, update, out=update)
                update *= g
                denom = max(1.0, float(np.sqrt(np.vdot(update, update))) / (update.size ** 0.5 * d))
                update *= -alpha / denom
                x += update
                bump_state(state)
                bump(p)
