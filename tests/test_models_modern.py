"""EfficientNet, RegNet, ConvNeXt, ViT and StochasticDepth against torchvision.

A torchvision model gets randomised weights, batch-norm statistics and layer scales, is written with
torch.save, read with ember.load into the Ember model (strict), and both run the same input in eval
mode. Seeded construction must give the same weights as torchvision's (same init, same RNG stream),
and printing must match (same attribute names and constructor arguments).
"""
import numpy as np
import pytest
import torch
from tv import models as tvm
from tv import torchvision

import ember
from ember.vision.models import convnext, efficientnet, regnet, vision_transformer
from ember.vision.ops import StochasticDepth, stochastic_depth

EMBER = {'efficientnet': efficientnet, 'regnet': regnet, 'convnext': convnext,
         'vision_transformer': vision_transformer}

VIT_SMALL = dict(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=24, num_classes=7)


def _cn_small(m, **kw):
    blocks = [m.CNBlockConfig(8, 16, 1), m.CNBlockConfig(16, None, 2)]
    return m.ConvNeXt(blocks, num_classes=5, **kw)


def _eff_small(m, **kw):
    cfgs = [m.MBConvConfig(1, 3, 1, 8, 8, 2), m.MBConvConfig(4, 5, 2, 8, 16, 2),
            m.FusedMBConvConfig(4, 3, 2, 16, 16, 2)]
    return m.EfficientNet(cfgs, dropout=0.2, num_classes=6, last_channel=32, **kw)


# (id, module, builder: (module) -> model, input shape); builders take the torchvision or Ember module
FAST = [
    ('efficientnet_b0', 'efficientnet', lambda m: m.efficientnet_b0(), (2, 3, 48, 40)),
    ('efficientnet_small', 'efficientnet', _eff_small, (2, 3, 20, 20)),
    ('regnet_y_400mf', 'regnet', lambda m: m.regnet_y_400mf(), (2, 3, 64, 64)),
    ('regnet_x_400mf', 'regnet', lambda m: m.regnet_x_400mf(num_classes=10), (1, 3, 32, 48)),
    ('convnext_small_cfg', 'convnext', _cn_small, (2, 3, 32, 32)),
    ('vit_small', 'vision_transformer', lambda m: m.VisionTransformer(**VIT_SMALL), (2, 3, 32, 32)),
    ('vit_conv_stem', 'vision_transformer',
     lambda m: m.VisionTransformer(**VIT_SMALL, representation_size=12,
                                   conv_stem_configs=[m.ConvStemConfig(8, 3, 2)] * 3),
     (1, 3, 32, 32)),
]
SLOW = [
    ('efficientnet_b1', 'efficientnet', lambda m: m.efficientnet_b1(), (1, 3, 40, 40)),
    ('efficientnet_b3', 'efficientnet', lambda m: m.efficientnet_b3(), (1, 3, 40, 40)),
    ('efficientnet_v2_s', 'efficientnet', lambda m: m.efficientnet_v2_s(), (1, 3, 64, 64)),
    ('regnet_y_800mf', 'regnet', lambda m: m.regnet_y_800mf(), (1, 3, 64, 64)),
    ('regnet_x_1_6gf', 'regnet', lambda m: m.regnet_x_1_6gf(), (1, 3, 64, 64)),
    ('convnext_tiny', 'convnext', lambda m: m.convnext_tiny(), (1, 3, 64, 64)),
    ('convnext_small', 'convnext', lambda m: m.convnext_small(), (1, 3, 32, 32)),
    ('vit_b_32', 'vision_transformer', lambda m: m.vit_b_32(), (1, 3, 224, 224)),
    ('vit_b_16', 'vision_transformer', lambda m: m.vit_b_16(), (1, 3, 224, 224)),
]
CASES = FAST + [pytest.param(*c, marks=pytest.mark.slow) for c in SLOW]


def _tv_module(name):
    return getattr(torchvision.models, name)


