"""Reading and writing images as uint8 ``(C, H, W)`` tensors (torchvision.io's image API).

Pillow does the encoding and decoding, so it must be installed (``pip install ember[vision]``);
it is imported on first use. Decoded images keep their channels under ``ImageReadMode.UNCHANGED``
(1 gray, 2 gray + alpha, 3 RGB, 4 RGBA; palette images are expanded to RGB, or RGBA when they have
a transparent colour), or are converted to the mode asked for. Images of more than 8 bits per
channel are not supported (Ember has no uint16 dtype).
"""
import io as _io
import os
import pathlib
from enum import Enum

import numpy as np

from .._creation import from_numpy
from .._dtype import uint8
from .._tensor import Tensor

__all__ = ['ImageReadMode', 'read_file', 'write_file', 'decode_image', 'decode_jpeg', 'decode_png', 'decode_webp',
           'decode_gif', 'encode_jpeg', 'encode_png', 'read_image', 'write_jpeg', 'write_png']


def _pil_image():
    """The ``PIL.Image`` module, or an ImportError naming the extra to install."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError('Reading and writing images needs Pillow: pip install ember[vision]') from e
    return Image


class ImageReadMode(Enum):
    """The channels to decode to: ``UNCHANGED`` (as stored), ``GRAY``, ``GRAY_ALPHA``, ``RGB``,
    ``RGB_ALPHA`` (alias ``RGBA``). Functions also accept the names as strings (``mode="RGB"``)."""
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_PIL_MODE = {ImageReadMode.GRAY: 'L', ImageReadMode.GRAY_ALPHA: 'LA', ImageReadMode.RGB: 'RGB',
             ImageReadMode.RGB_ALPHA: 'RGBA'}


def _mode(mode) -> ImageReadMode:
    return ImageReadMode[mode.upper()] if isinstance(mode, str) else mode


def read_file(path: str | pathlib.Path) -> Tensor:
    """The bytes of the file at ``path`` as a 1-D uint8 tensor."""
    with open(path, 'rb') as f:
        return from_numpy(np.frombuffer(bytearray(f.read()), dtype=np.uint8))


def write_file(filename: str | pathlib.Path, data: Tensor) -> None:
    """Write the 1-D uint8 tensor ``data`` to ``filename``."""
    _check_bytes(data)
    with open(filename, 'wb') as f:
        f.write(data.numpy().tobytes())


def _check_bytes(data):
    if not isinstance(data, Tensor):
        raise TypeError(f'Expected a Tensor, got {type(data)}')
    if data.dtype != uint8 or data.dim() != 1:
        raise RuntimeError(f'Expected a 1-D uint8 tensor of encoded bytes, got {data.dim()}-D {data.dtype}')


def _unchanged_mode(img) -> str:
    if img.mode in ('L', 'LA', 'RGB', 'RGBA'):
        return img.mode
    if img.mode == '1':
        return 'L'
    if img.mode in ('P', 'PA'):
        return 'RGBA' if img.mode == 'PA' or 'transparency' in img.info else 'RGB'
    if img.mode.startswith('I;16') or img.mode in ('I', 'F'):
        raise RuntimeError(f'Images with more than 8 bits per channel (mode {img.mode}) are not supported')
    return 'RGB'


def _pil_to_chw(img, mode, apply_exif_orientation=False) -> Tensor:
    mode = _mode(mode)
    if apply_exif_orientation:
        from PIL import ImageOps
        img = ImageOps.exif_transpose(img)
    target = _unchanged_mode(img) if mode is ImageReadMode.UNCHANGED else _PIL_MODE[mode]
    if target != img.mode:
        img = img.convert(target)
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[None]
    else:
        arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
    return from_numpy(arr)


def _open(input, fmt=None):
    Image = _pil_image()
    _check_bytes(input)
    try:
        img = Image.open(_io.BytesIO(input.numpy().tobytes()), formats=fmt)
        img.load()
    except (OSError, SyntaxError, ValueError) as e:
        kind = f'{fmt[0]} ' if fmt else ''
        raise RuntimeError(f'Could not decode the {kind}image: {e}') from e
    return img


def decode_image(input: Tensor | str | pathlib.Path, mode: ImageReadMode | str = ImageReadMode.UNCHANGED,
                 apply_exif_orientation: bool = False) -> Tensor:
    """Decode an image (JPEG, PNG, GIF, WebP, or any format Pillow reads) given as a 1-D uint8 tensor
    of its bytes or a path, into a uint8 ``(C, H, W)`` tensor converted to ``mode``."""
    if not isinstance(input, Tensor):
        input = read_file(os.fspath(input))
    return _pil_to_chw(_open(input), mode, apply_exif_orientation)


def read_image(path: str | pathlib.Path, mode: ImageReadMode | str = ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Tensor:
    """``decode_image(read_file(path), mode)``: the image file at ``path`` as a uint8 ``(C, H, W)`` tensor."""
    return decode_image(read_file(path), mode, apply_exif_orientation=apply_exif_orientation)


def decode_png(input: Tensor, mode: ImageReadMode | str = ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Tensor:
    """Decode PNG bytes (a 1-D uint8 tensor) into a uint8 ``(C, H, W)`` tensor."""
    return _pil_to_chw(_open(input, ['PNG']), mode, apply_exif_orientation)


def decode_jpeg(input: Tensor | list[Tensor], mode: ImageReadMode | str = ImageReadMode.UNCHANGED,
                device='cpu', apply_exif_orientation: bool = False) -> Tensor | list[Tensor]:
    """Decode JPEG bytes (a 1-D uint8 tensor, or a list of them) into uint8 ``(C, H, W)`` tensor(s).
    Only ``device='cpu'`` exists."""
    if str(device) != 'cpu':
        raise NotImplementedError(f"decode_jpeg: device={device!r} is not supported; Ember decodes on the CPU only")
    if isinstance(input, list):
        if len(input) == 0:
            raise ValueError('Input list must contain at least one element')
        if not all(isinstance(t, Tensor) for t in input):
            raise ValueError('All elements of the input list must be tensors.')
        return [_pil_to_chw(_open(t, ['JPEG']), mode, apply_exif_orientation) for t in input]
    return _pil_to_chw(_open(input, ['JPEG']), mode, apply_exif_orientation)


def decode_webp(input: Tensor, mode: ImageReadMode | str = ImageReadMode.UNCHANGED) -> Tensor:
    """Decode WebP bytes (a 1-D uint8 tensor) into a uint8 ``(C, H, W)`` tensor."""
    return _pil_to_chw(_open(input, ['WEBP']), mode)


def decode_gif(input: Tensor) -> Tensor:
    """Decode GIF bytes into RGB: ``(3, H, W)`` for one frame, ``(N, 3, H, W)`` for ``N`` frames."""
    from PIL import ImageSequence
    img = _open(input, ['GIF'])
    frames = [_pil_to_chw(f.convert('RGB'), ImageReadMode.RGB) for f in ImageSequence.Iterator(img)]
    if len(frames) == 1:
        return frames[0]
    return from_numpy(np.stack([f.numpy() for f in frames]))


def _hwc(input: Tensor, allow_2d: bool) -> np.ndarray:
    if not isinstance(input, Tensor):
        raise TypeError(f'Expected a Tensor, got {type(input)}')
    if input.dtype != uint8:
        raise RuntimeError(f'Input tensor dtype should be uint8, got {input.dtype}')
    arr = input.detach().numpy()
    if arr.ndim == 2 and allow_2d:
        arr = arr[None]
    if arr.ndim != 3:
        raise RuntimeError(f'Input data should be a 3-dimensional tensor, got {arr.ndim} dimensions')
    if arr.shape[0] not in (1, 3):
        raise RuntimeError(f'The number of channels should be 1 or 3, got: {arr.shape[0]}')
    return arr[0] if arr.shape[0] == 1 else np.ascontiguousarray(arr.transpose(1, 2, 0))


def _encode(arr: np.ndarray, fmt: str, **kwargs) -> Tensor:
    buf = _io.BytesIO()
    _pil_image().fromarray(arr).save(buf, format=fmt, **kwargs)
    return from_numpy(np.frombuffer(bytearray(buf.getvalue()), dtype=np.uint8))


def encode_png(input: Tensor, compression_level: int = 6) -> Tensor:
    """Encode a uint8 ``(C, H, W)`` image (C = 1 or 3, or an ``(H, W)`` gray image) as PNG bytes
    (a 1-D uint8 tensor); ``compression_level`` from 0 to 9."""
    if not 0 <= compression_level <= 9:
        raise RuntimeError('Compression level should be between 0 and 9')
    return _encode(_hwc(input, True), 'PNG', compress_level=compression_level)


def encode_jpeg(input: Tensor | list[Tensor], quality: int = 75) -> Tensor | list[Tensor]:
    """Encode uint8 ``(C, H, W)`` image(s) (C = 1 or 3) as JPEG bytes; ``quality`` from 1 to 100."""
    if quality < 1 or quality > 100:
        raise ValueError('Image quality should be a positive number between 1 and 100')
    if isinstance(input, list):
        if not input:
            raise ValueError('encode_jpeg requires at least one input tensor when a list is passed')
        return [_encode(_hwc(t, False), 'JPEG', quality=quality) for t in input]
    return _encode(_hwc(input, False), 'JPEG', quality=quality)


def write_png(input: Tensor, filename: str | pathlib.Path, compression_level: int = 6) -> None:
    """Save a uint8 ``(C, H, W)`` (or ``(H, W)``) image as a PNG file."""
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input: Tensor, filename: str | pathlib.Path, quality: int = 75) -> None:
    """Save a uint8 ``(C, H, W)`` image as a JPEG file."""
    write_file(filename, encode_jpeg(input, quality))
