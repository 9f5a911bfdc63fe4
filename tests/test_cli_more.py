"""`ember train` beyond the basics (mid-epoch Ctrl-C and exact resume, workers, crash-safe checkpoints,
param groups, TensorBoard, ImageFolder) and the `ember predict` / `ember export` commands."""
import csv
import json
import os
import signal

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.cli import train as train_mod
from ember.cli.config import ConfigError, validate
from ember.cli.train import build_model, train

AUG = [{'name': 'RandomAffine', 'kwargs': {'degrees': 10, 'translate': [0.1, 0.1]}}, {'name': 'ToTensor'}]
TINY = {
    'dataset': {'name': 'digits', 'val_split': 0.25, 'subset': 96},
    'transforms': {'train': AUG, 'eval': [{'name': 'ToTensor'}]},
    'model': {'name': 'ember.cli.models:digits_cnn', 'kwargs': {'width': 4, 'dropout': 0.5}},
    'optimizer': {'name': 'SGD', 'lr': 0.1, 'kwargs': {'momentum': 0.9}},
    'scheduler': {'name': 'StepLR', 'kwargs': {'step_size': 1, 'gamma': 0.5}},
    'batch_size': 24, 'epochs': 2, 'seed': 5,
    'logging': {'progress': False, 'plots': False},
}
quiet = dict(log=lambda s: None)


def _cfg(**changes):
    cfg = json.loads(json.dumps(TINY))
    for key, value in changes.items():
        section, _, leaf = key.partition('__')
        if leaf:
            cfg.setdefault(section, {})[leaf] = value
        else:
            cfg[key] = value
    return cfg


def _rows(path):
    with open(os.path.join(path, 'metrics.csv')) as f:
        return list(csv.DictReader(f))


def _weights(path):
    return ember.load(str(path), weights_only=False)['model']


def _same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert list(wa) == list(wb)
    for k in wa:
        assert ember.equal(wa[k], wb[k]), k


@pytest.mark.parametrize('data, message', [
    ({'optimizer': {'param_groups': [{'lr': 0.1}]}}, "optimizer.param_groups[0]: expected a mapping with 'params'"),
    ({'checkpoint': {'every': 0}}, "checkpoint.every: expected a positive int"),
    ({'dataset': {'splits': {'val': 'x'}}}, "dataset.splits.val: unknown key"),
    ({'export': {'onnx': 'yes'}}, "export.onnx: expected bool, got str"),
])
def test_new_keys_are_validated(data, message):
    with pytest.raises(ConfigError) as err:
        validate(data)
    assert message in str(err.value)


def test_ctrl_c_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path):
    full, part = tmp_path / 'full', tmp_path / 'part'
    assert train(_cfg(epochs=3), output=str(full), **quiet) == 0
    calls = []

    def stop_in_epoch_2(i, loss):
        calls.append(i)
        if len(calls) == 5:  # epoch 1 has 3 batches: this is batch 1 of epoch 2
            raise KeyboardInterrupt
    assert train(_cfg(epochs=3), output=str(part), on_batch_end=stop_in_epoch_2, **quiet) == 130
    ck = ember.load(str(part / 'last.pt'), weights_only=False)
    assert ck['epoch'] == 1 and ck['partial']['batch'] == 2 and ck['partial']['meter']['n'] == 48
    assert train(_cfg(epochs=3), output=str(part), resume=str(part / 'last.pt'), **quiet) == 0
    assert _rows(full) == _rows(part)
    _same_weights(full / 'last.pt', part / 'last.pt')
    assert json.loads((full / 'test_metrics.json').read_text()) == json.loads((part / 'test_metrics.json').read_text())


def test_sigint_stops_after_the_batch(tmp_path):
    seen = []

    def press_ctrl_c(i, loss):
        seen.append(i)
        if i == 0:
            os.kill(os.getpid(), signal.SIGINT)
    before = signal.getsignal(signal.SIGINT)
    assert train(_cfg(), output=str(tmp_path), on_batch_end=press_ctrl_c, **quiet) == 130
    assert seen == [0] and signal.getsignal(signal.SIGINT) is before
    assert ember.load(str(tmp_path / 'last.pt'), weights_only=False)['partial']['batch'] == 1


