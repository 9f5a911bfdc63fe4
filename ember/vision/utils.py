"""Image utilities: ``make_grid``, ``save_image``, ``draw_bounding_boxes``, ``draw_segmentation_masks``
(torchvision.utils' API and arithmetic).

``make_grid`` and ``draw_segmentation_masks`` compute with Ember ops, so their values (dtypes,
float32 rounding) are PyTorch's; saving and drawing use Pillow (``pip install ember[vision]``),
imported on first use.
"""
import math
import pathlib
import warnings
from typing import BinaryIO

import numpy as np

from .. import _dtype
from .._creation import from_numpy, tensor
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..ops.join import cat, stack
from .io import _pil_image

__all__ = ['make_grid', 'save_image', 'draw_bounding_boxes', 'draw_segmentation_masks']


@no_grad()
def make_grid(tensor: Tensor | list[Tensor], nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[int, int] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images into one ``(C, H', W')`` image, ``nrow`` images per row.

    Args:
        tensor: a ``(B, C, H, W)`` batch (``C`` = 1 is repeated to 3 channels), a list of equal-size
            ``(C, H, W)`` images, or a single ``(C, H, W)`` / ``(H, W)`` image.
        nrow: images per row; the grid has ``ceil(B / nrow)`` rows.
        padding: pixels of ``pad_value`` around and between the images.
        normalize: shift and scale to [0, 1] by ``value_range`` (min, max) or, when it is None, by the
            batch's (or with ``scale_each`` each image's) own min and max, values clamped to the range.

    A batch of one image is returned without padding (``(C, H, W)``).
    """
    if not isinstance(tensor, Tensor):
        if isinstance(tensor, list):
            for t in tensor:
                if not isinstance(t, Tensor):
                    raise TypeError(f'tensor or list of tensors expected, got a list containing {type(t)}')
        else:
            raise TypeError(f'tensor or list of tensors expected, got {type(tensor)}')
    if isinstance(tensor, list):
        tensor = stack(tensor, 0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = cat((tensor, tensor, tensor), 1)

    if normalize is True:
        tensor = tensor.clone()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError('value_range has to be a tuple (min, max) if specified. min and max are numbers')

        def norm_ip(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def norm_range(t, value_range):
            if value_range is not None:
                norm_ip(t, value_range[0], value_range[1])
            else:
                norm_ip(t, float(t.min()), float(t.max()))

        if scale_each is True:
            for t in tensor:
                norm_range(t, value_range)
        else:
            norm_range(tensor, value_range)

    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    # Fill through NumPy views of the grid: one slice assignment per image, no per-image graph or op dispatch.
    out, src = grid.numpy(), tensor.detach().numpy()
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        out[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = src[k]
    return grid


@no_grad()
def save_image(tensor: Tensor | list[Tensor], fp: str | pathlib.Path | BinaryIO, format: str | None = None,
               **kwargs) -> None:
    """Save an image (or, through ``make_grid(tensor, **kwargs)``, a grid of a batch) to ``fp``.

    Values in [0, 1] become bytes as ``round(255 * x)`` after clamping; ``format`` (e.g. ``'png'``)
    is required when ``fp`` is a file object, else the file name's extension decides.
    """
    grid = make_grid(tensor, **kwargs)
    ndarr = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(_dtype.uint8).numpy()
    _pil_image().fromarray(np.ascontiguousarray(ndarr)).save(fp, format=format)


def _generate_color_palette(num_objects: int):
    palette = (2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1)
    return [tuple((i * p) % 255 for p in palette) for i in range(num_objects)]


def _parse_colors(colors, *, num_objects: int, dtype=_dtype.uint8):
    """A list of ``num_objects`` RGB tuples (in [0, 1] for float ``dtype``) from None (a fixed
    palette), one color, or a list of colors (names like ``'red'``/``'#FF00FF'`` or RGB tuples)."""
    from PIL import ImageColor
    if colors is None:
        colors = _generate_color_palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError('Number of colors must be equal or larger than the number of objects, but got '
                             f'{len(colors)} < {num_objects}.')
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f'colors must be a tuple or a string, or a list thereof, but got {colors}.')
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f'If passed as tuple, colors should be an RGB triplet, but got {colors}.')
    else:
        colors = [colors] * num_objects
    colors = [ImageColor.getrgb(color) if isinstance(color, str) else color for color in colors]
    if dtype.is_floating_point:
        colors = [tuple(v / 255 for v in color) for color in colors]
    return colors


def _float_to_uint8(image: Tensor) -> Tensor:
    # torchvision's to_dtype(scale=True): multiplying by 256 - eps maps [0, 1] evenly onto 0..255.
    return image.mul(255 + 1.0 - 1e-3).to(_dtype.uint8)


@no_grad()
def draw_bounding_boxes(image: Tensor, boxes: Tensor, labels: list[str] | None = None, colors=None,
                        fill: bool | None = False, width: int = 1, font: str | None = None,
                        font_size: int | None = None, label_colors=None, label_background_colors=None,
                        fill_labels: bool = False) -> Tensor:
    """Draw ``boxes`` on a uint8 or float (in [0, 1]) ``(C, H, W)`` image (C = 1 or 3); returns an RGB
    image of the input's dtype.

    Args:
        boxes: ``(N, 4)`` ``(xmin, ymin, xmax, ymax)`` pixel boxes, or ``(N, 8)`` four corners of
            rotated boxes (drawn with a dashed first edge).
        labels: one string per box, written inside its top-left corner.
        colors: a color or list of colors (``'red'``, ``'#FF00FF'``, ``(240, 10, 157)``); default a
            fixed palette. ``fill`` fills boxes with the color at alpha 100/255.
        width: line width. ``font``/``font_size``: a TrueType file and size for labels (default:
            Pillow's built-in font). ``label_colors``, ``label_background_colors``, ``fill_labels``:
            label text colors and filled label backgrounds.
    """
    from PIL import ImageFont
    if not isinstance(image, Tensor):
        raise TypeError(f'Tensor expected, got {type(image)}')
    elif not (image.dtype == _dtype.uint8 or image.is_floating_point()):
        raise ValueError(f'The image dtype must be uint8 or float, got {image.dtype}')
    elif image.dim() != 3:
        raise ValueError('Pass individual images, not batches')
    elif image.size(0) not in {1, 3}:
        raise ValueError('Only grayscale and RGB images are supported')
    elif boxes.shape[-1] == 4 and ((boxes[:, 0] > boxes[:, 2]).any() or (boxes[:, 1] > boxes[:, 3]).any()):
        raise ValueError('Boxes need to be in (xmin, ymin, xmax, ymax) format. Use torchvision.ops.box_convert to '
                         'convert them')
    num_boxes = boxes.shape[0]
    if num_boxes == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn", stacklevel=2)
        return image
    if labels is None:
        labels = [None] * num_boxes
    elif len(labels) != num_boxes:
        raise ValueError(f'Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. Please specify labels '
                         'for each box.')
    colors = _parse_colors(colors, num_objects=num_boxes)
    if label_colors or fill_labels:
        label_colors = _parse_colors(label_colors if label_colors else 'black', num_objects=num_boxes)
    else:
        label_colors = colors.copy()
    if fill_labels and label_background_colors:
        label_background_colors = _parse_colors(label_background_colors, num_objects=num_boxes)
    else:
        label_background_colors = colors.copy()
    if font is None:
        if font_size is not None:
            warnings.warn("Argument 'font_size' will be ignored since 'font' is not set.", stacklevel=2)
        txt_font = ImageFont.load_default()
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)

    if image.size(0) == 1:
        image = image.tile((3, 1, 1))
    original_dtype = image.dtype
    if original_dtype.is_floating_point:
        image = _float_to_uint8(image)
    img_to_draw = _pil_image().fromarray(np.ascontiguousarray(image.numpy().transpose(1, 2, 0)))
    img_boxes = boxes.to(_dtype.int64).tolist()
    draw = _draw_class()(img_to_draw, 'RGBA' if fill else None)

    for bbox, color, label, label_color, label_bg_color in zip(img_boxes, colors, labels, label_colors,
                                                              label_background_colors):
        draw_method = draw.oriented_rectangle if len(bbox) > 4 else draw.rectangle
        fill_color = tuple(color) + (100,) if fill else None
        draw_method(bbox, width=width, outline=tuple(color), fill=fill_color)
        if label is not None:
            box_margin = 1
            margin = width + box_margin
            if fill_labels:
                left, top, right, bottom = draw.textbbox((bbox[0] + margin, bbox[1] + margin), label, font=txt_font)
                draw.rectangle((left - box_margin, top - box_margin, right + box_margin, bottom + box_margin),
                               fill=tuple(label_bg_color))
            draw.text((bbox[0] + margin, bbox[1] + margin), label, fill=tuple(label_color), font=txt_font)

    out = from_numpy(np.ascontiguousarray(np.asarray(img_to_draw).transpose(2, 0, 1)))
    if original_dtype.is_floating_point:
        out = out.to(original_dtype).mul_(1.0 / 255)
    return out


_DRAW_CLASS = None


def _draw_class():
    """A Pillow ``ImageDraw`` that also draws rotated boxes (first edge dashed), built on first use."""
    global _DRAW_CLASS
    if _DRAW_CLASS is not None:
        return _DRAW_CLASS
    from PIL import ImageDraw

    class _ImageDraw(ImageDraw.ImageDraw):
        def oriented_rectangle(self, xy, fill=None, outline=None, width=1):
            self.dashed_line(((xy[0], xy[1]), (xy[2], xy[3])), width=width, fill=outline)
            for i in range(2, len(xy), 2):
                self.line(((xy[i], xy[i + 1]), (xy[(i + 2) % len(xy)], xy[(i + 3) % len(xy)])), width=width,
                          fill=outline)
            self.polygon(xy, fill=fill, outline=None, width=0)

        def dashed_line(self, xy, fill=None, width=0, joint=None, dash_length=5, space_length=5):
            current_dash = True
            for i in range(1, len(xy)):
                x1, y1 = xy[i - 1]
                x2, y2 = xy[i]
                segment_length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
                angle = math.atan2(y2 - y1, x2 - x1)
                while segment_length > 0:
                    step = min(segment_length, dash_length if current_dash else space_length)
                    end_x, end_y = x1 + math.cos(angle) * step, y1 + math.sin(angle) * step
                    if current_dash:
                        self.line([(x1, y1), (end_x, end_y)], fill, width, joint)
                    segment_length -= step
                    x1, y1 = end_x, end_y
                    current_dash = not current_dash

    _DRAW_CLASS = _ImageDraw
    return _DRAW_CLASS


@no_grad()
def draw_segmentation_masks(image: Tensor, masks: Tensor, alpha: float = 0.8, colors=None) -> Tensor:
    """Blend boolean ``masks`` (``(N, H, W)`` or ``(H, W)``) onto an RGB ``(3, H, W)`` uint8 or float
    image: ``image * (1 - alpha) + painted * alpha``, where ``painted`` has each mask's color (a fixed
    palette by default) and black where masks overlap. Returns the input's dtype."""
    if not isinstance(image, Tensor):
        raise TypeError(f'The image must be a tensor, got {type(image)}')
    elif not (image.dtype == _dtype.uint8 or image.is_floating_point()):
        raise ValueError(f'The image dtype must be uint8 or float, got {image.dtype}')
    elif image.dim() != 3:
        raise ValueError('Pass individual images, not batches')
    elif image.size()[0] != 3:
        raise ValueError('Pass an RGB image. Other Image formats are not supported')
    if masks.ndim == 2:
        masks = masks[None, :, :]
    if masks.ndim != 3:
        raise ValueError('masks must be of shape (H, W) or (batch_size, H, W)')
    if masks.dtype != _dtype.bool_:
        raise ValueError(f'The masks must be of dtype bool. Got {masks.dtype}')
    if masks.shape[-2:] != image.shape[-2:]:
        raise ValueError('The image and the masks must have the same height and width')
    num_masks = masks.size()[0]
    if num_masks == 0:
        warnings.warn("masks doesn't contain any mask. No mask was drawn", stacklevel=2)
        return image
    original_dtype = image.dtype
    colors = [tensor(color, dtype=original_dtype).numpy()
              for color in _parse_colors(colors, num_objects=num_masks, dtype=original_dtype)]
    m = masks.numpy()
    painted = image.detach().clone()
    arr = painted.numpy()
    for mask, color in zip(m, colors):
        arr[:, mask] = color[:, None]
    arr[:, m.sum(axis=0) > 1] = 0
    out = image * (1 - alpha) + painted * alpha
    return out.to(original_dtype)
