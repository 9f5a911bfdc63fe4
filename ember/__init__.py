"""Ember: PyTorch's programming model on NumPy.

``import ember as torch`` runs PyTorch programs; see the README for what is covered.
"""
from ._dtype import (dtype, bool_ as bool, uint8, int8, int16, int32, int64, float16, float32, float64,
                     get_default_dtype, set_default_dtype, promote_types)
from ._dtype import float32 as float, float64 as double, float16 as half, int64 as long, int32 as int, \
    int16 as short
from ._dtype import (finfo, iinfo, can_cast, tensor_result_type as result_type, layout, strided, sparse_coo,
                     memory_format, contiguous_format, preserve_format, channels_last, channels_last_3d)
from ._device import device
from ._size import Size
from ._tensor import Tensor
from . import ops as _ops
from .ops.convert import *  # noqa: F401,F403
from .ops.elementwise import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.reduce import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.join import *  # noqa: F401,F403
from .ops.softmax import *  # noqa: F401,F403
from .ops.sort import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.conv import *  # noqa: F401,F403
from .ops.pool import *  # noqa: F401,F403
from .ops.activation import *  # noqa: F401,F403
from .ops.normalization import *  # noqa: F401,F403
from .ops.resample import *  # noqa: F401,F403
from .ops.rnn import *  # noqa: F401,F403
from .ops.attention import *  # noqa: F401,F403
from .ops.pool import adaptive_max_pool1d_with_indices as adaptive_max_pool1d  # noqa: F401
from ._creation import *  # noqa: F401,F403
from ._random import *  # noqa: F401,F403
from ._printing import set_printoptions
from .autograd.grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled, \
    is_inference_mode_enabled
from .autograd.anomaly_mode import is_anomaly_enabled, is_anomaly_check_nan_enabled, set_anomaly_enabled
from . import autograd, cuda
from . import random
from . import return_types
from . import linalg
from . import nn
from ._threads import set_num_threads, get_num_threads, set_num_interop_threads, get_num_interop_threads
from ._threads import _default_threads
from ._numpy_errors import silence_floating_point_warnings

_default_threads()
silence_floating_point_warnings()
from ._storage import UntypedStorage, TypedStorage

# Loaded on first use, to keep ``import ember`` fast.
_LAZY_MODULES = ('optim', 'utils', 'serialization', 'vision', 'hub', 'onnx', 'distributed')
_LAZY_NAMES = {'save': 'serialization', 'load': 'serialization'}


def __getattr__(name):
    import importlib
    if name in _LAZY_MODULES:
        return importlib.import_module(f'{__name__}.{name}')
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f'{__name__}.{_LAZY_NAMES[name]}'), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__version__ = '0.1.0'


def is_tensor(obj):
    """True if ``obj`` is an Ember tensor."""
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()
