"""``FakeData``: random images drawn from Ember's seeded generator, one fixed image per index."""
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import _random
from .vision import VisionDataset

__all__ = ['FakeData']


def _float_chw_to_pil(img):
    """torchvision's ``ToPILImage`` of a float ``(C, H, W)`` tensor: ``mul(255)`` then a byte cast that
    truncates and wraps modulo 256 (what PyTorch's cast does on these values), as 'L', 'LA', 'RGB' or
    'RGBA' by the channel count."""
    from ..io import _pil_image
    Image = _pil_image()
    arr = img.mul(255).numpy()
    arr = (np.trunc(arr).astype(np.int64) & 255).astype(np.uint8).transpose(1, 2, 0)
    channels = arr.shape[2]
    if channels not in (1, 2, 3, 4):
        raise TypeError(f'Input pic must have 1 to 4 channels, got {channels}')
    return Image.fromarray(np.ascontiguousarray(arr[:, :, 0] if channels == 1 else arr))


class FakeData(VisionDataset):
    """``size`` random PIL images of shape ``image_size`` (C, H, W) with random targets in
    ``[0, num_classes)``.

    Sample ``i`` is drawn with the default generator seeded with ``i + random_offset`` (its state is
    restored afterwards), so ``FakeData()[i]`` is the same image as torchvision's: ``randn(C, H, W)``
    turned into bytes as ``ToPILImage`` does, and ``randint(0, num_classes, (1,))``.
    """

    def __init__(self, size: int = 1000, image_size: tuple[int, int, int] = (3, 224, 224), num_classes: int = 10,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 random_offset: int = 0) -> None:
        super().__init__(transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)`` for ``index`` (``IndexError`` past the end)."""
        if index >= len(self):
            raise IndexError(f'{self.__class__.__name__} index out of range')
        rng_state = _random.get_rng_state()
        _random.manual_seed(index + self.random_offset)
        img = _random.randn(*self.image_size)
        target = _random.randint(0, self.num_classes, size=(1,))[0]
        _random.set_rng_state(rng_state)
        img = _float_chw_to_pil(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target.item()

    def __len__(self) -> int:
        return self.size
