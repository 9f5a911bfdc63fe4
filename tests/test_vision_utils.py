"""ember.vision.utils against torchvision.utils on the same images."""
import io

import numpy as np
import pytest
import torch
from PIL import Image
from tv import utils as tvu

import ember
from ember.vision import utils as eu


def _pair(arr):
    return ember.from_numpy(arr.copy()), torch.from_numpy(arr.copy())


def _same(a, b):
    assert str(a.dtype).split('.')[1] == str(b.dtype).split('.')[1]
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def _imgs(shape, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return rng.uniform(-0.5, 1.7, shape).astype(dtype)


@pytest.mark.parametrize('shape,kwargs', [
    ((5, 3, 4, 6), {}),
    ((5, 3, 4, 6), dict(nrow=2, padding=1, pad_value=0.5)),
    ((3, 1, 5, 5), dict(nrow=3, padding=0)),
    ((1, 3, 4, 4), {}),
    ((3, 4, 4), {}),
    ((1, 4, 4), {}),
    ((4, 4), dict(normalize=True)),
    ((6, 3, 4, 5), dict(normalize=True)),
    ((6, 3, 4, 5), dict(normalize=True, scale_each=True, nrow=4)),
    ((6, 3, 4, 5), dict(normalize=True, value_range=(0, 1), padding=3)),
    ((6, 3, 4, 5), dict(normalize=True, value_range=(-0.2, 0.4), scale_each=True)),
    ((2, 3, 4, 5), dict(nrow=10)),
    ((0, 3, 4, 5), dict(nrow=1)),
])
def test_make_grid(shape, kwargs):
    a, b = _pair(_imgs(shape))
    if shape[0] == 0:
        with pytest.raises(ZeroDivisionError):
            tvu.make_grid(b, **kwargs)
        with pytest.raises(ZeroDivisionError):
            eu.make_grid(a, **kwargs)
        return
    _same(eu.make_grid(a, **kwargs), tvu.make_grid(b, **kwargs))
    np.testing.assert_array_equal(a.numpy(), _imgs(shape))  # the input is not modified


@pytest.mark.parametrize('kwargs', [{}, dict(nrow=2, pad_value=255)])
def test_make_grid_uint8_list_and_views(kwargs):
    arr = _imgs((4, 3, 6, 5), np.uint8)
    a, b = _pair(arr)
    _same(eu.make_grid(list(a), **kwargs), tvu.make_grid(list(b), **kwargs))
    _same(eu.make_grid(a[:, :, ::2], **kwargs), tvu.make_grid(b[:, :, ::2], **kwargs))
    _same(eu.make_grid(a.transpose(2, 3), **kwargs), tvu.make_grid(b.transpose(2, 3), **kwargs))


def test_make_grid_errors():
    for bad in ([ember.ones(2), 3], 'x'):
        with pytest.raises(TypeError) as ea:
            eu.make_grid(bad)
        with pytest.raises(TypeError) as eb:
            tvu.make_grid([torch.ones(2), 3] if isinstance(bad, list) else bad)
        assert str(ea.value) == str(eb.value)
    with pytest.raises(TypeError, match='value_range has to be a tuple'):
        eu.make_grid(ember.ones(2, 3, 4, 4), normalize=True, value_range=[0, 1])


def test_make_grid_no_grad():
    x = ember.rand(2, 3, 4, 4, requires_grad=True)
    g = eu.make_grid(x)
    assert not g.requires_grad


@pytest.mark.parametrize('shape,kwargs', [((4, 3, 5, 6), dict(nrow=2)), ((3, 7, 5), {}), ((2, 1, 4, 4),
                                          dict(normalize=True))])
def test_save_image(tmp_path, shape, kwargs):
    a, b = _pair(_imgs(shape))
    eu.save_image(a, tmp_path / 'e.png', **kwargs)
    tvu.save_image(b, tmp_path / 't.png', **kwargs)
    ref = np.asarray(Image.open(tmp_path / 't.png'))
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / 'e.png')), ref)
    buf = io.BytesIO()
    eu.save_image(a, buf, format='png', **kwargs)
    np.testing.assert_array_equal(np.asarray(Image.open(buf)), ref)


BOXES = np.array([[1, 2, 10, 12], [0, 0, 5, 5], [8, 3, 19, 14]], dtype=np.float32)


