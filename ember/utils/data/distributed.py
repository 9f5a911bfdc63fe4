"""``DistributedSampler``: each of ``num_replicas`` processes loads its own slice of the dataset."""
import math
from collections.abc import Iterator

from ..._random import Generator, randperm
from .sampler import Sampler

__all__ = ['DistributedSampler']


def _process_group(what):
    """World size or rank from ``ember.distributed``; PyTorch's RuntimeError where it is missing."""
    try:
        from ... import distributed as dist
    except ImportError:
        dist = None
    if dist is None or not dist.is_available():
        raise RuntimeError('Requires distributed package to be available')
    return dist.get_world_size() if what == 'world_size' else dist.get_rank()


class DistributedSampler(Sampler):
    """Indices for replica ``rank`` of ``num_replicas``: the (shuffled) index list, padded by repeating
    its start (or, with ``drop_last``, cut) to a multiple of ``num_replicas``, then every
    ``num_replicas``-th index from ``rank``.

    The shuffle is ``randperm(len(dataset))`` from a generator seeded with ``seed + epoch``, the same
    on every replica and the same as PyTorch's; call ``set_epoch(epoch)`` before each epoch to
    reshuffle.

    Args:
        dataset: a sized dataset.
        num_replicas: the number of processes (default: the process group's world size).
        rank: this process's rank (default: from the process group).
        shuffle: shuffle the indices (default ``True``).
        seed: the shuffling seed, identical on all replicas (default ``0``).
        drop_last: cut the tail rather than pad so every replica gets the same count (default ``False``).
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _process_group('world_size')
        if rank is None:
            rank = _process_group('rank')
        if rank >= num_replicas or rank < 0:
            raise ValueError(f'Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]')
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator:
        n = len(self.dataset)
        if self.shuffle:
            indices = randperm(n, generator=Generator().manual_seed(self.seed + self.epoch)).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            pad = self.total_size - len(indices)
            indices += (indices * math.ceil(pad / len(indices)))[:pad] if pad > len(indices) else indices[:pad]
        if len(indices) != self.total_size:
            raise AssertionError(f'Number of indices ({len(indices)}) does not match total_size ({self.total_size})')
        indices = indices[self.rank:self.total_size:self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f'Number of subsampled indices ({len(indices)}) does not match num_samples '
                                 f'({self.num_samples})')
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``seed + epoch`` for the next shuffle, so that each epoch has its own order."""
        self.epoch = epoch
