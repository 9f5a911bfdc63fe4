"""ember.utils.tensorboard.SummaryWriter against torch.utils.tensorboard.SummaryWriter.

Each test makes the same calls on both writers (tensors built from the same NumPy arrays), reads
both logs back with TensorBoard's own EventAccumulator and compares what TensorBoard sees.
"""
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import ember
from ember.utils.tensorboard import SummaryWriter

ROOT = str(Path(__file__).resolve().parent.parent)
WALL = 1_700_000_000.5


def _acc(path):
    ea = EventAccumulator(str(path), size_guidance={k: 0 for k in
                                                    ('scalars', 'histograms', 'images', 'audio', 'tensors')})
    ea.Reload()
    return ea


def _both(tmp_path, fn):
    """Run ``fn(writer, lib)`` with Ember's writer and PyTorch's; return the two log directories."""
    dirs = []
    for lib, cls in ((ember, SummaryWriter), (torch, TorchWriter)):
        d = tmp_path / lib.__name__
        with cls(str(d)) as w:
            fn(w, lib)
        dirs.append(d)
    return dirs


def _both_acc(tmp_path, fn):
    return [_acc(d) for d in _both(tmp_path, fn)]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _pixels(encoded):
    return np.asarray(Image.open(io.BytesIO(encoded)))


# ---- scalars ------------------------------------------------------------------------------------
@pytest.mark.parametrize('make', [
    lambda lib, i: lib.tensor(i * 0.5),
    lambda lib, i: lib.tensor([i * 0.5], dtype=lib.float64),
    lambda lib, i: lib.tensor(i, dtype=lib.int64),
    lambda lib, i: np.float32(i * 0.25),
    lambda lib, i: i * 1.5,
    lambda lib, i: lib.tensor(i * 1.0, requires_grad=True) * 2,
])
def test_add_scalar_matches_torch(tmp_path, make):
    def fn(w, lib):
        for i in range(5):
            w.add_scalar('loss/train', make(lib, i), i * 10, walltime=WALL + i)
    e, t = _both_acc(tmp_path, fn)
    assert e.Tags()['scalars'] == t.Tags()['scalars'] == ['loss/train']
    assert e.Scalars('loss/train') == t.Scalars('loss/train')
    assert [s.step for s in e.Scalars('loss/train')] == [0, 10, 20, 30, 40]


@pytest.mark.parametrize('double', [False, True])
def test_add_scalar_new_style(tmp_path, double):
    def fn(w, lib):
        w.add_scalar('x', lib.tensor(1 / 3), 2, walltime=WALL, new_style=True, double_precision=double)
    e, t = _both_acc(tmp_path, fn)
    assert e.Tensors('x') == t.Tensors('x')
    assert e.SummaryMetadata('x') == t.SummaryMetadata('x')
    assert e.Tensors('x')[0].tensor_proto.dtype == (2 if double else 1)


