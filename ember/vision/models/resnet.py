"""ResNet (He et al. 2015), ResNeXt and Wide ResNet, as torchvision's ``models.resnet``.

Bottleneck blocks put the downsampling stride on the 3x3 convolution (ResNet v1.5). Input
``(N, 3, H, W)``, output ``(N, num_classes)`` logits.
"""
from typing import Callable, List, Optional, Type, Union

import ember
from ember import nn

from ._api import WeightsEnum, register_model
from ._utils import _imagenet_weights, _ovewrite_named_param, handle_legacy_interface

__all__ = ['ResNet', 'ResNet18_Weights', 'ResNet34_Weights', 'ResNet50_Weights', 'ResNet101_Weights',
           'ResNet152_Weights', 'ResNeXt50_32X4D_Weights', 'ResNeXt101_32X8D_Weights', 'ResNeXt101_64X4D_Weights',
           'Wide_ResNet50_2_Weights', 'Wide_ResNet101_2_Weights', 'resnet18', 'resnet34', 'resnet50', 'resnet101',
           'resnet152', 'resnext50_32x4d', 'resnext101_32x8d', 'resnext101_64x4d', 'wide_resnet50_2',
           'wide_resnet101_2']


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution, padded to keep the size at stride 1, without bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution without bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a residual connection (ResNet-18/34); output has ``planes`` channels."""

    expansion: int = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided, grouped) and 1x1 expand conv-BN layers with a residual connection;
    output has ``planes * 4`` channels; the inner width is ``planes * base_width / 64 * groups``."""

    expansion: int = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """Stem (7x7/2 conv, BN, ReLU, 3x3/2 max pool), four stages of ``layers[i]`` blocks (64, 128, 256, 512
    planes; stages 2-4 halve the size unless ``replace_stride_with_dilation[i-1]`` dilates instead), global
    average pool and a Linear to ``num_classes``.

    Args: block (BasicBlock or Bottleneck), layers (4 block counts), num_classes=1000,
    zero_init_residual=False (zero the last BN weight of each block), groups=1, width_per_group=64,
    replace_stride_with_dilation=None (3 bools), norm_layer=None (BatchNorm2d).
    """

    def __init__(self, block: Type[Union[BasicBlock, Bottleneck]], layers: List[int], num_classes: int = 1000,
                 zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
                 replace_stride_with_dilation: Optional[List[bool]] = None,
                 norm_layer: Optional[Callable[..., nn.Module]] = None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None "
                             f"or a 3-element tuple, got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        # each residual branch then starts as zero, so every block starts as the identity
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation,
                        norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def _forward_impl(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = ember.flatten(self.avgpool(x), 1)
        return self.fc(x)

    def forward(self, x):
        return self._forward_impl(x)


def _resnet(block, layers, weights, progress, **kwargs):
    if weights is not None:
        _ovewrite_named_param(kwargs, 'num_classes', len(weights.meta['categories']))
    model = ResNet(block, layers, **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/resnet18-f37072fd.pth', 11689512, (1, 1),
        'https://github.com/pytorch/vision/tree/main/references/classification#resnet', 69.758, 89.078, 1.814, 44.661)
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/resnet34-b627a593.pth', 21797672, (1, 1),
        'https://github.com/pytorch/vision/tree/main/references/classification#resnet', 73.314, 91.42, 3.664, 83.275)
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/resnet50-0676ba61.pth', 25557032, (1, 1),
        'https://github.com/pytorch/vision/tree/main/references/classification#resnet', 76.13, 92.862, 4.089, 97.781)
    IMAGENET1K_V2 = _imagenet_weights(
        'https://download.pytorch.org/models/resnet50-11ad3fa6.pth', 25557032, (1, 1),
        'https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621', 80.858, 95.434, 4.089, 97.79,
        resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/resnet101-63fe2227.pth', 44549160, (1, 1),
        'https://github.com/pytorch/vision/tree/main/references/classification#resnet', 77.374, 93.546, 7.801,
        170.511)
    IMAGENET1K_V2 = _imagenet_weights(
        'https://download.pytorch.org/models/resnet101-cd907fc2.pth', 44549160, (1, 1),
        'https://github.com/pytorch/vision/issues/3995#new-recipe', 81.886, 95.78, 7.801, 170.53, resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/resnet152-394f9c45.pth', 60192808, (1, 1),
        'https://github.com/pytorch/vision/tree/main/references/classification#resnet', 78.312, 94.046, 11.514,
        230.434)
    IMAGENET1K_V2 = _imagenet_weights(
        'https://download.pytorch.org/models/resnet152-f82ba261.pth', 60192808, (1, 1),
        'https://github.com/pytorch/vision/issues/3995#new-recipe', 82.284, 96.002, 11.514, 230.474, resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt50_32X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/resnext50_32x4d-7cdf4587.pth', 25028904, (1, 1),
        'https://github.com/pytorch/vision/tree/main/references/classification#resnext', 77.618, 93.698, 4.23, 95.789)
    IMAGENET1K_V2 = _imagenet_weights(
        'https://download.pytorch.org/models/resnext50_32x4d-1a0047aa.pth', 25028904, (1, 1),
        'https://github.com/pytorch/vision/issues/3995#new-recipe', 81.198, 95.34, 4.23, 95.833, resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_32X8D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/resnext101_32x8d-8ba56ff5.pth', 88791336, (1, 1),
        'https://github.com/pytorch/vision/tree/main/references/classification#resnext', 79.312, 94.526, 16.414,
        339.586)
    IMAGENET1K_V2 = _imagenet_weights(
        'https://download.pytorch.org/models/resnext101_32x8d-110c445d.pth', 88791336, (1, 1),
        'https://github.com/pytorch/vision/issues/3995#new-recipe-with-fixres', 82.834, 96.228, 16.414, 339.673,
        resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_64X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/resnext101_64x4d-173b62eb.pth', 83455272, (1, 1),
        'https://github.com/pytorch/vision/pull/5935', 83.246, 96.454, 15.46, 319.318, resize_size=232)
    DEFAULT = IMAGENET1K_V1


