"""Random transforms draw what torchvision draws: after the same seed, Ember and torchvision pick the same
crops, flips, angles, jitter factors and augmentation policies, and leave the generators in the same state."""
import random

import numpy as np
import pytest
import torch
from test_transforms import compare, make
from tv import functional as TF, transforms as TT

import ember
from ember.vision import transforms as ET
from ember.vision.transforms import functional as EF

RANDOM = {
    'RandomCrop': lambda T, F: T.RandomCrop(20),
    'RandomCrop_padding': lambda T, F: T.RandomCrop((30, 40), padding=[2, 3], padding_mode='reflect'),
    'RandomCrop_pad_if_needed': lambda T, F: T.RandomCrop((52, 60), pad_if_needed=True, fill=9),
    'RandomHorizontalFlip': lambda T, F: T.RandomHorizontalFlip(),
    'RandomVerticalFlip': lambda T, F: T.RandomVerticalFlip(0.7),
    'RandomResizedCrop': lambda T, F: T.RandomResizedCrop(16),
    'RandomResizedCrop_args': lambda T, F: T.RandomResizedCrop((12, 20), scale=(0.3, 0.6), ratio=(0.5, 2.0),
                                                               interpolation=F.InterpolationMode.NEAREST),
    'RandomApply': lambda T, F: T.RandomApply([T.CenterCrop(10), T.Grayscale(3)], p=0.5),
    'ColorJitter': lambda T, F: T.ColorJitter(0.4, 0.3, 0.5, 0.1),
    'ColorJitter_tuple': lambda T, F: T.ColorJitter(brightness=(0.5, 0.9), hue=(-0.3, 0.1)),
    'RandomGrayscale': lambda T, F: T.RandomGrayscale(0.5),
    'RandomRotation': lambda T, F: T.RandomRotation(40),
    'RandomRotation_args': lambda T, F: T.RandomRotation((-10, 30), F.InterpolationMode.BILINEAR, expand=True,
                                                         center=(5, 9), fill=1),
    'RandomAffine': lambda T, F: T.RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-5, 5, -3, 3)),
    'RandomAffine_shear': lambda T, F: T.RandomAffine(0, shear=10, fill=7),
    'RandomPerspective': lambda T, F: T.RandomPerspective(0.4, p=0.8),
    'GaussianBlur': lambda T, F: T.GaussianBlur((3, 5), sigma=(0.2, 2.0)),
    'RandomInvert': lambda T, F: T.RandomInvert(),
    'RandomAdjustSharpness': lambda T, F: T.RandomAdjustSharpness(2.0),
    'RandomAutocontrast': lambda T, F: T.RandomAutocontrast(),
    'RandomSolarize': lambda T, F: T.RandomSolarize(0.5),
    'RandomPosterize': lambda T, F: T.RandomPosterize(2, p=0.6),
    'RandomEqualize': lambda T, F: T.RandomEqualize(0.7),
    'AutoAugment_imagenet': lambda T, F: T.AutoAugment(),
    'AutoAugment_cifar': lambda T, F: T.AutoAugment(T.AutoAugmentPolicy.CIFAR10),
    'AutoAugment_svhn': lambda T, F: T.AutoAugment(T.AutoAugmentPolicy.SVHN),
    'RandAugment': lambda T, F: T.RandAugment(num_ops=3, magnitude=7),
    'TrivialAugmentWide': lambda T, F: T.TrivialAugmentWide(),
    'AugMix': lambda T, F: T.AugMix(),
    'AugMix_args': lambda T, F: T.AugMix(severity=7, mixture_width=2, chain_depth=2, alpha=0.5, all_ops=False,
                                         interpolation=F.InterpolationMode.NEAREST, fill=5),
    'RandomChoice': lambda T, F: T.RandomChoice([T.CenterCrop(10), T.Pad(2), T.RandomHorizontalFlip()], [1, 2, 3]),
    'ElasticTransform': lambda T, F: T.ElasticTransform(alpha=20.0, sigma=3.0),
    'RandomOrder': lambda T, F: T.RandomOrder([T.CenterCrop(30), T.Pad(2), T.Resize(20)]),
}
# Solarize thresholds and the autoaugment policies' posterize/equalize need the uint8 range on tensors.
UINT8 = {'RandomSolarize', 'RandomPosterize', 'RandomEqualize', 'AutoAugment_imagenet', 'AutoAugment_cifar',
         'AutoAugment_svhn', 'RandAugment', 'TrivialAugmentWide', 'AugMix', 'AugMix_args'}
SEEDS = range(6)


def seeded(seed, fn):
    torch.manual_seed(seed)
    ember.manual_seed(seed)
    random.seed(seed)
    return fn()


@pytest.mark.parametrize('kind', ['pil', 'u8', 'f32'])
@pytest.mark.parametrize('name', sorted(RANDOM))
def test_random_transform(name, kind):
    if name in UINT8 and kind == 'f32':
        pytest.skip('uint8 only')
    tr_e, tr_t = RANDOM[name](ET, EF), RANDOM[name](TT, TF)
    if name == 'RandomSolarize':
        tr_e.threshold = tr_t.threshold = 100
    # Elastic and AugMix work on PIL images through the uint8 tensor kernels: one level, like tensors.
    atol = 1 if name in ('ElasticTransform', 'AugMix', 'AugMix_args') else None
    for seed in SEEDS:
        e = seeded(seed, lambda: tr_e(make(ember, kind)))
        e_next = ember.rand(3)
        t = seeded(seed, lambda: tr_t(make(torch, kind)))
        t_next = torch.rand(3)
        compare(e, t, atol, what=f'{name} seed {seed}')
        compare(e_next, t_next, what='generator state after the transform')
    assert repr(tr_e).replace('ember', 'torch') == repr(tr_t).replace('torchvision', 'torch')


