"""Collectives and point-to-point messages over MPI, with ``torch.distributed``'s signatures.

A tensor travels as its NumPy array through mpi4py's buffer interface (upper-case ``Iallreduce``,
``Ibcast``, ... with the MPI datatype taken from the array), never pickled; only the ``*_object``
functions pickle. With ``async_op=True`` a call starts MPI's non-blocking twin of the collective
(``Iallreduce`` for ``Allreduce``) and returns a ``Work`` to ``wait()`` on; otherwise it runs the
blocking one. A tensor that is
not C-contiguous is sent from a contiguous copy, and results are written back into it when the
operation completes. As in PyTorch, every process of a group must call the same collectives in the
same order; ranks named by ``src``/``dst`` are global ranks, ``group_src``/``group_dst`` ranks within
``group``.
"""
import enum
import warnings

import numpy as np

from .._tensor import Tensor
from .process_group import _mpi, _resolve, get_global_rank, get_group_rank

__all__ = ['ReduceOp', 'Work', 'all_reduce', 'reduce', 'broadcast', 'all_gather', 'all_gather_into_tensor',
           'reduce_scatter', 'reduce_scatter_tensor', 'gather', 'scatter', 'all_to_all_single', 'send', 'recv',
           'isend', 'irecv', 'barrier', 'all_gather_object', 'broadcast_object_list', 'gather_object',
           'scatter_object_list']


