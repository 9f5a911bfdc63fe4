"""VGG (Simonyan and Zisserman 2014), with and without batch norm, as torchvision's."""
from typing import List, Optional, Union

import ember
from ember import nn

from ._api import WeightsEnum, register_model
from ._utils import _imagenet_weights, _ovewrite_named_param, handle_legacy_interface

__all__ = ['VGG', 'VGG11_Weights', 'VGG11_BN_Weights', 'VGG13_Weights', 'VGG13_BN_Weights', 'VGG16_Weights',
           'VGG16_BN_Weights', 'VGG19_Weights', 'VGG19_BN_Weights', 'vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16',
           'vgg16_bn', 'vgg19', 'vgg19_bn']


class VGG(nn.Module):
    """``features`` (a conv stack from ``make_layers``, 512 output channels), adaptive average pool to 7x7 and
    three Linear layers with dropout. Input ``(N, 3, H, W)`` with H, W >= 32; output ``(N, num_classes)``.

    Args: features, num_classes=1000, init_weights=True (torchvision's init: Kaiming-normal convs, N(0, 0.01)
    Linears, zero biases), dropout=0.5.
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


def make_layers(cfg: List[Union[str, int]], batch_norm: bool = False) -> nn.Sequential:
    """3x3 convs (padding 1) with ReLU, optionally BatchNorm2d between; ``'M'`` in ``cfg`` is a 2x2 max pool."""
    layers = []
    in_channels = 3
    for v in cfg:
        if v == 'M':
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)] if batch_norm else \
                [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


cfgs = {
    'A': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'B': [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'D': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
    'E': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
}


def _vgg(cfg, batch_norm, weights, progress, **kwargs):
    if weights is not None:
        # the checkpoint overwrites every parameter, so the init is skipped
        kwargs['init_weights'] = False
        if weights.meta['categories'] is not None:
            _ovewrite_named_param(kwargs, 'num_classes', len(weights.meta['categories']))
    model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/vgg11-8a719046.pth', 132863336, (32, 32),
        'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg', 69.02, 88.628, 7.609,
        506.84)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/vgg11_bn-6002323d.pth', 132868840, (32, 32),
        'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg', 70.37, 89.81, 7.609,
        506.881)
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/vgg13-19584684.pth', 133047848, (32, 32),
        'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg', 69.928, 89.246,
        11.308, 507.545)
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/vgg13_bn-abd245e5.pth', 133053736, (32, 32),
        'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg', 71.586, 90.374,
        11.308, 507.59)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/vgg16-397923af.pth', 138357544, (32, 32),
        'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg', 71.592, 90.382,
        15.47, 527.796)
    IMAGENET1K_FEATURES = _imagenet_weights(
        'https://download.pytorch.org/models/vgg16_features-amdegroot-88682ab5.pth', 138357544, (32, 32),
        'https://github.com/amdegroot/ssd.pytorch#training-ssd', float('nan'), float('nan'), 15.47, 527.802,
        # the original SSD preprocessing: mean-subtracted pixel values in [0, 255]
        transform_kwargs={'mean': (0.48235, 0.45882, 0.40784), 'std': (1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0)},
        categories=None)
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/vgg16_bn-6c64b313.pth', 138365992, (32, 32),
        'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg', 73.36, 91.516, 15.47,
        527.866)
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/vgg19-dcbb9e9d.pth', 143667240, (32, 32),
        'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg', 72.376, 90.876,
        19.632, 548.051)
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/vgg19_bn-c79401a0.pth', 143678248, (32, 32),
        'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg', 74.218, 91.842,
        19.632, 548.143)
    DEFAULT = IMAGENET1K_V1


@register_model()
@handle_legacy_interface(weights=('pretrained', VGG11_Weights.IMAGENET1K_V1))
def vgg11(*, weights: Optional[VGG11_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 (configuration "A") from "Very Deep Convolutional Networks".
    ``kwargs`` go to ``VGG``.
    ``weights``: a VGG11_Weights member, its name or None; ``progress``: show the download progress."""
    weights = VGG11_Weights.verify(weights)
    return _vgg('A', False, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', VGG11_BN_Weights.IMAGENET1K_V1))
def vgg11_bn(*, weights: Optional[VGG11_BN_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 with batch norm (configuration "A") from "Very Deep Convolutional Networks".
    ``kwargs`` go to ``VGG``.
    ``weights``: a VGG11_BN_Weights member, its name or None; ``progress``: show the download progress."""
    weights = VGG11_BN_Weights.verify(weights)
    return _vgg('A', True, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', VGG13_Weights.IMAGENET1K_V1))
def vgg13(*, weights: Optional[VGG13_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 (configuration "B") from "Very Deep Convolutional Networks".
    ``kwargs`` go to ``VGG``.
    ``weights``: a VGG13_Weights member, its name or None; ``progress``: show the download progress."""
    weights = VGG13_Weights.verify(weights)
    return _vgg('B', False, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', VGG13_BN_Weights.IMAGENET1K_V1))
def vgg13_bn(*, weights: Optional[VGG13_BN_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 with batch norm (configuration "B") from "Very Deep Convolutional Networks".
    ``kwargs`` go to ``VGG``.
    ``weights``: a VGG13_BN_Weights member, its name or None; ``progress``: show the download progress."""
    weights = VGG13_BN_Weights.verify(weights)
    return _vgg('B', True, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', VGG16_Weights.IMAGENET1K_V1))
def vgg16(*, weights: Optional[VGG16_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 (configuration "D") from "Very Deep Convolutional Networks".
    ``kwargs`` go to ``VGG``.
    ``weights``: a VGG16_Weights member, its name or None; ``progress``: show the download progress."""
    weights = VGG16_Weights.verify(weights)
    return _vgg('D', False, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', VGG16_BN_Weights.IMAGENET1K_V1))
def vgg16_bn(*, weights: Optional[VGG16_BN_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 with batch norm (configuration "D") from "Very Deep Convolutional Networks".
    ``kwargs`` go to ``VGG``.
    ``weights``: a VGG16_BN_Weights member, its name or None; ``progress``: show the download progress."""
    weights = VGG16_BN_Weights.verify(weights)
    return _vgg('D', True, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', VGG19_Weights.IMAGENET1K_V1))
def vgg19(*, weights: Optional[VGG19_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 (configuration "E") from "Very Deep Convolutional Networks".
    ``kwargs`` go to ``VGG``.
    ``weights``: a VGG19_Weights member, its name or None; ``progress``: show the download progress."""
    weights = VGG19_Weights.verify(weights)
    return _vgg('E', False, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', VGG19_BN_Weights.IMAGENET1K_V1))
def vgg19_bn(*, weights: Optional[VGG19_BN_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 with batch norm (configuration "E") from "Very Deep Convolutional Networks".
    ``kwargs`` go to ``VGG``.
    ``weights``: a VGG19_BN_Weights member, its name or None; ``progress``: show the download progress."""
    weights = VGG19_BN_Weights.verify(weights)
    return _vgg('E', True, weights, progress, **kwargs)
