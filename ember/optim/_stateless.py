"""``swap_in_optimizer_params_and_state``: run an optimizer on other parameters and state for a while."""
import contextlib
from collections import defaultdict

from .._tensor import Tensor

_NAME = 'swap_in_optimizer_params_and_state'


def _check_state(state):
    if not isinstance(state, dict):
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['state'] to be a dict mapping packed parameter "
                           f'ids to per-param state dicts, got {type(state).__name__}.')
    if any(isinstance(k, Tensor) for k in state):
        raise RuntimeError(f'{_NAME} requires optimizer.state_dict()-style state keyed by packed parameter ids.')
    if any(isinstance(k, int) and not isinstance(v, dict) for k, v in state.items()):
        raise RuntimeError(f'{_NAME} requires per-parameter optimizer state entries to be dictionaries.')


def _check_group(idx, group, swapin_group):
    """The swap-in group must be a state_dict-style group with the live group's keys; returns its ids."""
    if not isinstance(swapin_group, dict):
        raise RuntimeError(f'{_NAME} requires each optimizer param group to be a dictionary.')
    ids = swapin_group.get('params')
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style param_groups[*]['params'] entries "
                           'keyed by packed parameter ids.')
    if len(group['params']) != len(ids):
        raise RuntimeError(f'swapin_optim_state param group {idx} has a different number of params than the live '
                           'optimizer param group.')
    swapin_only = [k for k in swapin_group if k not in group]
    live_only = [k for k in group if k not in swapin_group]
    if swapin_only or live_only:
        raise RuntimeError(f'{_NAME} requires optimizer.state_dict()-style param group keys to exactly match the '
                           f'live optimizer group keys for group {idx}. Keys only in swap-in: {swapin_only}. Keys '
                           f'only in live: {live_only}.')
    return ids


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters, swapin_optim_state):
    """Within the ``with`` block, ``optimizer`` works on the tensors of ``swapin_parameters`` (a dict in
    the order of the optimizer's parameters) with the hyper-parameters and state of
    ``swapin_optim_state`` (an ``optimizer.state_dict()``-shaped dict); its own parameters, groups and
    state come back on exit. In-place changes to the swapped-in state tensors are kept by them."""
    if not optimizer.state:
        raise RuntimeError(f'{_NAME} requires initialized optimizer state.')
    if not isinstance(swapin_optim_state, dict):
        raise RuntimeError(f'{_NAME} requires a DCP-style optimizer state_dict.')
    state = swapin_optim_state.get('state')
    _check_state(state)
    groups = swapin_optim_state.get('param_groups')
    if not isinstance(groups, list):
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['param_groups'] to be a list of param-group "
                           f'dicts, got {type(groups).__name__}.')
    if len(optimizer.param_groups) != len(groups):
        raise RuntimeError('swapin_optim_state has a different number of parameter groups than the live optimizer.')
    tensors = list(swapin_parameters.values())
    plan, seen, offset = [], set(), 0
    for idx, (group, swapin_group) in enumerate(zip(optimizer.param_groups, groups)):
        ids = _check_group(idx, group, swapin_group)
        seen.update(ids)
        if offset + len(ids) > len(tensors):
            raise RuntimeError(f'{_NAME} requires the explicit parameter state to match optimizer.param_groups '
                               'ordering.')
        plan.append((group, swapin_group, tensors[offset:offset + len(ids)]))
        offset += len(ids)
    extra = [k for k in state if k not in seen]
    if extra:
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['state'] to be keyed only by packed parameter ids "
                           f"from param_groups[*]['params']; got extra keys {extra!r}.")

    original_state = optimizer.state
    snapshots = [dict(g) for g in optimizer.param_groups]
    try:
        swapped = defaultdict(dict)
        for group, swapin_group, params in plan:
            group['params'] = params
            group.update((k, v) for k, v in swapin_group.items() if k != 'params')
            for p, pid in zip(params, swapin_group['params']):
                swapped[p] = dict(state.get(pid, {}))
        optimizer.state = swapped
        yield
    finally:
        for group, snapshot in zip(optimizer.param_groups, snapshots):
            group.clear()
            group.update(snapshot)
        optimizer.state = original_state