def _randomise(model, seed=0):
    """Make every tensor that init leaves constant (norm affine, biases, layer scales, class token)
    and the batch-norm statistics random, so that each one shows up in the outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not t.is_floating_point() or t.numel() == 0:
                continue
            u = torch.rand(t.shape, generator=g)
            if name.endswith('running_var'):
                t.copy_(0.5 + 1.5 * u)
            elif name.endswith('running_mean'):
                t.copy_(u - 0.5)
            elif bool((t == t.flatten()[0]).all()):
                t.copy_(t + (0.6 * u - 0.3) * max(1.0, float(t.flatten()[0].abs())))
    return model


def _pair(module, build, tmp_path, seed=0):
    torch.manual_seed(seed)
    tm = _randomise(build(_tv_module(module)), seed)
    path = tmp_path / 'model.pth'
    torch.save(tm.state_dict(), path)
    em = build(EMBER[module])
    state = ember.load(path)
    path.unlink()  # full-size checkpoints: keep test runs from filling the disk
    result = em.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return tm, em


@pytest.mark.parametrize('name,module,build,shape', CASES, ids=[c[0] for c in FAST + SLOW])
def test_eval_outputs_match_torchvision(name, module, build, shape, tmp_path):
    tm, em = _pair(module, build, tmp_path)
    tm.eval()
    em.eval()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        expected = tm(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        out = em(ember.tensor(x))
    assert out.dtype == ember.float32 and tuple(out.shape) == expected.shape
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-4 * scale)
    assert repr(em) == repr(tm)


@pytest.mark.parametrize('name,module,build', [
    ('efficientnet_small', 'efficientnet', _eff_small),
    ('regnet_y_400mf', 'regnet', lambda m: m.regnet_y_400mf()),
    ('convnext_small_cfg', 'convnext', _cn_small),
    ('vit_small', 'vision_transformer', lambda m: m.VisionTransformer(**VIT_SMALL)),
])
def test_seeded_init_equals_torchvision(name, module, build):
    torch.manual_seed(3)
    expected = build(_tv_module(module)).state_dict()
    ember.manual_seed(3)
    got = build(EMBER[module]).state_dict()
    assert list(got) == list(expected)
    for k, v in expected.items():
        assert got[k].dtype.__repr__().split('.')[-1] == str(v.dtype).split('.')[-1], k
        np.testing.assert_array_equal(got[k].numpy(), v.numpy(), err_msg=k)


@pytest.mark.parametrize('name,module,build,shape', [
    ('efficientnet_small', 'efficientnet', lambda m: _eff_small(m, stochastic_depth_prob=0.5), (4, 3, 20, 20)),
    ('convnext_small_cfg', 'convnext', lambda m: _cn_small(m, stochastic_depth_prob=0.5), (4, 3, 32, 32)),
    ('vit_small', 'vision_transformer', lambda m: m.VisionTransformer(**VIT_SMALL, dropout=0.3), (3, 3, 32, 32)),
])
def test_train_mode_forward_backward_match(name, module, build, shape, tmp_path):
    # dropout and stochastic depth draw the same masks from the same seed; batch norm uses batch statistics
    tm, em = _pair(module, build, tmp_path)
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    torch.manual_seed(7)
    t_out = tm(torch.from_numpy(x))
    ember.manual_seed(7)
    e_out = em(ember.tensor(x))
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-4, atol=1e-4)
    g = np.random.default_rng(3).standard_normal(t_out.shape).astype(np.float32)
    t_out.backward(torch.from_numpy(g))
    e_out.backward(ember.tensor(g))
    e_params = dict(em.named_parameters())
    for k, p in tm.named_parameters():
        scale = max(1.0, float(p.grad.abs().max()))
        np.testing.assert_allclose(e_params[k].grad.numpy(), p.grad.numpy(), rtol=1e-3, atol=1e-4 * scale, err_msg=k)
    for k, b in tm.named_buffers():
        if b.is_floating_point():
            np.testing.assert_allclose(dict(em.named_buffers())[k].numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_ember_checkpoint_loads_into_torchvision(tmp_path):
    ember.manual_seed(0)
    em = _cn_small(convnext)
    ember.save(em.state_dict(), tmp_path / 'e.pth')
    tm = _cn_small(tvm.convnext)
    tm.load_state_dict(torch.load(tmp_path / 'e.pth'), strict=True)
    tm.eval()
    em.eval()
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)


def test_builders_registered_and_weights_enums():
    from ember.vision import models
    names = models.list_models(module=models)
    for n in ['efficientnet_b0', 'efficientnet_b7', 'efficientnet_v2_l', 'regnet_y_400mf', 'regnet_x_32gf',
              'regnet_y_128gf', 'convnext_tiny', 'convnext_large', 'vit_b_16', 'vit_h_14']:
        assert n in names
        t_enum = torchvision.models.get_model_weights(n)
        e_enum = models.get_model_weights(n)
        assert [w.name for w in e_enum] == [w.name for w in t_enum]
        for ew, tw in zip(e_enum, t_enum):
            assert ew.url == tw.url
            assert ew.meta['num_params'] == tw.meta['num_params']
            assert len(ew.meta['categories']) == len(tw.meta['categories'])
            et, tt = ew.transforms.keywords, tw.transforms.keywords
            assert et['crop_size'] == tt['crop_size'] and et.get('resize_size') == tt.get('resize_size')
            assert str(et.get('interpolation')).split('.')[-1] == str(tt.get('interpolation')).split('.')[-1]


def test_builder_arguments_and_errors():
    with pytest.raises(ValueError, match="expected value 1000 but got 10"):
        efficientnet.efficientnet_b0(weights='IMAGENET1K_V1', num_classes=10)
    with pytest.raises(TypeError, match='expected EfficientNet_B0_Weights'):
        efficientnet.efficientnet_b0(weights=regnet.RegNet_Y_400MF_Weights.IMAGENET1K_V1)
    with pytest.raises(ValueError, match='Invalid RegNet settings'):
        regnet.BlockParams.from_init_params(depth=4, w_0=12, w_a=1.0, w_m=2.0, group_width=8)
    with pytest.raises(ValueError, match='The block_setting should not be empty'):
        convnext.ConvNeXt([])
    with pytest.raises(AssertionError, match='Wrong image height'):
        vision_transformer.VisionTransformer(**VIT_SMALL)(ember.zeros(1, 3, 24, 32))
    m = vision_transformer.VisionTransformer(**VIT_SMALL)
    assert m.heads.head.out_features == 7 and m.encoder.pos_embedding.shape == (1, 17, 16)


def test_vit_interpolate_embeddings():
    torch.manual_seed(0)
    tm = tvm.VisionTransformer(**VIT_SMALL)
    _randomise(tm)
    sd = {k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()}
    kw = dict(image_size=48, patch_size=8, interpolation_mode='bicubic', reset_heads=True)
    got = vision_transformer.interpolate_embeddings(model_state=sd, **kw)
    expected = tvm.vision_transformer.interpolate_embeddings(model_state=tm.state_dict(), **kw)
    assert list(got) == list(expected)
    np.testing.assert_allclose(got['encoder.pos_embedding'].numpy(), expected['encoder.pos_embedding'].numpy(),
                               rtol=1e-5, atol=1e-6)


# ---- stochastic depth ----

@pytest.mark.parametrize('shape,p,mode', [
    ((8, 3, 2, 2), 0.5, 'row'),
    ((8, 3, 2, 2), 0.5, 'batch'),
    ((16, 5), 0.2, 'row'),
    ((4,), 0.7, 'row'),
    ((6, 2, 3), 1.0, 'row'),
    ((6, 2, 3), 0.0, 'batch'),
    ((0, 3), 0.5, 'row'),
])
def test_stochastic_depth_matches_torchvision(shape, p, mode):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for seed in range(4):
        torch.manual_seed(seed)
        tx = torch.from_numpy(x).requires_grad_()
        t = torchvision.ops.stochastic_depth(tx, p, mode)
        ember.manual_seed(seed)
        ex = ember.tensor(x, requires_grad=True)
        e = stochastic_depth(ex, p, mode)
        np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
        t.sum().backward()
        e.sum().backward()
        np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())


def test_stochastic_depth_module_and_errors():
    m = StochasticDepth(0.3, 'row')
    assert repr(m) == repr(torchvision.ops.StochasticDepth(0.3, 'row')) == 'StochasticDepth(p=0.3, mode=row)'
    x = ember.randn(5, 4)
    assert m.eval()(x) is x
    assert stochastic_depth(x, 0.5, 'row', training=False) is x
    x64 = ember.randn(6, 2, dtype=ember.float64)
    assert m.train()(x64).dtype == ember.float64
    with pytest.raises(ValueError, match='drop probability has to be between 0 and 1, but got 1.5'):
        stochastic_depth(x, 1.5, 'row')
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row', but got col"):
        stochastic_depth(x, 0.5, 'col')
    assert ember.autograd.gradcheck(lambda t: stochastic_depth(t, 0.0, 'row'), (x64.requires_grad_(),))
