"""``ember.random``: the default generator's seeding and state, and ``fork_rng``, as ``torch.random``."""
import contextlib

from ._random import default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller='fork_rng', _devices_kw='devices', device_type='cuda'):
    """Run the block with the default generator's state saved and restored afterwards, so random
    draws inside it do not change the stream outside. Only the CPU generator exists in Ember;
    asking for accelerator devices raises."""
    if not enabled:
        yield
        return
    if devices:
        from .cuda import _lazy_init
        _lazy_init()
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


__all__ = ['default_generator', 'fork_rng', 'get_rng_state', 'initial_seed', 'manual_seed', 'seed', 'set_rng_state']
