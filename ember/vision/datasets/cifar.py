"""CIFAR-10 and CIFAR-100 from their "python version" batch files.

Each batch file is a pickle of a dict: ``data`` (an ``(N, 3072)`` uint8 array, each row the red,
green then blue 32x32 planes), ``labels`` (CIFAR-10) or ``fine_labels``/``coarse_labels``
(CIFAR-100), plus names. The files are read with a restricted unpickler that builds only dicts,
lists, strings, bytes, numbers and NumPy arrays: a tampered file cannot run code.
"""
import os.path
import pathlib
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np

from .utils import check_integrity, download_and_extract_archive
from .vision import VisionDataset

__all__ = ['CIFAR10', 'CIFAR100']

# The only globals a CIFAR pickle names: NumPy's array and scalar reconstruction (under the module
# paths of NumPy 1 and 2) and the codec Python 3 uses to pickle bytes with protocol 2.
_ALLOWED = {
    ('numpy.core.multiarray', '_reconstruct'): ('numpy._core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'): ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'): ('numpy._core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'): ('numpy._core.multiarray', 'scalar'),
    ('numpy', 'ndarray'): ('numpy', 'ndarray'),
    ('numpy', 'dtype'): ('numpy', 'dtype'),
    ('_codecs', 'encode'): ('_codecs', 'encode'),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        target = _ALLOWED.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(f'{module}.{name} is not allowed in a dataset file: only dicts, lists, '
                                         'strings, bytes, numbers and NumPy arrays are read')
        if target[0] == 'numpy._core.multiarray':
            from numpy._core import multiarray
            return getattr(multiarray, target[1])
        if target[0] == 'numpy':
            return getattr(np, target[1])
        import _codecs
        return _codecs.encode


def _load_pickle(path):
    with open(path, 'rb') as f:
        return _RestrictedUnpickler(f, encoding='latin1').load()


class CIFAR10(VisionDataset):
    """CIFAR-10: 32x32 RGB PIL images of 10 classes and their class index.

    Args:
        root: the folder holding ``cifar-10-batches-py`` (or the download destination).
        train: the 50,000 training images (default) or the 10,000 test images.
        transform, target_transform: applied to the PIL image / the integer target.
        download: fetch and unpack the archive unless its files are already there and verified.

    ``data`` is the uint8 ``(N, 32, 32, 3)`` NumPy array, ``targets`` a list of ints, ``classes``
    the names from the metadata file.
    """

    base_folder = 'cifar-10-batches-py'
    url = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
    filename = 'cifar-10-python.tar.gz'
    tgz_md5 = 'c58f30108f718f92721af3b95e74349a'
    train_list = [
        ['data_batch_1', 'c99cafc152244af753f735de768cd75f'],
        ['data_batch_2', 'd4bba439e000b95fd0a9bffe97cbabec'],
        ['data_batch_3', '54ebc095f3ab1f0389bbae665268c751'],
        ['data_batch_4', '634d18415352ddfa80567beed471001a'],
        ['data_batch_5', '482c414d41f54cd18b22e5b47cb7c3cb'],
    ]
    test_list = [['test_batch', '40351d587109b95175f43aff81a1287e']]
    meta = {'filename': 'batches.meta', 'key': 'label_names', 'md5': '5ff9c542aee3614f3951f8cda6e48888'}

    def __init__(self, root: str | pathlib.Path, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError('Dataset not found or corrupted. You can use download=True to download it')
        data, self.targets = [], []
        for file_name, _ in (self.train_list if self.train else self.test_list):
            entry = _load_pickle(os.path.join(self.root, self.base_folder, file_name))
            data.append(entry['data'])
            self.targets.extend(entry['labels'] if 'labels' in entry else entry['fine_labels'])
        # Rows are planar RGB; keep them as HWC images, the layout PIL takes.
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        self._load_meta()

    def _load_meta(self) -> None:
        path = os.path.join(self.root, self.base_folder, self.meta['filename'])
        if not check_integrity(path, self.meta['md5']):
            raise RuntimeError('Dataset metadata file not found or corrupted. You can use download=True to download it')
        self.classes = _load_pickle(path)[self.meta['key']]
        self.class_to_idx = {_class: i for i, _class in enumerate(self.classes)}

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)``: an RGB PIL image and its class index."""
        from ..io import _pil_image
        img, target = _pil_image().fromarray(self.data[index]), self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def _check_integrity(self) -> bool:
        return all(check_integrity(os.path.join(self.root, self.base_folder, filename), md5)
                   for filename, md5 in self.train_list + self.test_list)

    def download(self) -> None:
        """Fetch the archive, check its MD5 and unpack it into ``root``."""
        if self._check_integrity():
            return
        try:
            download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)
        except RuntimeError as e:
            raise RuntimeError(f'{e}\nWithout network access, put {self.filename} (or its unpacked '
                               f'{self.base_folder} folder) in {self.root} by hand.') from e

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: as ``CIFAR10`` with 100 classes (targets are the fine labels), from
    ``cifar-100-python``."""

    base_folder = 'cifar-100-python'
    url = 'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz'
    filename = 'cifar-100-python.tar.gz'
    tgz_md5 = 'eb9058c3a382ffc7106e4002c42a8d85'
    train_list = [['train', '16019d7e3df5f24257cddd939b257f8d']]
    test_list = [['test', 'f0ef6b0ae62326f3e7ffdfab6717acfc']]
    meta = {'filename': 'meta', 'key': 'fine_label_names', 'md5': '7973b15100ade9c7d40fb424638fde48'}
