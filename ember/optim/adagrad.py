"""Adagrad (Duchi et al., 2011), PyTorch's single-tensor update order."""
import numpy as np

from .._tensor import _wrap
from .optimizer import Optimizer, blocks, bump, bump_state, check_lr, scalar_state, step_tensor, to_scalar


class Adagrad(Optimizer):
    r"""Adagrad::

        g = grad (+ weight_decay * p);  clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g;  p -= clr * g / (sqrt(s) + eps)

    The state (``step`` = 0 and ``sum`` filled with ``initial_accumulator_value``) is created in the
    constructor, as in PyTorch.
    """

    _tensor_step = True

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f'Invalid lr_decay value: {lr_decay}')
        if not 0.0 <= weight_decay:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f'Invalid initial_accumulator_value value: {initial_accumulator_value}')
        if not 0.0 <= eps:
            raise ValueError(f'Invalid epsilon value: {eps}')
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError('`fused` does not support `differentiable`')
            if foreach:
                raise RuntimeError('`fused` and `foreach` cannot be `True` together.')
        for group in self.param_groups:
            for p in group['params']:
                self._init_state(p, initial_accumulator_value, group['fused'])

    def _init_state(self, p, initial_accumulator_value, fused):
        state = self.state[p]
        # the fused kernel keeps its step count in float32 whatever the default dtype
        state['step'] = _wrap(np.zeros((), np.float32)) if fused else scalar_state()
        state['sum'] = _wrap(np.full_like(p._data, initial_accumulator_value))

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('foreach', None), ('maximize', False), ('differentiable', False), ('fused', None)):
                group.setdefault(key, value)

    def share_memory(self):
        """PyTorch moves the ``sum`` accumulators to shared memory for Hogwild training; Ember's tensors
        live in process-local NumPy memory, so this does nothing."""

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        return self._run_step(closure, self._update)

    def _update(self):
        for group in self.param_groups:
            lr, lr_decay, eps, wd = to_scalar(group['lr']), group['lr_decay'], group['eps'], group['weight_decay']
            for p in group['params']:
                if p.grad is None:
                    continue
                x, g = p._data, p.grad._data
                state = self.state[p]
                if len(state) == 0:
                    # parameters added later take the constructor's accumulator value, as in PyTorch
                    self._init_state(p, self.defaults['initial_accumulator_value'], group['fused'])
                step = step_tensor(state)
                clr = lr / (1 + (step - 1) * lr_decay)
                for xs, gs, s, gbuf, t, u in blocks(x, g, state['sum']._data, scratch=3):
                    if group['maximize']:
                        gs = np.negative(gs, out=gbuf)
                    if wd != 0:
                        gs = np.add(gs, np.multiply(xs, wd, out=t), out=gbuf)
                    s += np.multiply(gs, gs, out=t)
                    std = np.sqrt(s, out=t)
                    std += eps
                    np.multiply(gs, clr, out=u)
                    u /= std
                    xs -= u
                bump_state(state)
                bump(p)
