"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from .._tensor import _wrap
from .optimizer import Optimizer, bump, required, to_scalar


class SGD(Optimizer):
    r"""PyTorch's SGD::

        g = grad (+ weight_decay * p);  with momentum: b = momentum * b + (1 - dampening) * g
        (first step: b = g);  g = g + momentum * b if nesterov else b;  p -= lr * g

    ``maximize`` ascends. ``foreach``/``fused``/``differentiable`` are accepted for compatibility.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if lr is not required and lr < 0.0:
            raise ValueError(f'Invalid learning rate: {lr}')
        if momentum < 0.0:
            raise ValueError(f'Invalid momentum value: {momentum}')
        if weight_decay < 0.0:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError('Nesterov momentum requires a momentum and zero dampening')
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        return self._run_step(closure, self._update)

    def _update(self):
        for group in self.param_groups:
            lr, momentum, dampening = to_scalar(group['lr']), group['momentum'], group['dampening']
            wd, nesterov, maximize = group['weight_decay'], group['nesterov'], group['maximize']
            for p in group['params']:
                if p.grad is None:
                    continue
                x = p._data
                g = p.grad._data
                if maximize:
                    g = -g
                if wd != 0:
                    g = g + wd * x
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get('momentum_buffer')
                    if buf is None:
                        buf = _wrap(np.array(g, copy=True))
                        state['momentum_buffer'] = buf
                    else:
                        b = buf._data
                        np.multiply(b, momentum, out=b)
                        if dampening != 0:
                            b += (1 - dampening) * g
                        else:
                            b += g
                        buf._vc[0] += 1
                    g = g + momentum * buf._data if nesterov else buf._data
                x -= lr * g if lr != 1 else g
                bump(p)
