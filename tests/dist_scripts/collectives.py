"""Run under 2+ MPI processes: every collective's values for every op and dtype, checked against NumPy
on the inputs all ranks can compute. Rank 0 prints ``RESULT <json list of failures>``."""
import json
import sys
import warnings

import numpy as np

import ember
import ember.distributed as dist
from ember.distributed import ReduceOp

dist.init_process_group('gloo')
rank, n = dist.get_rank(), dist.get_world_size()
failures = []
DTYPES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64']
OPS = {'SUM': np.add.reduce, 'PRODUCT': np.multiply.reduce, 'MIN': np.minimum.reduce, 'MAX': np.maximum.reduce,
       'AVG': lambda a, axis: np.add.reduce(a, axis=axis) / len(a), 'BAND': np.bitwise_and.reduce,
       'BOR': np.bitwise_or.reduce, 'BXOR': np.bitwise_xor.reduce}
BOOL_OPS = {'SUM': np.logical_or.reduce, 'MAX': np.logical_or.reduce, 'BOR': np.logical_or.reduce,
            'PRODUCT': np.logical_and.reduce, 'MIN': np.logical_and.reduce, 'BAND': np.logical_and.reduce,
            'BXOR': np.logical_xor.reduce}


def data(r, dtype, shape=(2, 3)):
    """Rank ``r``'s input: small values so that products fit in int8."""
    k = int(np.prod(shape))
    a = (np.arange(k) * (r + 2) + r) % 7 + 1
    return (a % 2 == 0 if dtype == 'bool' else a.astype(dtype)).reshape(shape)


def check(name, got, want):
    got = got.numpy() if isinstance(got, ember.Tensor) else np.asarray(got)
    want = np.asarray(want)
    if got.dtype != want.dtype or got.shape != want.shape or not np.allclose(got, want, rtol=1e-3):
        failures.append(f'rank {rank} {name}: got {got.dtype} {got.tolist()} want {want.dtype} {want.tolist()}')


def raises(name, exc, fn):
    try:
        fn()
    except exc:
        return
    except Exception as e:  # noqa: BLE001
        failures.append(f'rank {rank} {name}: raised {type(e).__name__}: {e}')
        return
    failures.append(f'rank {rank} {name}: did not raise {exc.__name__}')


def allin(dtype, shape=(2, 3)):
    return np.stack([data(r, dtype, shape) for r in range(n)])


for dtype in DTYPES:
    kind = np.dtype(dtype).kind
    for opname in OPS:
        op = getattr(ReduceOp, opname)
        valid = (opname in BOOL_OPS if kind == 'b' else
                 opname != 'AVG' if kind in 'iu' else opname not in ('BAND', 'BOR', 'BXOR'))
        x = ember.from_numpy(data(rank, dtype).copy())
        if not valid:
            raises(f'all_reduce {opname} {dtype}', RuntimeError, lambda: dist.all_reduce(x, op))
            continue
        ref = (BOOL_OPS if kind == 'b' else OPS)[opname](allin(dtype), axis=0).astype(dtype)
        dist.all_reduce(x, op)
        check(f'all_reduce {opname} {dtype}', x, ref)
        y = ember.from_numpy(data(rank, dtype).copy())
        dist.reduce(y, dst=n - 1, op=op)
        check(f'reduce {opname} {dtype}', y, ref if rank == n - 1 else data(rank, dtype))
        out = ember.from_numpy(np.zeros((2, 3), dtype))
        dist.reduce_scatter_tensor(out, ember.from_numpy(np.concatenate([data(rank, dtype)] * n)), op)
        check(f'reduce_scatter_tensor {opname} {dtype}', out, ref)
    b = ember.from_numpy(data(rank, dtype).copy())
    dist.broadcast(b, src=n - 1)
    check(f'broadcast {dtype}', b, data(n - 1, dtype))
    got = [ember.from_numpy(np.zeros((2, 3), dtype)) for _ in range(n)]
    dist.all_gather(got, ember.from_numpy(data(rank, dtype)))
    check(f'all_gather {dtype}', ember.stack(got), allin(dtype))
    cat = ember.from_numpy(np.zeros((2 * n, 3), dtype))
    dist.all_gather_into_tensor(cat, ember.from_numpy(data(rank, dtype)))
    check(f'all_gather_into_tensor concat {dtype}', cat, np.concatenate(allin(dtype)))
    stacked = ember.from_numpy(np.zeros((n, 2, 3), dtype))
    dist.all_gather_into_tensor(stacked, ember.from_numpy(data(rank, dtype)))
    check(f'all_gather_into_tensor stack {dtype}', stacked, allin(dtype))
    lst = [ember.from_numpy(np.zeros((2, 3), dtype)) for _ in range(n)] if rank == 0 else None
    dist.gather(ember.from_numpy(data(rank, dtype)), lst, dst=0)
    if rank == 0:
        check(f'gather {dtype}', ember.stack(lst), allin(dtype))
    s = ember.from_numpy(np.zeros((2, 3), dtype))
    dist.scatter(s, [ember.from_numpy(data(r, dtype)) for r in range(n)] if rank == 0 else None, src=0)
    check(f'scatter {dtype}', s, data(rank, dtype))

