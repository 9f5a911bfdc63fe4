"""The model registry and weights API of ember.vision.models against torchvision's, pretrained loading
through the hub cache, and the ember.vision.ops.misc blocks."""
import contextlib
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.hub
import ember.vision.models as em
from ember.vision.ops import misc as emisc
from tv import models as tm
from tv import torchvision

MINE = ['alexnet', 'vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn', 'resnet18',
        'resnet34', 'resnet50', 'resnet101', 'resnet152', 'resnext50_32x4d', 'resnext101_32x8d', 'resnext101_64x4d',
        'wide_resnet50_2', 'wide_resnet101_2', 'densenet121', 'densenet161', 'densenet169', 'densenet201',
        'mobilenet_v2', 'mobilenet_v3_large', 'mobilenet_v3_small', 'squeezenet1_0', 'squeezenet1_1', 'googlenet',
        'inception_v3', 'shufflenet_v2_x0_5', 'shufflenet_v2_x1_0', 'shufflenet_v2_x1_5', 'shufflenet_v2_x2_0']


@contextlib.contextmanager
def _no_random_init():
    """Build without drawing PyTorch's random streams (slow for large models); the weights are loaded after."""
    saved = ember.Tensor.uniform_, ember.Tensor.normal_
    # zeros (not uninitialised memory) so that rejection sampling in trunc_normal_ accepts at once
    ember.Tensor.uniform_ = ember.Tensor.normal_ = lambda self, *args, **kwargs: self.zero_()
    try:
        yield
    finally:
        ember.Tensor.uniform_, ember.Tensor.normal_ = saved


def _warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = fn()
    return result, [str(w.message) for w in caught]


# ---- registry -------------------------------------------------------------------------------------

def test_registered_names_are_torchvisions():
    names = em.list_models()
    assert set(MINE) <= set(names)
    assert set(MINE) <= set(tm.list_models())
    assert em.list_models(module=em) == names


@pytest.mark.parametrize('include,exclude', [('resnet*', None), (['vgg1?', 'alex*'], '*_bn'),
                                             ('*net*', ['dense*', 'res*']), (None, 'vgg*')])
def test_list_models_filters(include, exclude):
    expected = [n for n in tm.list_models(include=include, exclude=exclude) if n in MINE]
    assert [n for n in em.list_models(include=include, exclude=exclude) if n in MINE] == expected


def test_get_model_and_builder():
    assert em.get_model_builder('ResNet18') is em.resnet18
    with _no_random_init():
        model = em.get_model('squeezenet1_1', num_classes=10)
    assert isinstance(model, em.SqueezeNet) and model.classifier[1].out_channels == 10
    with pytest.raises(ValueError, match='Unknown model not_a_model'):
        em.get_model_builder('not_a_model')
    with pytest.raises(ValueError, match="An entry is already registered under the name 'resnet18'"):
        em._api.register_model('resnet18')(lambda: None)


@pytest.mark.parametrize('name', MINE)
def test_weights_enums_match_torchvision(name):
    enum, ref_enum = em.get_model_weights(name), tm.get_model_weights(name)
    assert enum.__name__ == ref_enum.__name__
    assert em.get_model_weights(getattr(em, name)) is enum
    assert [w.name for w in enum] == [w.name for w in ref_enum]
    assert enum.DEFAULT.name == ref_enum.DEFAULT.name
    for w in enum:
        ref = ref_enum[w.name]
        assert w.url == ref.url
        meta, ref_meta = dict(w.meta), {k: v for k, v in ref.meta.items() if k != '_docs'}
        assert meta.keys() == ref_meta.keys()
        for k in meta:
            if k == '_metrics':
                for metric, value in meta[k]['ImageNet-1K'].items():
                    np.testing.assert_equal(value, ref_meta[k]['ImageNet-1K'][metric])
            else:
                assert meta[k] == ref_meta[k], k
        assert w.transforms.keywords.keys() == ref.transforms.keywords.keys()
        for k, v in w.transforms.keywords.items():
            np.testing.assert_allclose(v, ref.transforms.keywords[k], rtol=1e-4)
        assert repr(w) == repr(ref)


