"""Turning what the writer's methods accept into NumPy arrays."""
import numpy as np


def make_np(x):
    """``x`` as a NumPy array: an Ember tensor (detached; shares memory), a NumPy array as is, or a
    Python or NumPy scalar as a 1-element array, as ``torch.utils.tensorboard`` converts torch tensors."""
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    from ..._tensor import Tensor
    if isinstance(x, Tensor):
        return x.detach().numpy()
    raise NotImplementedError(f'Got {type(x)}, but numpy array or ember tensor are expected.')
