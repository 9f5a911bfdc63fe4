"""In-place variants (``x.add_(y)``): one generic wrapper around the out-of-place op.

When autograd is recording, the out-of-place op runs on an alias of ``self`` (same history,
own version counter; its array is copied only if the op saved it for backward, since the
original values are about to be overwritten). The result is written into ``self``'s memory,
the shared version counter is bumped, and ``self`` takes over the op's node — or, for a view,
its base's history is rebased through ``CopySlices`` (see ``_views.py``). A node that saved
its own output now refers to ``self``, so a later in-place change of ``self`` is detected.
"""
import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import grad_edge
from ._views import base_requires_grad_now, check_view_creation, rebase_history, view_from_base


def check_inplace(t, requires_grad=None):
    """PyTorch's checks before a differentiable in-place write to ``t``.

    ``requires_grad``: whether any input of the op requires grad (default: ``t`` does). Raises
    for leaves that require grad, views of them, and views made under no_grad or by
    multi-output ops.
    """
    if not _grad_enabled():
        return
    if not (requires_grad or t._requires_grad):
        return
    base = t._base
    if base is not None:
        check_view_creation(t)
        if t._requires_grad and base.grad_fn is None and base._requires_grad:
            raise RuntimeError('a view of a leaf Variable that requires grad is being used in an in-place '
                               'operation.')
    # A view whose base gained a history after it was made has no grad_fn of its own yet: PyTorch
    # treats it as a leaf here too.
    if t._requires_grad and t.grad_fn is None:
        raise RuntimeError('a leaf Variable that requires grad is being used in an in-place operation.')


def check_writable(arr, overlap_ok=False):
    """PyTorch's error for writing into memory shared by several elements (expanded tensors);
    ``overlap_ok`` for the ops PyTorch lets write there (fills, ``masked_fill_``, ``index_put_``)."""
    if arr.size > 1 and (not arr.flags.writeable or not overlap_ok and
                         any(st == 0 and n > 1 for st, n in zip(arr.strides, arr.shape))):
        raise RuntimeError('unsupported operation: more than one element of the written-to tensor refers to a single '
                           'memory location. Please clone() the tensor before performing the operation.')


def _dense(arr):
    """True when ``arr``'s elements tile a memory block exactly (a permutation of a contiguous layout)."""
    dims = sorted((abs(st), n) for st, n in zip(arr.strides, arr.shape) if n != 1)
    expect = arr.itemsize
    for st, n in dims:
        if st != expect:
            return False
        expect *= n
    return all(st >= 0 for st in arr.strides)


def check_no_partial_overlap(out, arr):
    """PyTorch's error when an input of an in-place op partly overlaps the tensor written to
    (``x.add_(x.t())``, ``x[1:].copy_(x[:-1])``). Checked, as in PyTorch, for dense layouts only."""
    if arr is out or not out.size or not arr.size or not np.may_share_memory(out, arr):
        return
    if not (_dense(out) and _dense(arr)):
        return
    a0, b0 = _address(out), _address(arr)
    a1, b1 = a0 + out.nbytes, b0 + arr.nbytes
    if a0 == b0 and a1 == b1 and out.strides == arr.strides and out.shape == arr.shape:
        return
    if a0 < b1 and b0 < a1:
        raise RuntimeError('unsupported operation: some elements of the input tensor and the written-to tensor refer '
                           'to a single memory location. Please clone() the tensor before performing the operation.')


def _address(arr):
    return arr.__array_interface__['data'][0]


def _alias(t):
    """``t``'s value with ``t``'s history (for a view: read from its base's current history,
    which maps every element exactly, even where the view's own ops could not, e.g. an
    ``as_strided`` reaching outside its input)."""
    a = _wrap(t._data)
    base = t._base
    if base is not None:
        if base._requires_grad:
            grad_edge(t)  # PyTorch's checks on a stale view
            a.grad_fn = view_from_base(t)
            a._requires_grad = True
        return a
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
        if isinstance(v, (tuple, list)):
            for w in v:
                if isinstance(w, Tensor) and w._requires_grad:
                    return True
    for v in kwargs.values():
        if isinstance(v, Tensor) and v._requires_grad:
            return True
    return False


# PyTorch's canCast: no float -> integer and nothing but bool -> bool; unlike NumPy's 'same_kind',
# signed -> unsigned integer is allowed (uint8 += int16).
_CAST_CATEGORY = {'b': 0, 'u': 1, 'i': 1, 'f': 2}


def commit(self, r, overlap_ok=False):
    """Write result ``r`` of an op on ``self`` into ``self`` and take over its history.

    Raises PyTorch's error when ``self`` is expanded (elements sharing memory) unless ``overlap_ok``
    (PyTorch lets fills write there).
    """
    arr = self._data
    res = r._data
    if res.shape != arr.shape:
        raise RuntimeError(f"output with shape {list(arr.shape)} doesn't match the broadcast shape "
                           f"{list(res.shape)}")
    if res.dtype != arr.dtype and _CAST_CATEGORY[res.dtype.kind] > _CAST_CATEGORY[arr.dtype.kind]:
        from .._dtype import dtype_of
        raise RuntimeError(f"result type {_type_name(dtype_of(res))} can't be cast to the desired output type "
                           f"{_type_name(dtype_of(arr))}")
    fn = r.grad_fn
    if fn is not None:
        check_inplace(self, True)
    check_writable(arr, overlap_ok)
    if overlap_ok and any(st == 0 for st in arr.strides):
        # Elements sharing memory: write only what the op changed, so an unchanged alias does not undo it.
        np.copyto(arr, res, casting='unsafe', where=res != arr)
    else:
        np.copyto(arr, res, casting='unsafe')
    self._vc[0] += 1
    if fn is not None:
        out = getattr(fn, '_out', None)
        if out is not None and out[0] is res:
            fn._out = (arr, self._vc, self._vc[0])
        if self._base is not None:
            rebase_history(self, fn, r._output_nr)
        else:
            was = self._requires_grad
            self.grad_fn = fn
            self._output_nr = r._output_nr
            self._requires_grad = True
            if not was:
                base_requires_grad_now(self)
    return self


def _type_name(d):
    return {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int', 'int64': 'Long',
            'float16': 'Half', 'float32': 'Float', 'float64': 'Double'}[d.name]


def inplace_variant(op, name, overlap_ok=False):
    """``self.<name>(*args)``: ``op(self, *args)`` written into ``self``.

    ``overlap_ok``: the op may write to an expanded ``self`` (PyTorch allows it for fills).
    """
    def method(self, *args, **kwargs):
        for v in args:
            if isinstance(v, Tensor):
                check_no_partial_overlap(self._data, v._data)
        if _grad_enabled():
            grad = self._requires_grad or _any_requires_grad(args, kwargs)
            check_inplace(self, grad)
            if grad:
                alias = _alias(self)
                r = op(alias, *args, **kwargs)
                node = r.grad_fn
                if node is not None and any(s is alias for s in node._saved):
                    alias._data = alias._data.copy()
                return commit(self, r, overlap_ok)
        return commit(self, op(self, *args, **kwargs), overlap_ok)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f'In-place version of ``{op.__name__}``; returns ``self``.'
    return method
