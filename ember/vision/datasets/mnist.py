"""MNIST and its drop-in relatives (Fashion-MNIST, KMNIST, EMNIST), read from IDX files.

The IDX ("SN3 Pascal Vincent") format: a 4-byte magic number ``0, 0, type, ndim`` (type 8 uint8,
9 int8, 11 int16, 12 int32, 13 float32, 14 float64), ``ndim`` big-endian uint32 sizes, then the
values, big-endian, in C order. Images are ``(N, H, W)`` uint8 files, labels ``(N,)`` uint8 files.
"""
import os
import pathlib
import shutil
import string
import warnings
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

import numpy as np

from ..._creation import from_numpy
from ..._dtype import uint8
from .utils import check_integrity, download_and_extract_archive, extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ['MNIST', 'FashionMNIST', 'KMNIST', 'EMNIST', 'read_sn3_pascalvincent_tensor', 'read_image_file',
           'read_label_file']

_IDX_TYPES = {8: '>u1', 9: '>i1', 11: '>i2', 12: '>i4', 13: '>f4', 14: '>f8'}


def read_sn3_pascalvincent_tensor(path: str, strict: bool = True):
    """The tensor stored in the IDX file at ``path`` (values converted to the native byte order).

    ``strict`` requires the file to hold exactly the product of its sizes; otherwise only that many
    values are read."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES or not 1 <= data[3] <= 3:
        raise ValueError(f'{path} is not an IDX file (magic number {data[:4].hex()})')
    nd = data[3]
    dt = np.dtype(_IDX_TYPES[data[2]])
    shape = [int.from_bytes(data[4 * (i + 1):4 * (i + 2)], 'big') for i in range(nd)]
    count = int(np.prod(shape))
    available = (len(data) - 4 * (nd + 1)) // dt.itemsize
    if available < count or (strict and available != count):
        raise ValueError(f'{path}: the header announces {count} values of shape {tuple(shape)}, '
                         f'the file holds {available}')
    parsed = np.frombuffer(data, dtype=dt, count=count, offset=4 * (nd + 1))
    return from_numpy(parsed.astype(dt.newbyteorder('='), copy=True).reshape(shape))


def read_label_file(path: str):
    """The ``(N,)`` int64 labels of an IDX uint8 label file."""
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != uint8:
        raise TypeError(f'x should be of dtype torch.uint8 instead of {x.dtype}')
    if x.ndimension() != 1:
        raise ValueError(f'x should have 1 dimension instead of {x.ndimension()}')
    return x.long()


def read_image_file(path: str):
    """The ``(N, H, W)`` uint8 images of an IDX uint8 image file."""
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != uint8:
        raise TypeError(f'x should be of dtype torch.uint8 instead of {x.dtype}')
    if x.ndimension() != 3:
        raise ValueError(f'x should have 3 dimension instead of {x.ndimension()}')
    return x


def _gray_image(arr):
    from ..io import _pil_image
    return _pil_image().fromarray(np.ascontiguousarray(arr, dtype=np.uint8))


def _manual_download_hint(names, folder):
    return f"Without network access, put the files {', '.join(names)} in {folder} by hand."


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 28x28 gray PIL images and their class index (0-9).

    Args:
        root: the folder holding ``MNIST/raw/train-images-idx3-ubyte`` and the other three IDX files
            (or their download destination).
        train: the 60,000 training images (default) or the 10,000 test images.
        transform, target_transform: applied to the PIL image / the integer target.
        download: fetch and unpack the files unless they are already in ``raw_folder``.

    ``data`` is the uint8 ``(N, 28, 28)`` tensor of images, ``targets`` the int64 ``(N,)`` labels.
    """

    mirrors = ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/']
    resources = [
        ('train-images-idx3-ubyte.gz', 'f68b3c2dcbeaaa9fbdd348bbdeb94873'),
        ('train-labels-idx1-ubyte.gz', 'd53e105ee54ea40749a09fcbcd1e9432'),
        ('t10k-images-idx3-ubyte.gz', '9fb629c4189551a2d022fa330f9573f3'),
        ('t10k-labels-idx1-ubyte.gz', 'ec29112dd5afa0611ce80d1b7f02629c'),
    ]
    training_file = 'training.pt'
    test_file = 'test.pt'
    classes = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven',
               '8 - eight', '9 - nine']

    @property
    def train_labels(self):
        warnings.warn('train_labels has been renamed targets', stacklevel=2)
        return self.targets

    @property
    def test_labels(self):
        warnings.warn('test_labels has been renamed targets', stacklevel=2)
        return self.targets

    @property
    def train_data(self):
        warnings.warn('train_data has been renamed data', stacklevel=2)
        return self.data

    @property
    def test_data(self):
        warnings.warn('test_data has been renamed data', stacklevel=2)
        return self.data

    def __init__(self, root: str | pathlib.Path, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if self._check_legacy_exist():
            self.data, self.targets = self._load_legacy_data()
            return
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError('Dataset not found. You can use download=True to download it')
        self.data, self.targets = self._load_data()

    def _check_legacy_exist(self):
        if not os.path.exists(self.processed_folder):
            return False
        return all(check_integrity(os.path.join(self.processed_folder, file))
                   for file in (self.training_file, self.test_file))

    def _load_legacy_data(self):
        # Older torchvision versions cached (data, targets) with torch.save; read them without running code.
        from ...serialization import load
        data_file = self.training_file if self.train else self.test_file
        return load(os.path.join(self.processed_folder, data_file), weights_only=True)

    def _load_data(self):
        prefix = 'train' if self.train else 't10k'
        data = read_image_file(os.path.join(self.raw_folder, f'{prefix}-images-idx3-ubyte'))
        targets = read_label_file(os.path.join(self.raw_folder, f'{prefix}-labels-idx1-ubyte'))
        return data, targets

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)``: a PIL 'L' image and its class index."""
        img, target = _gray_image(self.data[index].numpy()), int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, 'raw')

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, 'processed')

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {_class: i for i, _class in enumerate(self.classes)}

    def _check_exists(self) -> bool:
        return all(check_integrity(os.path.join(self.raw_folder, os.path.splitext(os.path.basename(url))[0]))
                   for url, _ in self.resources)

    def download(self) -> None:
        """Fetch each file from the first mirror that answers, check its MD5 and decompress it."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            errors = []
            for mirror in self.mirrors:
                url = f'{mirror}{filename}'
                try:
                    download_and_extract_archive(url, download_root=self.raw_folder, filename=filename, md5=md5)
                except (RuntimeError, URLError) as e:
                    errors.append(e)
                    continue
                break
            else:
                s = f'Error downloading {filename}:\n'
                for mirror, err in zip(self.mirrors, errors):
                    s += f'Tried {mirror}{filename}, got:\n{err}\n'
                s += _manual_download_hint([f for f, _ in self.resources], self.raw_folder)
                raise RuntimeError(s)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Fashion-MNIST: 28x28 gray images of 10 kinds of clothing, in MNIST's files and layout
    (``root/FashionMNIST/raw``)."""

    mirrors = ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/']
    resources = [
        ('train-images-idx3-ubyte.gz', '8d4fb7e6c68d591d4c3dfef9ec88bf0d'),
        ('train-labels-idx1-ubyte.gz', '25c81989df183df01b3e8a0aad5dffbe'),
        ('t10k-images-idx3-ubyte.gz', 'bef4ecab320f06d8554ea6380940ec79'),
        ('t10k-labels-idx1-ubyte.gz', 'bb300cfdad3c16e7a12a480ee83cd310'),
    ]
    classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag',
               'Ankle boot']


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 gray images of 10 cursive Japanese characters, in MNIST's files and
    layout (``root/KMNIST/raw``)."""

    mirrors = ['http://codh.rois.ac.jp/kmnist/dataset/kmnist/']
    resources = [
        ('train-images-idx3-ubyte.gz', 'bdb82020997e1d708af4cf47b453dcf7'),
        ('train-labels-idx1-ubyte.gz', 'e144d726b3acfaa3e44228e80efcd344'),
        ('t10k-images-idx3-ubyte.gz', '5c965bf0a639b31b8f53240b1b52f4d7'),
        ('t10k-labels-idx1-ubyte.gz', '7320c461ea6c1c855c0b718fb2a4b134'),
    ]
    classes = ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo']