def test_get_weight_and_verify():
    w = em.get_weight('ResNet50_Weights.IMAGENET1K_V2')
    assert w is em.ResNet50_Weights.IMAGENET1K_V2 is em.ResNet50_Weights.DEFAULT
    assert em.ResNet50_Weights.verify('IMAGENET1K_V1') is em.ResNet50_Weights.IMAGENET1K_V1
    assert em.ResNet50_Weights.verify('ResNet50_Weights.IMAGENET1K_V1') is em.ResNet50_Weights.IMAGENET1K_V1
    assert em.ResNet50_Weights.verify(None) is None
    with pytest.raises(TypeError, match='expected ResNet50_Weights but received ResNet18_Weights'):
        em.ResNet50_Weights.verify(em.ResNet18_Weights.DEFAULT)
    with pytest.raises(ValueError, match="Invalid weight name provided: 'resnet50'"):
        em.get_weight('resnet50')
    with pytest.raises(ValueError, match="The weight enum 'Nope_Weights'"):
        em.get_weight('Nope_Weights.V1')
    with pytest.raises(ValueError, match="missing the 'weights' argument"):
        em.get_model_weights(lambda: None)


def test_weights_copy_and_pickle():
    w = em.VGG16_Weights.IMAGENET1K_FEATURES
    assert copy.deepcopy(w) is w
    assert pickle.loads(pickle.dumps(em.MobileNet_V2_Weights.DEFAULT)) is em.MobileNet_V2_Weights.DEFAULT
    assert w.meta['categories'] is None and len(em.AlexNet_Weights.DEFAULT.meta['categories']) == 1000
    assert em.AlexNet_Weights.DEFAULT.meta['categories'] == tm.AlexNet_Weights.DEFAULT.meta['categories']


def test_transforms_preset_matches_torchvision():
    preset, ref = em.ResNet50_Weights.DEFAULT.transforms(), tm.ResNet50_Weights.DEFAULT.transforms()
    assert repr(preset) == repr(ref)
    img = np.random.default_rng(0).integers(0, 256, (3, 250, 300)).astype(np.uint8)
    out, expected = preset(ember.tensor(img)), ref(torch.from_numpy(img))
    assert out.dtype == ember.float32 and tuple(out.shape) == (3, 224, 224)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=2e-2)
    inception = em.Inception_V3_Weights.DEFAULT.transforms()
    assert inception.crop_size == [299] and inception.resize_size == [342]


# ---- builders: pretrained weights, legacy arguments -------------------------------------------------

@pytest.fixture
def hub_dir(tmp_path):
    saved = ember.hub.get_dir()
    ember.hub.set_dir(str(tmp_path))
    yield tmp_path / 'checkpoints'
    ember.hub.set_dir(saved)


def _cache(hub_dir, weights, state_dict):
    """Put ``state_dict`` where the hub cache looks for ``weights.url`` (no download happens)."""
    hub_dir.mkdir(parents=True, exist_ok=True)
    ember.save(state_dict, hub_dir / weights.url.rsplit('/', 1)[-1])


def _reference_state(name, **kwargs):
    ref = getattr(tm, name)(**kwargs)
    with torch.no_grad():
        for v in ref.state_dict().values():
            if v.dtype.is_floating_point:
                v.add_(0.01 * torch.randn(v.shape, generator=torch.Generator().manual_seed(v.numel())))
    return ref


