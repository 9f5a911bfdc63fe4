"""NAdam (Dozat, 2016): Adam with Nesterov momentum, PyTorch's single-tensor update order."""
import numpy as np

from .._tensor import Tensor, _wrap
from .adam import _check
from .optimizer import (Optimizer, blocks, bump, bump_state, check_capturable, lerp_, scalar_state, step_tensor,
                        to_scalar)


class NAdam(Optimizer):
    r"""NAdam::

        g = grad (+ weight_decay * p, or p *= 1 - lr * weight_decay when decoupled)
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));  prod_t = prod_{i<=t} mu_i
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;  denom = sqrt(v / (1 - beta2^t)) + eps
        p -= lr * (1 - mu_t) / (1 - prod_t) * g / denom + lr * mu_{t+1} / (1 - prod_t * mu_{t+1}) * m / denom

    State per parameter: ``step``, ``mu_product`` (a 0-d float32 tensor, multiplied in float32 as in
    PyTorch), ``exp_avg``, ``exp_avg_sq``.
    """

    _tensor_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f'Invalid momentum_decay value: {momentum_decay}')
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('maximize', False), ('foreach', None), ('capturable', False),
                               ('differentiable', False), ('decoupled_weight_decay', False)):
                group.setdefault(key, value)
        for s in self.state.values():
            if 'mu_product' in s and not isinstance(s['mu_product'], Tensor):
                s['mu_product'] = scalar_state(s['mu_product'])

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        return self._run_step(closure, self._update)

    def _update(self):
        for group in self.param_groups:
            check_capturable(group, 'params, mu_products and state_steps')
            lr, (beta1, beta2), eps = to_scalar(group['lr']), group['betas'], group['eps']
            wd, momentum_decay = group['weight_decay'], group['momentum_decay']
            for p in group['params']:
                if p.grad is None:
                    continue
                x, g = p._data, p.grad._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = scalar_state()
                    state['mu_product'] = scalar_state(1.0)
                    state['exp_avg'] = _wrap(np.zeros_like(x))
                    state['exp_avg_sq'] = _wrap(np.zeros_like(x))
                step = step_tensor(state)
                bias_correction2 = 1 - beta2 ** step
                if wd != 0 and group['decoupled_weight_decay']:
                    x *= 1 - lr * wd
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
                mu_product = state['mu_product']._data
                mu_product *= mu
                mu_product = float(mu_product)
                grad_coef = lr * (1.0 - mu) / (1.0 - mu_product)
                avg_coef = lr * mu_next / (1.0 - mu_product * mu_next)
                arrays = (x, g, state['exp_avg']._data, state['exp_avg_sq']._data)
                for xs, gs, m, v, gbuf, t, u in blocks(*arrays, scratch=3):
                    if group['maximize']:
                        gs = np.negative(gs, out=gbuf)
                    if wd != 0 and not group['decoupled_weight_decay']:
                        gs = np.add(gs, np.multiply(xs, wd, out=t), out=gbuf)
                    lerp_(m, gs, 1 - beta1, tmp=t)
                    v *= beta2
                    np.multiply(gs, 1 - beta2, out=t)
                    t *= gs
                    v += t
                    denom = np.divide(v, bias_correction2, out=t)
                    np.sqrt(denom, out=denom)
                    denom += eps
                    np.multiply(gs, grad_coef, out=u)
                    u /= denom
                    xs -= u
                    np.multiply(m, avg_coef, out=u)
                    u /= denom
                    xs -= u
                bump_state(state)
                bump(p)
