"""Rprop (Riedmiller & Braun, 1993): sign-based steps with per-element adaptive sizes."""
import numpy as np

from .._tensor import _wrap
from .optimizer import (Optimizer, blocks, bump, bump_state, check_capturable, check_lr, scalar_state, step_tensor,
                        to_scalar)


class Rprop(Optimizer):
    r"""Rprop::

        s = sign(g * g_prev);  f = etaplus where s > 0, etaminus where s < 0, 1 where s == 0
        step_size = clamp(step_size * f, step_sizes[0], step_sizes[1]);  g = 0 where s < 0
        p -= sign(g) * step_size;  g_prev = g

    ``step_size`` starts at ``lr`` for every element. State per parameter: ``step``, ``prev``, ``step_size``.
    """

    _tensor_step = True

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f'Invalid eta values: {etas[0]}, {etas[1]}')
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
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
            etaminus, etaplus = group['etas']
            step_size_min, step_size_max = group['step_sizes']
            for p in group['params']:
                if p.grad is None:
                    continue
                x, g = p._data, p.grad._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = scalar_state()
                    state['prev'] = _wrap(np.zeros_like(x))
                    state['step_size'] = _wrap(np.full_like(g, to_scalar(group['lr'])))
                step_tensor(state)
                arrays = (x, g, state['prev']._data, state['step_size']._data)
                for xs, gs, prev, step_size, sign, gbuf in blocks(*arrays, scratch=2):
                    if group['maximize']:
                        gs = np.negative(gs, out=gbuf)
                    np.multiply(gs, prev, out=sign)
                    np.sign(sign, out=sign)
                    # the three masks are taken one after another on the same array, as PyTorch does, so
                    # that a NaN product leaves a NaN factor
                    np.copyto(sign, etaplus, where=sign > 0)
                    np.copyto(sign, etaminus, where=sign < 0)
                    np.copyto(sign, 1, where=sign == 0)
                    step_size *= sign
                    np.clip(step_size, step_size_min, step_size_max, out=step_size)
                    if gs is not gbuf:
                        np.copyto(gbuf, gs)
                        gs = gbuf
                    np.copyto(gs, 0, where=sign == etaminus)
                    np.copyto(prev, gs)
                    upd = np.sign(gs, out=sign)
                    upd *= step_size
                    xs -= upd
                bump_state(state)
                bump(p)
