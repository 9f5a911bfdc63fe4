"""`ember train` / `ember eval`: config validation, a tiny Digits run, resume equivalence, Ctrl-C, eval."""
import csv
import json
import os

import pytest

import ember
from ember.cli import main
from ember.cli.config import ConfigError, apply_overrides, load_config, validate
from ember.cli.train import train

TINY = {
    'dataset': {'name': 'digits', 'val_split': 0.25, 'subset': 96},
    'transforms': {'train': [{'name': 'ToTensor'}], 'eval': [{'name': 'ToTensor'}]},
    'model': {'name': 'ember.cli.models:digits_cnn', 'kwargs': {'width': 4}},
    'optimizer': {'name': 'SGD', 'lr': 0.1, 'kwargs': {'momentum': 0.9}},
    'scheduler': {'name': 'StepLR', 'kwargs': {'step_size': 1, 'gamma': 0.5}},
    'batch_size': 24, 'epochs': 2, 'seed': 3,
    'logging': {'progress': False, 'plots': False},
}


def _cfg(**changes):
    cfg = json.loads(json.dumps(TINY))
    cfg.update(changes)
    return cfg


def _rows(path):
    with open(os.path.join(path, 'metrics.csv')) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize('data, message', [
    ({'optimzer': {}}, "optimzer: unknown key"),
    ({'optimizer': {'lr': 'fast'}}, "optimizer.lr: expected float or int, got str"),
    ({'optimizer': {'betas': [0.9]}}, "optimizer.betas: unknown key"),
    ({'epochs': 2.5}, "epochs: expected int, got float"),
    ({'epochs': True}, "epochs: expected int, got bool"),
    ({'logging': {'csv': 'yes'}}, "logging.csv: expected bool, got str"),
    ({'dataset': 'digits'}, "dataset: expected a mapping, got str"),
    ({'checkpoint': {'mode': 'up'}}, "checkpoint.mode: expected one of"),
    ({'metrics': ['f1']}, "metrics[0]: expected one of"),
    ({'transforms': {'train': [{'name': 'ToTensor', 'p': 1}]}}, "transforms.train[0].p: unknown key"),
    ({'dataset': {'val_split': 1.5}}, "dataset.val_split: expected a float in [0, 1)"),
])
def test_validation_errors(data, message):
    with pytest.raises(ConfigError) as err:
        validate(data)
    assert message in str(err.value)


def test_defaults_and_overrides(tmp_path):
    cfg = validate(apply_overrides({}, ['optimizer.lr=0.5', 'scheduler.name=StepLR', 'logging.csv=false']))
    assert cfg['optimizer']['lr'] == 0.5 and cfg['scheduler']['name'] == 'StepLR' and cfg['logging']['csv'] is False
    assert cfg['batch_size'] == 64 and cfg['dataset']['name'] == 'digits'
    here = os.path.join(os.path.dirname(ember.__file__), 'cli', 'configs')
    assert validate(load_config(os.path.join(here, 'digits.yaml'))) == validate(
        load_config(os.path.join(here, 'digits.json')))


def test_cli_rejects_bad_config(tmp_path, capsys):
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps({'model': {'kwargs': []}}))
    assert main(['train', str(path)]) == 2
    assert 'model.kwargs: expected dict, got list' in capsys.readouterr().err


def test_train_writes_outputs_and_is_deterministic(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    assert train(_cfg(), output=str(a), log=lambda s: None) == 0
    assert train(_cfg(), output=str(b), log=lambda s: None) == 0
    for name in ('metrics.csv', 'last.pt', 'best.pt', 'test_metrics.json'):
        assert (a / name).exists(), name
    rows = _rows(a)
    assert [r['epoch'] for r in rows] == ['1', '2']
    assert float(rows[1]['lr']) == pytest.approx(0.05)
    assert set(rows[0]) >= {'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'val_top5'}
    assert rows == _rows(b)
    ck = ember.load(str(a / 'last.pt'), weights_only=False)
    assert ck['epoch'] == 2 and set(ck) >= {'model', 'optimizer', 'scheduler', 'rng', 'config', 'history'}


def test_resume_matches_uninterrupted_run(tmp_path):
    full, part = tmp_path / 'full', tmp_path / 'part'
    train(_cfg(epochs=3), output=str(full), log=lambda s: None)
    train(_cfg(epochs=1), output=str(part), log=lambda s: None)
    train(_cfg(epochs=3), output=str(part), resume=str(part / 'last.pt'), log=lambda s: None)
    assert _rows(full) == _rows(part)
    w_full = ember.load(str(full / 'last.pt'), weights_only=False)['model']
    w_part = ember.load(str(part / 'last.pt'), weights_only=False)['model']
    for k in w_full:
        assert ember.equal(w_full[k], w_part[k]), k


def test_keyboard_interrupt_saves_last_and_exits_130(tmp_path):
    def stop(i, loss):
        if i == 1:
            raise KeyboardInterrupt
    assert train(_cfg(), output=str(tmp_path), on_batch_end=stop, log=lambda s: None) == 130
    assert ember.load(str(tmp_path / 'last.pt'), weights_only=False)['epoch'] == 0


def test_eval_command(tmp_path, capsys):
    cfg_path = tmp_path / 'tiny.json'
    cfg_path.write_text(json.dumps(_cfg(epochs=1)))
    out = tmp_path / 'run'
    assert main(['train', str(cfg_path), '--output', str(out)]) == 0
    capsys.readouterr()
    assert main(['eval', str(cfg_path), '--checkpoint', str(out / 'best.pt')]) == 0
    printed = capsys.readouterr().out
    expected = json.loads((out / 'test_metrics.json').read_text())
    assert f"test_accuracy {expected['test_accuracy']:.4f}" in printed