def test_num_workers_0_and_2_give_identical_runs(tmp_path):
    a, b = tmp_path / 'w0', tmp_path / 'w2'
    train(_cfg(epochs=1, num_workers=0), output=str(a), **quiet)
    train(_cfg(epochs=1, num_workers=2), output=str(b), **quiet)
    assert _rows(a) == _rows(b)
    _same_weights(a / 'last.pt', b / 'last.pt')


def test_crash_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    real_save = ember.save

    def failing_save(obj, f):
        if obj['epoch'] == 2:
            with open(f, 'wb') as fh:
                fh.write(b'half a checkpoint')
            raise OSError('disk full')
        real_save(obj, f)
    monkeypatch.setattr(train_mod.ember, 'save', failing_save)
    with pytest.raises(OSError, match='disk full'):
        train(_cfg(), output=str(tmp_path), **quiet)
    monkeypatch.setattr(train_mod.ember, 'save', real_save)
    assert ember.load(str(tmp_path / 'last.pt'), weights_only=False)['epoch'] == 1


def test_every_n_epochs_early_stopping_param_groups_and_freeze(tmp_path):
    cfg = _cfg(epochs=6, checkpoint__every=2, early_stopping={'metric': 'lr', 'patience': 1, 'mode': 'max'})
    cfg['model']['freeze'] = ['0']
    cfg['optimizer']['param_groups'] = [{'params': ['13'], 'lr': 0.5}]  # the Linear head
    ember.manual_seed(cfg['seed'])  # as train() does before building the model
    init = build_model(validate(cfg))
    assert train(cfg, output=str(tmp_path), **quiet) == 0
    # StepLR halves lr each epoch: "max" mode sees no improvement after epoch 1, so patience 1 stops after 2.
    assert [r['epoch'] for r in _rows(tmp_path)] == ['1', '2']
    assert sorted(p.name for p in tmp_path.glob('epoch_*.pt')) == ['epoch_2.pt']
    ck = ember.load(str(tmp_path / 'last.pt'), weights_only=False)
    groups = ck['optimizer']['param_groups']
    assert [g['lr'] for g in groups] == [0.125, 0.025] and [len(g['params']) for g in groups] == [2, 8]
    after = ck['model']
    assert ember.equal(after['0.weight'], init.state_dict()['0.weight'])
    assert not ember.equal(after['1.weight'], init.state_dict()['1.weight'])


