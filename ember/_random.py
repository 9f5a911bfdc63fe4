"""Random numbers: ``Generator``, ``manual_seed`` and the sampling functions."""
import numpy as np

from . import _dtype
from ._creation import _finish, _resolve, _shape
from ._tensor import Tensor


class Generator:
    """A random number generator with PyTorch's seeding API."""

    def __init__(self, device='cpu'):
        self.device = device
        self._seed = 67280421310721
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed) & 0xFFFFFFFFFFFFFFFF
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from ._creation import tensor
        import pickle
        return tensor(np.frombuffer(pickle.dumps(self._rng.bit_generator.state), np.uint8).copy())

    def set_state(self, state):
        import pickle
        self._rng.bit_generator.state = pickle.loads(state._data.tobytes())
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator; returns it."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _gen(generator):
    return (generator or default_generator)._rng


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    d = _resolve(dtype)
    return _finish(_gen(generator).random(_shape(size)).astype(d), requires_grad, device)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Standard normal samples."""
    d = _resolve(dtype)
    return _finish(_gen(generator).standard_normal(_shape(size)).astype(d), requires_grad, device)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high); ``randint(high, size)`` form too."""
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        raise TypeError('randint() missing required argument: high')
    d = _dtype.int64.np if dtype is None else _dtype.to_dtype(dtype).np
    if low >= high:
        raise RuntimeError(f'random_ expects \'from\' to be less than \'to\', but got from={low} >= to={high}')
    return _finish(_gen(generator).integers(low, high, _shape((size,))).astype(d), requires_grad, device)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A random permutation of ``0..n-1`` (int64)."""
    d = _dtype.int64.np if dtype is None else _dtype.to_dtype(dtype).np
    return _finish(_gen(generator).permutation(n).astype(d), requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Normal samples with ``mean``/``std`` given as tensors (broadcast) or numbers with ``size``."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if size is not None:
        shape = _shape((size,))
    else:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    ref = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    d = ref._data.dtype if ref is not None and dtype is None else _resolve(dtype)
    z = _gen(generator).standard_normal(shape)
    return _finish((m + s * z).astype(d), requires_grad, device)


__all__ = ['Generator', 'default_generator', 'manual_seed', 'seed', 'initial_seed', 'get_rng_state',
           'set_rng_state', 'rand', 'randn', 'randint', 'randperm', 'normal']
