"""Averaged SGD (Polyak & Juditsky, 1992), PyTorch's single-tensor update order."""
import numpy as np

from .._tensor import Tensor, _wrap
from .optimizer import Optimizer, bump, bump_state, check_capturable, check_lr, scalar_state, step_tensor, to_scalar


class ASGD(Optimizer):
    r"""ASGD::

        g = grad (+ weight_decay * p);  p *= 1 - lambd * eta;  p -= eta * g
        ax = p if mu == 1 else ax + mu * (p - ax)
        eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)

    ``ax`` holds the running average of the iterates (averaging starts after ``t0`` steps). ``eta`` and
    ``mu`` are 0-d float32 tensors in the state, as in PyTorch.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None, maximize=False,
                 differentiable=False, capturable=False):
        check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('foreach', None), ('maximize', False), ('differentiable', False),
                               ('capturable', False)):
                group.setdefault(key, value)
        for s in self.state.values():
            for key in ('eta', 'mu'):
                if key in s and not isinstance(s[key], Tensor):
                    s[key] = scalar_state(float(s[key]))

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        return self._run_step(closure, self._update)

    def _update(self):
        for group in self.param_groups:
            check_capturable(group, 'params, mus, etas, and state_steps')
            lr, lambd, alpha = to_scalar(group['lr']), group['lambd'], group['alpha']
            t0, wd = group['t0'], group['weight_decay']
            for p in group['params']:
                if p.grad is None:
                    continue
                x, g = p._data, p.grad._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = scalar_state()
                    state['eta'] = scalar_state(lr)
                    state['mu'] = scalar_state(1.0)
                    state['ax'] = _wrap(np.zeros_like(x))
                if group['maximize']:
                    g = -g
                step = step_tensor(state)
                if wd != 0:
                    g = g + wd * x
                eta = float(state['eta']._data)
                x *= 1 - lambd * eta
                x -= np.multiply(g, eta)
                ax, mu = state['ax']._data, state['mu']._data
                if float(mu) != 1:
                    tmp = np.subtract(x, ax)
                    tmp *= mu
                    ax += tmp
                else:
                    np.copyto(ax, x)
                state['eta']._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
                state['mu']._data[...] = 1 / max(1, step - t0)
                bump_state(state)
                bump(p)
