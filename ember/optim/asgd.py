"""Averaged SGD (Polyak & Juditsky, 1992), PyTorch's single-tensor update order."""
import numpy as np

from .._tensor import Tensor, _wrap
from .optimizer import (Optimizer, blocks, bump, bump_state, check_capturable, check_lr, scalar_state, step_tensor,
                        to_scalar)


class ASGD(Optimizer):
    r"""ASGD::

        g = grad (+ weight_decay * p);  p *= 1 - lambd * eta;  p -= eta * g
        ax = p if mu == 1 else ax + mu * (p - ax)
        eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)

    ``ax`` holds the running average of the iterates (averaging starts after ``t0`` steps). ``eta`` and
    ``mu`` are 0-d float32 tensors in the state, as in PyTorch.
    """

    _tensor_step = True

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
                step = step_tensor(state)
                eta = float(state['eta']._data)
                mu = state['mu']._data
                averaging = float(mu) != 1
                for xs, gs, ax, gbuf, t in blocks(x, g, state['ax']._data, scratch=2):
                    if group['maximize']:
                        gs = np.negative(gs, out=gbuf)
                    if wd != 0:
                        gs = np.add(gs, np.multiply(xs, wd, out=t), out=gbuf)
                    xs *= 1 - lambd * eta
                    xs -= np.multiply(gs, eta, out=t)
                    if averaging:
                        np.subtract(xs, ax, out=t)
                        t *= mu
                        ax += t
                    else:
                        np.copyto(ax, xs)
                state['eta']._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
                state['mu']._data[...] = 1 / max(1, step - t0)
                bump_state(state)
                bump(p)
