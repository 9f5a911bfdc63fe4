"""``DistributedDataParallel``: one model replica per process, gradients averaged across processes.

How a step runs. At construction every rank checks that all ranks hold parameters of the same names,
shapes and dtypes, then takes rank 0's parameters and buffers, so that all replicas start equal.
The parameters are split into buckets in reverse registration order (the order backward usually
produces their gradients; the first bucket holds about 1 MB, the others ``bucket_cap_mb``), each a
flat NumPy array per dtype. Each parameter has a post-accumulate-grad hook: when backward has
accumulated its gradient, the hook copies ``grad / world_size`` into the parameter's slice of its
bucket, and once every parameter of a bucket is in, the bucket's sum across ranks starts as a
non-blocking MPI all-reduce (buckets always start in index order, so every rank issues the same
sequence of collectives). When the last bucket has started, the hook waits for all of them and
copies the averaged slices back into the ``.grad`` of every parameter, before backward returns.
With ``find_unused_parameters`` the forward pass walks the autograd graph from the outputs and marks
the parameters it does not reach as ready straight away; parameters no rank used keep their ``.grad``.
"""
import contextlib
import weakref

import numpy as np

from ..._tensor import Tensor, _wrap
from ...autograd.grad_mode import _grad_enabled
from ...autograd.graph import AccumulateGrad
from ..modules.module import Module

__all__ = ['DistributedDataParallel']

_FIRST_BUCKET_BYTES = 1024 * 1024


def _bucket_assignment(params, limits):
    """Indices of ``params`` grouped into buckets, PyTorch's way: walk the parameters from last to
    first, one open bucket per dtype, closing a bucket once it holds at least the current size limit
    (``limits[0]`` for a dtype's first bucket, then ``limits[1]``)."""
    buckets, open_ = [], {}
    for i in reversed(range(len(params))):
        a = params[i]._data
        entry = open_.setdefault(a.dtype, [[], 0, 0])
        entry[0].append(i)
        entry[1] += a.nbytes
        if entry[1] >= limits[min(entry[2], len(limits) - 1)]:
            buckets.append(entry[0])
            open_[a.dtype] = [[], 0, entry[2] + 1]
    buckets.extend(e[0] for e in open_.values() if e[0])
    return sorted(buckets, key=lambda b: -b[0])


class _Bucket:
    __slots__ = ('indices', 'offsets', 'flat', 'pending', 'request')

    def __init__(self, indices, params):
        self.indices = indices
        sizes = [params[i]._data.size for i in indices]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.flat = np.zeros(self.offsets[-1], params[indices[0]]._data.dtype)
        self.pending = len(indices)
        self.request = None