def test_add_scalar_rejects_more_than_one_value(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(AssertionError, match='one element'):
            w.add_scalar('x', ember.ones(2))
        with pytest.raises(NotImplementedError, match='numpy array or ember tensor'):
            w.add_scalar('x', [1.0])


def test_default_walltime_is_now(tmp_path):
    import time
    before = time.time()
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar('x', 1.0, 0)
    after = time.time()
    assert before <= _acc(tmp_path).Scalars('x')[0].wall_time <= after


def test_add_scalars_writes_subruns_as_torch(tmp_path):
    def fn(w, lib):
        for i in range(3):
            w.add_scalars('run/14h', {'xsinx': lib.tensor(i * np.sin(i)), 'xcosx': i * np.cos(i)}, i, walltime=WALL)
    e, t = _both(tmp_path, fn)
    subruns = sorted(p.name for p in e.iterdir() if p.is_dir())
    assert subruns == sorted(p.name for p in t.iterdir() if p.is_dir()) == ['run_14h_xcosx', 'run_14h_xsinx']
    for sub in subruns:
        assert _acc(e / sub).Scalars('run/14h') == _acc(t / sub).Scalars('run/14h')


# ---- histograms ---------------------------------------------------------------------------------
@pytest.mark.parametrize('bins,max_bins', [
    ('tensorflow', None), ('auto', None), ('fd', None), ('doane', None), (10, None), (64, 7),
    ([-5.0, -1.0, 0.0, 0.5, 6.0], None), ('tensorflow', 100),
])
def test_add_histogram_matches_torch(tmp_path, bins, max_bins):
    vals = _rng(1).normal(size=(40, 25)).astype(np.float32)

    def fn(w, lib):
        w.add_histogram('w', lib.tensor(vals), 3, bins=bins, walltime=WALL, max_bins=max_bins)
        w.add_histogram('w', lib.tensor(vals + 2.0).t(), 4, bins=bins, walltime=WALL, max_bins=max_bins)
    e, t = _both_acc(tmp_path, fn)
    he, ht = e.Histograms('w'), t.Histograms('w')
    assert he == ht
    assert he[0].histogram_value.num == 1000 and sum(he[0].histogram_value.bucket) == 1000
    assert he[0].histogram_value.max == pytest.approx(vals.max())


@pytest.mark.parametrize('make', [
    lambda lib: lib.arange(10, dtype=lib.int32),
    lambda lib: np.arange(7.0),
    lambda lib: lib.tensor([[1.0, 1.0], [2.0, 5.0]], dtype=lib.float64),
])
def test_add_histogram_inputs(tmp_path, make):
    e, t = _both_acc(tmp_path, lambda w, lib: w.add_histogram('h', make(lib), 0, walltime=WALL))
    assert e.Histograms('h') == t.Histograms('h')


def test_add_histogram_empty_raises(tmp_path):
    with SummaryWriter(str(tmp_path)) as w, pytest.raises(ValueError, match='no element'):
        w.add_histogram('h', ember.zeros(0))


def test_add_histogram_raw_matches_torch(tmp_path):
    values = np.repeat(np.arange(50) + 0.001, np.arange(50)).astype(float)
    counts, limits = np.histogram(values, bins=np.arange(52))

    def fn(w, lib):
        w.add_histogram_raw('raw', min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                            sum_squares=values.dot(values), bucket_limits=limits[1:].tolist(),
                            bucket_counts=counts.tolist(), global_step=0, walltime=WALL)
    e, t = _both_acc(tmp_path, fn)
    assert e.Histograms('raw') == t.Histograms('raw')
    with SummaryWriter(str(tmp_path / 'bad')) as w, pytest.raises(ValueError, match='bucket_limits'):
        w.add_histogram_raw('raw', 0, 1, 2, 1, 1, [1.0, 2.0], [2])


# ---- images, figures, video, audio --------------------------------------------------------------
_IMG = _rng(2).uniform(-0.2, 1.2, (3, 12, 20)).astype(np.float32)


@pytest.mark.parametrize('method,make,fmt', [
    ('add_image', lambda lib: lib.tensor(_IMG), 'CHW'),
    ('add_image', lambda lib: lib.tensor(_IMG).permute(1, 2, 0), 'HWC'),
    ('add_image', lambda lib: lib.tensor((_IMG.clip(0, 1) * 255).astype(np.uint8)), 'CHW'),
    ('add_image', lambda lib: lib.tensor(_IMG[0]), 'HW'),
    ('add_image', lambda lib: lib.tensor(_IMG[0]).t(), 'WH'),
    ('add_image', lambda lib: lib.tensor(_IMG[:1]), 'CHW'),
    ('add_image', lambda lib: np.ascontiguousarray(_IMG.transpose(1, 2, 0)), 'HWC'),
    ('add_images', lambda lib: lib.tensor(np.stack([_IMG] * 5) * np.linspace(0, 1, 5)[:, None, None, None]
                                          .astype(np.float32)), 'NCHW'),
    ('add_images', lambda lib: lib.tensor(np.stack([_IMG[:1]] * 10)).permute(0, 2, 3, 1), 'NHWC'),
])
def test_images_match_torch(tmp_path, method, make, fmt):
    e, t = _both_acc(tmp_path, lambda w, lib: getattr(w, method)('img', make(lib), 1, WALL, dataformats=fmt))
    ie, it = e.Images('img')[0], t.Images('img')[0]
    assert (ie.width, ie.height, ie.step) == (it.width, it.height, it.step)
    np.testing.assert_array_equal(_pixels(ie.encoded_image_string), _pixels(it.encoded_image_string))


def test_add_image_content(tmp_path):
    hwc = _rng(3).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    with SummaryWriter(str(tmp_path)) as w:
        w.add_image('u8', ember.tensor(hwc), 0, dataformats='HWC')
        w.add_image('f', ember.tensor(hwc.transpose(2, 0, 1) / 255.0), 0)
        w.add_images('grid', ember.tensor(np.stack([hwc] * 10)), 0, dataformats='NHWC')
    ea = _acc(tmp_path)
    u8 = ea.Images('u8')[0]
    assert (u8.width, u8.height) == (9, 6)
    np.testing.assert_array_equal(_pixels(u8.encoded_image_string), hwc)
    np.testing.assert_allclose(_pixels(ea.Images('f')[0].encoded_image_string), hwc, atol=1)
    grid = _pixels(ea.Images('grid')[0].encoded_image_string)
    assert grid.shape == (12, 72, 3)  # 10 images, 8 per row
    np.testing.assert_array_equal(grid[6:, 9:18], hwc)
    np.testing.assert_array_equal(grid[6:, 18:], 0)


def test_add_image_bad_format_raises(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(AssertionError, match='size of input tensor and input format are different'):
            w.add_image('x', ember.zeros(3, 4, 4), dataformats='HW')
        with pytest.raises(AssertionError, match='same dimension shorthand twice'):
            w.add_image('x', ember.zeros(3, 4, 4), dataformats='CCW')


def test_add_image_with_boxes_matches_torch(tmp_path):
    img = _rng(4).uniform(0, 1, (3, 40, 50)).astype(np.float32)
    boxes = np.array([[2, 3, 20, 30], [10, 5, 45, 35]], dtype=np.float32)

    def fn(w, lib):
        w.add_image_with_boxes('b', lib.tensor(img), lib.tensor(boxes), 0, WALL, labels=['cat', 'dog'])
        w.add_image_with_boxes('nolabel', lib.tensor(img), lib.tensor(boxes), 0, WALL, rescale=2)
    e, t = _both_acc(tmp_path, fn)
    for tag in ('b', 'nolabel'):
        np.testing.assert_array_equal(_pixels(e.Images(tag)[0].encoded_image_string),
                                      _pixels(t.Images(tag)[0].encoded_image_string))
    assert _pixels(e.Images('nolabel')[0].encoded_image_string).shape == (80, 100, 3)


def test_add_figure_matches_torch(tmp_path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    def figure():
        fig = plt.figure(figsize=(2, 1.5), dpi=50)
        plt.plot([0, 1, 2], [2, 0, 1])
        return fig

    def fn(w, lib):
        w.add_figure('fig', figure(), 0, walltime=WALL)
        w.add_figure('figs', [figure(), figure()], 0, walltime=WALL)
    e, t = _both_acc(tmp_path, fn)
    for tag in ('fig', 'figs'):
        np.testing.assert_array_equal(_pixels(e.Images(tag)[0].encoded_image_string),
                                      _pixels(t.Images(tag)[0].encoded_image_string))
    assert (e.Images('fig')[0].width, e.Images('fig')[0].height) == (100, 75)
    assert plt.get_fignums() == []


def test_add_video_is_an_animated_gif(tmp_path):
    vid = _rng(5).uniform(0, 1, (3, 4, 3, 8, 10)).astype(np.float32)  # 3 videos of 4 frames
    with SummaryWriter(str(tmp_path)) as w:
        w.add_video('v', ember.tensor(vid), 0, fps=5)
        w.add_video('grey', ember.tensor((vid[:1, :, :1] * 255).astype(np.uint8)), 0)
    ea = _acc(tmp_path)
    v = ea.Images('v')[0]
    gif = Image.open(io.BytesIO(v.encoded_image_string))
    assert gif.format == 'GIF' and gif.n_frames == 4 and gif.info['duration'] == 200
    assert gif.size == (40, 8) == (v.width, v.height)  # 3 videos padded to 4, tiled in one row
    grey = Image.open(io.BytesIO(ea.Images('grey')[0].encoded_image_string))
    assert grey.n_frames == 4 and grey.size == (10, 8)


def test_add_audio_matches_torch(tmp_path):
    snd = np.sin(np.linspace(0, 60, 800)).astype(np.float32)[None] * 1.3  # clipped to [-1, 1]

    def fn(w, lib):
        w.add_audio('a', lib.tensor(snd), 2, sample_rate=8000, walltime=WALL)
    e, t = _both_acc(tmp_path, fn)
    assert e.Audio('a') == t.Audio('a')
    assert e.Audio('a')[0].sample_rate == 8000 and e.Audio('a')[0].length_frames == 800


# ---- text, tensors, pr curves, custom scalars, mesh ---------------------------------------------
def test_add_text_matches_torch(tmp_path):
    def fn(w, lib):
        w.add_text('notes', '**bold** and ünïcode', 3, walltime=WALL)
    e, t = _both_acc(tmp_path, fn)
    assert e.Tags()['tensors'] == ['notes/text_summary']
    assert e.Tensors('notes/text_summary') == t.Tensors('notes/text_summary')
    assert e.SummaryMetadata('notes/text_summary') == t.SummaryMetadata('notes/text_summary')
    assert e.Tensors('notes/text_summary')[0].tensor_proto.string_val[0].decode() == '**bold** and ünïcode'


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'bool', 'float16'])
def test_add_tensor_matches_torch(tmp_path, dtype):
    arr = (_rng(6).normal(size=(2, 3)) * 5).astype(dtype)
    e, t = _both_acc(tmp_path, lambda w, lib: w.add_tensor('t', lib.tensor(arr), 1, walltime=WALL))
    assert e.Tensors('t') == t.Tensors('t')


def test_add_tensor_uint8_reads_back(tmp_path):
    from tensorboard.util.tensor_util import make_ndarray
    arr = np.array([[0, 7, 255]], dtype=np.uint8)
    with SummaryWriter(str(tmp_path)) as w:
        w.add_tensor('t', ember.tensor(arr), 0)
    np.testing.assert_array_equal(make_ndarray(_acc(tmp_path).Tensors('t')[0].tensor_proto), arr)


def test_add_pr_curve_matches_torch(tmp_path):
    rng = _rng(7)
    labels = rng.integers(0, 2, 100)
    preds = rng.uniform(0, 1, 100).astype(np.float32)
    weights = rng.uniform(0.5, 2, 100)

    def fn(w, lib):
        w.add_pr_curve('pr', lib.tensor(labels), lib.tensor(preds), 1, walltime=WALL)
        w.add_pr_curve('pr_w', labels, preds, 1, num_thresholds=300, weights=weights, walltime=WALL)
        w.add_pr_curve('pr_few', lib.tensor(labels), lib.tensor(preds), 1, num_thresholds=9, walltime=WALL)
    e, t = _both_acc(tmp_path, fn)
    for tag in ('pr', 'pr_w', 'pr_few'):
        assert e.Tensors(tag) == t.Tensors(tag)
        assert e.SummaryMetadata(tag) == t.SummaryMetadata(tag)
    tp = np.array(e.Tensors('pr')[0].tensor_proto.float_val).reshape(6, 127)
    assert tp[0, 0] == labels.sum() and tp[1, 0] == 100 - labels.sum()  # threshold 0: all positive
    assert len(e.Tensors('pr_few')[0].tensor_proto.float_val) == 6 * 9


def test_add_pr_curve_raw_matches_torch(tmp_path):
    n = 5
    tp, fp = np.array([75, 64, 21, 5, 0]), np.array([150, 105, 18, 0, 0])
    tn, fn_ = 150 - fp, 75 - tp
    precision, recall = tp / np.maximum(1, tp + fp), tp / 75

    def fn(w, lib):
        w.add_pr_curve_raw('raw', tp, fp, tn, fn_, precision, recall, 0, num_thresholds=n, walltime=WALL)
    e, t = _both_acc(tmp_path, fn)
    assert e.Tensors('raw') == t.Tensors('raw')
    assert e.SummaryMetadata('raw') == t.SummaryMetadata('raw')


@pytest.mark.parametrize('call', [
    lambda w: w.add_custom_scalars({'Taiwan': {'twse': ['Multiline', ['twse/0050', 'twse/2330']]},
                                    'USA': {'dow': ['Margin', ['dow/aaa', 'dow/bbb', 'dow/ccc']]}}),
    lambda w: w.add_custom_scalars_multilinechart(['a/0', 'a/1'], category='cat', title='both'),
    lambda w: w.add_custom_scalars_marginchart(['m', 'lo', 'hi']),
])
def test_custom_scalars_match_torch(tmp_path, call):
    e, t = _both_acc(tmp_path, lambda w, lib: call(w))
    tag = 'custom_scalars__config__'
    assert [x.tensor_proto for x in e.Tensors(tag)] == [x.tensor_proto for x in t.Tensors(tag)]
    assert e.SummaryMetadata(tag) == t.SummaryMetadata(tag)


def test_custom_scalars_marginchart_needs_three_tags(tmp_path):
    with SummaryWriter(str(tmp_path)) as w, pytest.raises(AssertionError, match='Expected 3 tags, got 2'):
        w.add_custom_scalars_marginchart(['a', 'b'])


def test_add_mesh_matches_torch(tmp_path):
    vertices = np.array([[[1, 1, 1], [-1, -1, 1], [1, -1, -1], [-1, 1, -1]]], dtype=np.float32)
    colors = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 255]]], dtype=np.int32)
    faces = np.array([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]], dtype=np.int32)
    config = {'camera': {'cls': 'PerspectiveCamera', 'fov': 75}}

    def fn(w, lib):
        w.add_mesh('mesh', lib.tensor(vertices), colors=lib.tensor(colors), faces=lib.tensor(faces),
                   config_dict=config, global_step=0, walltime=WALL)
        w.add_mesh('cloud', lib.tensor(vertices), global_step=1, walltime=WALL)
    e, t = _both_acc(tmp_path, fn)
    tags = ['cloud_VERTEX', 'mesh_COLOR', 'mesh_FACE', 'mesh_VERTEX']
    assert sorted(e.Tags()['tensors']) == sorted(t.Tags()['tensors']) == tags
    for tag in tags:
        assert e.Tensors(tag) == t.Tensors(tag)
        assert e.SummaryMetadata(tag) == t.SummaryMetadata(tag)


