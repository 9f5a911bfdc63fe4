"""ember.hub: cached downloads (file:// URLs, a network that always fails), hubconf.py entry points and
the timm-style registry (configs from torchvision's weights, create_model, data configs, transforms)."""
import hashlib
import io
import math
import os
import urllib.request
import zipfile
from urllib.error import URLError

import numpy as np
import pytest
import torch
from tv import models as tvm
from tv import transforms as tvt

import ember
import ember.hub as hub
from ember.hub import _hub


@pytest.fixture(autouse=True)
def hub_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(_hub, '_hub_dir', None)
    hub.set_dir(tmp_path / 'hub')
    return tmp_path / 'hub'


@pytest.fixture
def offline(monkeypatch):
    """Every network access fails as it does on a machine without network; file:// still works."""
    real = urllib.request.urlopen

    def urlopen(req, *a, **k):
        url = req.full_url if isinstance(req, urllib.request.Request) else req
        if url.startswith('file:'):
            return real(req, *a, **k)
        raise URLError('[Errno -3] Temporary failure in name resolution')
    monkeypatch.setattr(urllib.request, 'urlopen', urlopen)


def _state(seed=0):
    g = torch.Generator().manual_seed(seed)
    return {'w': torch.randn(3, 4, generator=g), 'b': torch.arange(5), 'h': torch.randn(2, generator=g).half()}


def _save(path, obj, **kw):
    torch.save(obj, path, **kw)
    return path.as_uri()


def _assert_state_equal(got, expected):
    assert list(got) == list(expected)
    for k, v in expected.items():
        assert str(got[k].dtype).split('.')[-1] == str(v.dtype).split('.')[-1]
        np.testing.assert_array_equal(got[k].numpy(), v.numpy())


# ---- cache directory ----

def test_get_dir_set_dir_and_ember_home(monkeypatch, tmp_path, hub_dir):
    assert hub.get_dir() == str(hub_dir)
    monkeypatch.setattr(_hub, '_hub_dir', None)
    monkeypatch.setenv('EMBER_HOME', str(tmp_path / 'eh'))
    assert hub.get_dir() == str(tmp_path / 'eh' / 'hub')
    monkeypatch.delenv('EMBER_HOME')
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    assert hub.get_dir() == str(tmp_path / 'xdg' / 'ember' / 'hub')
    monkeypatch.delenv('XDG_CACHE_HOME')
    assert hub.get_dir() == os.path.expanduser('~/.cache/ember/hub')
    hub.set_dir('~/somewhere')
    assert hub.get_dir() == os.path.expanduser('~/somewhere')


# ---- download_url_to_file ----

def test_download_file_url_and_hash(tmp_path):
    src = tmp_path / 'src.bin'
    data = os.urandom(300_000)
    src.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    dst = tmp_path / 'out' / 'dst.bin'
    dst.parent.mkdir()
    hub.download_url_to_file(src.as_uri(), str(dst), hash_prefix=digest[:10], progress=False)
    assert dst.read_bytes() == data
    bad = tmp_path / 'out' / 'bad.bin'
    with pytest.raises(RuntimeError, match=f'invalid hash value \\(expected "0000000000", got "{digest}"\\)'):
        hub.download_url_to_file(src.as_uri(), str(bad), hash_prefix='0000000000', progress=False)
    # neither the target nor a partial file is left behind
    assert sorted(os.listdir(tmp_path / 'out')) == ['dst.bin']


def test_download_progress_without_tqdm(tmp_path, monkeypatch, capsys):
    import sys
    monkeypatch.setitem(sys.modules, 'tqdm', None)
    src = tmp_path / 'src.bin'
    src.write_bytes(b'x' * 1000)
    hub.download_url_to_file(src.as_uri(), str(tmp_path / 'd.bin'))
    assert '100.0%' in capsys.readouterr().err
    hub.download_url_to_file(src.as_uri(), str(tmp_path / 'e.bin'), progress=False)
    assert capsys.readouterr().err == ''


def test_download_offline_error_names_url_and_path(tmp_path, offline):
    url = 'https://download.pytorch.org/models/resnet18-f37072fd.pth'
    dst = tmp_path / 'resnet18-f37072fd.pth'
    with pytest.raises(RuntimeError) as e:
        hub.download_url_to_file(url, str(dst), progress=False)
    assert url in str(e.value) and str(dst) in str(e.value) and 'name resolution' in str(e.value)
    assert os.listdir(tmp_path) == []


# ---- load_state_dict_from_url ----

