"""Conv and pooling modules: printing, parameter names/shapes, seeded initialisation and outputs vs PyTorch."""
import numpy as np
import pytest
import torch

import ember

CONV = [
    (lambda nn: nn.Conv1d(4, 6, 3), (2, 4, 9)),
    (lambda nn: nn.Conv1d(4, 4, 3, groups=2, padding='same', padding_mode='circular'), (2, 4, 9)),
    (lambda nn: nn.Conv2d(3, 8, 3), (2, 3, 8, 8)),
    (lambda nn: nn.Conv2d(3, 8, (3, 5), stride=2, padding=1, dilation=2, bias=False, padding_mode='reflect'),
     (2, 3, 11, 12)),
    (lambda nn: nn.Conv2d(4, 4, 3, padding='same', groups=4, padding_mode='replicate'), (1, 4, 6, 7)),
    (lambda nn: nn.Conv2d(3, 4, 2, padding='valid'), (1, 3, 5, 5)),
    (lambda nn: nn.Conv3d(2, 3, 3, padding=1), (1, 2, 4, 5, 5)),
    (lambda nn: nn.ConvTranspose1d(3, 2, 3, stride=2), (2, 3, 5)),
    (lambda nn: nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=1), (2, 3, 4, 4)),
    (lambda nn: nn.ConvTranspose2d(4, 4, 3, groups=2, dilation=2, padding=1, bias=False), (1, 4, 5, 5)),
]

POOL = [
    (lambda nn: nn.MaxPool2d(2), (2, 3, 8, 8)),
    (lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 3, 9, 9)),
    (lambda nn: nn.MaxPool1d(2), (2, 3, 9)),
    (lambda nn: nn.MaxPool3d(2), (1, 2, 4, 4, 4)),
    (lambda nn: nn.AvgPool2d(2), (2, 3, 8, 8)),
    (lambda nn: nn.AvgPool2d(3, 1, 1, count_include_pad=False, divisor_override=2), (2, 3, 6, 6)),
    (lambda nn: nn.AvgPool1d(3), (2, 3, 9)),
    (lambda nn: nn.AdaptiveAvgPool2d((1, 1)), (2, 3, 7, 5)),
    (lambda nn: nn.AdaptiveAvgPool2d((3, None)), (2, 3, 7, 5)),
    (lambda nn: nn.AdaptiveAvgPool1d(4), (2, 3, 9)),
    (lambda nn: nn.AdaptiveMaxPool2d(2), (2, 3, 7, 5)),
    (lambda nn: nn.LPPool2d(2, 3), (2, 3, 6, 6)),
]


@pytest.mark.parametrize('make,shape', CONV + POOL)
def test_module_matches_torch(make, shape):
    ember.manual_seed(7)
    torch.manual_seed(7)
    e, t = make(ember.nn), make(torch.nn)
    assert repr(e) == repr(t)
    se, st = e.state_dict(), t.state_dict()
    assert list(se) == list(st)
    for k in st:
        np.testing.assert_array_equal(se[k].numpy(), st[k].numpy(), err_msg=f'seeded init of {k}')
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    w = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(np.float32)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    for (n, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=n)


def test_conv_transpose_output_size_argument():
    for lib in (ember, torch):
        lib.manual_seed(0)
    e, t = ember.nn.ConvTranspose2d(2, 2, 3, stride=2), torch.nn.ConvTranspose2d(2, 2, 3, stride=2)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.ones((1, 2, 4, 4), np.float32)
    ye = e(ember.tensor(x), output_size=[10, 10])
    yt = t(torch.tensor(x), output_size=[10, 10])
    assert tuple(ye.shape) == tuple(yt.shape) == (1, 2, 10, 10)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5)
    for lib, m in ((ember, e), (torch, t)):
        with pytest.raises(ValueError):
            m(lib.tensor(x), output_size=[20, 20])


def test_max_pool_with_indices_and_unpool():
    x = np.random.default_rng(2).standard_normal((1, 2, 6, 6)).astype(np.float32)
    out = {}
    for lib in (ember, torch):
        pool = lib.nn.MaxPool2d(2, return_indices=True)
        y, idx = pool(lib.tensor(x))
        out[lib.__name__] = (y.numpy(), idx.numpy(), lib.nn.MaxUnpool2d(2)(y, idx).numpy())
        assert repr(lib.nn.MaxUnpool2d(2)) == 'MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))'
    for a, b in zip(out['ember'], out['torch']):
        np.testing.assert_array_equal(a, b)


def test_bad_constructor_arguments_raise_like_torch():
    for make in (lambda nn: nn.Conv2d(3, 4, 3, groups=2), lambda nn: nn.Conv2d(4, 4, 3, padding='full'),
                 lambda nn: nn.Conv2d(4, 4, 3, stride=2, padding='same'),
                 lambda nn: nn.Conv2d(4, 4, 3, padding_mode='mirror'),
                 lambda nn: nn.ConvTranspose2d(4, 4, 3, padding_mode='reflect')):
        for lib in (ember, torch):
            with pytest.raises(ValueError):
                make(lib.nn)


def test_seed_cifar_model_structure_and_output_shape():
    def build(nn):
        return nn.Sequential(nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(2), nn.Conv2d(32, 32, 5, padding=2),
                             nn.MaxPool2d(2), nn.Conv2d(32, 64, 5, padding=2), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(64 * 4 * 4, 64), nn.Linear(64, 10))
    ember.manual_seed(0)
    torch.manual_seed(0)
    e, t = build(ember.nn), build(torch.nn)
    assert repr(e) == repr(t)
    x = np.random.default_rng(3).standard_normal((64, 3, 32, 32)).astype(np.float32)
    ye, yt = e(ember.tensor(x)), t(torch.tensor(x))
    assert tuple(ye.shape) == (64, 10)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