def test_tensorboard_logs_scalars_images_graph_and_hparams(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    assert train(_cfg(epochs=1, logging={'progress': False, 'plots': False, 'tensorboard': True}),
                 output=str(tmp_path), **quiet) == 0
    acc = EventAccumulator(str(tmp_path / 'tensorboard'), size_guidance={'images': 0})
    acc.Reload()
    tags = acc.Tags()
    assert {'lr', 'train/loss', 'train/accuracy', 'train/top5', 'val/loss', 'val/accuracy'} <= set(tags['scalars'])
    assert 'inputs' in tags['images'] and tags['graph']
    assert list((tmp_path / 'tensorboard').glob('hparams/**/events.*'))


def test_tensorboard_does_not_change_the_numbers(tmp_path):
    a, b = tmp_path / 'plain', tmp_path / 'tb'
    train(_cfg(epochs=1), output=str(a), **quiet)
    train(_cfg(epochs=1, logging={'progress': False, 'plots': False, 'tensorboard': True}), output=str(b), **quiet)
    assert _rows(a) == _rows(b)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('trained')
    cfg_path = root / 'tiny.json'
    cfg_path.write_text(json.dumps(_cfg(epochs=1)))
    assert main(['train', str(cfg_path), '--output', str(root / 'run')]) == 0
    return cfg_path, root / 'run' / 'best.pt'


def _digit_png(path, index):
    from ember.vision import datasets
    img, label = datasets.Digits(train=False)[index]
    img.save(path)
    return label


def test_predict_prints_topk_class_names(trained, tmp_path, capsys):
    cfg_path, ckpt = trained
    images = [tmp_path / 'a.png', tmp_path / 'b.png']
    for i, p in enumerate(images):
        _digit_png(p, i)
    capsys.readouterr()
    assert main(['predict', str(cfg_path), '--checkpoint', str(ckpt), '--topk', '3', *map(str, images)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f'{images[0]}: ')
    results = train_mod.predict(validate(json.loads(cfg_path.read_text())), str(ckpt), [str(images[0])], topk=3,
                                **quiet)[0]
    assert len(results) == 3 and all(' - ' in name for name, _ in results)  # Digits' names: '3 - three'
    probs = [p for _, p in results]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    # The same numbers as running the model on the test split's first image.
    model = build_model(validate(json.loads(cfg_path.read_text())))
    model.load_state_dict(ember.load(str(ckpt), weights_only=False)['model'])
    model.eval()
    _, _, test_set, classes = train_mod.build_datasets(validate(json.loads(cfg_path.read_text())))
    with ember.no_grad():
        p = ember.softmax(model(test_set[0][0].unsqueeze(0)), 1)[0]
    assert results[0] == (classes[int(p.argmax())], pytest.approx(float(p.max()), abs=1e-6))


def test_predict_without_config_uses_the_default(trained, tmp_path, capsys):
    # The tiny checkpoint's model is not the default config's: loading it must fail loudly, not silently.
    _, ckpt = trained
    _digit_png(tmp_path / 'x.png', 0)
    with pytest.raises(RuntimeError, match='size mismatch|Missing key|Unexpected key'):
        main(['predict', str(tmp_path / 'x.png'), '--checkpoint', str(ckpt)])


def test_export_writes_onnx_checked_by_onnxruntime(trained, tmp_path, capsys):
    pytest.importorskip('onnxruntime')
    cfg_path, ckpt = trained
    out = tmp_path / 'model.onnx'
    assert main(['export', str(cfg_path), '--checkpoint', str(ckpt), '--onnx', str(out)]) == 0
    assert out.exists() and 'ONNX Runtime matches Ember' in capsys.readouterr().out
    import onnxruntime
    sess = onnxruntime.InferenceSession(str(out), providers=['CPUExecutionProvider'])
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    assert sess.run(None, {'input': x})[0].shape == (5, 10)  # the batch axis is dynamic


def test_image_folder_dataset_and_hub_model(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(0)
    for split, n in (('train', 8), ('val', 4)):
        for cls, level in (('dark', 40), ('light', 215)):
            os.makedirs(tmp_path / 'data' / split / cls)
            for i in range(n):
                pixels = np.clip(level + rng.integers(-30, 30, (16, 16, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(tmp_path / 'data' / split / cls / f'{i}.png')
    cfg = _cfg(epochs=1, batch_size=8, dataset={'name': 'image_folder', 'root': str(tmp_path / 'data'),
                                                'val_split': 0.25},
               model={'name': 'resnet18', 'kwargs': {'num_classes': 2}, 'freeze': ['conv1', 'layer1']})
    cfg['transforms']['train'] = [{'name': 'ToTensor'}]
    assert train(cfg, output=str(tmp_path / 'run'), **quiet) == 0
    ck = ember.load(str(tmp_path / 'run' / 'last.pt'), weights_only=False)
    assert ck['classes'] == ['dark', 'light'] and ck['image_mode'] == 'RGB'
    result = train_mod.predict(validate(cfg), str(tmp_path / 'run' / 'last.pt'),
                               [str(tmp_path / 'data' / 'val' / 'light' / '0.png')], topk=2, **quiet)[0]
    assert {name for name, _ in result} == {'dark', 'light'}
    with pytest.raises(ValueError, match="model.name: unknown model 'resnet7'"):
        build_model(validate({'model': {'name': 'resnet7'}}))