@pytest.mark.parametrize('dtype,channels,kwargs', [
    (np.uint8, 3, {}),
    (np.uint8, 3, dict(colors='red', width=2, labels=['a', 'bb', 'c'])),
    (np.uint8, 1, dict(colors=['#00ff00', (1, 2, 3), 'blue'], fill=True)),
    (np.float32, 3, dict(fill=True, labels=['x', 'y', 'z'], fill_labels=True, label_colors='white')),
    (np.uint8, 3, dict(labels=['p', 'q', 'r'], fill_labels=True, label_background_colors=[(9, 9, 9)] * 3)),
])
def test_draw_bounding_boxes(dtype, channels, kwargs):
    arr = _imgs((channels, 16, 20), dtype)
    if dtype == np.float32:
        arr = np.clip(arr, 0, 1)
    a, b = _pair(arr)
    _same(eu.draw_bounding_boxes(a, ember.from_numpy(BOXES), **kwargs),
          tvu.draw_bounding_boxes(b, torch.from_numpy(BOXES), **kwargs))


def test_draw_rotated_boxes():
    a, b = _pair(_imgs((3, 30, 30), np.uint8))
    boxes = np.array([[2, 5, 20, 2, 25, 18, 6, 22]], dtype=np.float32)
    _same(eu.draw_bounding_boxes(a, ember.from_numpy(boxes), colors='yellow', fill=True),
          tvu.draw_bounding_boxes(b, torch.from_numpy(boxes), colors='yellow', fill=True))


def test_draw_bounding_boxes_errors():
    img, boxes = ember.zeros(3, 8, 8, dtype=ember.uint8), ember.tensor([[0., 0., 4., 4.]])
    cases = [
        (lambda: eu.draw_bounding_boxes(img.int(), boxes), ValueError, 'The image dtype must be uint8 or float'),
        (lambda: eu.draw_bounding_boxes(img[None], boxes), ValueError, 'Pass individual images'),
        (lambda: eu.draw_bounding_boxes(img[:2], boxes), ValueError, 'Only grayscale and RGB'),
        (lambda: eu.draw_bounding_boxes(img, ember.tensor([[4., 0., 0., 4.]])), ValueError, r'\(xmin, ymin'),
        (lambda: eu.draw_bounding_boxes(img, boxes, labels=['a', 'b']), ValueError, r'Number of boxes \(1\)'),
        (lambda: eu.draw_bounding_boxes(img, boxes, colors=[]), ValueError, 'Number of colors must be'),
        (lambda: eu.draw_bounding_boxes(img, boxes, colors=(1, 2)), ValueError, 'RGB triplet'),
        (lambda: eu.draw_bounding_boxes(img.numpy(), boxes), TypeError, 'Tensor expected'),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            fn()
    with pytest.warns(UserWarning, match="boxes doesn't contain any box"):
        assert eu.draw_bounding_boxes(img, ember.zeros(0, 4)) is img


@pytest.mark.parametrize('dtype,alpha,colors', [
    (np.uint8, 0.8, None),
    (np.uint8, 0.3, ['red', (10, 20, 30), 'blue']),
    (np.float32, 0.5, None),
    (np.float64, 1.0, 'green'),
])
def test_draw_segmentation_masks(dtype, alpha, colors):
    arr = _imgs((3, 9, 11), dtype)
    if dtype != np.uint8:
        arr = np.clip(arr, 0, 1)
    masks = np.random.default_rng(5).random((3, 9, 11)) > 0.6
    a, b = _pair(arr)
    _same(eu.draw_segmentation_masks(a, ember.from_numpy(masks), alpha, colors),
          tvu.draw_segmentation_masks(b, torch.from_numpy(masks), alpha, colors))
    _same(eu.draw_segmentation_masks(a, ember.from_numpy(masks[0]), alpha),
          tvu.draw_segmentation_masks(b, torch.from_numpy(masks[0]), alpha))


def test_draw_segmentation_masks_errors():
    img = ember.zeros(3, 4, 4)
    for fn, msg in [
        (lambda: eu.draw_segmentation_masks(img, ember.zeros(4, 4)), 'The masks must be of dtype bool'),
        (lambda: eu.draw_segmentation_masks(img, ember.zeros(1, 1, 4, 4, dtype=ember.bool)), 'masks must be of shape'),
        (lambda: eu.draw_segmentation_masks(img, ember.zeros(3, 4, dtype=ember.bool)), 'same height and width'),
        (lambda: eu.draw_segmentation_masks(img[:1], ember.zeros(4, 4, dtype=ember.bool)), 'Pass an RGB image'),
    ]:
        with pytest.raises(ValueError, match=msg):
            fn()
