"""Adam and AdamW (Kingma & Ba; Loshchilov & Hutter), PyTorch's single-tensor update order."""
import numpy as np

from .._tensor import _wrap
from .optimizer import Optimizer, blocks, bump, check_capturable, check_lr, lerp_, scalar_state, step_tensor, to_scalar


def _check(lr, betas, eps, weight_decay):
    check_lr(lr)
    if not 0.0 <= eps:
        raise ValueError(f'Invalid epsilon value: {eps}')
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f'Invalid beta parameter at index 0: {betas[0]}')
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f'Invalid beta parameter at index 1: {betas[1]}')
    if not 0.0 <= weight_decay:
        raise ValueError(f'Invalid weight_decay value: {weight_decay}')


class Adam(Optimizer):
    r"""Adam::

        g = grad (+ weight_decay * p);  m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        p -= lr / (1 - beta1^t) * m / (sqrt(v_max if amsgrad else v) / sqrt(1 - beta2^t) + eps)

    With ``decoupled_weight_decay=True`` the decay is ``p *= 1 - lr * weight_decay`` (AdamW).
    """

    _tensor_step = True

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay or self._decoupled)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('amsgrad', False), ('maximize', False), ('foreach', None), ('capturable', False),
                               ('differentiable', False), ('fused', None)):
                group.setdefault(key, value)
            group.setdefault('decoupled_weight_decay', self._decoupled)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        return self._run_step(closure, self._update)

    def _update(self):
        for group in self.param_groups:
            check_capturable(group)
            lr, (beta1, beta2), eps = to_scalar(group['lr']), group['betas'], group['eps']
            wd, amsgrad, maximize = group['weight_decay'], group['amsgrad'], group['maximize']
            decoupled = group.get('decoupled_weight_decay', self._decoupled)
            for p in group['params']:
                if p.grad is None:
                    continue
                x = p._data
                g = p.grad._data
                state = self.state[p]
                if 'exp_avg' not in state:
                    state['step'] = scalar_state()
                    state['exp_avg'] = _wrap(np.zeros_like(x))
                    state['exp_avg_sq'] = _wrap(np.zeros_like(x))
                    if amsgrad:
                        state['max_exp_avg_sq'] = _wrap(np.zeros_like(x))
                step = step_tensor(state)
                if wd != 0 and decoupled:
                    x *= 1 - lr * wd
                bias_correction1 = 1 - beta1 ** step
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                step_size = lr / bias_correction1
                arrays = (x, g, state['exp_avg']._data, state['exp_avg_sq']._data)
                if amsgrad:
                    arrays += (state['max_exp_avg_sq']._data,)
                for xs, gs, m, v, *rest in blocks(*arrays, scratch=3):
                    gbuf, a, b = rest[-3:]
                    if maximize:
                        gs = np.negative(gs, out=gbuf)
                    if wd != 0 and not decoupled:
                        gs = np.add(gs, np.multiply(xs, wd, out=a), out=gbuf)
                    lerp_(m, gs, 1 - beta1, tmp=a)
                    v *= beta2
                    np.multiply(gs, 1 - beta2, out=a)
                    a *= gs
                    v += a
                    if amsgrad:
                        np.maximum(rest[0], v, out=rest[0])
                    denom = np.sqrt(rest[0] if amsgrad else v, out=a)
                    denom /= bias_correction2_sqrt
                    denom += eps
                    np.multiply(m, step_size, out=b)
                    b /= denom
                    xs -= b
                for key in ('exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'):
                    if key in state:
                        state[key]._vc[0] += 1
                bump(p)


class AdamW(Adam):
    """Adam with decoupled weight decay (default ``weight_decay=1e-2``)."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