# ---- hparams ------------------------------------------------------------------------------------
@pytest.mark.parametrize('hp,metrics,domain', [
    ({'lr': 0.1, 'bsize': 32, 'opt': 'adam', 'nesterov': True, 'skip': None}, {'hparam/accuracy': 0.9}, None),
    ({'lr': 0.1, 'opt': 'sgd'}, {'hparam/loss': 1.5, 'hparam/acc': 0.5}, {'opt': ['sgd', 'adam'], 'lr': [0.1, 0.01]}),
    ({'wd': 'tensor'}, {'m': 2.0}, None),
])
def test_add_hparams_matches_torch(tmp_path, hp, metrics, domain):
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    def fn(w, lib):
        h = {k: lib.tensor([1e-4]) if v == 'tensor' else v for k, v in hp.items()}
        w.add_hparams(h, metrics, hparam_domain_discrete=domain, run_name='trial', global_step=3)
    e, t = _both(tmp_path, fn)
    ee, te = _acc(e / 'trial'), _acc(t / 'trial')
    content = ee.PluginTagToContent('hparams')
    assert content == te.PluginTagToContent('hparams')
    assert sorted(content) == ['_hparams_/experiment', '_hparams_/session_end_info', '_hparams_/session_start_info']
    ssi = HParamsPluginData.FromString(content['_hparams_/session_start_info']).session_start_info
    assert set(ssi.hparams) == {k for k, v in hp.items() if v is not None}
    for k in metrics:
        assert ee.Scalars(k)[0].value == pytest.approx(metrics[k]) and ee.Scalars(k)[0].step == 3