class ReduceOp:
    """How ``all_reduce``, ``reduce`` and ``reduce_scatter`` combine values: ``ReduceOp.SUM``, ``AVG``
    (floating-point tensors), ``PRODUCT``, ``MIN``, ``MAX``, ``BAND``, ``BOR``, ``BXOR`` (integer and bool
    tensors). On bool tensors SUM and MAX are a logical or, PRODUCT and MIN a logical and."""

    class RedOpType(enum.Enum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8
        UNUSED = 9

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until it has completed and its
    results are in the output tensors; ``is_completed()`` asks without blocking."""

    def __init__(self, requests, finish=None, outputs=(), status=None):
        self._requests = requests
        self._finish = finish
        self._outputs = list(outputs)
        self._statuses = None if status is None else [status]
        self._source = None
        self._done = False

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None

    def wait(self, timeout=None) -> bool:
        """Block until the operation has completed (``timeout`` is accepted; MPI waits without one)."""
        if not self._done:
            _mpi().Request.Waitall(self._requests, self._statuses)
            self._complete()
        return True

    def is_completed(self) -> bool:
        if not self._done and _mpi().Request.Testall(self._requests, self._statuses):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def exception(self):
        return None

    def result(self) -> list:
        """The output tensors, once complete."""
        self.wait()
        return self._outputs

    def source_rank(self) -> int:
        """For a completed ``irecv``: the global rank the message came from."""
        if self._statuses is None:
            raise ValueError('source_rank is only available for recv operations')
        self.wait()
        return self._source


def _check_single_tensor(param, name):
    if not isinstance(param, Tensor):
        raise TypeError(f'Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n'
                        f'             but got {type(param)} instead.')


def _check_tensor_list(param, name):
    if not isinstance(param, list):
        raise TypeError(f'Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n'
                        f'             but got {type(param)} instead.')
    if not all(isinstance(p, Tensor) for p in param):
        raise TypeError(f'Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n'
                        f'             but got {type(param)} with elements of type {[type(p) for p in param]}.')


def _send_buffer(t):
    """``t``'s array as a contiguous buffer to read from."""
    return np.ascontiguousarray(t._data)


def _recv_buffer(t):
    """``(buffer, finish)``: a contiguous array that receives ``t``'s new values, and the step that
    makes them ``t``'s (a copy back for a non-contiguous ``t``) and bumps its version."""
    a = t._data
    if a.flags.c_contiguous and a.flags.writeable:
        def finish():
            t._vc[0] += 1
        return a, finish
    buf = np.array(a, order='C', copy=True)

    def finish():
        np.copyto(t._data, buf)
        t._vc[0] += 1
    return buf, finish


def _chain(*steps):
    def run():
        for s in steps:
            if s is not None:
                s()
    return run


def _start(pg, name, async_op, *args):
    """Run MPI's ``name`` collective on ``pg`` (blocking), or with ``async_op`` start its non-blocking
    twin (``I`` + name) and return its request: Open MPI's blocking collectives use faster algorithms
    than the non-blocking ones for large buffers."""
    if async_op:
        return [getattr(pg._comm, 'I' + name[0].lower() + name[1:])(*args)]
    getattr(pg._comm, name)(*args)
    return []


def _issue(requests, finish, async_op, outputs=(), status=None):
    work = Work(requests, finish, outputs, status)
    if async_op:
        return work
    work.wait()
    return None


def _not_member(name):
    warnings.warn(f'Running {name} on a rank which does not belong to the given group.', stacklevel=3)


def _mpi_op(op, dtype):
    """``(MPI op, average)`` for ``op`` on arrays of ``dtype``; PyTorch's errors for unsupported pairs."""
    MPI = _mpi()
    if not isinstance(op, ReduceOp.RedOpType):
        raise TypeError(f'op must be a ReduceOp, got {op!r}')
    kind = dtype.kind
    if op.name in ('PREMUL_SUM', 'UNUSED'):
        raise NotImplementedError(f'ReduceOp.{op.name} is not supported by the MPI backend')
    if op is ReduceOp.AVG:
        if kind != 'f':
            from .._dtype import _BY_NP
            raise RuntimeError(f'ReduceOp.AVG needs a floating-point tensor, got {_BY_NP[dtype]}')
        return MPI.SUM, True
    if kind == 'b':
        return {'SUM': MPI.LOR, 'MAX': MPI.LOR, 'BOR': MPI.LOR, 'PRODUCT': MPI.LAND, 'MIN': MPI.LAND,
                'BAND': MPI.LAND, 'BXOR': MPI.LXOR}[op.name], False
    if op.name in ('BAND', 'BOR', 'BXOR') and kind == 'f':
        raise RuntimeError(f'Cannot use ReduceOp.{op.name} with non-integral dtype')
    return {'SUM': MPI.SUM, 'PRODUCT': MPI.PROD, 'MIN': MPI.MIN, 'MAX': MPI.MAX, 'BAND': MPI.BAND,
            'BOR': MPI.BOR, 'BXOR': MPI.BXOR}[op.name], False


def _averager(buf, n, average):
    if not average:
        return None

    def run():
        np.divide(buf, n, out=buf, casting='unsafe')
    return run


def _group_rank(pg, rank, group_rank, name):
    """The group rank a call names by global ``rank`` or by ``group_rank`` (default: group rank 0)."""
    if group_rank is not None:
        if rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        if not 0 <= group_rank < pg.size():
            raise ValueError(f'Group rank {group_rank} is not part of group {pg}')
        return group_rank
    return 0 if rank is None else get_group_rank(pg, rank)


def _same_layout(tensors, ref, name):
    for t in tensors:
        if t._data.dtype != ref._data.dtype:
            raise ValueError(f'Invalid usage of tensors with different dtypes Found {t.dtype} and {ref.dtype}')
        if t._data.shape != ref._data.shape:
            raise ValueError(f'{name}: every tensor must have the shape {list(ref.shape)}, got {list(t.shape)}')


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` across the group with ``op``; every rank's ``tensor`` receives the result in place."""
    _check_single_tensor(tensor, 'tensor')
    pg = _resolve(group)
    if pg is None:
        return _not_member('all_reduce')
    buf, finish = _recv_buffer(tensor)
    mop, average = _mpi_op(op, buf.dtype)
    reqs = _start(pg, 'Allreduce', async_op, _mpi().IN_PLACE, buf, mop)
    return _issue(reqs, _chain(_averager(buf, pg.size(), average), finish), async_op, [tensor])


def reduce(tensor, dst: int | None = None, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst: int | None = None):
    """Combine ``tensor`` across the group with ``op`` into rank ``dst``'s ``tensor`` (others' are unchanged)."""
    _check_single_tensor(tensor, 'tensor')
    pg = _resolve(group)
    if pg is None:
        return _not_member('reduce')
    root = _group_rank(pg, dst, group_dst, 'dst')
    if pg.rank() == root:
        buf, finish = _recv_buffer(tensor)
        mop, average = _mpi_op(op, buf.dtype)
        reqs = _start(pg, 'Reduce', async_op, _mpi().IN_PLACE, buf, mop, root)
        return _issue(reqs, _chain(_averager(buf, pg.size(), average), finish), async_op, [tensor])
    buf = _send_buffer(tensor)
    reqs = _start(pg, 'Reduce', async_op, buf, None, _mpi_op(op, buf.dtype)[0], root)
    return _issue(reqs, None, async_op, [tensor])


def broadcast(tensor, src: int | None = None, group=None, async_op: bool = False, group_src: int | None = None):
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor`` (same shape and dtype on all)."""
    _check_single_tensor(tensor, 'tensor')
    pg = _resolve(group)
    if pg is None:
        return _not_member('broadcast')
    root = _group_rank(pg, src, group_src, 'src')
    if pg.rank() == root:
        reqs = _start(pg, 'Bcast', async_op, buf := _send_buffer(tensor), root)
        return _issue(reqs, lambda: buf, async_op, [tensor])
    buf, finish = _recv_buffer(tensor)
    return _issue(_start(pg, 'Bcast', async_op, buf, root), finish, async_op, [tensor])


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list[i]`` with rank ``i``'s ``tensor`` on every rank (all of one shape and dtype)."""
    _check_tensor_list(tensor_list, 'tensor_list')
    _check_single_tensor(tensor, 'tensor')
    pg = _resolve(group)
    if pg is None:
        return _not_member('all_gather')
    if len(tensor_list) != pg.size():
        raise ValueError(f'all_gather: tensor_list has {len(tensor_list)} tensors for a group of {pg.size()}')
    _same_layout(tensor_list, tensor, 'all_gather')
    src = _send_buffer(tensor)
    out = np.empty((pg.size(),) + src.shape, src.dtype)
    reqs = _start(pg, 'Allgather', async_op, src, out)
    return _issue(reqs, lambda: _scatter_rows(out, tensor_list), async_op, tensor_list)


def _scatter_rows(rows, tensors):
    for row, t in zip(rows, tensors):
        np.copyto(t._data, row)
        t._vc[0] += 1


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """Rank ``i``'s ``input_tensor`` becomes the ``i``-th block of ``output_tensor`` on every rank:
    ``output_tensor`` is ``(world_size * n, ...)`` (concatenated) or ``(world_size, n, ...)`` (stacked)."""
    _check_single_tensor(output_tensor, 'output_tensor')
    _check_single_tensor(input_tensor, 'input_tensor')
    pg = _resolve(group)
    if pg is None:
        return _not_member('all_gather_into_tensor')
    if output_tensor._data.dtype != input_tensor._data.dtype:
        raise ValueError(f'Invalid usage of tensors with different dtypes Found {output_tensor.dtype} and '
                         f'{input_tensor.dtype}')
    if output_tensor._data.size != pg.size() * input_tensor._data.size:
        raise ValueError('output tensor size must be equal to world_size times input tensor size')
    buf, finish = _recv_buffer(output_tensor)
    reqs = _start(pg, 'Allgather', async_op, _send_buffer(input_tensor), buf)
    return _issue(reqs, finish, async_op, [output_tensor])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``input_list[i]`` across the group with ``op`` into rank ``i``'s ``output``."""
    _check_single_tensor(output, 'output')
    _check_tensor_list(input_list, 'input_list')
    pg = _resolve(group)
    if pg is None:
        return _not_member('reduce_scatter')
    if len(input_list) != pg.size():
        raise ValueError(f'reduce_scatter: input_list has {len(input_list)} tensors for a group of {pg.size()}')
    _same_layout(input_list, output, 'reduce_scatter')
    send = np.stack([t._data for t in input_list]) if input_list else np.empty(0, output._data.dtype)
    return _reduce_scatter(pg, output, send, op, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``input`` (``world_size`` blocks of ``output``'s size) across the group with ``op``;
    rank ``i``'s ``output`` receives block ``i``."""
    _check_single_tensor(output, 'output')
    _check_single_tensor(input, 'input')
    pg = _resolve(group)
    if pg is None:
        return _not_member('reduce_scatter_tensor')
    if output._data.dtype != input._data.dtype:
        raise ValueError(f'Invalid usage of tensors with different dtypes Found {output.dtype} and {input.dtype}')
    if input._data.size != pg.size() * output._data.size:
        raise ValueError('input tensor must be the same size as output size times world size')
    return _reduce_scatter(pg, output, _send_buffer(input), op, async_op)


def _reduce_scatter(pg, output, send, op, async_op):
    buf, finish = _recv_buffer(output)
    mop, average = _mpi_op(op, buf.dtype)
    reqs = _start(pg, 'Reduce_scatter_block', async_op, send, buf, mop)
    return _issue(reqs, _chain(_averager(buf, pg.size(), average), finish), async_op, [output])


def gather(tensor, gather_list=None, dst: int | None = None, group=None, async_op: bool = False,
           group_dst: int | None = None):
    """Rank ``dst`` receives every rank's ``tensor`` into ``gather_list`` (given on ``dst`` only)."""
    _check_single_tensor(tensor, 'tensor')
    pg = _resolve(group)
    if pg is None:
        return _not_member('gather')
    root = _group_rank(pg, dst, group_dst, 'dst')
    src = _send_buffer(tensor)
    if pg.rank() == root:
        if not gather_list:
            raise ValueError('Argument ``gather_list`` must be specified on destination rank.')
        _check_tensor_list(gather_list, 'gather_list')
        if len(gather_list) != pg.size():
            raise ValueError(f'gather: gather_list has {len(gather_list)} tensors for a group of {pg.size()}')
        _same_layout(gather_list, tensor, 'gather')
        out = np.empty((pg.size(),) + src.shape, src.dtype)
        reqs = _start(pg, 'Gather', async_op, src, out, root)
        return _issue(reqs, lambda: _scatter_rows(out, gather_list), async_op, gather_list)
    if gather_list:
        raise ValueError('Argument ``gather_list`` must NOT be specified on non-destination ranks.')
    return _issue(_start(pg, 'Gather', async_op, src, None, root), None, async_op)


def scatter(tensor, scatter_list=None, src: int | None = None, group=None, async_op: bool = False,
            group_src: int | None = None):
    """Rank ``i``'s ``tensor`` receives ``scatter_list[i]`` from rank ``src`` (list given on ``src`` only)."""
    _check_single_tensor(tensor, 'tensor')
    pg = _resolve(group)
    if pg is None:
        return _not_member('scatter')
    root = _group_rank(pg, src, group_src, 'src')
    buf, finish = _recv_buffer(tensor)
    if pg.rank() == root:
        if not scatter_list:
            raise ValueError('Argument ``scatter_list`` must be specified on source rank.')
        _check_tensor_list(scatter_list, 'scatter_list')
        if len(scatter_list) != pg.size():
            raise ValueError(f'scatter: scatter_list has {len(scatter_list)} tensors for a group of {pg.size()}')
        _same_layout(scatter_list, tensor, 'scatter')
        send = np.stack([t._data for t in scatter_list])
        return _issue(_start(pg, 'Scatter', async_op, send, buf, root), finish, async_op, [tensor])
    if scatter_list:
        raise ValueError('Argument ``scatter_list`` must NOT be specified on non-source ranks.')
    return _issue(_start(pg, 'Scatter', async_op, None, buf, root), finish, async_op, [tensor])


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                      async_op: bool = False):
    """Split ``input`` along dim 0 (evenly, or by ``input_split_sizes``), send piece ``i`` to rank ``i``
    and concatenate what arrives into ``output`` (split by ``output_split_sizes``)."""
    _check_single_tensor(output, 'output')
    _check_single_tensor(input, 'input')
    pg = _resolve(group)
    if pg is None:
        return _not_member('all_to_all_single')
    n = pg.size()
    send = _send_buffer(input)
    buf, finish = _recv_buffer(output)
    if output_split_sizes is None and input_split_sizes is None:
        if send.size != buf.size or (send.shape[:1] and send.shape[0] % n):
            raise ValueError('all_to_all_single: input and output must have the same size, divisible by the '
                             'world size along dim 0')
        reqs = _start(pg, 'Alltoall', async_op, send, buf)
    else:
        row_in = int(np.prod(send.shape[1:], dtype=np.int64))
        row_out = int(np.prod(buf.shape[1:], dtype=np.int64))
        si = [send.shape[0] // n] * n if input_split_sizes is None else list(input_split_sizes)
        so = [buf.shape[0] // n] * n if output_split_sizes is None else list(output_split_sizes)
        if len(si) != n or len(so) != n or sum(si) != send.shape[0] or sum(so) != buf.shape[0]:
            raise ValueError('all_to_all_single: split sizes must have one entry per rank and add up to dim 0')
        counts_in, counts_out = [c * row_in for c in si], [c * row_out for c in so]
        reqs = _start(pg, 'Alltoallv', async_op, [send, (counts_in, np.cumsum([0] + counts_in[:-1]).tolist())],
                                  [buf, (counts_out, np.cumsum([0] + counts_out[:-1]).tolist())])
    return _issue(reqs, finish, async_op, [output])


def _peer(pg, rank, group_rank, what):
    if rank is None and group_rank is None:
        raise ValueError('Must specify global_rank or group_rank')
    peer = _group_rank(pg, rank, group_rank, what)
    if peer == pg.rank():
        raise ValueError(f'Invalid {what} rank: {what} rank should not be the same as the rank of the current '
                         'process.')
    return peer


def isend(tensor, dst: int | None = None, group=None, tag: int = 0, group_dst: int | None = None):
    """Start sending ``tensor`` to rank ``dst``; returns a ``Work``."""
    _check_single_tensor(tensor, 'tensor')
    pg = _resolve(group)
    if pg is None:
        return _not_member('isend')
    peer = _peer(pg, dst, group_dst, 'destination')
    buf = _send_buffer(tensor)
    return Work([pg._comm.Isend(buf, peer, tag)], lambda: buf)


def irecv(tensor, src: int | None = None, group=None, tag: int = 0, group_src: int | None = None):
    """Start receiving into ``tensor`` from rank ``src`` (any rank when ``None``); returns a ``Work``
    whose ``source_rank()`` names the sender."""
    _check_single_tensor(tensor, 'tensor')
    pg = _resolve(group)
    if pg is None:
        return _not_member('irecv')
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _peer(pg, src, group_src, 'source')
    buf, finish = _recv_buffer(tensor)
    status = MPI.Status()
    work = Work([pg._comm.Irecv(buf, peer, tag)], None, [tensor], status)

    def done():
        work._source = get_global_rank(pg, status.Get_source())
        finish()
    work._finish = done
    return work


def send(tensor, dst: int | None = None, group=None, tag: int = 0, group_dst: int | None = None) -> None:
    """Send ``tensor`` to rank ``dst`` and wait until it has left."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src: int | None = None, group=None, tag: int = 0, group_src: int | None = None) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank when ``None``); returns the sender's rank
    (-1 outside ``group``)."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    return work.source_rank()


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank of the group has called ``barrier``."""
    pg = _resolve(group)
    if pg is None:
        return _not_member('barrier')
    return _issue(_start(pg, 'Barrier', async_op), None, async_op)


def all_gather_object(object_list, obj, group=None) -> None:
    """Fill ``object_list[i]`` with rank ``i``'s picklable ``obj`` on every rank."""
    pg = _resolve(group)
    if pg is None:
        return _not_member('all_gather_object')
    object_list[:] = pg._comm.allgather(obj)


def broadcast_object_list(object_list, src: int | None = None, group=None, device=None,
                          group_src: int | None = None) -> None:
    """Replace every rank's ``object_list`` contents with rank ``src``'s (picklable objects; the list
    has the same length everywhere)."""
    pg = _resolve(group)
    if pg is None:
        return _not_member('broadcast_object_list')
    root = _group_rank(pg, src, group_src, 'src')
    object_list[:] = pg._comm.bcast(list(object_list) if pg.rank() == root else None, root)


def gather_object(obj, object_gather_list=None, dst: int | None = None, group=None,
                  group_dst: int | None = None) -> None:
    """Rank ``dst`` receives every rank's picklable ``obj`` into ``object_gather_list``."""
    pg = _resolve(group)
    if pg is None:
        return _not_member('gather_object')
    root = _group_rank(pg, dst, group_dst, 'dst')
    got = pg._comm.gather(obj, root)
    if pg.rank() == root:
        if object_gather_list is None:
            raise ValueError('Argument ``object_gather_list`` must be specified on destination rank.')
        object_gather_list[:] = got


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src: int | None = None,
                        group=None, group_src: int | None = None) -> None:
    """Rank ``i`` receives ``scatter_object_input_list[i]`` of rank ``src`` as
    ``scatter_object_output_list[0]``."""
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError('Expected argument scatter_object_output_list to be a list of size at least 1.')
    pg = _resolve(group)
    if pg is None:
        return _not_member('scatter_object_list')
    root = _group_rank(pg, src, group_src, 'src')
    scatter_object_output_list[0] = pg._comm.scatter(
        list(scatter_object_input_list) if pg.rank() == root else None, root)
