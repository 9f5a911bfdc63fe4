"""RMSprop (Hinton's lecture 6e; centered variant of Graves 2013), PyTorch's single-tensor update order."""
import numpy as np

from .._tensor import _wrap
from .optimizer import (Optimizer, blocks, bump, bump_state, check_capturable, check_lr, lerp_, scalar_state,
                        step_tensor, to_scalar)


class RMSprop(Optimizer):
    r"""RMSprop::

        g = grad (+ weight_decay * p);  v = alpha * v + (1 - alpha) * g * g
        centered: a = lerp(a, g, 1 - alpha);  denom = sqrt(v - a * a) + eps,  else denom = sqrt(v) + eps
        momentum > 0: b = momentum * b + g / denom;  p -= lr * b,  else p -= lr * g / denom

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0), ``grad_avg`` (centered).
    """

    _tensor_step = True

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f'Invalid epsilon value: {eps}')
        if not 0.0 <= momentum:
            raise ValueError(f'Invalid momentum value: {momentum}')
        if not 0.0 <= weight_decay:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
        if not 0.0 <= alpha:
            raise ValueError(f'Invalid alpha value: {alpha}')
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('momentum', 0), ('centered', False), ('foreach', None), ('maximize', False),
                               ('differentiable', False), ('capturable', False)):
                group.setdefault(key, value)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        return self._run_step(closure, self._update)

    def _update(self):
        for group in self.param_groups:
            check_capturable(group)
            lr, alpha, eps = to_scalar(group['lr']), group['alpha'], group['eps']
            wd, momentum, centered = group['weight_decay'], group['momentum'], group['centered']
            for p in group['params']:
                if p.grad is None:
                    continue
                x, g = p._data, p.grad._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = scalar_state()
                    state['square_avg'] = _wrap(np.zeros_like(x))
                    if momentum > 0:
                        state['momentum_buffer'] = _wrap(np.zeros_like(x))
                    if centered:
                        state['grad_avg'] = _wrap(np.zeros_like(x))
                step_tensor(state)
                arrays = (x, g, state['square_avg']._data)
                if centered:
                    arrays += (state['grad_avg']._data,)
                if momentum > 0:
                    arrays += (state['momentum_buffer']._data,)
                for xs, gs, vs, *rest in blocks(*arrays, scratch=3):
                    gbuf, t, u = rest[-3:]
                    if group['maximize']:
                        gs = np.negative(gs, out=gbuf)
                    if wd != 0:
                        gs = np.add(gs, np.multiply(xs, wd, out=t), out=gbuf)
                    vs *= alpha
                    np.multiply(gs, 1 - alpha, out=t)
                    t *= gs
                    vs += t
                    if centered:
                        a = rest[0]
                        lerp_(a, gs, 1 - alpha, tmp=t)
                        avg = np.multiply(a, a, out=t)
                        np.subtract(vs, avg, out=avg)
                        np.sqrt(avg, out=avg)
                    else:
                        avg = np.sqrt(vs, out=t)
                    avg += eps
                    if momentum > 0:
                        b = rest[-4]
                        b *= momentum
                        b += np.divide(gs, avg, out=u)
                        xs -= np.multiply(b, lr, out=u)
                    else:
                        np.multiply(gs, lr, out=u)
                        u /= avg
                        xs -= u
                bump_state(state)
                bump(p)
