"""SparseAdam: Adam for parameters whose gradients are sparse (e.g. ``Embedding(sparse=True)``)."""
from .._tensor import Tensor
from .optimizer import Optimizer


class SparseAdam(Optimizer):
    """Adam that updates only the rows present in a sparse gradient. Ember has no sparse tensors, so
    every gradient is dense and ``step`` raises PyTorch's error for dense gradients; the constructor
    validates its arguments and parameters as PyTorch's does."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError('Tensor lr must be 1-element')
        if not 0.0 < (lr.item() if isinstance(lr, Tensor) else lr):
            raise ValueError(f'Invalid learning rate: {lr}')
        if not 0.0 < eps:
            raise ValueError(f'Invalid epsilon value: {eps}')
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f'Invalid beta parameter at index 0: {betas[0]}')
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f'Invalid beta parameter at index 1: {betas[1]}')
        defaults = dict(lr=lr, betas=betas, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Raises for the dense gradients Ember produces (after evaluating ``closure``)."""
        def update():
            for group in self.param_groups:
                for p in group['params']:
                    if p.grad is not None:
                        raise RuntimeError('SparseAdam does not support dense gradients, please consider Adam '
                                           'instead')
        return self._run_step(closure, update)