# Shapes: 0-d, empty, non-contiguous (written back into the base), and a view's version bump.
z = ember.tensor(float(rank + 1))
dist.all_reduce(z)
check('all_reduce 0-d', z, np.float32(n * (n + 1) / 2))
e = ember.zeros(0, 3)
dist.all_reduce(e)
check('all_reduce empty', e, np.zeros((0, 3), np.float32))
base = ember.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4) + rank)
view = base.t()[::2]
v0 = base._version
dist.all_reduce(view, ReduceOp.MAX)
want = np.arange(12, dtype=np.float32).reshape(3, 4) + rank
want[:, ::2] = (np.arange(12, dtype=np.float32).reshape(3, 4) + n - 1)[:, ::2]
check('all_reduce non-contiguous', base, want)
if base._version == v0:
    failures.append(f'rank {rank} all_reduce non-contiguous: version not bumped')
nc = ember.from_numpy(np.zeros((3, 2 * n), np.float32)).t()
dist.all_gather_into_tensor(nc, ember.from_numpy(data(rank, 'float32')))
check('all_gather_into_tensor non-contiguous output', nc, np.concatenate(allin('float32')))

# async_op
a = ember.ones(5) * (rank + 1)
work = dist.all_reduce(a, ReduceOp.AVG, async_op=True)
work.wait()
check('async all_reduce AVG', a, np.full(5, (n + 1) / 2, np.float32))
if not work.is_completed() or not work.is_success() or work.result()[0] is not a:
    failures.append(f'rank {rank} Work: completed/result wrong')
works = [dist.broadcast(ember.full((3,), float(rank)), src=0, async_op=True) for _ in range(3)]
if not all(w.wait() for w in works):
    failures.append(f'rank {rank} async broadcast: wait() did not return True')
check('barrier returns None', np.array(dist.barrier() is None), np.array(True))
dist.barrier(async_op=True).wait()

