"""Run under 2 processes: ``ddp_train.py OUT_DIR``. Trains a small CNN with DistributedDataParallel for 20
steps (batch 32 per rank, DistributedSampler), checks that every rank ends with the same parameters,
exercises no_sync, find_unused_parameters and buffer broadcasting, and saves ``OUT_DIR/ckpt.pt`` from
rank 0 only."""
import os
import sys

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset

sys.path.insert(0, os.path.dirname(__file__))
from ddp_common import STEPS, BATCH, make_data, make_model  # noqa: E402

out_dir = sys.argv[1]
dist.init_process_group(backend='mpi')
rank, world = dist.get_rank(), dist.get_world_size()
env = {k: os.environ.get(k) for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR')}
print(f'rank {rank} env {env}', flush=True)

ember.manual_seed(100 + rank)  # different initial weights on each rank: DDP must take rank 0's
model = DDP(make_model())
x, y = make_data()
sampler = DistributedSampler(TensorDataset(x, y), shuffle=False)
loader = DataLoader(TensorDataset(x, y), batch_size=BATCH // world, sampler=sampler)
opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
steps = 0
for xb, yb in loader:
    opt.zero_grad()
    loss_fn(model(xb), yb).backward()
    opt.step()
    steps += 1
assert steps == STEPS, steps


def same_everywhere(tensors):
    """Largest difference between this rank's tensors and rank 0's."""
    flat = ember.cat([t.detach().reshape(-1).to(ember.float64) for t in tensors])
    ref = flat.clone()
    dist.broadcast(ref, src=0)
    return float((flat - ref).abs().max())


print(f'rank {rank} max param diff to rank 0: {same_everywhere(list(model.parameters()))}', flush=True)
if rank == 0:
    ember.save(model.module.state_dict(), os.path.join(out_dir, 'ckpt.pt'))
    print('ddp state_dict keys: ' + ','.join(list(model.state_dict())[:2]), flush=True)

# no_sync: two local backward passes, then one synchronised pass average the sum of the three.
g = ember.Generator().manual_seed(7 + rank)
xs = [ember.randn(4, 1, 8, 8, generator=g) for _ in range(3)]
model.zero_grad()
with model.no_sync():
    for xb in xs[:2]:
        model(xb).sum().backward()
local = [p.grad.clone() for p in model.parameters()]
model(xs[2]).sum().backward()
grads = [p.grad.clone() for p in model.parameters()]
model.module.zero_grad()
for xb in xs:
    model.module(xb).sum().backward()
want = [p.grad.clone() for p in model.parameters()]
for w in want:
    dist.all_reduce(w, dist.ReduceOp.AVG)
print(f'rank {rank} no_sync local grads differ from rank 0: {same_everywhere(local) > 0}', flush=True)
print(f'rank {rank} no_sync max grad error: {max(float((a - b).abs().max()) for a, b in zip(grads, want))}',
      flush=True)


# find_unused_parameters: a branch used only on rank 1 gets rank 1's gradient / world; a branch no rank
# uses keeps .grad None.
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 2)
        self.b = nn.Linear(3, 2)
        self.never = nn.Linear(3, 2)

    def forward(self, x, use_b):
        return self.a(x) + (self.b(x) if use_b else 0)


ember.manual_seed(0)
branchy = DDP(Branchy(), find_unused_parameters=True)
for _ in range(2):
    branchy.zero_grad()
    branchy(ember.ones(1, 3), use_b=rank == 1).sum().backward()
b_grad = branchy.module.b.bias.grad
print(f'rank {rank} unused: b.bias.grad {b_grad.tolist()} never.grad {branchy.module.never.weight.grad}',
      flush=True)
strict = DDP(Branchy())
strict(ember.ones(1, 3), use_b=False).sum().backward()
try:
    strict(ember.ones(1, 3), use_b=False)
except RuntimeError as e:
    print(f'rank {rank} strict unused error: {str(e)[:60]} ... {str(e)[-30:]}', flush=True)

# buffers: rank 0's running statistics are broadcast before each forward.
ember.manual_seed(0)
bn = DDP(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)))
bn(ember.randn(4, 1, 6, 6) + rank)
before = same_everywhere(list(bn.buffers()))
seen = []
bn.module[1].register_forward_pre_hook(lambda m, a: seen.append(same_everywhere([m.running_mean, m.running_var])))
bn(ember.randn(4, 1, 6, 6))
print(f'rank {rank} buffers differ after a forward: {before > 0}; synced at the next forward: {seen[0] == 0}',
      flush=True)
dist.destroy_process_group()
