"""``Optimizer``: parameter groups, per-parameter state and PyTorch's state_dict layout.

Subclasses implement ``step``; updates work on the parameters' arrays in place with NumPy ufuncs
(``out=`` buffers, no temporaries where avoidable) and bump each parameter's version counter,
exactly as an in-place tensor op would. Every subclass's ``step`` is wrapped (at class creation) so
that the global and per-optimizer step hooks run around it, with the call's ``(args, kwargs)``.

The implementation flags PyTorch's optimizers take are accepted and kept in the param groups:
``foreach`` and ``fused`` select PyTorch kernels that compute the same update; ``capturable=True``
(for CUDA-graph capture) raises on CPU parameters as PyTorch does; ``differentiable=True`` raises
NotImplementedError, since updates on raw arrays are not recorded by autograd.
"""
from collections import OrderedDict, defaultdict
from copy import deepcopy
from functools import wraps
from itertools import chain

from .._tensor import Tensor, _wrap
from ..autograd.graph import RemovableHandle


class _RequiredParameter:
    def __repr__(self):
        return '<required parameter>'


required = _RequiredParameter()

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """Run ``hook(optimizer, args, kwargs)`` before every optimizer's ``step``; it may return new
    ``(args, kwargs)``."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """Run ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _with_step_hooks(func):
    @wraps(func)
    def step(*args, **kwargs):
        self = args[0]
        if self.__dict__.get('_in_step'):
            # an overriding step calling super().step(): the hooks already ran for this step
            return func(*args, **kwargs)
        for hook in list(chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values())):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f'{func} must return None or a tuple of (new_args, new_kwargs), but got '
                                       f'{result}.')
                args, kwargs = result
        self._in_step = True
        try:
            out = func(*args, **kwargs)
        finally:
            self._in_step = False
        for hook in list(chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values())):
            hook(self, args, kwargs)
        return out

    step._hooked = True
    return step


def _add_hook(hooks, hook, prepend=False):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


_HOOK_DICTS = ('_optimizer_step_pre_hooks', '_optimizer_step_post_hooks', '_optimizer_state_dict_pre_hooks',
               '_optimizer_state_dict_post_hooks', '_optimizer_load_state_dict_pre_hooks',
               '_optimizer_load_state_dict_post_hooks')