def test_load_state_dict_from_url_caches_and_reuses(tmp_path, hub_dir, offline, capsys):
    sd = _state()
    data = io.BytesIO()
    torch.save(sd, data)
    digest = hashlib.sha256(data.getvalue()).hexdigest()
    src = tmp_path / f'weights-{digest[:8]}.pth'
    src.write_bytes(data.getvalue())
    got = hub.load_state_dict_from_url(src.as_uri(), check_hash=True, progress=False)
    _assert_state_equal(got, sd)
    cached = hub_dir / 'checkpoints' / src.name
    assert cached.read_bytes() == data.getvalue()
    assert f'Downloading: "{src.as_uri()}" to {cached}' in capsys.readouterr().out
    src.unlink()  # the cached copy is used without any access to the URL
    _assert_state_equal(hub.load_state_dict_from_url(src.as_uri()), sd)
    assert capsys.readouterr().out == ''


def test_load_state_dict_from_url_options(tmp_path, offline):
    sd = _state(1)
    url = _save(tmp_path / 'ckpt-deadbeef.pth', sd)
    with pytest.raises(RuntimeError, match='invalid hash value'):
        hub.load_state_dict_from_url(url, model_dir=str(tmp_path / 'm1'), check_hash=True, progress=False)
    assert not os.listdir(tmp_path / 'm1')
    got = hub.load_state_dict_from_url(url, model_dir=str(tmp_path / 'm2'), file_name='renamed.pth',
                                       map_location='cpu', progress=False)
    _assert_state_equal(got, sd)
    assert os.listdir(tmp_path / 'm2') == ['renamed.pth']
    # a legacy checkpoint zipped by hand is unpacked next to it
    legacy = tmp_path / 'legacy.pth'
    torch.save(sd, legacy, _use_new_zipfile_serialization=False)
    with zipfile.ZipFile(tmp_path / 'legacy.zip', 'w') as zf:
        zf.write(legacy, 'legacy.pth')
    got = hub.load_state_dict_from_url((tmp_path / 'legacy.zip').as_uri(), model_dir=str(tmp_path / 'm3'),
                                       progress=False)
    _assert_state_equal(got, sd)


def test_load_state_dict_from_url_offline_names_cache_path(hub_dir, offline):
    url = 'https://download.pytorch.org/models/efficientnet_b0_rwightman-7f5810bc.pth'
    with pytest.raises(RuntimeError) as e:
        hub.load_state_dict_from_url(url, progress=False)
    assert str(hub_dir / 'checkpoints' / 'efficientnet_b0_rwightman-7f5810bc.pth') in str(e.value)


def test_weights_only_default_refuses_code(tmp_path):
    url = _save(tmp_path / 'obj.pth', {'f': math.floor})
    import pickle
    with pytest.raises(pickle.UnpicklingError):
        hub.load_state_dict_from_url(url, progress=False)
    assert hub.load_state_dict_from_url(url, progress=False, weights_only=False)['f'] is math.floor


# ---- hubconf.py ----

HUBCONF = '''
dependencies = {deps}
from helper_mod import scale


def make_scaled(n, factor=2):
    """Return n * factor."""
    return scale(n, factor)


def _private():
    return 0


not_callable = 3
'''


def _repo(path, deps="['numpy']"):
    path.mkdir(parents=True)
    (path / 'hubconf.py').write_text(HUBCONF.format(deps=deps))
    (path / 'helper_mod.py').write_text('def scale(n, f):\n    return n * f\n')
    return path


def test_load_local(tmp_path):
    repo = _repo(tmp_path / 'repo')
    assert hub.load(str(repo), 'make_scaled', 3, source='local') == 6
    assert hub.load(repo, 'make_scaled', 3, factor=5, source='LOCAL') == 15
    with pytest.raises(RuntimeError, match='Cannot find callable not_callable in hubconf'):
        hub.load(str(repo), 'not_callable', source='local')
    with pytest.raises(RuntimeError, match='Cannot find callable missing in hubconf'):
        hub.load(str(repo), 'missing', source='local')
    with pytest.raises(ValueError, match='Invalid input: model should be a string of function name'):
        hub.load(str(repo), 3, source='local')
    with pytest.raises(ValueError, match='Unknown source: "svn". Allowed values: "github" | "local".'):
        hub.load(str(repo), 'make_scaled', source='svn')
    with pytest.raises(FileNotFoundError, match='No hubconf.py'):
        hub.load(str(tmp_path), 'make_scaled', source='local')


def test_load_local_missing_dependencies(tmp_path):
    repo = _repo(tmp_path / 'repo', deps="['numpy', 'no_such_pkg_a', 'no_such_pkg_b']")
    with pytest.raises(RuntimeError, match='Missing dependencies: no_such_pkg_a, no_such_pkg_b'):
        hub.load(str(repo), 'make_scaled', 1, source='local')


