"""In-place variants (``x.add_(y)``): one generic wrapper around the out-of-place op.

When autograd is recording, the out-of-place op runs on an alias of ``self`` (same history,
own version counter; its array is copied only if the op saved it for backward, since the
original values are about to be overwritten). The result is written into ``self``'s memory,
the shared version counter is bumped, and ``self`` takes over the op's node — or, for a view,
its base's history is rebased through ``CopySlices`` (see ``_views.py``).
"""
import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _enabled
from ..autograd.graph import grad_edge
from ._views import rebase_history


def check_inplace(t):
    """PyTorch's errors for in-place writes to leaves that require grad (and their views)."""
    if _enabled[0]:
        if t._requires_grad and t.grad_fn is None:
            raise RuntimeError('a leaf Variable that requires grad is being used in an in-place operation.')
        base = t._base
        if base is not None and base._requires_grad and base.grad_fn is None:
            raise RuntimeError('a view of a leaf Variable that requires grad is being used in an in-place '
                               'operation.')


def _alias(t):
    a = _wrap(t._data)
    fn, nr = grad_edge(t)
    if t.grad_fn is not None:
        a.grad_fn = t.grad_fn
        a._output_nr = t._output_nr
        a._requires_grad = True
    else:
        a._requires_grad = t._requires_grad
        a._grad_acc = t._grad_acc
    return a


def _any_requires_grad(args, kwargs):
    for v in args:
        if isinstance(v, Tensor) and v._requires_grad:
            return True
    for v in kwargs.values():
        if isinstance(v, Tensor) and v._requires_grad:
            return True
    return False


def commit(self, r):
    """Write result ``r`` of an op on ``self`` into ``self`` and take over its history."""
    arr = self._data
    res = r._data
    if res.shape != arr.shape:
        raise RuntimeError(f"output with shape {list(arr.shape)} doesn't match the broadcast shape "
                           f"{list(res.shape)}")
    if res.dtype != arr.dtype and not np.can_cast(res.dtype, arr.dtype, casting='same_kind'):
        from .._dtype import dtype_of
        raise RuntimeError(f"result type {_type_name(dtype_of(res))} can't be cast to the desired output type "
                           f"{_type_name(dtype_of(arr))}")
    if not arr.flags.writeable:
        raise RuntimeError('unsupported operation: the tensor is a read-only or broadcast (expanded) view; '
                           'call .clone() before writing to it.')
    np.copyto(arr, res, casting='unsafe')
    self._vc[0] += 1
    fn = r.grad_fn
    if fn is not None:
        if self._base is not None:
            rebase_history(self, fn)
        else:
            self.grad_fn = fn
            self._output_nr = r._output_nr
            self._requires_grad = True
    return self


def _type_name(d):
    return {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int', 'int64': 'Long',
            'float16': 'Half', 'float32': 'Float', 'float64': 'Double'}[d.name]


def inplace_variant(op, name):
    """``self.<name>(*args)``: ``op(self, *args)`` written into ``self``."""
    def method(self, *args, **kwargs):
        check_inplace(self)
        if _enabled[0] and (self._requires_grad or _any_requires_grad(args, kwargs)):
            alias = _alias(self)
            r = op(alias, *args, **kwargs)
            node = r.grad_fn
            if node is not None and any(s is alias for s in node._saved):
                alias._data = alias._data.copy()
            return commit(self, r)
        return commit(self, op(self, *args, **kwargs))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f'In-place version of ``{op.__name__}``; returns ``self``.'
    return method
