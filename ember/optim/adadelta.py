"""Adadelta (Zeiler, 2012), PyTorch's single-tensor update order."""
import numpy as np

from .._tensor import _wrap
from .optimizer import (Optimizer, blocks, bump, bump_state, check_capturable, check_lr, scalar_state, step_tensor,
                        to_scalar)


class Adadelta(Optimizer):
    r"""Adadelta::

        g = grad (+ weight_decay * p);  v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g;  u = rho * u + (1 - rho) * delta * delta;  p -= lr * delta

    State per parameter: ``step``, ``square_avg`` (v), ``acc_delta`` (u).
    """

    _tensor_step = True

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f'Invalid rho value: {rho}')
        if not 0.0 <= eps:
            raise ValueError(f'Invalid epsilon value: {eps}')
        if not 0.0 <= weight_decay:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('foreach', None), ('maximize', False), ('differentiable', False),
                               ('capturable', False)):
                group.setdefault(key, value)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        return self._run_step(closure, self._update)

    def _update(self):
        for group in self.param_groups:
            check_capturable(group, xla=False)
            lr, rho, eps, wd = to_scalar(group['lr']), group['rho'], group['eps'], group['weight_decay']
            for p in group['params']:
                if p.grad is None:
                    continue
                x, g = p._data, p.grad._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = scalar_state()
                    state['square_avg'] = _wrap(np.zeros_like(x))
                    state['acc_delta'] = _wrap(np.zeros_like(x))
                step_tensor(state)
                arrays = (x, g, state['square_avg']._data, state['acc_delta']._data)
                for xs, gs, v, u, gbuf, t, delta in blocks(*arrays, scratch=3):
                    if group['maximize']:
                        gs = np.negative(gs, out=gbuf)
                    if wd != 0:
                        gs = np.add(gs, np.multiply(xs, wd, out=t), out=gbuf)
                    v *= rho
                    np.multiply(gs, 1 - rho, out=t)
                    t *= gs
                    v += t
                    std = np.add(v, eps, out=t)
                    np.sqrt(std, out=std)
                    np.add(u, eps, out=delta)
                    np.sqrt(delta, out=delta)
                    delta /= std
                    delta *= gs
                    u *= rho
                    np.multiply(delta, 1 - rho, out=t)
                    t *= delta
                    u += t
                    delta *= lr
                    xs -= delta
                bump_state(state)
                bump(p)
