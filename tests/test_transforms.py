"""ember.vision.transforms against torchvision.transforms: functional ops and deterministic transforms on a
real photograph (PIL, uint8 and float tensors, batches, non-contiguous tensors), argument errors."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_sample_image
from oracle import check_gradcheck
from tv import functional as TF, transforms as TT

import ember
from ember.vision import transforms as ET
from ember.vision.transforms import functional as EF

PHOTO = load_sample_image('china.jpg')[100:148, 200:264]  # 48 x 64 RGB crop, HWC uint8
FLOWER = load_sample_image('flower.jpg')[150:190, 300:330]  # 40 x 30


def make(lib, kind, arr=PHOTO):
    """The photograph as kind: 'pil', 'gray' (PIL L), 'u8' / 'f32' / 'f64' CHW tensors, 'batch' (2, C, H, W)
    float, 'u8batch', 'nc' (non-contiguous float: a transposed copy transposed back), 'hw' (2-d float)."""
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if kind == 'pil':
        return Image.fromarray(arr)
    if kind == 'gray':
        return Image.fromarray(arr).convert('L')
    if kind == 'u8':
        return lib.tensor(chw)
    if kind == 'u8batch':
        return lib.tensor(np.stack([chw, chw[:, ::-1, ::-1].copy()]))
    f = chw.astype(np.float32) / 255
    if kind == 'f32':
        return lib.tensor(f)
    if kind == 'f64':
        return lib.tensor(f.astype(np.float64))
    if kind == 'batch':
        return lib.tensor(np.stack([f, f[::-1].copy()]))
    if kind == 'nc':
        return lib.tensor(np.ascontiguousarray(f.transpose(0, 2, 1))).transpose(1, 2)
    if kind == 'gray1':
        return lib.tensor(f[:1])
    raise ValueError(kind)


def compare(e, t, atol=None, what='output'):
    """Same kind of result; tensors: dtype, shape, values within 1 level (uint8) or 1e-5 (float)."""
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t), what
        for i, (a, b) in enumerate(zip(e, t)):
            compare(a, b, atol, f'{what}[{i}]')
    elif isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f'{what}: {type(e)}'
        assert str(e.dtype) == str(t.dtype).replace('torch', 'ember'), f'{what}: {e.dtype} != {t.dtype}'
        assert tuple(e.shape) == tuple(t.shape), f'{what}: {tuple(e.shape)} != {tuple(t.shape)}'
        ev, tv = e.numpy().astype(np.float64), t.numpy().astype(np.float64)
        tol = atol if atol is not None else (1 if t.dtype == torch.uint8 else 1e-5)
        np.testing.assert_allclose(ev, tv, rtol=0, atol=tol, err_msg=what)
    elif isinstance(t, Image.Image):
        assert isinstance(e, Image.Image), f'{what}: {type(e)}'
        assert (e.mode, e.size) == (t.mode, t.size), f'{what}: {e.mode} {e.size} != {t.mode} {t.size}'
        ev, tv = np.asarray(e, dtype=np.float64), np.asarray(t, dtype=np.float64)
        np.testing.assert_allclose(ev, tv, rtol=0, atol=atol or 0, err_msg=what)
    else:
        assert e == t, f'{what}: {e!r} != {t!r}'


def both(fn, kind, atol=None, arr=PHOTO):
    """Run fn(F, T, lib, img) with Ember's and torchvision's modules and compare."""
    e = fn(EF, ET, ember, make(ember, kind, arr))
    t = fn(TF, TT, torch, make(torch, kind, arr))
    compare(e, t, atol)
    return e, t


def mode(F, name):
    return getattr(F.InterpolationMode, name)


TENSOR_KINDS = ['u8', 'f32', 'batch', 'nc']
ALL_KINDS = ['pil'] + TENSOR_KINDS

FUNCTIONAL = {
    'get_dimensions': lambda F, T, lib, x: F.get_dimensions(x),
    'get_image_size': lambda F, T, lib, x: F.get_image_size(x),
    'get_image_num_channels': lambda F, T, lib, x: F.get_image_num_channels(x),
    'hflip': lambda F, T, lib, x: F.hflip(x),
    'vflip': lambda F, T, lib, x: F.vflip(x),
    'crop': lambda F, T, lib, x: F.crop(x, 5, 7, 20, 30),
    'crop_outside': lambda F, T, lib, x: F.crop(x, -3, 50, 20, 30),
    'center_crop': lambda F, T, lib, x: F.center_crop(x, [21, 30]),
    'center_crop_pad': lambda F, T, lib, x: F.center_crop(x, [51, 70]),
    'resize_bilinear': lambda F, T, lib, x: F.resize(x, [20, 27]),
    'resize_short': lambda F, T, lib, x: F.resize(x, 17),
    'resize_max_size': lambda F, T, lib, x: F.resize(x, 20, max_size=25),
    'resize_up': lambda F, T, lib, x: F.resize(x, [61, 90]),
    'resize_bicubic': lambda F, T, lib, x: F.resize(x, [21, 25], mode(F, 'BICUBIC')),
    'resize_bicubic_up': lambda F, T, lib, x: F.resize(x, [70, 66], mode(F, 'BICUBIC')),
    'resize_nearest': lambda F, T, lib, x: F.resize(x, [20, 27], mode(F, 'NEAREST')),
    'resize_int_mode': lambda F, T, lib, x: F.resize(x, [20, 27], 2),
    'resized_crop': lambda F, T, lib, x: F.resized_crop(x, 3, 4, 30, 40, [16, 16]),
    'pad_constant': lambda F, T, lib, x: F.pad(x, [2, 3, 4, 1], fill=7),
    'pad_int': lambda F, T, lib, x: F.pad(x, 3),
    'pad_reflect': lambda F, T, lib, x: F.pad(x, [2, 3], padding_mode='reflect'),
    'pad_edge': lambda F, T, lib, x: F.pad(x, [2, 3, 1, 4], padding_mode='edge'),
    'pad_symmetric': lambda F, T, lib, x: F.pad(x, [2, 3, 1, 4], padding_mode='symmetric'),
    'rotate': lambda F, T, lib, x: F.rotate(x, 30.0),
    'rotate_expand': lambda F, T, lib, x: F.rotate(x, -20.0, expand=True, fill=[1.0]),
    'rotate_center': lambda F, T, lib, x: F.rotate(x, 45.0, center=[10, 12]),
    'affine': lambda F, T, lib, x: F.affine(x, 15.0, [3, -2], 0.9, [5.0, 3.0]),
    'perspective': lambda F, T, lib, x: F.perspective(x, [[0, 0], [63, 0], [63, 47], [0, 47]],
                                                      [[3, 2], [60, 5], [58, 44], [1, 40]],
                                                      mode(F, 'NEAREST')),
    'five_crop': lambda F, T, lib, x: F.five_crop(x, [20, 25]),
    'ten_crop': lambda F, T, lib, x: F.ten_crop(x, 20, vertical_flip=True),
    'adjust_brightness': lambda F, T, lib, x: F.adjust_brightness(x, 1.3),
    'adjust_contrast': lambda F, T, lib, x: F.adjust_contrast(x, 0.6),
    'adjust_saturation': lambda F, T, lib, x: F.adjust_saturation(x, 1.7),
    'adjust_hue': lambda F, T, lib, x: F.adjust_hue(x, 0.2),
    'adjust_gamma': lambda F, T, lib, x: F.adjust_gamma(x, 0.7, 1.1),
    'rgb_to_grayscale': lambda F, T, lib, x: F.rgb_to_grayscale(x),
    'rgb_to_grayscale3': lambda F, T, lib, x: F.rgb_to_grayscale(x, 3),
    'gaussian_blur': lambda F, T, lib, x: F.gaussian_blur(x, [5, 3], [1.5, 0.8]),
    'invert': lambda F, T, lib, x: F.invert(x),
    'adjust_sharpness': lambda F, T, lib, x: F.adjust_sharpness(x, 1.8),
    'autocontrast': lambda F, T, lib, x: F.autocontrast(x),
}



@pytest.mark.parametrize('kind', ALL_KINDS)
@pytest.mark.parametrize('name', sorted(FUNCTIONAL))
def test_functional(name, kind):
    both(FUNCTIONAL[name], kind)


UINT8_ONLY = {
    'posterize': lambda F, T, lib, x: F.posterize(x, 3),
    'solarize': lambda F, T, lib, x: F.solarize(x, 100),
    'equalize': lambda F, T, lib, x: F.equalize(x),
}


@pytest.mark.parametrize('kind', ['pil', 'u8', 'u8batch', 'gray'])
@pytest.mark.parametrize('name', sorted(UINT8_ONLY))
def test_uint8_only(name, kind):
    both(UINT8_ONLY[name], kind)


@pytest.mark.parametrize('kind', ['pil', 'gray', 'f32', 'u8', 'f64'])
def test_to_tensor_and_back(kind):
    both(lambda F, T, lib, x: F.to_pil_image(x) if isinstance(x, lib.Tensor) else F.to_tensor(x), kind)
    both(lambda F, T, lib, x: T.ToPILImage()(x) if isinstance(x, lib.Tensor) else T.PILToTensor()(x), kind)


@pytest.mark.parametrize('arr', [PHOTO, PHOTO[..., 0], PHOTO.astype(np.float32) / 255, PHOTO[..., :2].copy(),
                                 np.dstack([PHOTO, PHOTO[..., :1]]), PHOTO[..., 0].astype(np.int32),
                                 PHOTO[..., 0].astype(np.int16)])
def test_numpy_arrays(arr):
    e, t = EF.to_tensor(arr), TF.to_tensor(arr)
    compare(e, t)
    compare(EF.to_pil_image(arr), TF.to_pil_image(arr))
    compare(EF.to_pil_image(e), TF.to_pil_image(t))


@pytest.mark.parametrize('dtype_in,dtype_out', [('uint8', 'float32'), ('float32', 'uint8'), ('uint8', 'int32'),
                                                ('int32', 'uint8'), ('float32', 'float64'), ('int16', 'float64')])
def test_convert_image_dtype(dtype_in, dtype_out):
    arr = np.random.default_rng(0).integers(0, 120, (3, 5, 4)).astype(dtype_in)
    if dtype_in.startswith('float'):
        arr = arr / 120
    e = ET.ConvertImageDtype(getattr(ember, dtype_out))(ember.tensor(arr))
    t = TT.ConvertImageDtype(getattr(torch, dtype_out))(torch.tensor(arr))
    compare(e, t)


@pytest.mark.parametrize('kind', ['f32', 'batch', 'nc', 'f64'])
def test_normalize(kind):
    both(lambda F, T, lib, x: T.Normalize([0.4, 0.5, 0.6], [0.2, 0.3, 0.25])(x), kind)
    x = make(ember, kind)
    before = x.clone()
    out = ET.Normalize([0.4, 0.5, 0.6], [0.2, 0.3, 0.25], inplace=True)(x)
    assert out is x and not bool((x == before).all())


def test_normalize_gradient():
    e = make(ember, 'f32').requires_grad_()
    t = make(torch, 'f32').requires_grad_()
    EF.normalize(EF.resize(e, [20, 30]), [0.5, 0.4, 0.3], [0.2, 0.2, 0.3]).pow(2).sum().backward()
    TF.normalize(TF.resize(t, [20, 30]), [0.5, 0.4, 0.3], [0.2, 0.2, 0.3]).pow(2).sum().backward()
    compare(e.grad, t.grad, 1e-4)


DETERMINISTIC = {
    'Resize': lambda T, F: T.Resize((20, 30), F.InterpolationMode.BICUBIC, antialias=False),
    'Resize_int': lambda T, F: T.Resize(25, max_size=40),
    'CenterCrop': lambda T, F: T.CenterCrop(20),
    'Pad': lambda T, F: T.Pad((1, 2), fill=3, padding_mode='constant'),
    'Grayscale': lambda T, F: T.Grayscale(3),
    'FiveCrop': lambda T, F: T.FiveCrop((10, 12)),
    'TenCrop': lambda T, F: T.TenCrop(10),
    'GaussianBlur': lambda T, F: T.GaussianBlur(5, sigma=1.2),
    'Compose': lambda T, F: T.Compose([T.CenterCrop(30), T.Resize(20), T.Lambda(lambda x: F.hflip(x))]),
}


@pytest.mark.parametrize('kind', ALL_KINDS)
@pytest.mark.parametrize('name', sorted(DETERMINISTIC))
def test_deterministic_transforms(name, kind):
    both(lambda F, T, lib, x: DETERMINISTIC[name](T, F)(x), kind)
    assert repr(DETERMINISTIC[name](ET, EF)) == repr(DETERMINISTIC[name](TT, TF)).replace('torchvision', 'ember')


def test_linear_transformation():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((3 * 4 * 5, 3 * 4 * 5)).astype(np.float32)
    mean = rng.standard_normal(60).astype(np.float32)
    x = rng.random((3, 4, 5)).astype(np.float32)
    e = ET.LinearTransformation(ember.tensor(m), ember.tensor(mean))(ember.tensor(x))
    t = TT.LinearTransformation(torch.tensor(m), torch.tensor(mean))(torch.tensor(x))
    compare(e, t, 1e-4)


@pytest.mark.parametrize('size,interp,antialias', [
    ((33, 41), 'BILINEAR', True), ((7, 9), 'BILINEAR', True), ((7, 9), 'BICUBIC', True), ((50, 9), 'BICUBIC', True),
    ((7, 9), 'BILINEAR', False), ((7, 9), 'BICUBIC', False), ((31, 17), 'NEAREST', True),
    ((31, 17), 'NEAREST_EXACT', True), ((1, 1), 'BILINEAR', True)])
@pytest.mark.parametrize('dtype', ['uint8', 'float32', 'float64'])
def test_resize_random_tensors(size, interp, antialias, dtype):
    arr = np.random.default_rng(1).random((2, 3, 23, 19))
    arr = (arr * 255).astype(np.uint8) if dtype == 'uint8' else arr.astype(dtype)
    e = EF.resize(ember.tensor(arr), list(size), getattr(EF.InterpolationMode, interp), antialias=antialias)
    t = TF.resize(torch.tensor(arr), list(size), getattr(TF.InterpolationMode, interp), antialias=antialias)
    compare(e, t)


@pytest.mark.parametrize('interp', ['NEAREST', 'BILINEAR'])
@pytest.mark.parametrize('dtype', ['uint8', 'float32'])
@pytest.mark.parametrize('fill', [None, 0.5, [0.2, 0.9, 0.4]])
def test_warps_random_tensors(interp, dtype, fill):
    arr = np.random.default_rng(2).random((3, 17, 22))
    arr = (arr * 255).astype(np.uint8) if dtype == 'uint8' else arr.astype(dtype)
    if fill is not None and dtype == 'uint8':
        fill = [255 * f for f in fill] if isinstance(fill, list) else 200
    for fn in (lambda F, x: F.rotate(x, 37.0, getattr(F.InterpolationMode, interp), expand=True, fill=fill),
               lambda F, x: F.affine(x, -12.0, [2, 1], 1.2, [10.0, -4.0], getattr(F.InterpolationMode, interp),
                                     fill=fill),
               lambda F, x: F.perspective(x, [[0, 0], [21, 0], [21, 16], [0, 16]],
                                          [[2, 1], [20, 3], [19, 15], [1, 14]],
                                          getattr(F.InterpolationMode, interp), fill=fill)):
        compare(fn(EF, ember.tensor(arr)), fn(TF, torch.tensor(arr)))


def test_elastic_transform():
    rng = np.random.default_rng(3)
    arr = rng.random((3, 12, 14)).astype(np.float32)
    disp = (rng.standard_normal((1, 12, 14, 2)) * 0.1).astype(np.float32)
    compare(EF.elastic_transform(ember.tensor(arr), ember.tensor(disp)),
            TF.elastic_transform(torch.tensor(arr), torch.tensor(disp)))


def test_erase():
    x = np.random.default_rng(4).random((3, 10, 12)).astype(np.float32)
    e = EF.erase(ember.tensor(x), 2, 3, 4, 5, ember.tensor(0.5))
    t = TF.erase(torch.tensor(x), 2, 3, 4, 5, torch.tensor(0.5))
    compare(e, t)


RAISES = [
    (lambda F, T, lib: F.to_tensor([1, 2]), TypeError, 'pic should be PIL Image or ndarray'),
    (lambda F, T, lib: F.to_tensor(np.zeros((1, 2, 3, 4))), ValueError, 'pic should be 2/3 dimensional'),
    (lambda F, T, lib: F.pil_to_tensor(np.zeros((2, 3))), TypeError, 'pic should be PIL Image'),
    (lambda F, T, lib: F.to_pil_image(np.zeros((2, 3, 5), np.uint8)), ValueError, 'should not have > 4 channels'),
    (lambda F, T, lib: F.to_pil_image(lib.zeros(2, 3, 3), mode='RGBA'), ValueError, 'Only modes'),
    (lambda F, T, lib: F.normalize(lib.zeros(3, 4, 4, dtype=lib.uint8), [0.5], [0.5]), TypeError, 'float tensor'),
    (lambda F, T, lib: F.normalize(lib.zeros(3, 4, 4), [0.5], [0.0]), ValueError, 'std evaluated to zero'),
    (lambda F, T, lib: F.normalize(lib.zeros(4, 4), [0.5], [0.5]), ValueError, 'Expected tensor to be'),
    (lambda F, T, lib: F.resize(lib.zeros(3, 4, 4), [1, 2, 3]), ValueError, 'Size must be an int'),
    (lambda F, T, lib: F.resize(lib.zeros(3, 4, 4), [2, 3], max_size=5), ValueError, 'max_size should only'),
    (lambda F, T, lib: F.resize(lib.zeros(3, 4, 4), 5, max_size=5), ValueError, 'must be strictly greater'),
    (lambda F, T, lib: F.resize(lib.zeros(3, 4, 4), 5, 'bilinear'), TypeError, 'Argument interpolation'),
    (lambda F, T, lib: F.pad(lib.zeros(3, 4, 4), [1, 2, 3]), ValueError, 'Padding must be an int'),
    (lambda F, T, lib: F.pad(lib.zeros(3, 4, 4), 1, padding_mode='wrap'), ValueError, 'Padding mode should'),
    (lambda F, T, lib: F.adjust_brightness(lib.zeros(3, 4, 4), -1), ValueError, 'is not non-negative'),
    (lambda F, T, lib: F.adjust_hue(lib.zeros(3, 4, 4), 0.7), ValueError, r'is not in \[-0.5, 0.5\]'),
    (lambda F, T, lib: F.adjust_contrast(lib.zeros(2, 4, 4), 0.5), TypeError, 'permitted channel values'),
    (lambda F, T, lib: F.posterize(lib.zeros(3, 4, 4), 2), TypeError, 'Only ember.uint8'),
    (lambda F, T, lib: F.gaussian_blur(lib.zeros(3, 4, 4), 4), ValueError, 'odd and positive'),
    (lambda F, T, lib: F.gaussian_blur(lib.zeros(3, 4, 4), 3, -1.0), ValueError, 'positive values'),
    (lambda F, T, lib: F.rotate(lib.zeros(3, 4, 4), 10.0, fill=[1.0, 2.0]), ValueError, 'cannot broadcast'),
    (lambda F, T, lib: F.rotate(lib.zeros(3, 4, 4), 10.0, F.InterpolationMode.BICUBIC), ValueError,
     'is unsupported with Tensor input'),
    (lambda F, T, lib: F.five_crop(lib.zeros(3, 4, 4), 5), ValueError, 'is bigger than input size'),
    (lambda F, T, lib: F.affine(lib.zeros(3, 4, 4), 1.0, [1], 1.0, 0.0), ValueError, 'translate should be'),
    (lambda F, T, lib: F.affine(lib.zeros(3, 4, 4), 1.0, [1, 1], 0.0, 0.0), ValueError, 'scale should be positive'),
    (lambda F, T, lib: F.rgb_to_grayscale(lib.zeros(4, 4)), TypeError, 'at least 3 dimensions'),
    (lambda F, T, lib: F.perspective(lib.zeros(3, 4, 4), [[0, 0]], [[0, 0]]), ValueError, 'exactly four corners'),
    (lambda F, T, lib: T.Resize([1, 2, 3]), ValueError, 'If size is a sequence'),
    (lambda F, T, lib: T.RandomCrop(5)(lib.zeros(3, 4, 4)), ValueError, 'Required crop size'),
    (lambda F, T, lib: T.RandomResizedCrop(5, scale=(0.5,)), (ValueError, IndexError), None),
    (lambda F, T, lib: T.ColorJitter(brightness=-1), ValueError, 'If brightness is a single number'),
    (lambda F, T, lib: T.ColorJitter(hue=0.8), ValueError, 'hue values should be between'),
    (lambda F, T, lib: T.RandomRotation(-5), ValueError, 'If degrees is a single number'),
    (lambda F, T, lib: T.RandomAffine(5, translate=(2, 0)), ValueError, 'translation values should be'),
    (lambda F, T, lib: T.RandomErasing(p=2), ValueError, 'Random erasing probability'),
    (lambda F, T, lib: T.RandomErasing(value='x'), ValueError, 'If value is str'),
    (lambda F, T, lib: T.GaussianBlur(4), ValueError, 'Kernel size value should be an odd'),
    (lambda F, T, lib: T.LinearTransformation(lib.zeros(3, 4), lib.zeros(3)), ValueError, 'should be square'),
]


@pytest.mark.parametrize('i', range(len(RAISES)))
def test_errors(i):
    fn, exc, match = RAISES[i]
    with pytest.raises(exc) as t_info:
        fn(TF, TT, torch)
    with pytest.raises(exc, match=match) as e_info:
        fn(EF, ET, ember)
    assert type(e_info.value) is type(t_info.value)
    assert str(e_info.value) == str(t_info.value).replace('torch.', 'ember.')


def test_tensor_transforms_without_pillow():
    """Tensor transforms work without Pillow; a PIL-only path names the extra to install."""
    code = (
        "import sys; sys.modules['PIL'] = None\n"
        "import ember\n"
        "from ember.vision import transforms as T\n"
        "x = T.Compose([T.CenterCrop(4), T.RandomHorizontalFlip()])(ember.rand(3, 6, 6))\n"
        "assert tuple(x.shape) == (3, 4, 4)\n"
        "try:\n"
        "    T.ToPILImage()(x)\n"
        "except ImportError as exc:\n"
        "    assert 'pip install ember[vision]' in str(exc), exc\n"
        "else:\n"
        "    raise AssertionError('no ImportError')\n"
    )
    subprocess.run([sys.executable, '-c', code], check=True, timeout=120)
    probe = "import sys, ember; print('ember.vision' in sys.modules, 'PIL' in sys.modules)"
    out = subprocess.run([sys.executable, '-c', probe], check=True, capture_output=True, text=True, timeout=120).stdout
    assert out.split() == ['False', 'False']


@pytest.mark.parametrize('name,fn', [
    ('resize_aa', lambda lib, x: EF.resize(x, [3, 4])),
    ('resize_aa_bicubic', lambda lib, x: EF.resize(x, [7, 2], EF.InterpolationMode.BICUBIC)),
    ('normalize', lambda lib, x: EF.normalize(x, [0.1, 0.2], [0.5, 0.7])),
    ('adjust_contrast', lambda lib, x: EF.adjust_contrast(x[:1], 0.7)),
    ('gaussian_blur', lambda lib, x: EF.gaussian_blur(x, 3, 0.9)),
])
def test_float_transforms_are_differentiable(name, fn):
    """Float tensor kernels written with Ember ops pass float64 gradcheck and gradgradcheck."""
    check_gradcheck(fn, (2, 5, 6), low=0.1, high=0.9)


@pytest.mark.parametrize('fn', [
    lambda F, lib, x: F.hflip(x), lambda F, lib, x: F.vflip(x), lambda F, lib, x: F.crop(x, 0, 1, 0, 2),
    lambda F, lib, x: F.pad(x, [1, 2]), lambda F, lib, x: F.normalize(x, [0.5] * 3, [0.2] * 3),
    lambda F, lib, x: F.rgb_to_grayscale(x), lambda F, lib, x: F.adjust_brightness(x, 0.5),
])
def test_empty_images(fn):
    compare(fn(EF, ember, ember.zeros(3, 0, 5)), fn(TF, torch, torch.zeros(3, 0, 5)))


@pytest.mark.parametrize('pil_mode', ['I', 'F', '1', 'LA', 'RGBA'])
def test_pil_modes(pil_mode):
    img = Image.fromarray(PHOTO).convert('L').convert(pil_mode) if pil_mode != 'RGBA' else \
        Image.fromarray(PHOTO).convert('RGBA')
    compare(EF.to_tensor(img), TF.to_tensor(img))
    compare(EF.pil_to_tensor(img), TF.pil_to_tensor(img))
    compare(EF.hflip(img), TF.hflip(img))
