"""``ember.nn.parallel``: ``DistributedDataParallel`` (gradients averaged across processes over MPI)."""
from .distributed import DistributedDataParallel

__all__ = ['DistributedDataParallel']
