"""``DatasetFolder`` and ``ImageFolder``: samples found in a ``root/<class>/.../<file>`` tree.

Classes are the sorted names of ``root``'s sub-folders; samples are the files under each (walked in
sorted order, following links) whose names pass ``extensions`` or ``is_valid_file``. Only paths are
kept; each file is read when its sample is asked for.
"""
import os
import pathlib
from collections.abc import Callable
from typing import Any

from .vision import VisionDataset

__all__ = ['DatasetFolder', 'ImageFolder', 'IMG_EXTENSIONS', 'has_file_allowed_extension', 'is_image_file',
           'find_classes', 'make_dataset', 'pil_loader', 'default_loader']

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')


def has_file_allowed_extension(filename: str, extensions: str | tuple[str, ...]) -> bool:
    """True when ``filename`` (lower-cased) ends with one of ``extensions``."""
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename: str) -> bool:
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory: str | pathlib.Path) -> tuple[list[str], dict[str, int]]:
    """``(classes, class_to_idx)``: the sorted sub-folder names of ``directory`` and their indices."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {cls_name: i for i, cls_name in enumerate(classes)}


def make_dataset(directory: str | pathlib.Path, class_to_idx: dict[str, int] | None = None,
                 extensions: str | tuple[str, ...] | None = None, is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """The ``(path, class_index)`` samples under ``directory``; exactly one of ``extensions`` and
    ``is_valid_file`` selects the files. A class without files raises ``FileNotFoundError`` unless
    ``allow_empty``."""
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError('Both extensions and is_valid_file cannot be None or not None at the same time')
    if extensions is not None:
        def is_valid_file(x: str) -> bool:
            return has_file_allowed_extension(x, extensions)

    instances = []
    available_classes = set()
    for target_class in sorted(class_to_idx.keys()):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    available_classes.add(target_class)

    empty_classes = set(class_to_idx.keys()) - available_classes
    if empty_classes and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty_classes))}. "
        if extensions is not None:
            msg += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(msg)
    return instances


class DatasetFolder(VisionDataset):
    """Samples ``(loader(path), class_index)`` from a ``root/<class>/.../<file>`` tree.

    Args:
        root: the root folder.
        loader: reads one sample given its path.
        extensions: accepted file-name endings (exclusive with ``is_valid_file``).
        transform, target_transform: applied to the loaded sample / the class index.
        is_valid_file: a predicate on a path selecting the files (e.g. to skip corrupt ones).
        allow_empty: accept class folders without valid files (default: ``FileNotFoundError``).

    Attributes: ``classes`` (sorted class names), ``class_to_idx``, ``samples`` (``(path, index)``
    list), ``targets`` (the indices), ``extensions``, ``loader``. Override ``find_classes`` or
    ``make_dataset`` for another layout.
    """

    def __init__(self, root: str | pathlib.Path, loader: Callable[[str], Any],
                 extensions: tuple[str, ...] | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None, is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                    is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(directory: str | pathlib.Path, class_to_idx: dict[str, int],
                     extensions: tuple[str, ...] | None = None, is_valid_file: Callable[[str], bool] | None = None,
                     allow_empty: bool = False) -> list[tuple[str, int]]:
        """The ``(path, class_index)`` samples; ``class_to_idx`` is required here (``ValueError``)."""
        if class_to_idx is None:
            # The module-level default would bypass an overridden find_classes.
            raise ValueError('The class_to_idx parameter cannot be None.')
        return make_dataset(directory, class_to_idx, extensions=extensions, is_valid_file=is_valid_file,
                            allow_empty=allow_empty)

    def find_classes(self, directory: str | pathlib.Path) -> tuple[list[str], dict[str, int]]:
        """``(classes, class_to_idx)`` from the sub-folders of ``directory``."""
        return find_classes(directory)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(sample, target)``: the loaded, transformed file and its class index."""
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self) -> int:
        return len(self.samples)


def pil_loader(path: str | pathlib.Path):
    """The image at ``path`` as an RGB PIL image; an unreadable file raises an error naming ``path``."""
    from ..io import _pil_image
    Image = _pil_image()
    try:
        # Opening the file ourselves closes it at once (Pillow keeps lazily opened files open).
        with open(path, 'rb') as f:
            return Image.open(f).convert('RGB')
    except (OSError, SyntaxError, ValueError) as e:
        msg = f'Cannot read image file {os.fspath(path)!r}: {e}'
        try:
            err = type(e)(msg)
        except Exception:
            err = OSError(msg)
        raise err from e


def default_loader(path: str | pathlib.Path):
    """``pil_loader(path)`` (Pillow is the only image backend)."""
    return pil_loader(path)


class ImageFolder(DatasetFolder):
    """A ``DatasetFolder`` of images (``root/dog/xxx.png``, ``root/cat/123.png`` ...) read with
    ``loader`` (default: RGB PIL images) and filtered by ``IMG_EXTENSIONS`` unless ``is_valid_file``
    is given. ``imgs`` is ``samples``."""

    def __init__(self, root: str | pathlib.Path, transform: Callable | None = None,
                 target_transform: Callable | None = None, loader: Callable[[str], Any] = default_loader,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