def test_github_repo_from_cache(hub_dir, offline, capsys):
    _repo(hub_dir / 'someone_models_main')
    # as in torch.hub, names imported into hubconf.py count as entry points
    assert hub.list('someone/models:main', trust_repo=True) == ['make_scaled', 'scale']
    assert 'Using cache found in' in capsys.readouterr().err
    assert hub.help('someone/models:main', 'make_scaled', trust_repo=True) == 'Return n * factor.'
    assert hub.load('someone/models:main', 'make_scaled', 4, trust_repo=True, verbose=False) == 8
    # no ref given and no network: the cached main branch is used
    assert hub.load('someone/models', 'make_scaled', 1, trust_repo=True) == 2
    # a repo already in the cache counts as trusted: nothing is added to the list
    assert (hub_dir / 'trusted_list').read_text() == ''


def test_github_untrusted_asks(hub_dir, offline, monkeypatch):
    _repo(hub_dir / 'someone_models_dev')
    (hub_dir / 'trusted_list').write_text('')
    monkeypatch.setattr('builtins.input', lambda prompt: 'n')
    with pytest.raises(Exception, match='Untrusted repository.'):
        hub.load('someone/models:dev', 'make_scaled', 1, trust_repo=False)
    monkeypatch.setattr('builtins.input', lambda prompt: 'maybe')
    with pytest.raises(ValueError, match='Unrecognized response maybe.'):
        hub.load('someone/models:dev', 'make_scaled', 1, trust_repo=False)


def test_github_offline_fails_clearly(hub_dir, offline):
    with pytest.raises(RuntimeError) as e:
        hub.load('someone/other:main', 'entry', trust_repo=True, skip_validation=True)
    msg = str(e.value)
    assert 'https://github.com/someone/other/zipball/main' in msg and str(hub_dir / 'someone_other_main') in msg
    with pytest.raises(RuntimeError, match='skip_validation=True'):
        hub.load('someone/other:main', 'entry', trust_repo=True)
    with pytest.raises(RuntimeError, match='no internet connection'):
        hub.load('someone/other', 'entry', trust_repo=True)


def test_github_download_unpacks_zip(hub_dir, tmp_path, monkeypatch):
    # the archive GitHub serves: one top folder named owner-repo-sha
    zpath = tmp_path / 'repo.zip'
    with zipfile.ZipFile(zpath, 'w') as zf:
        zf.writestr('someone-zipped-abc123/', '')
        zf.writestr('someone-zipped-abc123/hubconf.py', HUBCONF.format(deps='[]'))
        zf.writestr('someone-zipped-abc123/helper_mod.py', 'def scale(n, f):\n    return n * f\n')
    monkeypatch.setattr(_hub, '_git_archive_link', lambda owner, name, ref: zpath.as_uri())
    assert hub.load('someone/zipped:v1', 'make_scaled', 2, trust_repo=True, skip_validation=True) == 4
    assert (hub_dir / 'someone_zipped_v1' / 'hubconf.py').exists()
    assert not (hub_dir / 'v1.zip').exists()
    assert (hub_dir / 'trusted_list').read_text().split() == ['someone_zipped']


def test_zip_slip_refused(tmp_path):
    zpath = tmp_path / 'evil.zip'
    with zipfile.ZipFile(zpath, 'w') as zf:
        zf.writestr('../escape.txt', 'x')
    with zipfile.ZipFile(zpath) as zf, pytest.raises(ValueError, match='directory traversal'):
        _hub._safe_extract_zip(zf, tmp_path / 'out')


# ---- registry ----

def test_list_models_filters():
    from ember.vision import models
    everything = hub.list_models()
    assert everything == sorted(models.list_models(), key=hub._registry._natural_key)
    assert hub.list_models('efficientnet_b*') == [f'efficientnet_b{i}' for i in range(8)]
    assert hub.list_models(['regnet_y_*gf', 'convnext_t*'], exclude_filters=['*_1_6gf', '*32*']) == [
        'convnext_tiny', 'regnet_y_3_2gf', 'regnet_y_8gf', 'regnet_y_16gf', 'regnet_y_128gf']
    assert hub.list_models('vit_b_16.*') == ['vit_b_16.imagenet1k_swag_e2e_v1', 'vit_b_16.imagenet1k_swag_linear_v1',
                                             'vit_b_16.imagenet1k_v1']
    assert hub.list_models(module='convnext') == ['convnext_base', 'convnext_large', 'convnext_small', 'convnext_tiny']
    assert set(hub.list_models(pretrained=True)) <= set(everything)
    assert 'regnet_y_128gf' not in hub.list_models('regnet*', pretrained=True, exclude_filters='*x*') or \
        tvm.get_model_weights('regnet_y_128gf')