def test_add_hparams_errors(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(TypeError, match='should be dictionary'):
            w.add_hparams([('lr', 1)], {})
        with pytest.raises(TypeError, match=r'hparam_domain_discrete\[lr\] should be a list of same type'):
            w.add_hparams({'lr': 0.1}, {}, hparam_domain_discrete={'lr': ['a']})
        with pytest.raises(ValueError, match='value should be one of int, float, str, bool'):
            w.add_hparams({'lr': [0.1]}, {})


def test_add_hparams_default_run_name_is_a_timestamp(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_hparams({'lr': 0.1}, {'m': 1.0})
    (sub,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    float(sub.name)
    assert len(_acc(sub).PluginTagToContent('hparams')) == 3


# ---- embeddings ---------------------------------------------------------------------------------
def test_add_embedding_matches_torch(tmp_path):
    rng = _rng(8)
    mat = rng.normal(size=(10, 4)).astype(np.float32)
    imgs = rng.uniform(0, 1, (10, 3, 6, 6)).astype(np.float32)
    meta = [f'w{i}' for i in range(10)]
    rows = [[i, i % 2] for i in range(10)]

    def fn(w, lib):
        w.add_embedding(lib.tensor(mat), metadata=meta, label_img=lib.tensor(imgs))
        w.add_embedding(lib.tensor(mat) * 2, metadata=rows, metadata_header=['id', 'parity'], global_step=3,
                        tag='with/slash')
        w.add_embedding(mat, global_step=4)
    e, t = _both(tmp_path, fn)
    files = sorted(str(p.relative_to(e)) for p in e.rglob('*') if p.is_file() and 'tfevents' not in p.name)
    assert files == sorted(str(p.relative_to(t)) for p in t.rglob('*') if p.is_file() and 'tfevents' not in p.name)
    assert '00003/with%2fslash/metadata.tsv' in files and '00000/default/sprite.png' in files
    for f in files:
        if f.endswith('.png'):
            np.testing.assert_array_equal(np.asarray(Image.open(e / f)), np.asarray(Image.open(t / f)))
        else:
            assert (e / f).read_text() == (t / f).read_text(), f


def test_add_embedding_checks(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(AssertionError, match='#labels should equal with #data points'):
            w.add_embedding(ember.zeros(3, 2), metadata=['a'])
        with pytest.raises(AssertionError, match='mat should be 2D'):
            w.add_embedding(ember.zeros(3), global_step=1)


# ---- graphs -------------------------------------------------------------------------------------
def _cnn(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3)
            self.bn = nn.BatchNorm2d(4)
            self.features = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))
            self.fc = nn.Linear(4 * 3 * 3, 10)
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            x = self.features(self.bn(self.conv1(x)))
            return self.drop(lib.relu(self.fc(x.flatten(1))))
    return Net()


def _graph_nodes(path):
    return {n.name: n for n in _acc(path).Graph().node}


@pytest.mark.filterwarnings('ignore::DeprecationWarning')  # PyTorch's add_graph uses torch.jit.trace
def test_add_graph_of_a_small_cnn(tmp_path):
    x = _rng(9).normal(size=(2, 1, 8, 8)).astype(np.float32)

    def fn(w, lib):
        lib.manual_seed(0)
        w.add_graph(_cnn(lib), lib.tensor(x))
    e, t = _both(tmp_path, fn)
    en, tn = _graph_nodes(e), _graph_nodes(t)
    ops = {n.op for n in en.values()}
    assert {'aten::convolution', 'aten::relu', 'aten::max_pool2d_with_indices', 'IO Node', 'Parameter'} <= ops
    for name in ('Net/Conv2d[conv1]/weight', 'Net/Conv2d[conv1]/bias', 'Net/BatchNorm2d[bn]/weight',
                 'Net/Linear[fc]/weight', 'Net/Linear[fc]/bias'):
        assert en[name].op == 'Parameter'
    conv = en['Net/Conv2d[conv1]/convolution']
    assert list(conv.input) == ['input/x', 'Net/Conv2d[conv1]/weight', 'Net/Conv2d[conv1]/bias']
    assert [d.size for d in conv.attr['_output_shapes'].list.shape[0].dim] == [2, 4, 6, 6]
    (relu_in,) = en['Net/Sequential[features]/ReLU[0]/relu'].input
    assert relu_in.startswith('Net/BatchNorm2d[bn]/')
    assert en['Net/Sequential[features]/MaxPool2d[1]/max_pool2d_with_indices'].input == [
        'Net/Sequential[features]/ReLU[0]/relu']
    assert 'Net/Linear[fc]/weight' in en['Net/Linear[fc]/t'].input and en['Net/relu'].op == 'aten::relu'
    out = en['output/output.1']
    assert [d.size for d in out.attr['_output_shapes'].list.shape[0].dim] == [2, 10]
    assert out.input[0] in en
    assert en['input/x'].op == 'IO Node'
    # every edge points at a node of the graph
    assert all(i.split(':')[0] in en for n in en.values() for i in n.input)
    # the module scopes PyTorch's trace shows are Ember's too (eval mode: no dropout op in either)
    scopes = lambda names: {re.match(r'Net(/\w+\[\w+\])*', n).group(0) for n in names if n.startswith('Net/')}
    assert scopes(tn) - {'Net'} <= scopes(en) | {'Net/Dropout[drop]'}
    assert {'output/output.1'} <= set(tn) & set(en)
    assert not any(n.startswith('Net/Dropout[drop]/') for n in en)


def test_add_graph_restores_the_model(tmp_path):
    model = _cnn(ember)
    model.fc.weight.requires_grad_(False)
    x = ember.randn(2, 1, 8, 8)
    with SummaryWriter(str(tmp_path)) as w, ember.no_grad():
        w.add_graph(model, (x,))
    names = _graph_nodes(tmp_path)
    assert 'Net/Linear[fc]/weight' in names  # frozen parameters are drawn too
    assert model.training and not model.fc.weight.requires_grad and model.conv1.weight.requires_grad
    assert model.conv1.weight.grad is None and not x.requires_grad
    assert not model.conv1._forward_hooks and not model._forward_pre_hooks
    assert float(model.bn.num_batches_tracked) == 0  # ran in eval mode


def test_add_graph_multiple_inputs_and_outputs(tmp_path, capsys):
    nn = ember.nn

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, a, idx):
            h = self.lin(a)
            return h.sum(), (h[idx], idx * 2)

    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(Two(), (ember.randn(4, 3), ember.tensor([0, 2])), verbose=True)
    names = _graph_nodes(tmp_path)
    assert {'input/a', 'input/idx', 'output/output.1', 'output/output.2', 'output/output.3'} <= set(names)
    assert names['output/output.3'].input == []  # an integer output has no history
    assert [d.size for d in names['output/output.2'].attr['_output_shapes'].list.shape[0].dim] == [2, 2]
    assert 'Two/Linear[lin]/weight = Parameter()' in capsys.readouterr().out


def test_add_graph_shared_module_and_functional(tmp_path):
    nn = ember.nn

    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            return ember.tanh(self.lin(self.lin(x)) * 2)

    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(Shared(), ember.randn(3, 4))
    names = _graph_nodes(tmp_path)
    assert sum(1 for n in names.values() if n.name.startswith('Shared/Linear[lin]/') and n.op == 'Parameter') == 2
    assert names['Shared/tanh'].input == ['Shared/mul']
    assert len({n for n in names if n.startswith('Shared/Linear[lin]/') and names[n].op.startswith('aten::')}) >= 2


# ---- the writer ---------------------------------------------------------------------------------
def test_default_log_dir_and_comment(tmp_path, monkeypatch):
    import socket
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment='_lr0.1')
    w.close()
    logdir = w.get_logdir()
    assert logdir.startswith('runs' + os.sep) and logdir.endswith(socket.gethostname() + '_lr0.1')
    assert any('tfevents' in f for f in os.listdir(tmp_path / logdir))