def test_weights_load_through_hub_cache(hub_dir):
    ref = _reference_state('squeezenet1_1').eval()
    _cache(hub_dir, em.SqueezeNet1_1_Weights.DEFAULT, {k: ember.tensor(v.numpy()) for k, v in
                                                        ref.state_dict().items()})
    with _no_random_init():
        model = em.squeezenet1_1(weights='DEFAULT').eval()
    x = np.random.default_rng(0).standard_normal((1, 3, 17, 17)).astype(np.float32)
    with torch.no_grad():
        expected = ref(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        np.testing.assert_allclose(model(ember.tensor(x)).numpy(), expected, rtol=1e-4, atol=1e-5)
    sd = em.SqueezeNet1_1_Weights.DEFAULT.get_state_dict(progress=False)
    assert set(sd) == set(ref.state_dict())


def test_legacy_pretrained_warns_as_torchvision(hub_dir):
    ref = _reference_state('squeezenet1_0')
    _cache(hub_dir, em.SqueezeNet1_0_Weights.IMAGENET1K_V1, {k: ember.tensor(v.numpy()) for k, v in
                                                             ref.state_dict().items()})
    with _no_random_init():
        model, messages = _warnings(lambda: em.squeezenet1_0(pretrained=True))
    _, ref_messages = _warnings(lambda: tm.squeezenet1_0(pretrained=False))
    assert messages[0] == ref_messages[0]
    assert 'weights=SqueezeNet1_0_Weights.IMAGENET1K_V1' in messages[1] and 'DEFAULT' in messages[1]
    np.testing.assert_array_equal(model.features[0].weight.detach().numpy(), ref.features[0].weight.detach().numpy())
    for call, ref_call in [(lambda: em.squeezenet1_1(pretrained=False), lambda: tm.squeezenet1_1(pretrained=False)),
                           (lambda: em.squeezenet1_1(False), lambda: tm.squeezenet1_1(False)),
                           (lambda: em.squeezenet1_1(None, False), lambda: tm.squeezenet1_1(None, False))]:
        with _no_random_init():
            model, messages = _warnings(call)
        assert messages == _warnings(ref_call)[1]
        assert isinstance(model, em.SqueezeNet)


def test_weights_fix_num_classes():
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead."):
        em.resnet18(weights=em.ResNet18_Weights.DEFAULT, num_classes=10)
    with pytest.raises(TypeError, match='expected ResNet18_Weights'):
        em.resnet18(weights=em.ResNet50_Weights.DEFAULT)
    with pytest.raises(KeyError):
        em.resnet18(weights='IMAGENET1K_V9')


def test_densenet_weights_rename_old_keys(hub_dir):
    ref = _reference_state('densenet121')
    old = {}
    for k, v in ref.state_dict().items():
        # the published files predate num_batches_tracked and name 'denselayer1.norm1.weight'
        # 'denselayer1.norm.1.weight'
        if k.endswith('num_batches_tracked'):
            continue
        for part in ('norm1', 'norm2', 'conv1', 'conv2'):
            k = k.replace(f'.{part}.', f'.{part[:-1]}.{part[-1]}.') if 'denselayer' in k else k
        old[k] = ember.tensor(v.numpy())
    assert any('.norm.1.' in k for k in old)
    _cache(hub_dir, em.DenseNet121_Weights.DEFAULT, old)
    with _no_random_init():
        model = em.densenet121(weights=em.DenseNet121_Weights.DEFAULT)
    np.testing.assert_array_equal(model.features.denseblock1.denselayer1.norm1.weight.detach().numpy(),
                                  ref.features.denseblock1.denselayer1.norm1.weight.detach().numpy())


@pytest.mark.parametrize('name,aux,has_aux', [('googlenet', None, False), ('googlenet', True, True),
                                              ('inception_v3', None, True)])
def test_pretrained_aux_heads(name, aux, has_aux, hub_dir):
    weights = em.get_model_weights(name).DEFAULT
    with _no_random_init():
        full = getattr(em, name)(aux_logits=True, init_weights=False)
    _cache(hub_dir, weights, full.state_dict())
    kwargs = {} if aux is None else {'aux_logits': aux}
    with _no_random_init(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = getattr(em, name)(weights=weights, **kwargs)
    assert model.transform_input is True and model.aux_logits is has_aux
    aux_module = model.aux1 if name == 'googlenet' else model.AuxLogits
    assert (aux_module is not None) is has_aux
    # the checkpoints hold the auxiliary heads: asking to build without them conflicts, as in torchvision
    with pytest.raises(ValueError, match="The parameter 'aux_logits' expected value True but got False instead."):
        getattr(em, name)(weights=weights, aux_logits=False)


# ---- helpers and ember.vision.ops.misc ---------------------------------------------------------------

def test_intermediate_layer_getter():
    from torchvision.models._utils import IntermediateLayerGetter as RefGetter
    with _no_random_init():
        model = em.resnet18()
    ref = tm.resnet18()
    model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    getter = em._utils.IntermediateLayerGetter(model, {'layer1': 'feat1', 'layer3': 'feat2'})
    ref_getter = RefGetter(ref, {'layer1': 'feat1', 'layer3': 'feat2'})
    assert list(getter.state_dict()) == list(ref_getter.state_dict())
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    out, expected = getter.eval()(ember.tensor(x)), ref_getter.eval()(torch.from_numpy(x))
    assert list(out) == ['feat1', 'feat2']
    for k in out:
        np.testing.assert_allclose(out[k].detach().numpy(), expected[k].detach().numpy(), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match='return_layers are not present in model'):
        em._utils.IntermediateLayerGetter(model, {'nope': 'x'})


@pytest.mark.parametrize('v,divisor,min_value', [(32 * 0.75, 8, None), (17, 8, None), (100, 16, 64), (3.9, 4, 1)])
def test_make_divisible(v, divisor, min_value):
    from torchvision.models._utils import _make_divisible
    assert em._utils._make_divisible(v, divisor, min_value) == _make_divisible(v, divisor, min_value)


def _compare_module(build, shape, train=False, grad=True):
    """Same seed, same init (the blocks use the layers' default init), same outputs and gradients."""
    from torchvision.ops import misc as tmisc
    torch.manual_seed(0)
    ref = build(tmisc, torch)
    ember.manual_seed(0)
    model = build(emisc, ember)
    assert list(model.state_dict()) == list(ref.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(v.numpy(), ref.state_dict()[k].numpy(), rtol=1e-6, err_msg=k)
    assert repr(model) == repr(ref)
    ref.train(train)
    model.train(train)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    xt, xe = torch.tensor(x, requires_grad=grad), ember.tensor(x, requires_grad=grad)
    yt, ye = ref(xt), model(xe)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    if grad:
        yt.square().sum().backward()
        ye.square().sum().backward()
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize('build,shape,train', [
    (lambda m, lib: m.Conv2dNormActivation(3, 8, 3, stride=2), (2, 3, 9, 9), True),
    (lambda m, lib: m.Conv2dNormActivation(3, 8, (3, 5), dilation=(1, 2), groups=1, norm_layer=None,
                                           activation_layer=lib.nn.Hardswish), (1, 3, 10, 12), False),
    (lambda m, lib: m.Conv2dNormActivation(4, 8, 1, groups=2, bias=True, inplace=None), (2, 4, 5, 5), False),
    (lambda m, lib: m.Conv3dNormActivation(2, 4, 3), (1, 2, 5, 5, 5), True),
    (lambda m, lib: m.SqueezeExcitation(8, 2), (2, 8, 5, 5), False),
    (lambda m, lib: m.SqueezeExcitation(8, 4, activation=lib.nn.SiLU, scale_activation=lib.nn.Hardsigmoid),
     (1, 8, 3, 3), False),
    (lambda m, lib: m.MLP(6, [12, 4]), (3, 6), False),
    (lambda m, lib: m.MLP(6, [12, 8, 4], norm_layer=lib.nn.LayerNorm, activation_layer=lib.nn.GELU, dropout=0.0,
                          bias=False), (2, 5, 6), True),
    (lambda m, lib: m.Permute([0, 2, 3, 1]), (2, 3, 4, 5), False),
])
def test_misc_blocks_match_torchvision(build, shape, train):
    _compare_module(build, shape, train)


def test_frozen_batch_norm():
    from torchvision.ops import misc as tmisc
    bn = torch.nn.BatchNorm2d(5)
    with torch.no_grad():
        for v in (bn.weight, bn.bias, bn.running_mean):
            v.normal_()
        bn.running_var.uniform_(0.5, 2.0)
    state = {k: ember.tensor(v.numpy()) for k, v in bn.state_dict().items()}
    ref, frozen = tmisc.FrozenBatchNorm2d(5), emisc.FrozenBatchNorm2d(5)
    ref.load_state_dict(bn.state_dict())
    # num_batches_tracked of a BatchNorm2d checkpoint is dropped, so strict loading succeeds
    frozen.load_state_dict(state, strict=True)
    assert list(frozen.state_dict()) == list(ref.state_dict()) and not list(frozen.parameters())
    assert repr(frozen) == repr(ref)
    x = np.random.default_rng(0).standard_normal((2, 5, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(frozen(ember.tensor(x)).numpy(), ref(torch.from_numpy(x)).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_conv_norm_activation_base_warns():
    _, messages = _warnings(lambda: emisc.ConvNormActivation(3, 4))
    assert any("Don't use ConvNormActivation directly" in m for m in messages)


def test_torchvision_is_the_reference():
    assert torchvision.__version__.startswith('0.')
