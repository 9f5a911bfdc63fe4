"""The image-loading fast paths give torchvision's numbers exactly: per-image random parameters drawn as Python
numbers, ``to_tensor`` and ``normalize`` on NumPy arrays, and the ImageNet-style training pipeline end to end
through ``ImageFolder`` and ``DataLoader``."""
import numpy as np
import pytest
import torch
from PIL import Image
from test_transforms import PHOTO, compare, make
from tv import datasets as TD, functional as TF, transforms as TT

import ember
from ember.vision import datasets as ED, transforms as ET
from ember.vision.transforms import _draws, functional as EF

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

DRAWS = [  # (fast helper, the tensor call it stands for)
    (lambda: _draws.uniform(0.08, 1.0), lambda: ember.empty(1).uniform_(0.08, 1.0).item()),
    (lambda: _draws.uniform(-3, 7.5), lambda: ember.empty(1).uniform_(-3, 7.5).item()),
    (lambda: _draws.uniform(2.0, 2.0), lambda: ember.empty(1).uniform_(2.0, 2.0).item()),
    (lambda: _draws.exp_uniform(-0.2876821, 0.2876821),
     lambda: ember.exp(ember.empty(1).uniform_(-0.2876821, 0.2876821)).item()),
    (lambda: _draws.randint(0, 7), lambda: ember.randint(0, 7, (1,)).item()),
    (lambda: _draws.randint(-5, 1 << 30), lambda: ember.randint(-5, 1 << 30, (1,)).item()),
    (lambda: _draws.below(0.5), lambda: bool(ember.rand(1) < 0.5)),
    (lambda: _draws.below(0.1), lambda: bool(ember.rand(1) < 0.1)),
    (lambda: _draws.log_list([3 / 4, 4 / 3]), lambda: ember.log(ember.tensor([3 / 4, 4 / 3])).tolist()),
    (lambda: _draws.log_list((1, 2)), lambda: ember.log(ember.tensor((1, 2))).tolist()),
]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('i', range(len(DRAWS)))
def test_draws_match_tensor_calls(i, dtype):
    """Same values and the same generator state after them, under either default dtype."""
    fast, call = DRAWS[i]
    old = ember.get_default_dtype()
    ember.set_default_dtype(getattr(ember, dtype))
    try:
        for seed in range(40):
            ember.manual_seed(seed)
            want = [call() for _ in range(3)]
            want_next = ember.rand(2)
            ember.manual_seed(seed)
            got = [fast() for _ in range(3)]
            assert got == want, f'seed {seed}'
            assert type(got[0]) is type(want[0])
            np.testing.assert_array_equal(ember.rand(2).numpy(), want_next.numpy())
    finally:
        ember.set_default_dtype(old)


@pytest.mark.parametrize('call, exc', [
    (lambda: _draws.uniform(1.0, 0.0), RuntimeError),
    (lambda: _draws.uniform(0.0, 1e39), RuntimeError),
    (lambda: _draws.randint(3, 3), RuntimeError),
])
def test_draws_errors(call, exc):
    with pytest.raises(exc):
        call()


def pil(mode):
    img = Image.fromarray(PHOTO)
    if mode == 'I;16':
        return Image.fromarray((PHOTO[..., 0].astype(np.uint16) * 200))
    return img.convert(mode)


@pytest.mark.parametrize('mode', ['RGB', 'L', 'P', 'LA', 'RGBA', 'CMYK', 'YCbCr', 'HSV', '1', 'I', 'F', 'I;16'])
def test_to_tensor_pil_exact(mode):
    e, t = EF.to_tensor(pil(mode)), TF.to_tensor(pil(mode))
    compare(e, t, 0)
    assert e.is_contiguous()


@pytest.mark.parametrize('arr', [PHOTO, PHOTO[..., 1], PHOTO[::2, ::-3], PHOTO[:0], PHOTO.astype(np.float32) / 7,
                                 PHOTO.astype(np.int16)])
def test_to_tensor_numpy_exact(arr):
    compare(EF.to_tensor(arr), TF.to_tensor(arr.copy()), 0)