class Optimizer:
    """Base class: ``Optimizer(params, defaults)`` with ``params`` an iterable of tensors, of
    ``(name, tensor)`` pairs, or of dicts (parameter groups with per-group options)."""

    # built-in optimizers that keep state['step'] as a 0-d tensor set this
    _tensor_step = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get('step')
        if step is not None and not getattr(step, '_hooked', False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        for name in _HOOK_DICTS:
            setattr(self, name, OrderedDict())
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError('params argument given to the optimizer should be an iterable of Tensors or dicts, '
                            f'but got {params.type()}')
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError('optimizer got an empty parameter list')
        if not isinstance(param_groups[0], dict):
            param_groups = [{'params': param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        s = self.__class__.__name__ + ' ('
        for i, group in enumerate(self.param_groups):
            s += f'\nParameter Group {i}\n'
            for key in sorted(group.keys()):
                if key != 'params':
                    s += f'    {key}: {group[key]}\n'
        return s + ')'

    def __getstate__(self):
        return {'defaults': self.defaults, 'state': self.state, 'param_groups': self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in _HOOK_DICTS:
            self.__dict__.setdefault(name, OrderedDict())
        if self._tensor_step:
            # checkpoints from PyTorch < 1.12 keep 'step' as a Python number
            for s in self.state.values():
                if isinstance(s, dict) and isinstance(s.get('step'), (int, float)):
                    s['step'] = scalar_state(float(s['step']))

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with 'params' and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f'param_group must be a dict, but got {type(param_group).__name__}')
        params = param_group['params']
        if isinstance(params, Tensor):
            param_group['params'] = [params]
        elif isinstance(params, set):
            raise TypeError('optimizer parameters need to be organized in ordered collections, but the ordering '
                            'of tensors in sets will change between runs. Please use a list instead.')
        else:
            param_group['params'] = list(params)
        extracted, names = [], []
        for p in param_group['params']:
            if isinstance(p, tuple) and len(p) == 2:
                names.append(p[0])
                extracted.append(p[1])
            else:
                extracted.append(p)
        if names:
            if len(names) != len(extracted):
                raise ValueError('all optimizer params should be with/without names. Some param names are missing')
            param_group['param_names'] = names
        param_group['params'] = extracted
        for param in extracted:
            if not isinstance(param, Tensor):
                raise TypeError(f'optimizer can only optimize Tensors, but one of the params is '
                                f'{type(param).__name__}')
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter "
                                 f'{name}')
            param_group.setdefault(name, default)
        if param_group.get('differentiable'):
            raise NotImplementedError('differentiable=True is not supported: Ember\'s optimizers update the '
                                      'parameters\' arrays outside autograd, so a step cannot be differentiated')
        param_set = set()
        for group in self.param_groups:
            param_set.update(id(p) for p in group['params'])
            if ('param_names' in param_group) != ('param_names' in group):
                raise ValueError('all optimizer param groups should be with/without names.')
        if not param_set.isdisjoint(id(p) for p in param_group['params']):
            raise ValueError('some parameters appear in more than one parameter group')
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimised parameters (to None by default)."""
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        if p.grad.grad_fn is not None:
                            p.grad.detach_()
                        else:
                            p.grad.requires_grad_(False)
                        p.grad.zero_()

    def step(self, closure=None):
        raise NotImplementedError

    def _run_step(self, closure, update):
        """Evaluate ``closure`` (with grad enabled) if given, then ``update()``; return the loss."""
        from ..autograd.grad_mode import enable_grad
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        update()
        return loss

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before ``step``; it may return new ``(args, kwargs)``."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after ``step``."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs before ``state_dict`` builds its result."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs on ``state_dict``'s result; it may return a replacement."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs before ``load_state_dict``; it may return a replacement."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs after ``load_state_dict``."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`` as in PyTorch."""
        for hook in list(self._optimizer_state_dict_pre_hooks.values()):
            hook(self)
        mapping = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != 'params'}
            mapping.update((id(p), i) for i, p in enumerate(group['params'], start) if id(p) not in mapping)
            packed['params'] = [mapping[id(p)] for p in group['params']]
            start += len(packed['params'])
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        packed_state = {mapping[id(k)] if isinstance(k, Tensor) else k: v for k, v in self.state.items()}
        state_dict = {'state': packed_state, 'param_groups': param_groups}
        for hook in list(self._optimizer_state_dict_post_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Restore state and hyper-parameters saved by ``state_dict`` (Ember's or PyTorch's)."""
        state_dict = state_dict.copy()
        for hook in list(self._optimizer_load_state_dict_pre_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict['param_groups'])
        if len(groups) != len(saved_groups):
            raise ValueError('loaded state dict has a different number of parameter groups')
        param_lens = (len(g['params']) for g in groups)
        saved_lens = (len(g['params']) for g in saved_groups)
        if any(p_len != s_len for p_len, s_len in zip(param_lens, saved_lens)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g['params'] for g in saved_groups),
                          chain.from_iterable(g['params'] for g in groups)))

        def cast(param, value, key=None):
            if isinstance(value, Tensor):
                if key == 'step':
                    return value.clone()
                if param.is_floating_point() and value.is_floating_point():
                    return value.to(param.dtype).clone()
                return value.clone()
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict['state'].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group['params'] = group['params']
            if 'param_names' in group and 'param_names' not in new_group:
                new_group['param_names'] = group['param_names']
            for key, value in group.items():
                new_group.setdefault(key, value)
            return new_group

        self.__setstate__({'state': state,
                           'param_groups': [update_group(g, ng) for g, ng in zip(groups, saved_groups)]})
        for hook in list(self._optimizer_load_state_dict_post_hooks.values()):
            hook(self)


def _scalar_dtype():
    """dtype of PyTorch's scalar optimizer state ('step', 'mu_product', ...): float64 only when that is the
    default dtype, float32 otherwise."""
    import numpy as np
    from .._dtype import get_default_dtype
    return np.float64 if get_default_dtype().np == np.float64 else np.float32


def scalar_state(value=0.0):
    """A 0-d tensor of the scalar state dtype holding ``value``."""
    import numpy as np
    return _wrap(np.array(value, _scalar_dtype()))


def step_tensor(state):
    """Increment and return the 0-d ``state['step']`` tensor PyTorch keeps (float32 by default)."""
    if 'step' not in state:
        state['step'] = scalar_state()
    s = state['step']
    s._data += 1
    s._vc[0] += 1
    return float(s._data)


def check_capturable(group, what='params and state_steps', xla=True):
    """``capturable=True`` is for CUDA-graph capture: PyTorch rejects it for parameters on other devices."""
    if not group.get('capturable'):
        return
    devices = ['cuda', 'xpu', 'hpu', 'privateuseone'] + (['xla'] if xla else [])
    for p in group['params']:
        if p.grad is not None and p.device.type not in devices:
            raise AssertionError(f'If capturable=True, {what} must be on supported devices: {devices}.')


def to_scalar(value):
    """A learning rate given as a 1-element tensor, as a Python number."""
    return value.item() if isinstance(value, Tensor) else value


def check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError('Tensor lr must be 1-element')
    if not 0.0 <= to_scalar(lr):
        raise ValueError(f'Invalid learning rate: {lr}')


def lerp_(a, b, w, tmp=None):
    """``a.lerp_(b, w)`` on arrays with PyTorch's two-sided formula (exact at both ends); ``tmp`` is an
    optional scratch array of ``a``'s shape."""
    import numpy as np
    d = np.subtract(b, a, out=tmp)
    if abs(w) < 0.5:
        d *= w
        a += d
    else:
        d *= 1 - w
        np.subtract(b, d, out=a)


# Elementwise updates of large parameters run over blocks of this many elements so that a block's
# temporaries stay in cache: every array is then read and written about once per step instead of once
# per NumPy call. Elementwise results do not depend on the blocking.
_BLOCK = 1 << 15


def blocks(*arrays, scratch=0):
    """Yield tuples of matching flat blocks of the same-shaped ``arrays``, followed by ``scratch``
    temporary arrays of the block's size. Arrays that are small or not all C-contiguous come whole."""
    import numpy as np
    n = arrays[0].size
    dtype = np.result_type(*arrays)
    if n <= 2 * _BLOCK or not all(a.flags.c_contiguous for a in arrays):
        yield arrays + tuple(np.empty(arrays[0].shape, dtype) for _ in range(scratch))
        return
    flat = [a.reshape(-1) for a in arrays]
    tmp = [np.empty(_BLOCK, dtype) for _ in range(scratch)]
    for i in range(0, n, _BLOCK):
        j = min(i + _BLOCK, n)
        yield tuple(f[i:j] for f in flat) + tuple(t[:j - i] for t in tmp)


def bump(p):
    """Record an in-place update of parameter ``p`` (its version counter)."""
    p._vc[0] += 1


def bump_state(state):
    """Record in-place updates of every tensor in a parameter's state."""
    for v in state.values():
        if isinstance(v, Tensor):
            v._vc[0] += 1
