"""Graph nodes: the backward half of every op.

A forward op that records history creates one ``Node`` subclass instance (named like
PyTorch's: ``MulBackward0``) and stores it as its output's ``grad_fn``. The node keeps
``next_functions`` — one ``(node, input_nr)`` edge per differentiable input, ``(None, 0)``
for inputs that need no gradient — and only what its backward formula needs.

Saved tensors are stored with the value of their version counter at save time; reading
them back after an in-place change raises PyTorch's error. After a backward pass without
``retain_graph`` the engine calls ``_release`` so the saved tensors are freed.
"""
import itertools
import weakref

from .anomaly_mode import _anomaly


class Node:
    """A backward function in the autograd graph.

    Subclasses implement ``backward(self, grad)`` (single-output ops) returning one gradient
    per edge in ``next_functions`` (a Tensor or None). Multi-output ops set ``n_outputs`` and
    receive a tuple of output gradients (None where an output got no gradient).
    """

    __slots__ = ('next_functions', '_saved', '_versions', '_released', '_hooks', '_pre_hooks',
                 '__weakref__', '__dict__')
    n_outputs = 1

    def __init__(self, next_functions):
        self.next_functions = next_functions
        self._saved = ()
        self._released = False
        self._hooks = None
        self._pre_hooks = None
        if _anomaly[0]:
            import traceback
            self._anomaly_trace = ''.join(traceback.format_stack()[:-2])

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f'<{type(self).__name__} object at {hex(id(self))}>'

    def save(self, *tensors):
        """Save tensors for backward; ``saved()`` returns them after checking their versions."""
        self._saved = tensors
        self._versions = [None if t is None else t._vc[0] for t in tensors]

    def saved(self):
        if self._released:
            raise RuntimeError(
                'Trying to backward through the graph a second time (or directly access saved tensors after '
                'they have already been freed). Saved intermediate values of the graph are freed when you call '
                '.backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the '
                'graph a second time or if you need to access saved tensors after calling backward.')
        for t, v in zip(self._saved, self._versions):
            if t is not None and t._vc[0] != v:
                raise RuntimeError(
                    'one of the variables needed for gradient computation has been modified by an inplace '
                    f'operation: [{t.type()} {list(t.shape)}], which is output {t._output_nr} of '
                    f'{t.grad_fn.name() if t.grad_fn is not None else "a leaf"}, is at version {t._vc[0]}; '
                    f'expected version {v} instead. Hint: the backtrace further above can show the operation '
                    'that failed to compute its gradient. Enable anomaly detection with '
                    'ember.autograd.set_detect_anomaly(True) to find it.')
        return self._saved

    def _release(self):
        if self._saved:
            self._saved = ()
            self._released = True
        self._release_extra()

    def _release_extra(self):
        """Hook for nodes that keep saved arrays outside ``save`` (e.g. saved outputs)."""

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node; may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = {}
        return _add_hook(self._hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return _add_hook(self._pre_hooks, fn)

    def __call__(self, *grads):
        return self.apply(*grads)

    def apply(self, *grads):
        return self.backward(grads[0] if self.n_outputs == 1 else grads)

    @property
    def metadata(self):
        return self.__dict__.setdefault('_metadata', {})


class RemovableHandle:
    """Handle returned by ``register_hook``-style methods; ``remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self.id = next(RemovableHandle._ids)
        self._hooks = hooks

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks, fn):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle


class AccumulateGrad(Node):
    """Sink node for a leaf tensor: adds the incoming gradient into ``variable.grad``."""

    __slots__ = ('variable',)

    def __init__(self, variable):
        Node.__init__(self, ())
        self.variable = variable

    def backward(self, grad):
        from .._tensor import _accumulate_into_leaf
        _accumulate_into_leaf(self.variable, grad)
        return ()


def grad_edge(t):
    """The edge a new node records for input ``t``: ``(grad_fn, output_nr)``, the leaf's
    ``AccumulateGrad``, or ``(None, 0)`` when ``t`` needs no gradient."""
    if t._base is not None and t._view_replay[1] != t._vc[0]:
        from ..ops._views import refresh_view_grad_fn
        refresh_view_grad_fn(t)
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    if t._requires_grad:
        acc = t._grad_acc() if t._grad_acc is not None else None
        if acc is None:
            acc = AccumulateGrad(t)
            t._grad_acc = weakref.ref(acc)
        return (acc, 0)
    return (None, 0)
