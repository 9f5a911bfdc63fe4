"""ember.vision.ops: layers shared by the vision models (torchvision.ops)."""
from .misc import (FrozenBatchNorm2d, ConvNormActivation, Conv2dNormActivation, Conv3dNormActivation,
                   SqueezeExcitation, MLP, Permute)
# imported eagerly: a lazily imported submodule named like its function would shadow the function
from .stochastic_depth import stochastic_depth, StochasticDepth

__all__ = ['FrozenBatchNorm2d', 'ConvNormActivation', 'Conv2dNormActivation', 'Conv3dNormActivation',
           'SqueezeExcitation', 'MLP', 'Permute', 'stochastic_depth', 'StochasticDepth']
