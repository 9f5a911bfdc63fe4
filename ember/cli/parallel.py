"""This process's place in an ``ember train`` job: alone, or one rank of ``ember train --nproc N``.

``ember train --nproc N`` restarts itself under the MPI launcher (``ember run --nproc-per-node N -m ember
train ...``); each process then finds ``WORLD_SIZE`` in its environment and :class:`Job` joins the process
group. The training loop asks the Job for everything that differs between one process and several: the
model wrapped in ``DistributedDataParallel``, the shard of the evaluation sets, metrics merged across
ranks, the agreement to stop after a batch, and whether this rank writes the outputs (rank 0 alone).
With one process every method is the identity and no MPI is touched.
"""
import os

from ember.utils.data import Subset

from .metrics import Meter

__all__ = ['Job']


class Job:
    """``rank`` and ``world`` (0 and 1 alone). Joins the default process group when ``WORLD_SIZE`` > 1 (as set
    by ``ember run`` / the MPI launcher) and it is not joined yet; ``close()`` leaves the group it joined."""

    def __init__(self):
        self.rank, self.world, self._joined = 0, int(os.environ.get('WORLD_SIZE', '1')), False
        if self.world > 1:
            import ember.distributed as dist
            if not dist.is_initialized():
                dist.init_process_group('mpi')
                self._joined = True
            self.rank, self.world = dist.get_rank(), dist.get_world_size()
            self._dist = dist

    @property
    def main(self) -> bool:
        """True on the rank that logs and writes files (rank 0)."""
        return self.rank == 0

    def close(self):
        if self._joined:
            self._dist.destroy_process_group()
            self._joined = False

    def batch_size(self, global_batch):
        """The per-rank batch: ``batch_size`` in the config is the global batch, split evenly over the ranks."""
        if global_batch % self.world:
            raise ValueError(f"batch_size: {global_batch} is the global batch and must be divisible by the "
                             f"number of processes ({self.world})")
        return global_batch // self.world

    def wrap(self, module):
        """``module`` in ``DistributedDataParallel`` on several processes (which starts every rank from rank
        0's weights), else ``module`` itself."""
        if self.world == 1:
            return module
        from ember.nn.parallel import DistributedDataParallel
        return DistributedDataParallel(module)

    def shard(self, dataset):
        """This rank's part of an evaluation set: every ``world``-th sample from ``rank``, no padding (so that
        merged metrics count each sample once)."""
        if self.world == 1:
            return dataset
        return Subset(dataset, list(range(self.rank, len(dataset), self.world)))

    def merge(self, meter):
        """The Meter of the whole pass: the sum of every rank's ``meter``, identical on all ranks."""
        if self.world == 1:
            return meter
        return Meter.merged(self.gather(meter))

    def gather(self, obj):
        """Every rank's picklable ``obj``, in rank order, on every rank."""
        if self.world == 1:
            return [obj]
        out = [None] * self.world
        self._dist.all_gather_object(out, obj)
        return out

    def any(self, flag):
        """True on every rank when ``flag`` is true on any (a Ctrl-C seen by one rank stops them all at the
        same batch)."""
        if self.world == 1:
            return bool(flag)
        return any(self.gather(bool(flag)))

    def from_main(self, obj):
        """Rank 0's ``obj``, on every rank."""
        if self.world == 1:
            return obj
        box = [obj]
        self._dist.broadcast_object_list(box, src=0)
        return box[0]

    def sync_module(self, module):
        """Copy rank 0's parameters and buffers into ``module`` on every rank."""
        if self.world == 1:
            return
        for t in module.state_dict().values():
            self._dist.broadcast(t, src=0)
