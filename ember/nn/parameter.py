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
    """A parameter whose shape is not known yet (lazy modules' weights before their first forward).

    It holds no data: reading its shape raises, as in PyTorch. ``materialize(shape)`` turns it, in
    place, into a ``Parameter`` of that shape (uninitialised values) with the dtype given at construction.
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from .._creation import empty
        p = empty(0, device=device, dtype=dtype).as_subclass(cls)
        p.requires_grad_(requires_grad)
        return p

    def materialize(self, shape, device=None, dtype=None):
        """Become a ``Parameter`` of ``shape`` (dtype: ``dtype``, else the one given at construction)."""
        from .._creation import empty
        self._data = empty(tuple(shape), device=device, dtype=dtype if dtype is not None else self.dtype)._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
                           "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self):
        return f'<{type(self).__name__}>'

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, dtype=self.dtype)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return type(self), (self.requires_grad, None, self.dtype)


def is_lazy(param):
    return isinstance(param, UninitializedParameter)
