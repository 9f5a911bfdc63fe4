"""``ember.linalg``: PyTorch's ``torch.linalg`` namespace (kernels and gradients in ``ember.ops.linalg``)."""
from .ops.linalg import (LinAlgError, matmul, linalg_cross as cross, linalg_det as det, linalg_slogdet as slogdet,
                         linalg_inv as inv, linalg_solve as solve, linalg_cholesky as cholesky, linalg_qr as qr,
                         linalg_eigh as eigh, linalg_eigvalsh as eigvalsh, linalg_svd as svd,
                         linalg_svdvals as svdvals, linalg_pinv as pinv, linalg_matrix_rank as matrix_rank,
                         linalg_matrix_power as matrix_power, linalg_vecdot as vecdot,
                         linalg_multi_dot as multi_dot, linalg_norm as norm, linalg_vector_norm as vector_norm,
                         linalg_matrix_norm as matrix_norm)

__all__ = ['LinAlgError', 'matmul', 'cross', 'det', 'slogdet', 'inv', 'solve', 'cholesky', 'qr', 'eigh', 'eigvalsh',
           'svd', 'svdvals', 'pinv', 'matrix_rank', 'matrix_power', 'vecdot', 'multi_dot', 'norm', 'vector_norm',
           'matrix_norm']