@pytest.mark.parametrize('name,weights', [
    ('efficientnet_b0', 'EfficientNet_B0_Weights.IMAGENET1K_V1'),
    ('efficientnet_b1', 'EfficientNet_B1_Weights.IMAGENET1K_V2'),
    ('efficientnet_b1.imagenet1k_v1', 'EfficientNet_B1_Weights.IMAGENET1K_V1'),
    ('regnet_y_400mf', 'RegNet_Y_400MF_Weights.IMAGENET1K_V2'),
    ('convnext_tiny', 'ConvNeXt_Tiny_Weights.IMAGENET1K_V1'),
    ('vit_b_16.imagenet1k_swag_e2e_v1', 'ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1'),
])
def test_pretrained_cfg_from_torchvision_weights(name, weights):
    w = tvm.get_weight(weights)
    cfg = hub.get_pretrained_cfg(name)
    preset = w.transforms()
    crop, resize = preset.crop_size[0], preset.resize_size[0]
    assert cfg['url'] == w.url and cfg['num_classes'] == len(w.meta['categories'])
    assert cfg['input_size'] == (3, crop, crop) and cfg['crop_pct'] == pytest.approx(crop / resize)
    assert math.floor(crop / cfg['crop_pct'] + 1e-6) == resize
    assert cfg['interpolation'] == preset.interpolation.value
    assert cfg['mean'] == tuple(preset.mean) and cfg['std'] == tuple(preset.std)
    assert cfg['architecture'] == name.split('.')[0] and cfg['tag'] == weights.split('.')[1].lower()
    try:
        with torch.device('meta'):  # no weights to initialise: fast
            m = tvm.get_model(name.split('.')[0])
    except NotImplementedError:  # regnet computes its widths with tensors
        m = tvm.get_model(name.split('.')[0])
    names = dict(m.named_modules())
    assert isinstance(names[cfg['first_conv']], torch.nn.Conv2d)
    assert isinstance(names[cfg['classifier']], torch.nn.Linear)
    assert cfg['pool_size'] == (None if name.startswith('vit') else (math.ceil(crop / 32),) * 2)


def test_pretrained_cfg_errors():
    with pytest.raises(RuntimeError, match=r'Unknown model \(no_such_net\)'):
        hub.get_pretrained_cfg('no_such_net')
    with pytest.raises(RuntimeError, match=r'Invalid pretrained tag \(v9\) for efficientnet_b0'):
        hub.create_model('efficientnet_b0.v9')


@pytest.mark.parametrize('in_chans,I', [(1, 3), (2, 3), (4, 3), (7, 3), (1, 6)])
def test_adapt_input_conv_is_timms_rule(in_chans, I):
    w = torch.randn(5, I, 3, 3)
    if in_chans == 1:
        expected = w.reshape(5, I // 3, 3, 3, 3).sum(2) if I > 3 else w.sum(1, keepdim=True)
    else:
        expected = w.repeat(1, math.ceil(in_chans / 3), 1, 1)[:, :in_chans] * (3 / in_chans)
    got = hub.adapt_input_conv(in_chans, ember.tensor(w.numpy()))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(NotImplementedError, match='Weight format not supported by conversion.'):
        hub.adapt_input_conv(4, ember.randn(5, 2, 3, 3))


@pytest.fixture(scope='module')
def regnet_checkpoint(tmp_path_factory):
    """A torchvision regnet_y_400mf with random weights, under the file name of its published weights."""
    torch.manual_seed(0)
    tm = tvm.regnet_y_400mf()
    with torch.no_grad():
        for m in tm.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 1.5)
    tm.eval()
    d = tmp_path_factory.mktemp('ckpt')
    torch.save(tm.state_dict(), d / os.path.basename(tvm.RegNet_Y_400MF_Weights.IMAGENET1K_V2.url))
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    return d, tm, x


def _put_in_cache(hub_dir, ckpt_dir):
    (hub_dir / 'checkpoints').mkdir(parents=True)
    for f in os.listdir(ckpt_dir):
        os.link(ckpt_dir / f, hub_dir / 'checkpoints' / f)


