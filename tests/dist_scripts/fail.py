"""Run under 2 processes: rank 1 raises while rank 0 waits in a collective; the job must end non-zero
with rank 1's traceback (init_process_group's excepthook calls MPI_Abort)."""
import ember
import ember.distributed as dist

dist.init_process_group()
dist.barrier()


def step(rank):
    if rank == 1:
        raise ValueError('rank 1 fails on purpose')


step(dist.get_rank())
dist.all_reduce(ember.ones(3))  # rank 0 waits here for a peer that has gone
print('unreachable', flush=True)
