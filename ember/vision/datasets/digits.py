"""``Digits``: the 1,797 8x8 handwritten digits shipped with Ember (no download needed).

They are scikit-learn's ``load_digits`` images (the UCI "Optical Recognition of Handwritten
Digits" test set), packaged in ``ember/vision/_data/digits.npz``; see the README there for the
source and license.
"""
import os
import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._creation import from_numpy
from .vision import VisionDataset

__all__ = ['Digits']

_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), '_data', 'digits.npz')


class Digits(VisionDataset):
    """The 8x8 handwritten digits as MNIST-like samples: a PIL 'L' image and its digit.

    The stored pixel counts 0..16 are scaled to 0..255 (``round(v * 255 / 16)``, halves up). The split
    is fixed: the first 1,438 images (80%) are the training set, the last 359 the test set; both
    hold every digit in nearly equal numbers.

    Args:
        root: unused (the data ships with Ember); kept for the datasets' common signature and ``repr``.
        train: the training split (default) or the test split.
        transform, target_transform: applied to the PIL image / the integer target.

    ``data`` is the uint8 ``(N, 8, 8)`` tensor of scaled images, ``targets`` the int64 ``(N,)``
    labels, ``classes`` MNIST's class names.
    """

    n_train = 1438
    classes = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven',
               '8 - eight', '9 - nine']

    def __init__(self, root: str | pathlib.Path | None = None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        with np.load(_FILE, allow_pickle=False) as f:
            images, targets = f['images'], f['targets']
        part = slice(None, self.n_train) if train else slice(self.n_train, None)
        scaled = (images[part].astype(np.uint16) * 255 + 8) // 16
        self.data = from_numpy(scaled.astype(np.uint8))
        self.targets = from_numpy(targets[part].astype(np.int64))

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {_class: i for i, _class in enumerate(self.classes)}

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)``: an 8x8 PIL 'L' image and its digit."""
        from ..io import _pil_image
        img, target = _pil_image().fromarray(self.data[index].numpy()), int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"
