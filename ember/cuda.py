"""``ember.cuda``: answers for code that probes for a GPU. Ember has no CUDA backend.

Probing (``is_available``, ``device_count``) and seeding work as on a PyTorch build without
CUDA; anything that needs a device raises PyTorch's ``AssertionError``.
"""


def is_available():
    """False: Ember runs on the CPU (NumPy) only."""
    return False


def device_count():
    """0: no CUDA devices."""
    return 0


def is_initialized():
    return False


def manual_seed(seed):
    """Accepted and ignored without a GPU, as in PyTorch."""


manual_seed_all = manual_seed


def seed():
    """Ignored without a GPU, as in PyTorch."""


seed_all = seed


def synchronize(device=None):
    _lazy_init()


def empty_cache():
    """Nothing is cached without a GPU."""


def _lazy_init():
    raise AssertionError('Torch not compiled with CUDA enabled: Ember has no CUDA backend installed. '
                         'Keep tensors on the CPU (device="cpu"), or pick the device with '
                         '"cuda" if ember.cuda.is_available() else "cpu".')


def current_device():
    _lazy_init()


def get_device_name(device=None):
    _lazy_init()


def get_device_properties(device=None):
    _lazy_init()


def set_device(device):
    _lazy_init()