def test_create_model_pretrained_from_cache(hub_dir, regnet_checkpoint, offline):
    ckpt_dir, tm, x = regnet_checkpoint
    _put_in_cache(hub_dir, ckpt_dir)
    m = hub.create_model('regnet_y_400mf', pretrained=True).eval()
    with torch.no_grad():
        expected = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(m(ember.tensor(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    assert m.pretrained_cfg is m.default_cfg and m.pretrained_cfg['num_classes'] == 1000
    # a new head and a one-channel stem: everything else keeps the pretrained weights
    m2 = hub.create_model('regnet_y_400mf', pretrained=True, num_classes=10, in_chans=1)
    assert m2.fc.out_features == 10 and m2.stem[0].in_channels == 1
    np.testing.assert_allclose(m2.stem[0].weight.detach().numpy(),
                               tm.stem[0].weight.detach().sum(1, keepdim=True).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(m2.trunk_output.block4[0].proj[0].weight.detach().numpy(),
                                  tm.trunk_output.block4[0].proj[0].weight.detach().numpy())
    assert m2.pretrained_cfg['num_classes'] == 10 and m2.pretrained_cfg['input_size'] == (1, 224, 224)
    assert tuple(m2.eval()(ember.tensor(x[:, :1])).shape) == (1, 10)
    feats = hub.create_model('regnet_y_400mf', pretrained=True, num_classes=0).eval()
    assert tuple(feats(ember.tensor(x)).shape) == (1, 440)


def test_create_model_pretrained_offline_error(hub_dir, offline):
    with pytest.raises(RuntimeError) as e:
        hub.create_model('efficientnet_b0', pretrained=True)
    assert str(hub_dir / 'checkpoints' / 'efficientnet_b0_rwightman-7f5810bc.pth') in str(e.value)


def test_create_model_random_and_checkpoint_path(tmp_path, regnet_checkpoint):
    ckpt_dir, tm, x = regnet_checkpoint
    m = hub.create_model('efficientnet_b0', num_classes=7, in_chans=4, dropout=0.5)
    assert m.classifier[1].out_features == 7 and m.features[0][0].in_channels == 4
    assert m.classifier[0].p == 0.5 and m.pretrained_cfg['num_classes'] == 7
    with pytest.raises(RuntimeError, match=r'Unknown model \(resnet9000\)'):
        hub.create_model('resnet9000')
    # a training checkpoint: the state_dict under 'state_dict', keys prefixed by DataParallel
    wrapped = {'epoch': 3, 'state_dict': {'module.' + k: v for k, v in tm.state_dict().items()}}
    torch.save(wrapped, tmp_path / 'train.pth')
    m = hub.create_model('regnet_y_400mf', checkpoint_path=str(tmp_path / 'train.pth')).eval()
    with torch.no_grad():
        expected = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(m(ember.tensor(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)


def test_resolve_data_config():
    cfg = hub.get_pretrained_cfg('efficientnet_b1')
    c = hub.resolve_data_config(pretrained_cfg=cfg)
    assert c == {'input_size': (3, 240, 240), 'interpolation': 'bilinear', 'mean': (0.485, 0.456, 0.406),
                 'std': (0.229, 0.224, 0.225), 'crop_pct': 240 / 255, 'crop_mode': 'center'}
    c = hub.resolve_data_config({'img_size': 160, 'interpolation': 'bicubic', 'crop_pct': 1.0}, pretrained_cfg=cfg)
    assert c['input_size'] == (3, 160, 160) and c['interpolation'] == 'bicubic' and c['crop_pct'] == 1.0
    assert hub.resolve_data_config()['input_size'] == (3, 224, 224)


def test_create_transform_matches_torchvision_pipeline():
    from PIL import Image
    from ember.vision import transforms as T
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (70, 90, 3), dtype=np.uint8))
    config = hub.resolve_data_config({'input_size': (3, 48, 48)}, pretrained_cfg=hub.get_pretrained_cfg(
        'efficientnet_b1'))
    tf = hub.create_transform(**config)
    assert [type(t) for t in tf.transforms] == [T.Resize, T.CenterCrop, T.ToTensor, T.Normalize]
    ref = tvt.Compose([tvt.Resize(51, interpolation=tvt.InterpolationMode.BILINEAR), tvt.CenterCrop(48),
                       tvt.ToTensor(), tvt.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    np.testing.assert_allclose(tf(img).numpy(), ref(img).numpy(), rtol=1e-5, atol=1e-5)
    train = hub.create_transform(32, is_training=True, color_jitter=0.0)
    assert [type(t) for t in train.transforms] == [T.RandomResizedCrop, T.RandomHorizontalFlip, T.ToTensor,
                                                   T.Normalize]
    assert tuple(train(img).shape) == (3, 32, 32)
    with pytest.raises(NotImplementedError, match="auto_augment='rand-m9'"):
        hub.create_transform(224, auto_augment='rand-m9')
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        hub.create_transform(224, bogus=1)