# reduce_scatter with lists
rs = ember.zeros(4, dtype=ember.int64)
dist.reduce_scatter(rs, [ember.full((4,), (r + 1) * (rank + 1), dtype=ember.int64) for r in range(n)])
check('reduce_scatter', rs, np.full(4, (rank + 1) * n * (n + 1) // 2, np.int64))

# point to point
if rank == 0:
    dist.send(ember.arange(4.0), dst=1)
    back = ember.zeros(4)
    src = dist.recv(back)
    check('recv any source', np.array(src), np.array(1))
    check('send/recv round trip', back, np.arange(4, dtype=np.float32) * 2)
    w = dist.isend(ember.tensor([7, 8], dtype=ember.int32), dst=1, tag=5)
    w.wait()
elif rank == 1:
    got = ember.zeros(4)
    check('recv returns sender', np.array(dist.recv(got, src=0)), np.array(0))
    dist.send(got * 2, dst=0)
    r = ember.zeros(2, dtype=ember.int32)
    w = dist.irecv(r, src=0, tag=5)
    w.wait()
    check('irecv', r, np.array([7, 8], np.int32))
    check('irecv source_rank', np.array(w.source_rank()), np.array(0))
raises('send to self', ValueError, lambda: dist.send(ember.zeros(1), dst=rank))

# objects
objs = [None] * n
dist.all_gather_object(objs, {'rank': rank, 'name': f'r{rank}'})
check('all_gather_object', np.array([o['rank'] for o in objs]), np.arange(n))
lst = [rank, 'x', {'k': rank}] if rank == 1 else [None, None, None]
dist.broadcast_object_list(lst, src=1)
check('broadcast_object_list', np.array([lst[0], lst[2]['k']]), np.array([1, 1]))
gathered = [None] * n if rank == 0 else None
dist.gather_object(('g', rank), gathered, dst=0)
if rank == 0:
    check('gather_object', np.array([g[1] for g in gathered]), np.arange(n))
out = [None]
dist.scatter_object_list(out, [f'item{r}' for r in range(n)] if rank == 0 else None, src=0)
check('scatter_object_list', np.array(out[0] == f'item{rank}'), np.array(True))

# groups: ranks are sorted; src/dst are global ranks; non-members get -1 and no-ops
last = dist.new_group([n - 1])
both = dist.new_group(list(reversed(range(n))))
local = dist.new_group([0, n - 1], use_local_synchronization=True) if rank in (0, n - 1) else None
check('group ranks', np.array(dist.get_process_group_ranks(both)), np.arange(n))
if rank == n - 1:
    check('get_rank(group)', np.array(dist.get_rank(last)), np.array(0))
    check('get_world_size(group)', np.array(dist.get_world_size(last)), np.array(1))
else:
    if last is not dist.GroupMember.NON_GROUP_MEMBER:
        failures.append(f'rank {rank} new_group: a non-member got {last!r}')
    check('get_rank(non-member)', np.array(dist.get_rank(last)), np.array(-1))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter('always')
        check('all_reduce on non-member returns None', np.array(dist.all_reduce(ember.ones(1), group=last) is None),
              np.array(True))
g = ember.full((2,), float(rank))
dist.broadcast(g, src=n - 1, group=both)
check('broadcast on group with global src', g, np.full(2, n - 1, np.float32))
if local is not None:
    t = ember.ones(3)
    dist.all_reduce(t, group=local)
    check('all_reduce on local group', t, np.full(3, 2.0 if n > 1 else 1.0, np.float32))
check('get_backend', np.array(dist.get_backend() == 'mpi'), np.array(True))

# errors
raises('all_gather list length', ValueError, lambda: dist.all_gather([ember.zeros(1)], ember.zeros(1)) if n > 1
       else (_ for _ in ()).throw(ValueError()))
raises('all_reduce not a tensor', TypeError, lambda: dist.all_reduce(np.zeros(3)))
raises('init twice', ValueError, lambda: dist.init_process_group())
if rank != 0:
    raises('gather_list on non-dst', ValueError,
           lambda: dist.gather(ember.zeros(1), [ember.zeros(1)] * n, dst=0))
else:
    raises('gather_list missing on dst', ValueError, lambda: dist.gather(ember.zeros(1), None, dst=0))
dist.barrier()

# DistributedDataParallel refuses models that differ between ranks, on every rank.
try:
    ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(4, 4 + rank))
    failures.append(f'rank {rank} DDP shape mismatch: no error')
except RuntimeError as err:
    print(f'rank {rank} DDP error: {err}', flush=True)

all_failures = [None] * n
dist.all_gather_object(all_failures, failures)
if rank == 0:
    print('RESULT ' + json.dumps(sum(all_failures, [])), flush=True)
dist.destroy_process_group()
print(f'rank {rank} initialized after destroy: {dist.is_initialized()}', flush=True)
sys.stdout.flush()
