"""Stochastic depth (Huang et al., "Deep Networks with Stochastic Depth"): randomly drop whole residual
branches while training (torchvision.ops.stochastic_depth)."""
import ember
from ember import nn

__all__ = ['stochastic_depth', 'StochasticDepth']


def stochastic_depth(input, p: float, mode: str, training: bool = True):
    """Zero ``input`` with probability ``p`` and scale what survives by ``1 / (1 - p)``.

    ``input``: a tensor ``(N, ...)``, usually a residual branch. ``mode='row'`` draws one Bernoulli per
    sample (mask ``(N, 1, ..., 1)``), ``mode='batch'`` one for the whole batch. Identity when
    ``training`` is False or ``p == 0``. The mask is drawn with ``bernoulli_`` in the input's dtype, so a
    seeded run drops the same rows as torchvision's.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ('batch', 'row'):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == 'row' else [1] * input.ndim
    noise = ember.empty(size, dtype=input.dtype).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


class StochasticDepth(nn.Module):
    """Module form of ``stochastic_depth(input, p, mode, self.training)``; no parameters."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"
