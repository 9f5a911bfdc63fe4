"""Small models for the packaged configs."""
from .. import nn

__all__ = ['digits_cnn']


def digits_cnn(num_classes=10, in_channels=1, width=32, dropout=0.25):
    """A conv net for 8x8 images: ``(N, in_channels, 8, 8) -> (N, num_classes)`` logits.

    Two 3x3 conv blocks at 8x8, a 2x2 max-pool, a third conv block at 4x4, a second pool and a linear head.
    """
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    return nn.Sequential(
        *block(in_channels, width), *block(width, width), nn.MaxPool2d(2),
        *block(width, 2 * width), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(dropout), nn.Linear(2 * width * 4, num_classes),
    )