class Wide_ResNet50_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/wide_resnet50_2-95faca4d.pth', 68883240, (1, 1),
        'https://github.com/pytorch/vision/pull/912#issue-445437439', 78.468, 94.086, 11.398, 131.82)
    IMAGENET1K_V2 = _imagenet_weights(
        'https://download.pytorch.org/models/wide_resnet50_2-9ba9bcbe.pth', 68883240, (1, 1),
        'https://github.com/pytorch/vision/issues/3995#new-recipe-with-fixres', 81.602, 95.758, 11.398, 263.124,
        resize_size=232)
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet101_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/wide_resnet101_2-32ee1156.pth', 126886696, (1, 1),
        'https://github.com/pytorch/vision/pull/912#issue-445437439', 78.848, 94.284, 22.753, 242.896)
    IMAGENET1K_V2 = _imagenet_weights(
        'https://download.pytorch.org/models/wide_resnet101_2-d733dc28.pth', 126886696, (1, 1),
        'https://github.com/pytorch/vision/issues/3995#new-recipe', 82.51, 96.02, 22.753, 484.747, resize_size=232)
    DEFAULT = IMAGENET1K_V2


@register_model()
@handle_legacy_interface(weights=('pretrained', ResNet18_Weights.IMAGENET1K_V1))
def resnet18(*, weights: Optional[ResNet18_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18 from "Deep Residual Learning for Image Recognition".
    ``weights``: a ResNet18_Weights member, its name or None; ``progress``: show the download progress;
    ``kwargs`` go to ``ResNet``."""
    weights = ResNet18_Weights.verify(weights)
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', ResNet34_Weights.IMAGENET1K_V1))
def resnet34(*, weights: Optional[ResNet34_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-34.
    ``weights``: a ResNet34_Weights member, its name or None; ``progress``: show the download progress;
    ``kwargs`` go to ``ResNet``."""
    weights = ResNet34_Weights.verify(weights)
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', ResNet50_Weights.IMAGENET1K_V1))
def resnet50(*, weights: Optional[ResNet50_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50.
    ``weights``: a ResNet50_Weights member, its name or None; ``progress``: show the download progress;
    ``kwargs`` go to ``ResNet``."""
    weights = ResNet50_Weights.verify(weights)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', ResNet101_Weights.IMAGENET1K_V1))
def resnet101(*, weights: Optional[ResNet101_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-101.
    ``weights``: a ResNet101_Weights member, its name or None; ``progress``: show the download progress;
    ``kwargs`` go to ``ResNet``."""
    weights = ResNet101_Weights.verify(weights)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', ResNet152_Weights.IMAGENET1K_V1))
def resnet152(*, weights: Optional[ResNet152_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-152.
    ``weights``: a ResNet152_Weights member, its name or None; ``progress``: show the download progress;
    ``kwargs`` go to ``ResNet``."""
    weights = ResNet152_Weights.verify(weights)
    return _resnet(Bottleneck, [3, 8, 36, 3], weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', ResNeXt50_32X4D_Weights.IMAGENET1K_V1))
def resnext50_32x4d(*, weights: Optional[ResNeXt50_32X4D_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-50 32x4d ("Aggregated Residual Transformations").
    ``weights``: a ResNeXt50_32X4D_Weights member, its name or None; ``progress``: show the download progress;
    ``kwargs`` go to ``ResNet``."""
    weights = ResNeXt50_32X4D_Weights.verify(weights)
    _ovewrite_named_param(kwargs, 'groups', 32)
    _ovewrite_named_param(kwargs, 'width_per_group', 4)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', ResNeXt101_32X8D_Weights.IMAGENET1K_V1))
def resnext101_32x8d(*, weights: Optional[ResNeXt101_32X8D_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-101 32x8d.
    ``weights``: a ResNeXt101_32X8D_Weights member, its name or None; ``progress``: show the download progress;
    ``kwargs`` go to ``ResNet``."""
    weights = ResNeXt101_32X8D_Weights.verify(weights)
    _ovewrite_named_param(kwargs, 'groups', 32)
    _ovewrite_named_param(kwargs, 'width_per_group', 8)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', ResNeXt101_64X4D_Weights.IMAGENET1K_V1))
def resnext101_64x4d(*, weights: Optional[ResNeXt101_64X4D_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-101 64x4d.
    ``weights``: a ResNeXt101_64X4D_Weights member, its name or None; ``progress``: show the download progress;
    ``kwargs`` go to ``ResNet``."""
    weights = ResNeXt101_64X4D_Weights.verify(weights)
    _ovewrite_named_param(kwargs, 'groups', 64)
    _ovewrite_named_param(kwargs, 'width_per_group', 4)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', Wide_ResNet50_2_Weights.IMAGENET1K_V1))
def wide_resnet50_2(*, weights: Optional[Wide_ResNet50_2_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-50-2 ("Wide Residual Networks"): bottleneck width doubled.
    ``weights``: a Wide_ResNet50_2_Weights member, its name or None; ``progress``: show the download progress;
    ``kwargs`` go to ``ResNet``."""
    weights = Wide_ResNet50_2_Weights.verify(weights)
    _ovewrite_named_param(kwargs, 'width_per_group', 64 * 2)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=('pretrained', Wide_ResNet101_2_Weights.IMAGENET1K_V1))
def wide_resnet101_2(*, weights: Optional[Wide_ResNet101_2_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-101-2: bottleneck width doubled.
    ``weights``: a Wide_ResNet101_2_Weights member, its name or None; ``progress``: show the download progress;
    ``kwargs`` go to ``ResNet``."""
    weights = Wide_ResNet101_2_Weights.verify(weights)
    _ovewrite_named_param(kwargs, 'width_per_group', 64 * 2)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, **kwargs)