class EMNIST(MNIST):
    """EMNIST: 28x28 gray handwritten characters; ``split`` is one of ``byclass``, ``bymerge``,
    ``balanced``, ``letters``, ``digits``, ``mnist``. Files ``root/EMNIST/raw/emnist-<split>-
    <train|test>-images-idx3-ubyte`` (and ``labels-idx1``); other arguments as ``MNIST``'s.
    (Images are stored transposed in the files and returned as stored, as torchvision does.)"""

    url = 'https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip'
    md5 = '58c8d27c78d21e728a6bc7b3cc06412e'
    splits = ('byclass', 'bymerge', 'balanced', 'letters', 'digits', 'mnist')
    # Upper and lower case of these letters are merged in 'bymerge' and 'balanced'.
    _merged_classes = {'c', 'i', 'j', 'k', 'l', 'm', 'o', 'p', 's', 'u', 'v', 'w', 'x', 'y', 'z'}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        'byclass': sorted(_all_classes),
        'bymerge': sorted(_all_classes - _merged_classes),
        'balanced': sorted(_all_classes - _merged_classes),
        'letters': ['N/A'] + list(string.ascii_lowercase),
        'digits': list(string.digits),
        'mnist': list(string.digits),
    }

    def __init__(self, root: str | pathlib.Path, split: str, **kwargs: Any) -> None:
        self.split = verify_str_arg(split, 'split', self.splits)
        self.training_file = self._training_file(split)
        self.test_file = self._test_file(split)
        super().__init__(root, **kwargs)
        self.classes = self.classes_split_dict[self.split]

    @staticmethod
    def _training_file(split) -> str:
        return f'training_{split}.pt'

    @staticmethod
    def _test_file(split) -> str:
        return f'test_{split}.pt'

    @property
    def _file_prefix(self) -> str:
        return f"emnist-{self.split}-{'train' if self.train else 'test'}"

    @property
    def images_file(self) -> str:
        return os.path.join(self.raw_folder, f'{self._file_prefix}-images-idx3-ubyte')

    @property
    def labels_file(self) -> str:
        return os.path.join(self.raw_folder, f'{self._file_prefix}-labels-idx1-ubyte')

    def _load_data(self):
        return read_image_file(self.images_file), read_label_file(self.labels_file)

    def _check_exists(self) -> bool:
        return all(check_integrity(file) for file in (self.images_file, self.labels_file))

    def download(self) -> None:
        """Fetch ``gzip.zip``, check its MD5, unpack it and decompress the split files into ``raw_folder``."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        try:
            download_and_extract_archive(self.url, download_root=self.raw_folder, md5=self.md5)
        except (RuntimeError, URLError) as e:
            raise RuntimeError(f'Error downloading {self.url}:\n{e}\n'
                               + _manual_download_hint(['gzip.zip'], self.raw_folder)) from e
        gzip_folder = os.path.join(self.raw_folder, 'gzip')
        for gzip_file in os.listdir(gzip_folder):
            if gzip_file.endswith('.gz'):
                extract_archive(os.path.join(gzip_folder, gzip_file), self.raw_folder)
        shutil.rmtree(gzip_folder)
