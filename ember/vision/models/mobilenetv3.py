"""MobileNetV3 large and small (Howard et al. 2019), as torchvision's ``models.mobilenetv3``."""
from collections.abc import Sequence
from functools import partial
from typing import Callable, List, Optional

import ember
from ember import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation as SElayer
from ._api import WeightsEnum, register_model
from ._utils import _imagenet_weights, _make_divisible, _ovewrite_named_param, handle_legacy_interface

__all__ = ['MobileNetV3', 'MobileNet_V3_Large_Weights', 'MobileNet_V3_Small_Weights', 'mobilenet_v3_large',
           'mobilenet_v3_small']


class InvertedResidualConfig:
    """One bneck row of the paper's tables; channel counts are scaled by ``width_mult`` and rounded to 8.
    ``activation`` is ``'RE'`` (ReLU) or ``'HS'`` (Hardswish)."""

    def __init__(self, input_channels: int, kernel: int, expanded_channels: int, out_channels: int, use_se: bool,
                 activation: str, stride: int, dilation: int, width_mult: float):
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.kernel = kernel
        self.expanded_channels = self.adjust_channels(expanded_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.use_se = use_se
        self.use_hs = activation == 'HS'
        self.stride = stride
        self.dilation = dilation

    @staticmethod
    def adjust_channels(channels: int, width_mult: float):
        return _make_divisible(channels * width_mult, 8)


class InvertedResidual(nn.Module):
    """1x1 expansion, kxk depthwise conv, optional squeeze-excitation (hard sigmoid) and a linear 1x1
    projection; residual when the stride is 1 and the channels match."""

    def __init__(self, cnf: InvertedResidualConfig, norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] = partial(SElayer, scale_activation=nn.Hardsigmoid)):
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        layers = []
        activation_layer = nn.Hardswish if cnf.use_hs else nn.ReLU
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=activation_layer))
        # a dilated block keeps the resolution instead of striding
        stride = 1 if cnf.dilation > 1 else cnf.stride
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels, kernel_size=cnf.kernel,
                                           stride=stride, dilation=cnf.dilation, groups=cnf.expanded_channels,
                                           norm_layer=norm_layer, activation_layer=activation_layer))
        if cnf.use_se:
            squeeze_channels = _make_divisible(cnf.expanded_channels // 4, 8)
            layers.append(se_layer(cnf.expanded_channels, squeeze_channels))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result += input
        return result


class MobileNetV3(nn.Module):
    """Stem 3x3/2 conv (Hardswish), the bneck blocks, a 1x1 conv to 6x the last block's channels, global
    average pool and a Linear-Hardswish-Dropout-Linear head. Input ``(N, 3, H, W)``; output ``(N, num_classes)``.

    Args: inverted_residual_setting (list of InvertedResidualConfig), last_channel (head width),
    num_classes=1000, block=None (InvertedResidual), norm_layer=None (BatchNorm2d with eps=0.001,
    momentum=0.01), dropout=0.2; other keywords are accepted and ignored, as in torchvision.
    """

    def __init__(self, inverted_residual_setting: List[InvertedResidualConfig], last_channel: int,
                 num_classes: int = 1000, block: Optional[Callable[..., nn.Module]] = None,
                 norm_layer: Optional[Callable[..., nn.Module]] = None, dropout: float = 0.2, **kwargs):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        elif not (isinstance(inverted_residual_setting, Sequence)
                  and all(isinstance(s, InvertedResidualConfig) for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be List[InvertedResidualConfig]")
        if block is None:
            block = InvertedResidual
        if norm_layer is None:
            norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        firstconv_output_channels = inverted_residual_setting[0].input_channels
        layers = [Conv2dNormActivation(3, firstconv_output_channels, kernel_size=3, stride=2, norm_layer=norm_layer,
                                       activation_layer=nn.Hardswish)]
        for cnf in inverted_residual_setting:
            layers.append(block(cnf, norm_layer))
        lastconv_input_channels = inverted_residual_setting[-1].out_channels
        lastconv_output_channels = 6 * lastconv_input_channels
        layers.append(Conv2dNormActivation(lastconv_input_channels, lastconv_output_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(lastconv_output_channels, last_channel), nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def _forward_impl(self, x):
        x = ember.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)

    def forward(self, x):
        return self._forward_impl(x)


def _mobilenet_v3_conf(arch: str, width_mult: float = 1.0, reduced_tail: bool = False, dilated: bool = False,
                       **kwargs):
    # reduced_tail halves the channels of the last blocks; dilated replaces the C4 stride by dilation 2
    reduce_divider = 2 if reduced_tail else 1
    dilation = 2 if dilated else 1
    bneck_conf = partial(InvertedResidualConfig, width_mult=width_mult)
    adjust_channels = partial(InvertedResidualConfig.adjust_channels, width_mult=width_mult)
    r = reduce_divider
    if arch == 'mobilenet_v3_large':
        inverted_residual_setting = [
            bneck_conf(16, 3, 16, 16, False, 'RE', 1, 1),
            bneck_conf(16, 3, 64, 24, False, 'RE', 2, 1),
            bneck_conf(24, 3, 72, 24, False, 'RE', 1, 1),
            bneck_conf(24, 5, 72, 40, True, 'RE', 2, 1),
            bneck_conf(40, 5, 120, 40, True, 'RE', 1, 1),
            bneck_conf(40, 5, 120, 40, True, 'RE', 1, 1),
            bneck_conf(40, 3, 240, 80, False, 'HS', 2, 1),
            bneck_conf(80, 3, 200, 80, False, 'HS', 1, 1),
            bneck_conf(80, 3, 184, 80, False, 'HS', 1, 1),
            bneck_conf(80, 3, 184, 80, False, 'HS', 1, 1),
            bneck_conf(80, 3, 480, 112, True, 'HS', 1, 1),
            bneck_conf(112, 3, 672, 112, True, 'HS', 1, 1),
            bneck_conf(112, 5, 672, 160 // r, True, 'HS', 2, dilation),
            bneck_conf(160 // r, 5, 960 // r, 160 // r, True, 'HS', 1, dilation),
            bneck_conf(160 // r, 5, 960 // r, 160 // r, True, 'HS', 1, dilation),
        ]
        last_channel = adjust_channels(1280 // r)
    elif arch == 'mobilenet_v3_small':
        inverted_residual_setting = [
            bneck_conf(16, 3, 16, 16, True, 'RE', 2, 1),
            bneck_conf(16, 3, 72, 24, False, 'RE', 2, 1),
            bneck_conf(24, 3, 88, 24, False, 'RE', 1, 1),
            bneck_conf(24, 5, 96, 40, True, 'HS', 2, 1),
            bneck_conf(40, 5, 240, 40, True, 'HS', 1, 1),
            bneck_conf(40, 5, 240, 40, True, 'HS', 1, 1),
            bneck_conf(40, 5, 120, 48, True, 'HS', 1, 1),
            bneck_conf(48, 5, 144, 48, True, 'HS', 1, 1),
            bneck_conf(48, 5, 288, 96 // r, True, 'HS', 2, dilation),
            bneck_conf(96 // r, 5, 576 // r, 96 // r, True, 'HS', 1, dilation),
            bneck_conf(96 // r, 5, 576 // r, 96 // r, True, 'HS', 1, dilation),
        ]
        last_channel = adjust_channels(1024 // r)
    else:
        raise ValueError(f"Unsupported model type {arch}")
    return inverted_residual_setting, last_channel


def _mobilenet_v3(inverted_residual_setting, last_channel, weights, progress, **kwargs):
    if weights is not None:
        _ovewrite_named_param(kwargs, 'num_classes', len(weights.meta['categories']))
    model = MobileNetV3(inverted_residual_setting, last_channel, **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


class MobileNet_V3_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/mobilenet_v3_large-8738ca79.pth', 5483032, (1, 1),
        'https://github.com/pytorch/vision/tree/main/references/classification#mobilenetv3-large--small', 74.042,
        91.34, 0.217, 21.114)
    IMAGENET1K_V2 = _imagenet_weights(
        'https://download.pytorch.org/models/mobilenet_v3_large-5c1a4163.pth', 5483032, (1, 1),
        'https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning', 75.274, 92.566, 0.217, 21.107,
        resize_size=232)
    DEFAULT = IMAGENET1K_V2


class MobileNet_V3_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth', 2542856, (1, 1),
        'https://github.com/pytorch/vision/tree/main/references/classification#mobilenetv3-large--small', 67.668,
        87.402, 0.057, 9.829)
    DEFAULT = IMAGENET1K_V1


@register_model()
@handle_legacy_interface(weights=('pretrained', MobileNet_V3_Large_Weights.IMAGENET1K_V1))
def mobilenet_v3_large(*, weights: Optional[MobileNet_V3_Large_Weights] = None, progress: bool = True,
        **kwargs) -> MobileNetV3:
    """MobileNetV3-Large from "Searching for MobileNetV3".
    ``kwargs``: width_mult, reduced_tail, dilated, and those of ``MobileNetV3``.
    ``weights``: a MobileNet_V3_Large_Weights member, its name or None; ``progress``: show the download progress."""
    weights = MobileNet_V3_Large_Weights.verify(weights)
    inverted_residual_setting, last_channel = _mobilenet_v3_conf('mobilenet_v3_large', **kwargs)
    return _mobilenet_v3(inverted_residual_setting, last_channel, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', MobileNet_V3_Small_Weights.IMAGENET1K_V1))
def mobilenet_v3_small(*, weights: Optional[MobileNet_V3_Small_Weights] = None, progress: bool = True,
        **kwargs) -> MobileNetV3:
    """MobileNetV3-Small from "Searching for MobileNetV3".
    ``kwargs``: width_mult, reduced_tail, dilated, and those of ``MobileNetV3``.
    ``weights``: a MobileNet_V3_Small_Weights member, its name or None; ``progress``: show the download progress."""
    weights = MobileNet_V3_Small_Weights.verify(weights)
    inverted_residual_setting, last_channel = _mobilenet_v3_conf('mobilenet_v3_small', **kwargs)
    return _mobilenet_v3(inverted_residual_setting, last_channel, weights, progress, **kwargs)
