"""Dropout, Embedding, interpolation, pixel shuffle and padding layers against PyTorch."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_gradcheck

DROPOUT = [
    lambda lib, x: lib.nn.functional.dropout(x, 0.3),
    lambda lib, x: lib.nn.functional.dropout(x, 0.3, training=False),
    lambda lib, x: lib.nn.functional.dropout(x * 1, 0.5, inplace=True),
    lambda lib, x: lib.nn.functional.dropout(x, 1.0),
    lambda lib, x: lib.nn.functional.dropout2d(x, 0.4),
    lambda lib, x: lib.nn.functional.dropout1d(x.flatten(2), 0.4),
    lambda lib, x: lib.nn.functional.dropout3d(x.unsqueeze(2), 0.4),
    lambda lib, x: lib.nn.functional.alpha_dropout(x, 0.2, True),
    lambda lib, x: lib.nn.functional.feature_alpha_dropout(x, 0.2, True),
]


@pytest.mark.parametrize('fn', DROPOUT)
def test_dropout_masks_match_torch_under_the_same_seed(fn):
    def seeded(lib, x):
        lib.manual_seed(123)
        return fn(lib, x)
    check(seeded, (3, 4, 5, 2))


def test_dropout_modules_and_errors():
    for make in (lambda nn: nn.Dropout(), lambda nn: nn.Dropout(0.2, True), lambda nn: nn.Dropout2d(),
                 lambda nn: nn.AlphaDropout(0.1), lambda nn: nn.FeatureAlphaDropout(), lambda nn: nn.Dropout1d()):
        assert repr(make(ember.nn)) == repr(make(torch.nn))
    m = ember.nn.Dropout(0.5).eval()
    x = ember.ones(10)
    assert m(x) is x
    for lib in (ember, torch):
        with pytest.raises(ValueError):
            lib.nn.Dropout(1.5)


EMB_IDX = np.array([[1, 2, 4, 5], [4, 3, 2, 9], [0, 0, 0, 0]])


@pytest.mark.parametrize('kwargs', [{}, {'padding_idx': 0}, {'scale_grad_by_freq': True}, {'padding_idx': -1},
                                    {'max_norm': 1.0}])
def test_embedding_matches_torch(kwargs):
    ember.manual_seed(0)
    torch.manual_seed(0)
    e, t = ember.nn.Embedding(10, 3, **kwargs), torch.nn.Embedding(10, 3, **kwargs)
    assert repr(e) == repr(t)
    np.testing.assert_array_equal(e.weight.detach().numpy(), t.weight.detach().numpy())
    ye, yt = e(ember.tensor(EMB_IDX)), t(torch.tensor(EMB_IDX))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    w = np.random.default_rng(0).standard_normal(tuple(yt.shape)).astype(np.float32)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(e.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-6)


def test_embedding_from_pretrained_and_errors():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    e = ember.nn.Embedding.from_pretrained(ember.tensor(w))
    assert not e.weight.requires_grad
    np.testing.assert_array_equal(e(ember.tensor([3, 1])).numpy(), w[[3, 1]])
    for lib in (ember, torch):
        with pytest.raises(IndexError):
            lib.nn.functional.embedding(lib.tensor([4]), lib.tensor(w))


def test_embedding_bag_matches_torch():
    w = np.random.default_rng(1).standard_normal((10, 3)).astype(np.float32)
    for mode in ('sum', 'mean', 'max'):
        check(lambda lib, ww: lib.nn.functional.embedding_bag(lib.tensor([1, 2, 4, 5, 4, 3, 2, 9]), ww,
                                                              lib.tensor([0, 4]), mode=mode), w)


INTERP = [
    ((1, 2, 5), {'scale_factor': 2, 'mode': 'nearest'}),
    ((1, 2, 5), {'size': 7, 'mode': 'linear'}),
    ((1, 2, 5), {'size': 3, 'mode': 'linear', 'align_corners': True}),
    ((2, 3, 4, 5), {'scale_factor': 2, 'mode': 'nearest'}),
    ((2, 3, 4, 5), {'size': (7, 3), 'mode': 'nearest'}),
    ((2, 3, 4, 5), {'size': (7, 3), 'mode': 'nearest-exact'}),
    ((2, 3, 4, 5), {'scale_factor': 1.7, 'mode': 'nearest'}),
    ((2, 3, 4, 5), {'scale_factor': 2, 'mode': 'bilinear'}),
    ((2, 3, 4, 5), {'size': (6, 9), 'mode': 'bilinear', 'align_corners': True}),
    ((2, 3, 4, 5), {'scale_factor': 1.5, 'mode': 'bilinear', 'recompute_scale_factor': True}),
    ((2, 3, 4, 5), {'size': (3, 2), 'mode': 'bilinear'}),
    ((2, 3, 4, 5), {'scale_factor': 2, 'mode': 'bicubic'}),
    ((2, 3, 4, 5), {'size': (6, 7), 'mode': 'bicubic', 'align_corners': True}),
    ((2, 3, 6, 8), {'size': (3, 4), 'mode': 'area'}),
    ((1, 2, 3, 4, 5), {'scale_factor': 2, 'mode': 'trilinear'}),
    ((1, 2, 3, 4, 5), {'size': (2, 5, 3), 'mode': 'nearest'}),
]


@pytest.mark.parametrize('shape,kwargs', INTERP)
def test_interpolate_matches_torch(shape, kwargs):
    check(lambda lib, x: lib.nn.functional.interpolate(x, **kwargs), shape)


def test_interpolate_gradcheck_and_errors():
    check_gradcheck(lambda lib, x: lib.nn.functional.interpolate(x, size=(3, 5), mode='bilinear'), (1, 1, 2, 3),
                    gradgrad=False)
    for lib in (ember, torch):
        x = lib.ones(1, 1, 4, 4)
        with pytest.raises(ValueError):
            lib.nn.functional.interpolate(x)
        with pytest.raises(ValueError):
            lib.nn.functional.interpolate(x, scale_factor=2, mode='nearest', align_corners=True)


@pytest.mark.parametrize('make,shape', [
    (lambda nn: nn.Upsample(scale_factor=2), (1, 2, 3, 3)),
    (lambda nn: nn.Upsample(size=(4, 5), mode='bilinear', align_corners=True), (1, 2, 3, 3)),
    (lambda nn: nn.UpsamplingNearest2d(scale_factor=2), (1, 2, 3, 3)),
    (lambda nn: nn.UpsamplingBilinear2d(size=5), (1, 2, 3, 3)),
    (lambda nn: nn.PixelShuffle(2), (2, 8, 3, 3)),
    (lambda nn: nn.PixelUnshuffle(2), (2, 2, 4, 6)),
    (lambda nn: nn.ZeroPad2d(2), (1, 2, 3, 3)),
    (lambda nn: nn.ZeroPad2d((1, 2, 3, 4)), (1, 2, 3, 3)),
    (lambda nn: nn.ConstantPad2d(1, 3.5), (1, 2, 3, 3)),
    (lambda nn: nn.ConstantPad1d(2, 0.), (1, 2, 3)),
    (lambda nn: nn.ReflectionPad2d(1), (1, 2, 3, 3)),
    (lambda nn: nn.ReflectionPad1d((2, 1)), (1, 2, 4)),
    (lambda nn: nn.ReplicationPad1d(2), (1, 2, 3)),
    (lambda nn: nn.ReplicationPad3d(1), (1, 1, 2, 3, 3)),
    (lambda nn: nn.CircularPad2d(1), (1, 2, 3, 3)),
])
def test_resample_and_padding_modules(make, shape):
    assert repr(make(ember.nn)) == repr(make(torch.nn))
    check(lambda lib, x: make(lib.nn)(x), shape)
