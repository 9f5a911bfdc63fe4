"""ember.vision.ops: layers shared by the vision models (torchvision.ops)."""
import importlib
import importlib.util

from .misc import (FrozenBatchNorm2d, ConvNormActivation, Conv2dNormActivation, Conv3dNormActivation,
                   SqueezeExcitation, MLP, Permute)

# stochastic depth lives in its own module, loaded when first named
_LAZY = {'StochasticDepth': 'stochastic_depth', 'stochastic_depth': 'stochastic_depth'}

__all__ = ['FrozenBatchNorm2d', 'ConvNormActivation', 'Conv2dNormActivation', 'Conv3dNormActivation',
           'SqueezeExcitation', 'MLP', 'Permute']
if importlib.util.find_spec(f'{__name__}.stochastic_depth') is not None:
    __all__ += list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f'.{_LAZY[name]}', __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