def test_event_file_names_are_unique(tmp_path):
    w1, w2 = SummaryWriter(str(tmp_path), filename_suffix='.ember'), SummaryWriter(str(tmp_path))
    w1.add_scalar('a', 1.0, 0)
    w2.add_scalar('b', 2.0, 0)
    w1.close()
    w2.close()
    files = os.listdir(tmp_path)
    assert len(files) == 2 and all(f.startswith('events.out.tfevents.') for f in files)
    assert sum(f.endswith('.ember') for f in files) == 1
    assert sorted(_acc(tmp_path).Tags()['scalars']) == ['a', 'b']


def test_flush_writes_queued_events(tmp_path):
    w = SummaryWriter(str(tmp_path), max_queue=1000, flush_secs=10_000)
    for i in range(500):
        w.add_scalar('x', i, i)
    w.flush()
    assert len(_acc(tmp_path).Scalars('x')) == 500
    w.close()
    w.close()  # a second close does nothing


def test_ten_thousand_scalars_are_all_written(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        for i in range(10_000):
            w.add_scalar('loss', 1.0 / (i + 1), i)
    s = _acc(tmp_path).Scalars('loss')
    assert [e.step for e in s] == list(range(10_000))
    assert s[-1].value == pytest.approx(1e-4)


def test_writing_after_close_starts_a_new_file(tmp_path):
    w = SummaryWriter(str(tmp_path))
    w.add_scalar('x', 1.0, 0)
    w.close()
    w.add_scalar('x', 2.0, 1)
    w.close()
    assert len(os.listdir(tmp_path)) == 2
    assert [e.value for e in _acc(tmp_path).Scalars('x')] == [1.0, 2.0]


def test_purge_step_matches_torch(tmp_path):
    def fn(w, lib):
        for i in range(10):
            w.add_scalar('x', i, i, walltime=WALL)
    e, t = _both(tmp_path, fn)
    for d, cls in ((e, SummaryWriter), (t, TorchWriter)):
        with cls(str(d), purge_step=5) as w:
            for i in range(5, 8):
                w.add_scalar('x', 10 * i, i, walltime=WALL + 1)
    se, st = _acc(e).Scalars('x'), _acc(t).Scalars('x')
    assert se == st
    assert [(s.step, s.value) for s in se] == [(i, i) for i in range(5)] + [(i, 10 * i) for i in range(5, 8)]


def test_file_writer_reopen(tmp_path):
    from ember.utils.tensorboard import FileWriter
    from tensorboardX.proto.event_pb2 import Event
    fw = FileWriter(tmp_path)
    assert fw.get_logdir() == str(tmp_path)
    fw.add_event(Event(file_version='x'), step=1, walltime=WALL)
    fw.close()
    with pytest.raises(OSError, match='closed'):
        fw.add_event(Event())
    fw.reopen()
    fw.add_event(Event(), step=2)
    fw.close()
    assert len(os.listdir(tmp_path)) == 2


_SUBPROCESS = '''
import sys
import ember
from ember.utils.tensorboard import SummaryWriter
w = SummaryWriter(sys.argv[1], flush_secs=10000)
for i in range(300):
    w.add_scalar('x', i, i)
assert 'torch' not in sys.modules
if sys.argv[2] == 'raise':
    raise RuntimeError('training crashed')
'''


@pytest.mark.parametrize('how', ['exit', 'raise'])
def test_events_survive_exit_without_close(tmp_path, how):
    r = subprocess.run([sys.executable, '-c', _SUBPROCESS, str(tmp_path), how], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    assert (r.returncode == 0) == (how == 'exit'), r.stderr
    assert len(_acc(tmp_path).Scalars('x')) == 300


def test_imports_are_lazy_and_missing_tensorboardx_is_named():
    code = '''
import sys
import ember
assert 'ember.utils.tensorboard' not in sys.modules and 'tensorboardX' not in sys.modules
sys.modules['tensorboardX'] = None
try:
    import ember.utils.tensorboard
except ImportError as e:
    print(e)
'''
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert 'pip install ember[tensorboard]' in r.stdout


def test_add_onnx_graph_matches_torch(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    node = helper.make_node('Relu', ['x'], ['y'])
    g = helper.make_graph([node], 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, [2, 3])])
    path = str(tmp_path / 'm.onnx')
    onnx.save(helper.make_model(g), path)
    e, t = _both(tmp_path, lambda w, lib: w.add_onnx_graph(path))
    assert _acc(e).Graph() == _acc(t).Graph()
    assert {n.name for n in _acc(e).Graph().node} == {'x', 'y'}
