"""RAdam (Liu et al., 2019): Adam with a rectified adaptive learning rate, PyTorch's single-tensor update order."""
import numpy as np

from .._tensor import _wrap
from .adam import _check
from .optimizer import (Optimizer, blocks, bump, bump_state, check_capturable, lerp_, scalar_state, step_tensor,
                        to_scalar)


class RAdam(Optimizer):
    r"""RAdam::

        g = grad (+ weight_decay * p, or p *= 1 - lr * weight_decay when decoupled)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;  m_hat = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5: p -= lr * m_hat * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps),  else p -= lr * m_hat
        with r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
    """

    _tensor_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('foreach', None), ('maximize', False), ('differentiable', False),
                               ('decoupled_weight_decay', False), ('capturable', False)):
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
                    state['exp_avg_sq'] = _wrap(np.zeros_like(x))
                step = step_tensor(state)
                if wd != 0 and group['decoupled_weight_decay']:
                    x *= 1 - lr * wd
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                rect = None
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                arrays = (x, g, state['exp_avg']._data, state['exp_avg_sq']._data)
                for xs, gs, m, v, gbuf, t, upd in blocks(*arrays, scratch=3):
                    if group['maximize']:
                        gs = np.negative(gs, out=gbuf)
                    if wd != 0 and not group['decoupled_weight_decay']:
                        gs = np.add(gs, np.multiply(xs, wd, out=t), out=gbuf)
                    lerp_(m, gs, 1 - beta1, tmp=t)
                    v *= beta2
                    np.multiply(gs, 1 - beta2, out=t)
                    t *= gs
                    v += t
                    np.divide(m, bias_correction1, out=upd)
                    upd *= lr
                    if rect is not None:
                        adaptive = np.sqrt(v, out=t)
                        adaptive += eps
                        np.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
                        upd *= adaptive
                        upd *= rect
                    xs -= upd
                bump_state(state)
                bump(p)