@pytest.mark.parametrize('kind', ['f32', 'batch'])
@pytest.mark.parametrize('args', [{}, dict(p=1.0, value='random'), dict(p=1.0, value=(0.1, 0.2, 0.3)),
                                  dict(p=1.0, scale=(0.1, 0.2), ratio=(0.5, 1.0), value=0.7)])
def test_random_erasing(kind, args):
    for seed in SEEDS:
        e = seeded(seed, lambda: ET.RandomErasing(**args)(make(ember, kind)))
        t = seeded(seed, lambda: TT.RandomErasing(**args)(make(torch, kind)))
        compare(e, t, what=f'seed {seed}')


@pytest.mark.parametrize('args', [dict(mixture_width=4, chain_depth=1, alpha=3.0), dict(alpha=0.2, fill=[1, 2, 3])])
def test_augmix_batch(args):
    """Each image of a batch gets its own Beta and Dirichlet weights; the chains' operations are shared."""
    for seed in SEEDS[:3]:
        e = seeded(seed, lambda: ET.AugMix(**args)(make(ember, 'u8batch')))
        t = seeded(seed, lambda: TT.AugMix(**args)(make(torch, 'u8batch')))
        compare(e, t, what=f'seed {seed}')


@pytest.mark.parametrize('alpha', [1.0, 0.05, 4.5])
@pytest.mark.parametrize('shape', [(1, 2), (3, 5), (2, 1)])
def test_sample_dirichlet(alpha, shape):
    """AugMix's weights: PyTorch's gamma rejection sampler draw for draw, and the generator state after it."""
    from ember.vision.transforms._draws import sample_dirichlet
    for seed in SEEDS:
        e = seeded(seed, lambda: sample_dirichlet(ember.full(shape, alpha)))
        e_next = ember.randn(3)
        t = seeded(seed, lambda: torch._sample_dirichlet(torch.full(shape, alpha)))
        t_next = torch.randn(3)
        compare(e, t, 0, what=f'seed {seed}')
        compare(e_next, t_next, 0, what='generator state after the draw')


@pytest.mark.parametrize('make_tr, exc, match', [
    (lambda T: T.AugMix(severity=0), ValueError, r'The severity must be between \[1, 10\]. Got 0 instead.'),
    (lambda T: T.AugMix(severity=11), ValueError, 'Got 11 instead'),
    (lambda T: T.AugMix(alpha=2), NotImplementedError, '"dirichlet" not implemented for \'Long\''),
])
def test_augmix_errors(make_tr, exc, match):
    for T, lib in ((TT, torch), (ET, ember)):
        with pytest.raises(exc, match=match):
            make_tr(T)(make(lib, 'u8'))


GET_PARAMS = [
    lambda T, lib, img: T.RandomCrop.get_params(img, (20, 30)),
    lambda T, lib, img: T.RandomResizedCrop.get_params(img, [0.08, 1.0], [3 / 4, 4 / 3]),
    lambda T, lib, img: T.ColorJitter.get_params((0.5, 1.5), (0.7, 1.3), None, (-0.1, 0.1)),
    lambda T, lib, img: T.RandomRotation.get_params([-30.0, 30.0]),
    lambda T, lib, img: T.RandomAffine.get_params([-5.0, 5.0], [0.1, 0.1], [0.9, 1.1], [-2.0, 2.0, -1.0, 1.0],
                                                  [64, 48]),
    lambda T, lib, img: T.RandomPerspective.get_params(64, 48, 0.5),
    lambda T, lib, img: T.GaussianBlur.get_params(0.1, 2.0),
    lambda T, lib, img: T.RandomErasing.get_params(img, (0.02, 0.33), (0.3, 3.3), [0.0]),
]


@pytest.mark.parametrize('i', range(len(GET_PARAMS)))
def test_get_params(i):
    for seed in SEEDS:
        e = seeded(seed, lambda: GET_PARAMS[i](ET, ember, make(ember, 'f32')))
        t = seeded(seed, lambda: GET_PARAMS[i](TT, torch, make(torch, 'f32')))
        compare(e, t, what=f'seed {seed}')


def test_random_sized_crop_is_deprecated():
    with pytest.warns(UserWarning, match='RandomSizedCrop transform is deprecated'):
        tr = ET.RandomSizedCrop(16)
    e = seeded(1, lambda: tr(make(ember, 'u8')))
    t = seeded(1, lambda: TT.RandomResizedCrop(16)(make(torch, 'u8')))
    compare(e, t)


def test_training_pipeline():
    """A typical ImageNet-style pipeline on PIL images gives the same normalised tensors."""
    def pipeline(T):
        return T.Compose([T.RandomResizedCrop(24), T.RandomHorizontalFlip(), T.ColorJitter(0.2, 0.2, 0.2),
                          T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
                          T.RandomErasing(0.5)])
    pe, pt = pipeline(ET), pipeline(TT)
    for seed in SEEDS:
        e = seeded(seed, lambda: pe(make(ember, 'pil')))
        t = seeded(seed, lambda: pt(make(torch, 'pil')))
        compare(e, t, 2e-5, what=f'seed {seed}')
    np.testing.assert_equal(tuple(e.shape), (3, 24, 24))
