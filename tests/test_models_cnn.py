"""ember.vision.models classic CNNs against torchvision's: state_dict keys and shapes, checkpoints in both
directions, eval outputs, training-mode outputs and gradients, seeded initial weights.

Models whose weights are overwritten by a checkpoint are built without random init on both sides: drawing
PyTorch's exact random streams costs about a microsecond per element, a minute for VGG's 130M parameters.
"""
import contextlib

import numpy as np
import pytest
import torch

import ember
import ember.vision.models as em
from tv import models as tm

slow = pytest.mark.slow

# (builder, input shape): the smallest input each architecture accepts keeps the file fast
EVAL_CASES = [
    ('alexnet', (1, 3, 63, 63)),
    ('vgg11', (1, 3, 32, 32)),
    pytest.param('vgg11_bn', (1, 3, 32, 32), marks=slow),
    pytest.param('vgg13', (1, 3, 32, 32), marks=slow),
    pytest.param('vgg13_bn', (1, 3, 32, 32), marks=slow),
    pytest.param('vgg16', (1, 3, 32, 32), marks=slow),
    pytest.param('vgg16_bn', (1, 3, 32, 32), marks=slow),
    pytest.param('vgg19', (1, 3, 32, 32), marks=slow),
    pytest.param('vgg19_bn', (1, 3, 32, 32), marks=slow),
    ('resnet18', (2, 3, 32, 32)),
    pytest.param('resnet34', (1, 3, 32, 32), marks=slow),
    pytest.param('resnet50', (1, 3, 32, 32), marks=slow),
    pytest.param('resnet101', (1, 3, 32, 32), marks=slow),
    pytest.param('resnet152', (1, 3, 32, 32), marks=slow),
    ('resnext50_32x4d', (1, 3, 16, 16)),
    pytest.param('resnext101_32x8d', (1, 3, 32, 32), marks=slow),
    pytest.param('resnext101_64x4d', (1, 3, 32, 32), marks=slow),
    pytest.param('wide_resnet50_2', (1, 3, 32, 32), marks=slow),
    pytest.param('wide_resnet101_2', (1, 3, 32, 32), marks=slow),
    ('densenet121', (1, 3, 29, 29)),
    pytest.param('densenet161', (1, 3, 29, 29), marks=slow),
    pytest.param('densenet169', (1, 3, 29, 29), marks=slow),
    pytest.param('densenet201', (1, 3, 29, 29), marks=slow),
    ('mobilenet_v2', (2, 3, 16, 16)),
    ('mobilenet_v3_small', (2, 3, 16, 16)),
    pytest.param('mobilenet_v3_large', (1, 3, 16, 16), marks=slow),
    ('squeezenet1_0', (1, 3, 21, 21)),
    ('squeezenet1_1', (2, 3, 17, 17)),
    ('googlenet', (1, 3, 15, 15)),
    ('inception_v3', (1, 3, 75, 75)),
    ('shufflenet_v2_x0_5', (2, 3, 16, 16)),
    pytest.param('shufflenet_v2_x1_0', (1, 3, 16, 16), marks=slow),
    pytest.param('shufflenet_v2_x1_5', (1, 3, 16, 16), marks=slow),
    pytest.param('shufflenet_v2_x2_0', (1, 3, 16, 16), marks=slow),
]

# googlenet and inception_v3 warn about their init unless init_weights is given
KWARGS = {'googlenet': {'init_weights': True}, 'inception_v3': {'init_weights': True}}


