"""Building blocks shared by op families: recording a node, saved outputs, reducing a
broadcast gradient back to an input's shape.

An op family writes its derivative formulas with Ember ops (so ``create_graph=True`` works)
and uses ``record`` to attach a node to the output when autograd is recording.
"""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge


def needs_grad(*tensors):
    """True when grad mode is on and any of ``tensors`` (None allowed) requires grad."""
    if not _grad_enabled():
        return False
    for t in tensors:
        if t is not None and t._requires_grad:
            return True
    return False


def edges(*tensors):
    """``next_functions`` for a node whose inputs are ``tensors`` (None for non-tensor inputs)."""
    return tuple((None, 0) if t is None else grad_edge(t) for t in tensors)


def attach(out, node):
    """Make ``node`` the ``grad_fn`` of the freshly created tensor ``out``; returns ``out``."""
    out.grad_fn = node
    out._requires_grad = True
    return out


class SavedOutputNode(Node):
    """A node that keeps its own output for backward (``exp``, ``tanh``, ``sigmoid``, ...).

    The output is kept as its array and version counter, not as the Tensor (which holds this
    node as ``grad_fn``): no reference cycle. ``saved_output()`` rebuilds the tensor, attached
    to this node when ``create_graph`` is on so that double backward flows through it.
    """

    __slots__ = ()
    # Not a slot: a class-level None that the few nodes saving an output shadow in their __dict__,
    # so the common "nothing saved" checks are plain attribute reads.
    _out = None

    def save_output(self, out):
        self._out = (out._data, out._vc, out._vc[0])

    def saved_output(self):
        """The saved output (None if the op did not need to save it)."""
        arr = self.saved_output_data()
        if arr is None:
            return None
        if _grad_enabled():
            t = _wrap(arr, True, self)
        else:
            t = _wrap(arr)
        t._vc = self._out[1]
        return t

    def saved_output_data(self):
        """The saved output's array, after the same checks as ``saved_output``."""
        saved = self._out
        if saved is None:
            if self._released:
                self.saved()  # raises the "backward through the graph a second time" error
            return None
        arr, vc, ver = saved
        if vc[0] != ver:
            t = _wrap(arr)
            t._vc = vc
            raise RuntimeError(
                'one of the variables needed for gradient computation has been modified by an inplace '
                f'operation: [{t.type()} {list(t.shape)}], which is output 0 of {self.name()}, is at version '
                f'{vc[0]}; expected version {ver} instead. Hint: enable anomaly detection with '
                'ember.autograd.set_detect_anomaly(True) to find the operation that failed to compute its '
                'gradient.')
        return arr

    def _release(self):
        if self._saved:
            self._saved = ()
            self._released = True
        if self._out is not None:
            self._out = None
            self._released = True
        self._release_extra()


def sum_to_shape(g, shape):
    """Sum gradient ``g`` over the dimensions that were broadcast to reach ``g.shape`` from ``shape``."""
    gshape = g._data.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if dims:
        g = g.sum(dims, keepdim=True)
    if lead or g._data.shape != shape:
        g = g.reshape(shape)
    return g


def reduce_grad(g, shape, dtype):
    """``sum_to_shape`` plus a cast back to the input's dtype (inputs promoted in forward)."""
    if g._data.shape != shape:
        g = sum_to_shape(g, shape)
    if g._data.dtype != dtype:
        g = g.to(_np_to_dtype(dtype))
    return g


def _np_to_dtype(npd):
    from .._dtype import _BY_NP
    return _BY_NP[np.dtype(npd)]


class CopyBackwards(Node):
    """``self.copy_(src)`` (edges ``(self, src)``): the overwritten values get a zero gradient, ``src``
    gets ``g`` summed back to its shape ``src_meta = (shape, dtype)``."""

    __slots__ = ('src_meta',)

    def backward(self, g):
        gs = None
        if self.next_functions[1][0] is not None:
            gs = reduce_grad(g, *self.src_meta)
        # Zeros, not ``g * 0``: an infinite gradient must not become NaN.
        return _wrap(np.zeros_like(g._data)), gs
