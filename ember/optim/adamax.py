"""Adamax (Kingma & Ba, 2014, section 7.1), PyTorch's single-tensor update order."""
import numpy as np

from .._tensor import _wrap
from .adam import _check
from .optimizer import (Optimizer, blocks, bump, bump_state, check_capturable, lerp_, scalar_state, step_tensor,
                        to_scalar)


class Adamax(Optimizer):
    r"""Adamax, Adam with the infinity norm::

        g = grad (+ weight_decay * p);  m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p -= lr / (1 - beta1^t) * m / u

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).
    """

    _tensor_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
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
            check_capturable(group)
            lr, (beta1, beta2), eps, wd = to_scalar(group['lr']), group['betas'], group['eps'], group['weight_decay']
            for p in group['params']:
                if p.grad is None:
                    continue
                x, g = p._data, p.grad._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = scalar_state()
                    state['exp_avg'] = _wrap(np.zeros_like(x))
                    state['exp_inf'] = _wrap(np.zeros_like(x))
                step = step_tensor(state)
                clr = lr / (1 - beta1 ** step)
                for xs, gs, m, u, gbuf, t in blocks(x, g, state['exp_avg']._data, state['exp_inf']._data, scratch=2):
                    if group['maximize']:
                        gs = np.negative(gs, out=gbuf)
                    if wd != 0:
                        gs = np.add(gs, np.multiply(xs, wd, out=t), out=gbuf)
                    lerp_(m, gs, 1 - beta1, tmp=t)
                    u *= beta2
                    np.abs(gs, out=t)
                    t += eps
                    np.maximum(u, t, out=u)
                    np.multiply(m, clr, out=t)
                    t /= u
                    xs -= t
                bump_state(state)
                bump(p)
