"""Graph nodes: the backward half of every op.

A forward op that records history creates one ``Node`` subclass instance (named like
PyTorch's: ``MulBackward0``) and stores it as its output's ``grad_fn``. The node keeps
``next_functions`` — one ``(node, input_nr)`` edge per differentiable input, ``(None, 0)``
for inputs that need no gradient — and only what its backward formula needs.

Saved tensors are stored with the value of their version counter at save time; reading
them back after an in-place change raises PyTorch's error. After a backward pass without
``retain_graph`` the engine calls ``_release`` so the saved tensors are freed.

Nodes never hold the tensors they produce (only their arrays, or weak references for
``retain_grad``), so a graph is a tree of strong references from outputs down to leaves:
dropping the last output frees it by reference counting, without the cycle collector.
"""
import itertools
import re
import weakref

from .anomaly_mode import _anomaly, _current_node
from .grad_mode import _grad_var


class Node:
    """A backward function in the autograd graph.

    Subclasses implement ``backward(self, grad)`` (single-output ops) returning one gradient
    per edge in ``next_functions`` (a Tensor or None). Multi-output ops set ``n_outputs`` and
    receive a tuple of output gradients (None where an output got no gradient).
    """

    __slots__ = ('next_functions', '_saved', '_versions', '_released', '_hooks', '__weakref__', '__dict__')
    n_outputs = 1

    def __init__(self, next_functions):
        self.next_functions = next_functions
        self._saved = ()
        self._released = False
        self._hooks = None
        if _anomaly[0]:
            _record_forward_trace(self)

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f'<{type(self).__name__} object at {hex(id(self))}>'

    def save(self, *tensors):
        """Save tensors (or None) for backward; ``saved()`` returns them after checking their versions."""
        self._saved = tensors
        if len(tensors) == 2:
            a, b = tensors
            self._versions = (None if a is None else a._vc[0], None if b is None else b._vc[0])
        elif len(tensors) == 1:
            a = tensors[0]
            self._versions = (None if a is None else a._vc[0],)
        else:
            self._versions = tuple(None if t is None else t._vc[0] for t in tensors)

    def saved(self):
        if self._released:
            raise RuntimeError(_FREED_MSG)
        for t, v in zip(self._saved, self._versions):
            if t is not None and t._vc[0] != v:
                fn = t.grad_fn
                raise RuntimeError(_modified_msg(t, None if fn is None else fn.name(), t._output_nr, v))
        return self._saved

    def _release(self):
        if self._saved:
            self._saved = ()
            self._released = True
        self._release_extra()

    def _release_extra(self):
        """Hook for nodes that keep saved arrays outside ``save`` (e.g. saved outputs)."""

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward; it may return new
        grad_inputs (gradients w.r.t. the node's inputs). Returns a handle with ``remove()``."""
        return _add_hook(self._hook_table().post, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward; it may return new grad_outputs.
        Returns a handle with ``remove()``."""
        return _add_hook(self._hook_table().pre, fn)

    def _hook_table(self):
        h = self._hooks
        if h is None:
            h = self._hooks = _Hooks()
        return h

    def __call__(self, *grads):
        return self.apply(*grads)

    def apply(self, *grads):
        """Run this node's backward on output gradients ``grads`` (one per output)."""
        return self.backward(grads[0] if self.n_outputs == 1 else grads)

    @property
    def metadata(self):
        """A dict for user data attached to this node (anomaly mode keeps its traceback here)."""
        return self.__dict__.setdefault('_metadata', {})


_object_new = object.__new__


def new_node(cls, next_functions):
    """``cls(next_functions)`` for a ``Node`` subclass that keeps ``Node.__init__``: the same
    fields, set without the cost of a type call (hot forward paths make one node per op)."""
    node = _object_new(cls)
    node.next_functions = next_functions
    node._saved = ()
    node._released = False
    node._hooks = None
    if _anomaly[0]:
        _record_forward_trace(node)
    return node


class _Hooks:
    """Hooks of one node, in the order the engine runs them.

    ``tensor_pre``: ``(output_nr, hooks dict)`` pairs for ``Tensor.register_hook`` on the
    node's outputs; ``retains``: ``output_nr -> fn`` for ``retain_grad``; ``pre``/``post``:
    ``Node.register_prehook``/``register_hook``.
    """

    __slots__ = ('tensor_pre', 'retains', 'pre', 'post')

    def __init__(self):
        self.tensor_pre = []
        self.retains = {}
        self.pre = {}
        self.post = {}


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
    """Sink node for a leaf tensor: adds the incoming gradient into ``variable.grad``.

    The leaf holds it only weakly; its tensor hooks are read from the leaf when it runs.
    """

    __slots__ = ('variable',)

    def __init__(self, variable):
        Node.__init__(self, ())
        self.variable = variable

    def name(self):
        return 'torch::autograd::AccumulateGrad'

    def backward(self, grad):
        from .._tensor import _accumulate_into_leaf
        _accumulate_into_leaf(self.variable, grad)
        return ()

    def take(self, grad):
        """``backward`` for the engine, which holds no other reference to an unshared ``grad``: its
        array may become ``.grad`` without a copy, as PyTorch steals an unshared gradient."""
        from .._tensor import _accumulate_into_leaf
        # References to an unshared gradient here: the engine's loop variable and buffer list, this
        # call's argument, _accumulate_into_leaf's argument and sys.getrefcount's own.
        _accumulate_into_leaf(self.variable, grad, 5)


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


def register_tensor_hooks(t, hooks):
    """Attach the hooks dict of non-leaf ``t`` to its ``grad_fn`` (for its ``output_nr``)."""
    t.grad_fn._hook_table().tensor_pre.append((t._output_nr, hooks))


def tensor_hooks_registered(t):
    """True when ``t._hooks`` is attached to ``t``'s current ``grad_fn`` (an in-place op
    gives ``t`` a new ``grad_fn``; hooks registered afterwards belong to the new one)."""
    h = t.grad_fn._hooks
    return h is not None and any(d is t._hooks for _, d in h.tensor_pre)


def retain_grad_hook(t):
    """The ``retain_grad`` pre-hook for non-leaf ``t``: stores the gradient into ``t.grad``.

    Holds ``t`` weakly so that the graph does not keep its outputs alive.
    """
    ref = weakref.ref(t)

    def hook(grad):
        var = ref()
        if var is None or grad is None:
            return
        if var._grad is None:
            if _grad_var.get():
                var._grad = grad.clone()
            else:
                from .._tensor import _wrap
                var._grad = _wrap(grad._data.copy())
        else:
            var._grad = var._grad + grad
    return hook


def _record_forward_trace(node):
    import traceback
    meta = node.metadata
    meta['traceback_'] = ''.join(traceback.format_stack()[:-2])
    if _current_node[0] is not None:
        meta['parent_'] = _current_node[0]


_FREED_MSG = ('Trying to backward through the graph a second time (or directly access saved tensors after they '
              'have already been freed). Saved intermediate values of the graph are freed when you call '
              '.backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the '
              'graph a second time or if you need to access saved tensors after calling backward.')

_BACKWARD_SUFFIX = re.compile(r'Backward\d*$')


def _modified_msg(t, fn_name, output_nr, expected):
    """PyTorch's error for a saved tensor changed in place since it was saved."""
    where = ''
    if fn_name is not None:
        where = f', which is output {output_nr} of {_BACKWARD_SUFFIX.sub("", fn_name)},'
    return ('one of the variables needed for gradient computation has been modified by an inplace operation: '
            f'[{t.type()} {list(t.shape)}]{where} is at version {t._vc[0]}; expected version {expected} instead. '
            'Hint: enable anomaly detection to find the operation that failed to compute its gradient, with '
            'ember.autograd.set_detect_anomaly(True, check_nan=False).')
