"""Evaluation preprocessing presets attached to pretrained weights (``Weights.transforms``).

The models import this module when they are defined, so it imports ``functional`` (and with it Pillow)
only when a preset is built.
"""
import ember
from ember import nn

__all__ = ['ImageClassification']


class ImageClassification(nn.Module):
    """Resize the shorter side to ``resize_size`` (``interpolation``, default bilinear, with ``antialias``),
    center-crop to ``crop_size``, convert to float in [0, 1] and normalize by ``mean``/``std``.
    Accepts a PIL image, a ``(C, H, W)`` or a ``(B, C, H, W)`` tensor; returns a float32 tensor."""

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=None, antialias=True):
        super().__init__()
        from . import functional as F
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = F.InterpolationMode.BILINEAR if interpolation is None else interpolation
        self.antialias = antialias

    def forward(self, img):
        from . import functional as F
        img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, ember.Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, ember.float)
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self):
        return (f"{self.__class__.__name__}(\n    crop_size={self.crop_size}\n    resize_size={self.resize_size}"
                f"\n    mean={self.mean}\n    std={self.std}\n    interpolation={self.interpolation}\n)")

    def describe(self):
        return ("Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` "
                f"objects. The images are resized to ``resize_size={self.resize_size}`` using "
                f"``interpolation={self.interpolation}``, followed by a central crop of "
                f"``crop_size={self.crop_size}``. "
                f"Finally the values are first rescaled to ``[0.0, 1.0]`` and then normalized using "
                f"``mean={self.mean}`` and ``std={self.std}``.")
