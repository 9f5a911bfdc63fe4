"""Rprop (Riedmiller & Braun, 1993): sign-based steps with per-element adaptive sizes."""
import numpy as np

from .._tensor import _wrap
from .optimizer import Optimizer, bump, bump_state, check_capturable, check_lr, scalar_state, step_tensor, to_scalar


class Rprop(Optimizer):
    r"""Rprop::

        s = sign(g * g_prev);  f = etaplus where s > 0, etaminus where s < 0, 1 where s == 0
        step_size = clamp(step_size * f, step_sizes[0], step_sizes[1]);  g = 0 where s < 0
        p -= sign(g) * step_size;  g_prev = g

    ``step_size`` starts at ``lr`` for every element. State per parameter: ``step``, ``prev``, ``step_size``.
    """

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
                if group['maximize']:
                    g = -g
                step_tensor(state)
                prev, step_size = state['prev']._data, state['step_size']._data
                sign = np.multiply(g, prev)
                np.sign(sign, out=sign)
                # the three masks are taken one after another on the same array, as PyTorch does, so that
                # a NaN product leaves a NaN factor
                sign[sign > 0] = etaplus
                sign[sign < 0] = etaminus
                sign[sign == 0] = 1
                step_size *= sign
                np.clip(step_size, step_size_min, step_size_max, out=step_size)
                g = np.array(g, copy=True)
                g[sign == etaminus] = 0
                upd = np.sign(g, out=sign)
                upd *= step_size
                x -= upd
                np.copyto(prev, g)
                bump_state(state)
                bump(p)
