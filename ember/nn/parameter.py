"""``nn.Parameter``: a tensor that a Module registers as a learnable parameter."""
from .._tensor import Tensor, _wrap


class Parameter(Tensor):
    """A leaf tensor (``requires_grad=True`` by default) that ``Module.__setattr__`` registers.

    ``Parameter(data)`` shares ``data``'s memory, as in PyTorch.
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            import numpy as np
            data = _wrap(np.empty((0,), np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f'Parameter data must be a Tensor, got {type(data).__name__}')
        p = data.detach().as_subclass(cls)
        p.requires_grad_(requires_grad)
        return p

    def __repr__(self):
        return 'Parameter containing:\n' + Tensor.__repr__(self)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(_wrap(self._data.copy()), self._requires_grad)
        if self._grad is not None:
            p._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, protocol):
        from ..serialization import _rebuild_parameter_for_pickle
        return _rebuild_parameter_for_pickle, (self._data, self._requires_grad)


class Buffer(Tensor):
    """Marker type: assigning ``Buffer(t)`` to a Module attribute registers a buffer (``persistent`` flag)."""

    __slots__ = ()

    def __new__(cls, data, *, persistent=True):
        b = data.detach().as_subclass(cls)
        b.__dict__['_buffer_persistent'] = persistent
        return b


class UninitializedParameter(Parameter):
    """Placeholder of lazy modules; materialised on first forward."""

    __slots__ = ()


def is_lazy(param):
    return isinstance(param, UninitializedParameter)