def _output_tensors(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _output_tensors(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _output_tensors(o, out)
    return out


class DistributedDataParallel(Module):
    """Data parallelism across the processes of ``process_group`` (default: the world), as PyTorch's
    ``DistributedDataParallel``: each process runs ``module`` on its own part of every batch, and
    backward leaves every replica with the gradient averaged over all processes, so that identical
    optimizer steps keep the replicas identical. See the module docstring for how.

    Args:
        module: the model; ``self.module`` is it, and ``state_dict()`` keys carry the ``module.`` prefix.
        device_ids, output_device: must be ``None`` (CPU modules), as in PyTorch.
        dim: the batch dimension (recorded; inputs are not split, each process passes its own).
        broadcast_buffers: take rank 0's buffers at construction and before every forward (default ``True``).
        init_sync: take rank 0's parameters (and buffers) at construction (default ``True``).
        process_group: the group to average over (default: the world).
        bucket_cap_mb: bucket size in MB (default 25; the first bucket holds about 1 MB).
        find_unused_parameters: find, after each forward, the parameters that the output does not depend
            on and count them as ready; without it such a parameter makes the next forward raise.
        check_reduction: deprecated in PyTorch; ignored.
        gradient_as_bucket_view: make each ``.grad`` a view into its bucket instead of copying back.
        static_graph: accepted; the reducer behaves the same for a static graph.
        forward_sync_buffers: when given, replaces ``broadcast_buffers`` for the per-forward broadcast.

    ``delay_all_reduce_named_params``, ``param_to_hook_all_reduce``, ``mixed_precision``, ``device_mesh``,
    ``skip_all_reduce_unused_params``, ``bucket_cap_mb_list`` and ``batched_grad_copy`` raise
    NotImplementedError when set. Parameters named in ``module._ddp_params_and_buffers_to_ignore``
    are left alone.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False, bucket_cap_mb_list=None, batched_grad_copy=False,
                 forward_sync_buffers=None):
        super().__init__()
        for name, value in (('delay_all_reduce_named_params', delay_all_reduce_named_params),
                            ('param_to_hook_all_reduce', param_to_hook_all_reduce),
                            ('mixed_precision', mixed_precision), ('device_mesh', device_mesh),
                            ('bucket_cap_mb_list', bucket_cap_mb_list)):
            if value is not None:
                raise NotImplementedError(f'DistributedDataParallel: {name} is not supported')
        for name, value in (('skip_all_reduce_unused_params', skip_all_reduce_unused_params),
                            ('batched_grad_copy', batched_grad_copy)):
            if value:
                raise NotImplementedError(f'DistributedDataParallel: {name} is not supported')
        from ...distributed.process_group import _default_group, _mpi
        self.process_group = _default_group() if process_group is None else process_group
        ignore = set(getattr(module, '_ddp_params_and_buffers_to_ignore', ()))
        self.parameters_to_ignore = ignore
        named = [(n, p) for n, p in module.named_parameters() if n not in ignore]
        if not any(p.requires_grad for _, p in named):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               'that requires a gradient.')
        if device_ids or output_device is not None:
            raise ValueError('DistributedDataParallel device_ids and output_device arguments only work with '
                             'single-device/multiple-device GPU modules or CPU modules, but got device_ids '
                             f'{device_ids}, output_device {output_device}, and module parameters '
                             "{device(type='cpu')}.")
        self.module = module
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.forward_sync_buffers = broadcast_buffers if forward_sync_buffers is None else forward_sync_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._mpi = _mpi()
        self._comm = self.process_group._comm
        self._world = self._comm.Get_size()
        self._verify_same_parameters(named)
        self._buffers_to_sync = [b for n, b in module.named_buffers() if n not in ignore]
        if init_sync:
            self._broadcast([p for _, p in named] + (self._buffers_to_sync if broadcast_buffers else []))
        self._params = [p for _, p in named if p.requires_grad]
        self._param_names = [n for n, p in named if p.requires_grad]
        self._buckets = [_Bucket(idx, self._params)
                         for idx in _bucket_assignment(self._params, [_FIRST_BUCKET_BYTES, self.bucket_bytes_cap])]
        self._where = {}
        for b, bucket in enumerate(self._buckets):
            for k, i in enumerate(bucket.indices):
                self._where[i] = (b, k)
        self._ready = [False] * len(self._params)
        self._expecting = self._started = False
        self._next_bucket = 0
        me = weakref.ref(self)
        self._hook_handles = [p.register_post_accumulate_grad_hook(_grad_ready_hook(me, i))
                              for i, p in enumerate(self._params)]

    def _verify_same_parameters(self, named):
        """Raise on every rank, naming the differences, unless all ranks hold the same parameters."""
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
        everyone = self._comm.allgather(mine)
        problems = []
        for r, theirs in enumerate(everyone[1:], 1):
            if len(theirs) != len(everyone[0]):
                problems.append(f'rank {r} has {len(theirs)} parameters, rank 0 has {len(everyone[0])}')
            for (n0, s0, d0), (n, s, d) in zip(everyone[0], theirs):
                if (n0, s0, d0) != (n, s, d):
                    problems.append(f'rank {r} {n} {list(s)} {d} vs rank 0 {n0} {list(s0)} {d0}')
        if problems:
            raise RuntimeError('DistributedDataParallel: the model differs between ranks (every rank must build '
                               'the same parameters): ' + '; '.join(problems[:10])
                               + (f'; and {len(problems) - 10} more' if len(problems) > 10 else ''))

    def _broadcast(self, tensors):
        """Overwrite ``tensors`` with rank 0's, one flat message per dtype."""
        if self._world == 1 or not tensors:
            return
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dtype, group in by_dtype.items():
            flat = np.concatenate([t._data.reshape(-1) for t in group]) if group else np.empty(0, dtype)
            self._comm.Bcast(flat, 0)
            if self._comm.Get_rank() != 0:
                off = 0
                for t in group:
                    n = t._data.size
                    np.copyto(t._data, flat[off:off + n].reshape(t._data.shape))
                    t._vc[0] += 1
                    off += n

    # ---- forward --------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._expecting and self._started:
            missing = [self._param_names[i] for i, r in enumerate(self._ready) if not r]
            raise RuntimeError('Expected to have finished reduction in the prior iteration before starting a new '
                               'one. This error indicates that your module has parameters that were not used in '
                               'producing loss. You can enable unused parameter detection by passing the keyword '
                               'argument `find_unused_parameters=True` to `DistributedDataParallel`, and by making '
                               'sure all `forward` function outputs participate in calculating loss. Parameters '
                               f'that did not receive a gradient: {", ".join(missing)}')
        if self.forward_sync_buffers and self.require_forward_param_sync:
            self._broadcast(self._buffers_to_sync)
        out = self.module(*inputs, **kwargs)
        if _grad_enabled() and self.require_backward_grad_sync:
            self._prepare_for_backward(out)
        return out

    def _prepare_for_backward(self, out):
        self._expecting = True
        self._started = False
        self._next_bucket = 0
        self._ready = [False] * len(self._params)
        for bucket in self._buckets:
            bucket.pending = len(bucket.indices)
            bucket.request = None
        self._used = np.ones(len(self._params), np.int32)
        if self.find_unused_parameters:
            reached = set()
            stack = [t.grad_fn for t in _output_tensors(out, []) if t.grad_fn is not None]
            seen = set(stack)
            while stack:
                node = stack.pop()
                if type(node) is AccumulateGrad:
                    reached.add(id(node.variable))
                for nxt, _ in node.next_functions:
                    if nxt is not None and nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
            for i, p in enumerate(self._params):
                if id(p) not in reached:
                    self._used[i] = 0
                    self._mark_ready(i, launch=False)

    # ---- backward: the reducer ------------------------------------------------------------------
    def _mark_ready(self, i, launch=True):
        """Parameter ``i``'s gradient is final for this iteration: put it into its bucket, and with
        ``launch`` start every bucket that is complete (buckets of unused parameters marked during
        the forward wait for the first gradient, so that a forward without backward starts nothing)."""
        if not self._expecting:
            return
        if self._ready[i]:
            raise RuntimeError(f'Expected to mark a variable ready only once. Parameter {self._param_names[i]} '
                               'received its gradient twice in one iteration (a second backward through the '
                               'same forward, or a parameter used in a reentrant backward).')
        self._ready[i] = True
        b, k = self._where[i]
        bucket = self._buckets[b]
        grad = self._params[i]._grad
        dst = bucket.flat[bucket.offsets[k]:bucket.offsets[k + 1]]
        if grad is None:
            dst[...] = 0
        else:
            np.multiply(grad._data.reshape(-1), 1 / self._world, out=dst, casting='unsafe')
        bucket.pending -= 1
        if launch:
            self._started = True
            self._launch_ready_buckets()

    def _launch_ready_buckets(self):
        MPI = self._mpi
        buckets = self._buckets
        while self._next_bucket < len(buckets) and buckets[self._next_bucket].pending == 0:
            bucket = buckets[self._next_bucket]
            bucket.request = self._comm.Iallreduce(MPI.IN_PLACE, bucket.flat, MPI.SUM)
            self._next_bucket += 1
        if self._next_bucket == len(buckets):
            self._finish_reduction()
        else:
            # MPI moves non-blocking collectives forward only inside MPI calls
            MPI.Request.Testall([b.request for b in buckets[:self._next_bucket]])

    def _finish_reduction(self):
        self._mpi.Request.Waitall([b.request for b in self._buckets])
        used = self._used
        if self.find_unused_parameters and self._world > 1:
            self._comm.Allreduce(self._mpi.IN_PLACE, used, self._mpi.MAX)
        for bucket in self._buckets:
            for k, i in enumerate(bucket.indices):
                if not used[i]:
                    continue
                p = self._params[i]
                avg = bucket.flat[bucket.offsets[k]:bucket.offsets[k + 1]].reshape(p._data.shape)
                if self.gradient_as_bucket_view:
                    p._grad = _wrap(avg)
                elif p._grad is None or not p._grad._data.flags.writeable:
                    p._grad = _wrap(avg.copy())
                else:
                    np.copyto(p._grad._data, avg)
                    p._grad._vc[0] += 1
        self._expecting = False

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally without averaging; the first backward after
        it averages the accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old


def _grad_ready_hook(ddp_ref, i):
    def hook(param):
        ddp = ddp_ref()
        if ddp is not None:
            ddp._mark_ready(i)
    return hook
