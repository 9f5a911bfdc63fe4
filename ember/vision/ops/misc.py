"""Building blocks shared by the vision models (torchvision.ops.misc): conv-norm-activation stacks,
squeeze-and-excitation, MLP, Permute and a frozen batch norm."""
import collections.abc
import warnings
from typing import Callable, List, Optional

import ember
from ember import nn

__all__ = ['FrozenBatchNorm2d', 'ConvNormActivation', 'Conv2dNormActivation', 'Conv3dNormActivation',
           'SqueezeExcitation', 'MLP', 'Permute']


def _make_ntuple(x, n):
    if isinstance(x, collections.abc.Iterable):
        return tuple(x)
    return (x,) * n


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d with fixed statistics and affine parameters, all buffers:
    ``y = (x - running_mean) / sqrt(running_var + eps) * weight + bias`` per channel of ``(N, C, H, W)``.
    Loading a BatchNorm2d state_dict drops its ``num_batches_tracked``."""

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer('weight', ember.ones(num_features))
        self.register_buffer('bias', ember.zeros(num_features))
        self.register_buffer('running_mean', ember.zeros(num_features))
        self.register_buffer('running_var', ember.ones(num_features))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        state_dict.pop(prefix + 'num_batches_tracked', None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def forward(self, x):
        # fold the four buffers into one scale and one shift, as torchvision does (same rounding)
        w = self.weight.reshape(1, -1, 1, 1)
        b = self.bias.reshape(1, -1, 1, 1)
        rv = self.running_var.reshape(1, -1, 1, 1)
        rm = self.running_mean.reshape(1, -1, 1, 1)
        scale = w * (rv + self.eps).rsqrt()
        bias = b - rm * scale
        return x * scale + bias

    def __repr__(self):
        return f"{self.__class__.__name__}({self.weight.shape[0]}, eps={self.eps})"


class ConvNormActivation(nn.Sequential):
    """``conv_layer`` -> ``norm_layer`` (optional) -> ``activation_layer`` (optional), as a Sequential whose
    children are named ``0``, ``1``, ``2``. ``padding=None`` keeps the spatial size at stride 1
    (``(kernel_size - 1) // 2 * dilation``); ``bias=None`` gives the conv a bias only without a norm layer.
    Use Conv2dNormActivation or Conv3dNormActivation."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None,
                 conv_layer=nn.Conv2d):
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                dims = len(kernel_size) if isinstance(kernel_size, collections.abc.Sequence) else len(dilation)
                kernel_size = _make_ntuple(kernel_size, dims)
                dilation = _make_ntuple(dilation, dims)
                padding = tuple((kernel_size[i] - 1) // 2 * dilation[i] for i in range(dims))
        if bias is None:
            bias = norm_layer is None
        layers = [conv_layer(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                             groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {'inplace': inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels
        if self.__class__ == ConvNormActivation:
            warnings.warn("Don't use ConvNormActivation directly, please use Conv2dNormActivation and "
                          "Conv3dNormActivation instead.", stacklevel=2)


class Conv2dNormActivation(ConvNormActivation):
    """Conv2d -> norm (default BatchNorm2d) -> activation (default ReLU); input ``(N, in_channels, H, W)``.

    Args: in_channels, out_channels, kernel_size=3, stride=1, padding=None (same-size padding),
    groups=1, norm_layer=BatchNorm2d (None: no norm), activation_layer=ReLU (None: none), dilation=1,
    inplace=True (passed to the activation; None: its default), bias=None (True iff no norm layer).
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer: Optional[Callable[..., nn.Module]] = nn.BatchNorm2d,
                 activation_layer: Optional[Callable[..., nn.Module]] = nn.ReLU, dilation=1,
                 inplace: Optional[bool] = True, bias: Optional[bool] = None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, nn.Conv2d)


class Conv3dNormActivation(ConvNormActivation):
    """Conv3d -> norm (default BatchNorm3d) -> activation (default ReLU); input ``(N, C, D, H, W)``.
    Arguments as Conv2dNormActivation's."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer: Optional[Callable[..., nn.Module]] = nn.BatchNorm3d,
                 activation_layer: Optional[Callable[..., nn.Module]] = nn.ReLU, dilation=1,
                 inplace: Optional[bool] = True, bias: Optional[bool] = None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, nn.Conv3d)


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2017): ``x * scale_activation(fc2(activation(fc1(avgpool(x)))))``,
    where fc1/fc2 are 1x1 convs ``input_channels -> squeeze_channels -> input_channels``. Input ``(N, C, H, W)``."""

    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU,
                 scale_activation: Callable[..., nn.Module] = nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input):
        scale = self.fc1(self.avgpool(input))
        scale = self.fc2(self.activation(scale))
        return self.scale_activation(scale)

    def forward(self, input):
        return self._scale(input) * input


class MLP(nn.Sequential):
    """Linear layers of widths ``hidden_channels`` on the last dim of ``(*, in_channels)``; each but the last is
    followed by ``norm_layer`` (optional), ``activation_layer`` and Dropout(``dropout``); the last by Dropout.
    ``inplace`` goes to the activation and dropout layers (None: their defaults); ``bias`` to the Linears."""

    def __init__(self, in_channels: int, hidden_channels: List[int],
                 norm_layer: Optional[Callable[..., nn.Module]] = None,
                 activation_layer: Optional[Callable[..., nn.Module]] = nn.ReLU,
                 inplace: Optional[bool] = None, bias: bool = True, dropout: float = 0.0):
        params = {} if inplace is None else {'inplace': inplace}
        layers = []
        in_dim = in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(nn.Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            layers.append(activation_layer(**params))
            layers.append(nn.Dropout(dropout, **params))
            in_dim = hidden_dim
        layers.append(nn.Linear(in_dim, hidden_channels[-1], bias=bias))
        layers.append(nn.Dropout(dropout, **params))
        super().__init__(*layers)


class Permute(nn.Module):
    """Return ``x.permute(dims)`` (a view)."""

    def __init__(self, dims: List[int]):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return ember.permute(x, self.dims)
