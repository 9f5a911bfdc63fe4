"""SVHN (Street View House Numbers), cropped 32x32 digits, from the dataset's MATLAB ``.mat`` files.

Reading ``.mat`` files needs SciPy (``pip install scipy``), imported on first use.
"""
import os.path
import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np

from .utils import check_integrity, download_url, verify_str_arg
from .vision import VisionDataset

__all__ = ['SVHN']


class SVHN(VisionDataset):
    """SVHN: 32x32 RGB PIL images of house-number digits and their label 0-9.

    The files label the digit 0 as 10; here it is 0, so targets suit the losses' ``[0, C)`` range.

    Args:
        root: the folder holding ``train_32x32.mat`` / ``test_32x32.mat`` / ``extra_32x32.mat``.
        split: ``'train'``, ``'test'`` or ``'extra'``.
        transform, target_transform: applied to the PIL image / the integer target.
        download: fetch the file unless it is already there and verified.

    ``data`` is the uint8 ``(N, 3, 32, 32)`` NumPy array, ``labels`` the int64 ``(N,)`` array.
    """

    split_list = {
        'train': ['http://ufldl.stanford.edu/housenumbers/train_32x32.mat', 'train_32x32.mat',
                  'e26dedcc434d2e4c54c9b2d4a06d8373'],
        'test': ['http://ufldl.stanford.edu/housenumbers/test_32x32.mat', 'test_32x32.mat',
                 'eb5a983be6a315427106f1b164d9cef3'],
        'extra': ['http://ufldl.stanford.edu/housenumbers/extra_32x32.mat', 'extra_32x32.mat',
                  'a93ce644f1a588dc4d68dda5feec44a7'],
    }

    def __init__(self, root: str | pathlib.Path, split: str = 'train', transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, 'split', tuple(self.split_list.keys()))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError('Dataset not found or corrupted. You can use download=True to download it')
        try:
            import scipy.io as sio
        except ImportError as e:
            raise ImportError('SVHN reads .mat files with SciPy: pip install scipy') from e
        loaded_mat = sio.loadmat(os.path.join(self.root, self.filename))
        self.labels = loaded_mat['y'].astype(np.int64).squeeze()
        np.place(self.labels, self.labels == 10, 0)
        # The files hold (H, W, C, N); keep (N, C, H, W) like torchvision.
        self.data = np.transpose(loaded_mat['X'], (3, 2, 0, 1))

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)``: an RGB PIL image and its digit."""
        from ..io import _pil_image
        img, target = self.data[index], int(self.labels[index])
        img = _pil_image().fromarray(np.transpose(img, (1, 2, 0)))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def _check_integrity(self) -> bool:
        return check_integrity(os.path.join(self.root, self.filename), self.split_list[self.split][2])

    def download(self) -> None:
        """Fetch the split's ``.mat`` file and check its MD5."""
        download_url(self.url, self.root, self.filename, self.split_list[self.split][2])

    def extra_repr(self) -> str:
        return f'Split: {self.split}'