def _randomise(model, seed=0):
    """Random parameters and BN statistics of the scale a trained network has (unit-variance activations)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, v in model.state_dict().items():
            if not v.dtype.is_floating_point:
                continue
            if name.endswith('running_var'):
                v.copy_(torch.rand(v.shape, generator=g) + 0.5)
            else:
                fan_in = max(1, v[0].numel()) if v.dim() > 1 else 1
                v.copy_(torch.randn(v.shape, generator=g) / fan_in ** 0.5)


@contextlib.contextmanager
def _no_random_init():
    """Build Ember modules without drawing random numbers (the init functions fill through these methods)."""
    saved = ember.Tensor.uniform_, ember.Tensor.normal_
    # zeros (not uninitialised memory) so that rejection sampling in trunc_normal_ accepts at once
    ember.Tensor.uniform_ = ember.Tensor.normal_ = lambda self, *args, **kwargs: self.zero_()
    try:
        yield
    finally:
        ember.Tensor.uniform_, ember.Tensor.normal_ = saved


def _torch_model(build):
    with torch.device('meta'):
        ref = build()
    ref = ref.to_empty(device='cpu')
    for v in ref.state_dict().values():
        if not v.dtype.is_floating_point:
            v.zero_()
    _randomise(ref)
    return ref


def _pair(name, tmp_path, **kwargs):
    """torchvision's model with random weights and Ember's with the same weights loaded from torch.save."""
    kwargs = {**KWARGS.get(name, {}), **kwargs}
    ref = _torch_model(lambda: getattr(tm, name)(**kwargs))
    path = tmp_path / f'{name}.pt'
    torch.save(ref.state_dict(), path)
    with _no_random_init():
        model = getattr(em, name)(**kwargs)
    state = ember.load(path)
    path.unlink()  # full-size checkpoints: keep test runs from filling the disk
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return ref, model


def _assert_close(actual, expected, rtol=1e-4):
    # relative to the output's scale: logits near zero carry no information about the error
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    scale = max(float(np.abs(expected).max()), 1e-12)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def _input(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize('name,shape', EVAL_CASES)
def test_eval_outputs_match_torchvision(name, shape, tmp_path):
    ref, model = _pair(name, tmp_path)
    ref_sd, sd = ref.state_dict(), model.state_dict()
    assert list(sd) == list(ref_sd)
    assert all(tuple(sd[k].shape) == tuple(ref_sd[k].shape) for k in sd)
    ref.eval()
    model.eval()
    x = _input(shape)
    with torch.no_grad():
        expected = ref(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        out = model(ember.tensor(x))
    assert isinstance(out, ember.Tensor)
    _assert_close(out.numpy(), expected)


# training mode normalises by batch statistics: enough values per channel keep the gradients well conditioned
@pytest.mark.parametrize('name,shape', [('resnet18', (2, 3, 64, 64)), ('squeezenet1_1', (2, 3, 17, 17)),
                                        ('mobilenet_v3_small', (4, 3, 64, 64))])
def test_train_mode_forward_backward_matches(name, shape, tmp_path):
    ref, model = _pair(name, tmp_path, **({'dropout': 0.0} if name != 'resnet18' else {}))
    ref.train()
    model.train()
    x = _input(shape)
    xt = torch.from_numpy(x).requires_grad_(True)
    xe = ember.tensor(x, requires_grad=True)
    yt, ye = ref(xt), model(xe)
    _assert_close(ye.detach().numpy(), yt.detach().numpy())
    w = _input(tuple(yt.shape), seed=2)
    (yt * torch.from_numpy(w)).sum().backward()
    (ye * ember.tensor(w)).sum().backward()
    _assert_close(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-3)
    ref_params = dict(ref.named_parameters())
    # gradients that vanish in exact arithmetic (a bias right before a BN) are rounding noise on both
    # sides: the tolerance floor follows the largest gradient of the model
    floor = 1e-5 * max(float(p.grad.abs().max()) for p in ref.parameters())
    for k, p in model.named_parameters():
        expected = ref_params[k].grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-3,
                                   atol=max(1e-3 * float(np.abs(expected).max()), floor), err_msg=k)
    # batch statistics were folded into the running buffers the same way
    ref_sd = ref.state_dict()
    for k, v in model.state_dict().items():
        if 'running' in k or 'num_batches' in k:
            np.testing.assert_allclose(v.numpy(), ref_sd[k].numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('name,shape', [pytest.param('alexnet', (1, 3, 63, 63), marks=slow),
                                        pytest.param('vgg11_bn', (1, 3, 32, 32), marks=slow),
                                        ('resnet18', (1, 3, 32, 32)), ('densenet121', (1, 3, 29, 29)),
                                        ('mobilenet_v2', (1, 3, 16, 16)), ('mobilenet_v3_small', (1, 3, 16, 16)),
                                        ('squeezenet1_1', (1, 3, 17, 17)), ('googlenet', (1, 3, 15, 15)),
                                        ('inception_v3', (1, 3, 75, 75)), ('shufflenet_v2_x0_5', (1, 3, 16, 16))])
def test_ember_checkpoint_loads_in_torchvision(name, shape, tmp_path):
    kwargs = KWARGS.get(name, {})
    with _no_random_init():
        model = getattr(em, name)(**kwargs).eval()
    rng = np.random.default_rng(3)
    with ember.no_grad():
        for k, v in model.state_dict().items():
            if v.is_floating_point():
                fan_in = max(1, v[0].numel()) if v.dim() > 1 else 1
                values = rng.uniform(0.5, 1.5, tuple(v.shape)) if k.endswith('running_var') else \
                    rng.standard_normal(tuple(v.shape)) / fan_in ** 0.5
                v.copy_(ember.tensor(values.astype(np.float32)))
    path = tmp_path / f'{name}.pt'
    ember.save(model.state_dict(), path)
    ref = getattr(tm, name)(**kwargs).eval()
    ref.load_state_dict(torch.load(path, weights_only=True), strict=True)
    path.unlink()
    x = _input(shape)
    with torch.no_grad():
        expected = ref(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        out = model(ember.tensor(x)).numpy()
    _assert_close(out, expected)


@pytest.mark.parametrize('name', [
    'squeezenet1_1', 'mobilenet_v3_small', 'shufflenet_v2_x0_5', 'googlenet',
    pytest.param('resnet18', marks=slow), pytest.param('mobilenet_v2', marks=slow),
    pytest.param('densenet121', marks=slow), pytest.param('inception_v3', marks=slow),
    pytest.param('alexnet', marks=slow), pytest.param('vgg11', marks=slow)])
def test_seeded_init_matches_torchvision(name):
    kwargs = KWARGS.get(name, {})
    torch.manual_seed(7)
    ref = getattr(tm, name)(**kwargs).state_dict()
    ember.manual_seed(7)
    sd = getattr(em, name)(**kwargs).state_dict()
    for k, v in sd.items():
        np.testing.assert_allclose(v.numpy(), ref[k].numpy(), rtol=1e-6, atol=1e-7, err_msg=k)


@pytest.mark.parametrize('name,shape,fields', [
    ('googlenet', (2, 3, 64, 64), ('logits', 'aux_logits2', 'aux_logits1')),
    # the auxiliary head needs the 17x17 grid of a 299x299 input
    pytest.param('inception_v3', (2, 3, 299, 299), ('logits', 'aux_logits'), marks=slow),
])
def test_aux_logits_outputs(name, shape, fields, tmp_path):
    ref, model = _pair(name, tmp_path, dropout=0.0, **({'dropout_aux': 0.0} if name == 'googlenet' else {}))
    ref.train()
    model.train()
    x = _input(shape)
    out, expected = model(ember.tensor(x)), ref(torch.from_numpy(x))
    assert type(out).__name__ == type(expected).__name__ and out._fields == fields
    for a, b in zip(out, expected):
        _assert_close(a.detach().numpy(), b.detach().numpy())
    model.eval()
    assert isinstance(model(ember.tensor(x)), ember.Tensor)
    with _no_random_init():
        plain = getattr(em, name)(aux_logits=False, init_weights=True).train()
    assert isinstance(plain(ember.tensor(x)), ember.Tensor)


@pytest.mark.parametrize('name', ['googlenet', 'inception_v3'])
def test_transform_input_matches(name, tmp_path):
    ref, model = _pair(name, tmp_path, transform_input=True, aux_logits=False)
    x = _input((1, 3, 75, 75))
    with torch.no_grad():
        expected = ref.eval()(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        _assert_close(model.eval()(ember.tensor(x)).numpy(), expected)


@pytest.mark.parametrize('build', [
    lambda lib: lib.resnet50(replace_stride_with_dilation=[False, True, True], num_classes=10),
    lambda lib: lib.resnet18(zero_init_residual=True, num_classes=7),
    lambda lib: lib.mobilenet_v2(width_mult=0.5, num_classes=5),
    lambda lib: lib.mobilenet_v3_small(reduced_tail=True, dilated=True, width_mult=0.75),
    lambda lib: lib.DenseNet(growth_rate=8, block_config=(2, 3, 2, 2), num_init_features=16, bn_size=2,
                             num_classes=3),
    lambda lib: lib.ShuffleNetV2([2, 2, 2], [8, 16, 32, 64, 128], num_classes=4),
    lambda lib: lib.VGG(lib.vgg.make_layers([8, 'M', 512], batch_norm=True), num_classes=3, dropout=0.0),
])
def test_constructor_arguments(build, tmp_path):
    ref = _torch_model(lambda: build(tm))
    path = tmp_path / 'm.pt'
    torch.save(ref.state_dict(), path)
    with _no_random_init():
        model = build(em)
    model.load_state_dict(ember.load(path), strict=True)
    x = _input((1, 3, 32, 32))
    with torch.no_grad():
        expected = ref.eval()(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        _assert_close(model.eval()(ember.tensor(x)).numpy(), expected)


def test_module_reprs_match():
    for name in ['resnet18', 'mobilenet_v3_small', 'squeezenet1_1', 'shufflenet_v2_x0_5', 'densenet121']:
        with _no_random_init():
            model = getattr(em, name)()
        with torch.device('meta'):
            ref = getattr(tm, name)()
        assert repr(model) == repr(ref)


def test_densenet_memory_efficient_raises():
    with pytest.raises(NotImplementedError, match='memory_efficient'):
        em.densenet121(memory_efficient=True)


@pytest.mark.parametrize('call,exc,match', [
    (lambda: em.resnet18(groups=2), ValueError, 'BasicBlock only supports groups=1'),
    (lambda: em.resnet50(replace_stride_with_dilation=[True]), ValueError, '3-element tuple'),
    (lambda: em.mobilenet_v2(inverted_residual_setting=[[1, 2]]), ValueError, 'inverted_residual_setting'),
    (lambda: em.squeezenet1_0(version='2_0'), TypeError, 'version'),
    (lambda: em.SqueezeNet(version='2_0'), ValueError, 'Unsupported SqueezeNet version 2_0'),
    (lambda: em.ShuffleNetV2([4, 8], [24, 48, 96, 192, 1024]), ValueError, 'stages_repeats'),
    (lambda: em.GoogLeNet(blocks=[1, 2], init_weights=True), ValueError, 'blocks length should be 3'),
])
def test_bad_arguments_raise_as_torchvision(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
