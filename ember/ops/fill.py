"""In-place fills: ``fill_`` and ``zero_``."""
import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _enabled
from ..autograd.graph import Node, grad_edge
from ._inplace import check_inplace, commit


class FillBackward0(Node):
    """The filled tensor's old values get zero gradient; a tensor fill value gets the sum."""

    __slots__ = ()

    def backward(self, g):
        return _wrap(np.zeros_like(g._data)), g.sum() if self.next_functions[1][0] is not None else None


def fill_(self, value):
    """Set every element to ``value`` (a number or a 0-d tensor)."""
    check_inplace(self)
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt._data.ndim != 0:
        raise RuntimeError(f'fill_ only supports 0-dimension value tensor but got tensor with '
                           f'{vt._data.ndim} dimensions.')
    v = vt._data if vt is not None else value
    if _enabled[0] and (self._requires_grad or (vt is not None and vt._requires_grad)):
        r = _wrap(np.full(self._data.shape, v, self._data.dtype, like=self._data))
        r.grad_fn = FillBackward0((grad_edge(self), grad_edge(vt) if vt is not None else (None, 0)))
        r._requires_grad = True
        return commit(self, r, overlap_ok=vt is None)
    self._data[...] = v
    self._vc[0] += 1
    return self


def zero_(self):
    """Set every element to zero."""
    return fill_(self, 0)


__all__ = []
METHODS = {'fill_': fill_, 'zero_': zero_}
