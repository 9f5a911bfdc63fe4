"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from .._tensor import _wrap
from .optimizer import Optimizer, blocks, bump, required, to_scalar


class SGD(Optimizer):
    r"""PyTorch's SGD::

        g = grad (+ weight_decay * p);  with momentum: b = momentum * b + (1 - dampening) * g
        (first step: b = g);  g = g + momentum * b if nesterov else b;  p -= lr * g

    ``maximize`` ascends.
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
                x, g = p._data, p.grad._data
                b = None
                first = False
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get('momentum_buffer')
                    if buf is None:
                        first = True
                        state['momentum_buffer'] = buf = _wrap(np.empty_like(g))
                    b = buf._data
                    buf._vc[0] += 1
                arrays = (x, g) if b is None else (x, g, b)
                for xs, gs, *rest in blocks(*arrays, scratch=3):
                    bs = rest[0] if b is not None else None
                    neg, decayed, tmp = rest[-3:]
                    if maximize:
                        gs = np.negative(gs, out=neg)
                    if wd != 0:
                        gs = np.add(gs, np.multiply(xs, wd, out=decayed), out=decayed)
                    if bs is not None:
                        if first:
                            np.copyto(bs, gs)
                        else:
                            bs *= momentum
                            if dampening != 0:
                                bs += np.multiply(gs, 1 - dampening, out=tmp)
                            else:
                                bs += gs
                        if nesterov:
                            gs = np.add(gs, np.multiply(bs, momentum, out=tmp), out=tmp)
                        else:
                            gs = bs
                    if lr != 1:
                        gs = np.multiply(gs, lr, out=tmp)
                    xs -= gs
                bump(p)
