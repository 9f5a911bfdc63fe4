"""View bookkeeping: which tensor owns a view's memory, and how autograd follows writes
through views.

A view op (``view``, ``transpose``, slicing, ...) returns a tensor whose array is a NumPy
view of its input's array, made with ``make_view``. The view records its ``_base`` (the
tensor owning the memory) and ``_view_replay``: ``[steps, version]`` where ``steps`` is a
tuple of ``(method_name, args)`` that rebuild the view from any tensor shaped like the base,
and ``version`` the value of the shared version counter when the view's ``grad_fn`` was last
valid.

An in-place op on a view changes its base too. ``rebase_history`` then gives the base a
``CopySlices`` node (the base's old gradient, with the view's region replaced by the
gradient through the in-place op) and the view a fresh ``AsStridedBackward0`` reading its
region of the base's gradient. Any other view of the same base notices that the version
counter moved and regenerates its ``grad_fn`` the same way the next time it is used
(``refresh_view_grad_fn``, called from ``grad_edge``).
"""
import numpy as np

from .._tensor import _wrap
from ..autograd.graph import Node


def make_view(src, arr, method, args):
    """Wrap ``arr`` (a NumPy view of ``src._data``) as a view tensor of ``src``."""
    out = _wrap(arr)
    out._vc = src._vc
    step = ((method, args),)
    if src._base is not None:
        out._base = src._base
        out._view_replay = [src._view_replay[0] + step, src._vc[0]]
    else:
        out._base = src
        out._view_replay = [step, src._vc[0]]
    return out


def replay(steps, t):
    """Apply recorded view steps to tensor ``t`` (shaped like the base)."""
    for method, args in steps:
        t = getattr(t, method)(*args)
    return t


def _replay_array(steps, arr):
    return replay(steps, _wrap(arr))._data


class AsStridedBackward0(Node):
    """Gradient of a view regenerated from its base: scatter ``g`` into zeros shaped like the base."""

    __slots__ = ('steps', 'base_shape', 'base_dtype')

    def backward(self, g):
        out = np.zeros(self.base_shape, self.base_dtype)
        _replay_array(self.steps, out)[...] = g._data
        return (_wrap(out),)


class CopySlices(Node):
    """Base's gradient after an in-place op on one of its views.

    ``fn`` is the in-place op's node; its first input was the view's old value. The base's
    old gradient is ``g`` with the view's region replaced by ``fn``'s gradient for that input;
    ``fn``'s other inputs receive their gradients unchanged.
    """

    __slots__ = ('fn', 'steps')

    def backward(self, g):
        result = np.array(g._data, copy=True)
        region = _replay_array(self.steps, result)
        grads = self.fn.backward(_wrap(region.copy()))
        if type(grads) is not tuple:
            grads = (grads,)
        if grads[0] is None:
            region[...] = 0
        else:
            region[...] = grads[0]._data
        return (_wrap(result),) + tuple(grads[1:])

    def _release_extra(self):
        self.fn._release()


def refresh_view_grad_fn(t):
    """Regenerate the ``grad_fn`` of view ``t`` after its base was modified in place."""
    steps, _ = t._view_replay
    base = t._base
    t._view_replay = [steps, t._vc[0]]
    if base.grad_fn is None and not base._requires_grad:
        return
    from ..autograd.graph import grad_edge
    node = AsStridedBackward0((grad_edge(base),))
    node.steps = steps
    node.base_shape = base._data.shape
    node.base_dtype = base._data.dtype
    t.grad_fn = node
    t._output_nr = 0
    t._requires_grad = True


def rebase_history(view, fn):
    """After in-place op node ``fn`` wrote into ``view``, route the base's history through it."""
    from ..autograd.graph import grad_edge
    base = view._base
    steps = view._view_replay[0]
    node = CopySlices((grad_edge(base),) + tuple(fn.next_functions[1:]))
    node.fn = fn
    node.steps = steps
    base.grad_fn = node
    base._output_nr = 0
    base._requires_grad = True
    refresh_view_grad_fn(view)