def test_to_tensor_default_dtype():
    old = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    try:
        e = EF.to_tensor(pil('RGB'))
    finally:
        ember.set_default_dtype(old)
    t = TF.to_tensor(pil('RGB')).double()  # the same division in float64
    assert e.dtype == ember.float64
    np.testing.assert_array_equal(e.numpy(), np.asarray(pil('RGB')).transpose(2, 0, 1) / 255.0)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=0, atol=1e-7)


NORMALIZE = [
    ('f32', MEAN, STD, False),
    ('f64', MEAN, STD, False),
    ('batch', MEAN, STD, False),
    ('nc', MEAN, STD, False),
    ('f32', [0.5], [0.25], False),
    ('f32', (1, 0, 2), (3, 1, 2), False),
    ('f32', MEAN, STD, True),
    ('gray1', [0.5], [0.2], False),
]


@pytest.mark.parametrize('kind, mean, std, inplace', NORMALIZE)
def test_normalize_exact(kind, mean, std, inplace):
    e_in, t_in = make(ember, kind), make(torch, kind)
    e = EF.normalize(e_in, mean, std, inplace)
    t = TF.normalize(t_in, mean, std, inplace)
    compare(e, t, 0)
    assert e.is_contiguous() == t.is_contiguous()
    assert (e is e_in) == (t is t_in)
    compare(e_in, t_in, 0, what='input afterwards')


@pytest.mark.parametrize('mean, std', [(ember.tensor(MEAN), ember.tensor(STD)), (MEAN, [0.2, 0.3])])
def test_normalize_other_arguments(mean, std):
    """Tensor statistics take the tensor path; a wrong channel count raises PyTorch's broadcasting error."""
    img = make(ember, 'f32')
    if len(std) == 2:
        with pytest.raises(RuntimeError, match='must match the size'):
            EF.normalize(img, mean, std)
        return
    want = TF.normalize(make(torch, 'f32'), MEAN, STD)
    compare(EF.normalize(img, mean, std), want, 0)


def test_normalize_zero_std_and_gradient():
    with pytest.raises(ValueError, match='std evaluated to zero after conversion to ember.float32'):
        EF.normalize(make(ember, 'f32'), MEAN, [0.2, 0.0, 0.1])
    e = make(ember, 'f32').requires_grad_()
    t = make(torch, 'f32').requires_grad_()
    EF.normalize(e, MEAN, STD).square().sum().backward()
    TF.normalize(t, MEAN, STD).square().sum().backward()
    compare(e.grad, t.grad)


def imagenet_train(T, crop):
    return T.Compose([T.RandomResizedCrop(crop), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(MEAN, STD)])


@pytest.fixture(scope='module')
def jpeg_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp('jpegs')
    rng = np.random.default_rng(0)
    for i in range(24):
        folder = root / f'class{i % 3}'
        folder.mkdir(exist_ok=True)
        small = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
        small.resize((40 + i, 30 + 2 * i), Image.BILINEAR).save(folder / f'{i:03d}.jpg', quality=90)
    return str(root)


@pytest.mark.parametrize('crop, batch, workers', [(24, 5, 0), (96, 8, 0), (32, 4, 2)])
def test_imagefolder_training_pipeline_exact(jpeg_folder, crop, batch, workers):
    """Same crops, flips, values and labels, batch for batch, after the same seed (in worker processes too:
    each worker's generator is seeded as PyTorch seeds it)."""
    batches = {}
    for name, lib, D, T in (('ember', ember, ED, ET), ('torch', torch, TD, TT)):
        lib.manual_seed(3)
        loader = lib.utils.data.DataLoader(D.ImageFolder(jpeg_folder, transform=imagenet_train(T, crop)),
                                           batch_size=batch, shuffle=True, num_workers=workers)
        batches[name] = [(x, y) for x, y in loader]
    assert len(batches['ember']) == len(batches['torch']) == -(-24 // batch)
    for i, (e, t) in enumerate(zip(batches['ember'], batches['torch'])):
        compare(e, t, 0, what=f'batch {i}')
