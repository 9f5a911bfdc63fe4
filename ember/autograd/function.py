"""Custom autograd Functions: ``ember.autograd.Function``, PyTorch's extension API.

A subclass defines static ``forward`` and ``backward``::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

``apply`` runs ``forward`` under no_grad and, when grad mode is on and a tensor input
requires grad, makes one node — an instance of the class ``ExpBackward`` generated for
each Function — the ``grad_fn`` of every differentiable output. That node is also the
``ctx``: attributes set on ``ctx`` are read back in ``backward`` and through
``y.grad_fn``. Tensors saved with ``save_for_backward`` are version-checked; outputs are
saved as their arrays so the node never references the tensors it produced.
"""
import functools
import inspect
import weakref

from .grad_mode import _grad_var
from .graph import Node, _FREED_MSG, _modified_msg, grad_edge


class FunctionCtx:
    """The methods available on ``ctx`` in ``forward``/``setup_context`` and ``backward``."""

    def save_for_backward(self, *tensors):
        """Save tensors (or None) for ``backward``, read back as ``ctx.saved_tensors``.

        Saved tensors are checked against in-place changes when read back. Inputs, outputs
        and intermediates may be saved; double backward works through inputs and outputs.
        """
        from .._tensor import Tensor
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f'save_for_backward can only save variables, but argument {i} is of type '
                                f'{type(t).__name__}')
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        """Save tensors for ``jvp``; kept for API compatibility (Ember has no forward-mode AD)."""
        self.saved_for_forward = tensors

    def mark_dirty(self, *args):
        """Mark input tensors that ``forward`` modified in place (they must also be returned)."""
        self.dirty_tensors = args

    def mark_shared_storage(self, *pairs):
        import warnings
        warnings.warn('mark_shared_storage is deprecated. Tensors with shared storages are automatically tracked. '
                      'Note that calls to `set_()` are not tracked', stacklevel=2)

    def mark_non_differentiable(self, *args):
        """Mark outputs as non-differentiable: they do not require grad and their gradient in
        ``backward`` is always zeros (or None without materialized grads)."""
        self.non_differentiable = args

    def set_materialize_grads(self, value):
        """Whether None output gradients reach ``backward`` as zeros (default True) or as None."""
        self.materialize_grads = value


class BackwardCFunction(Node, FunctionCtx):
    """The graph node (and ``ctx``) of one ``Function.apply``; one subclass per Function."""

    __slots__ = ()
    _forward_cls = None

    def backward(self, grads):
        """Engine entry: validate and run the user's ``backward``; one gradient per edge."""
        if self.n_outputs == 1:
            grads = (grads,)
        meta = self._output_meta
        if self.materialize_grads:
            grads = tuple(_zeros(*meta[i]) if g is None and meta[i] is not None else g for i, g in enumerate(grads))
        res = self._get_user_fn()(self, *grads)
        return self._process_grads(res)

    def apply(self, *grads):
        """Call the user's ``backward`` directly with ``grads`` (no validation)."""
        return self._get_user_fn()(self, *grads)

    def _get_user_fn(self):
        cls = self._forward_cls
        if cls.backward is not Function.backward and cls.vjp is not Function.vjp:
            raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not allowed. You "
                               'should only implement one of them.')
        return cls.vjp if cls.vjp is not Function.vjp else cls.backward

    def _process_grads(self, res):
        from .._tensor import Tensor
        if not isinstance(res, tuple):
            res = (res,)
        is_tensor = self._is_tensor_input
        n = len(is_tensor)
        if len(res) != n:
            if len(res) > n and all(r is None for r in res[n:]):
                res = res[:n]
            else:
                raise RuntimeError(f'function {self.name()} returned an incorrect number of gradients (expected '
                                   f'{n}, got {len(res)})')
        out = []
        k = 0
        for i, r in enumerate(res):
            if not is_tensor[i]:
                if r is not None:
                    raise RuntimeError(f'function {self.name()} returned a gradient different than None at position '
                                       f'{i + 1}, but the corresponding forward input was not a Variable')
                continue
            if r is not None and self.next_functions[k][0] is not None:
                if not isinstance(r, Tensor):
                    raise RuntimeError(f'expected Variable or None (got {type(r).__name__})')
                shape, dtype = self._input_meta[k]
                if r._data.shape != shape:
                    if not _expandable(shape, r._data.shape):
                        raise RuntimeError(f'Function {self.name()} returned an invalid gradient at index {k} - got '
                                           f'{list(r._data.shape)} but expected shape compatible with {list(shape)}')
                    r = r.sum_to_size(shape)
                if r._data.dtype != dtype:
                    r = r.to(_dtype_of(dtype))
            else:
                r = None
            out.append(r)
            k += 1
        return tuple(out)

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, checked against in-place changes."""
        if self._released:
            raise RuntimeError(_FREED_MSG)
        result = []
        for entry, version in zip(self._saved, self._versions):
            if entry is None:
                result.append(None)
            elif type(entry) is _SavedOutput:
                result.append(entry.unpack(self, version))
            else:
                if entry._vc[0] != version:
                    fn = entry.grad_fn
                    raise RuntimeError(_modified_msg(entry, None if fn is None else fn.name(), entry._output_nr,
                                                     version))
                result.append(entry)
        return tuple(result)

    saved_variables = saved_tensors

    def saved(self):
        return self.saved_tensors

    def _release(self):
        if self._saved:
            self._saved = ()
            self._released = True


class _SavedOutput:
    """An output saved by its own node: its array and version counter, not the tensor
    (which holds the node as ``grad_fn``), so no reference cycle forms."""

    __slots__ = ('data', 'vc', 'output_nr', 'differentiable')

    def __init__(self, t, output_nr, differentiable):
        self.data = t._data
        self.vc = t._vc
        self.output_nr = output_nr
        self.differentiable = differentiable

    def unpack(self, node, version):
        from .._tensor import _wrap
        t = _wrap(self.data)
        t._vc = self.vc
        if self.differentiable:
            t.grad_fn = node
            t._output_nr = self.output_nr
            t._requires_grad = True
        if self.vc[0] != version:
            raise RuntimeError(_modified_msg(t, node.name(), self.output_nr, version))
        return t


class FunctionMeta(type):
    """Gives every Function subclass its node class, ``<Name>Backward`` (``_backward_cls``)."""

    def __init__(cls, name, bases, attrs):
        cls._backward_cls = type(name + 'Backward', (BackwardCFunction,), {'__slots__': (), '_forward_cls': cls})
        super().__init__(name, bases, attrs)


class Function(metaclass=FunctionMeta):
    """Base class for custom differentiable operations; use the class method ``apply``.

    Define ``forward(ctx, *args, **kwargs)`` — or ``forward(*args, **kwargs)`` plus
    ``setup_context(ctx, inputs, output)`` — and ``backward(ctx, *grad_outputs)`` returning
    one gradient (or None) per ``forward`` input, as static methods.
    """

    generate_vmap_rule = False

    def __init__(self, *args, **kwargs):
        import warnings
        warnings.warn(f'{self.__class__} should not be instantiated. Methods on autograd functions are all static, so '
                      'you should invoke them on the class itself. Instantiating an autograd function will raise an '
                      'error in a future version of PyTorch.', DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError('Legacy autograd function with non-static forward method is deprecated. Please use '
                           'new-style autograd function with static forward method. (Example: '
                           'https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)')

    @staticmethod
    def forward(*args, **kwargs):
        """The computation: ``forward(ctx, *args)``, or ``forward(*args)`` with ``setup_context``."""
        raise NotImplementedError('You must implement the forward function for custom autograd.Function.')

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional: save what ``backward`` needs from ``inputs`` (a tuple) and ``output``."""
        raise NotImplementedError('setup_context is not implemented.')

    @staticmethod
    def backward(ctx, *grad_outputs):
        """One gradient per ``forward`` input (None for non-tensors and inputs needing none),
        given one gradient per ``forward`` output (None for non-tensor outputs)."""
        raise NotImplementedError('You must implement either the backward or vjp method for your custom '
                                  'autograd.Function to use it with backward mode AD.')

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError('You must implement the jvp function for custom autograd.Function to use it with '
                                  'forward mode AD.')

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError('To use autograd.Function with vmap, you must either override the vmap staticmethod '
                                  'or set generate_vmap_rule=True.')

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and record the result in the autograd graph."""
        setup = cls.setup_context is not Function.setup_context
        if setup:
            bound = _signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        return _apply(cls, setup, args, kwargs)


_signatures = weakref.WeakKeyDictionary()


def _signature(fn):
    sig = _signatures.get(fn)
    if sig is None:
        sig = _signatures[fn] = inspect.signature(fn)
    return sig


def _apply(cls, setup, args, kwargs):
    from .._tensor import Tensor
    ctx = object.__new__(cls._backward_cls)
    # Keyword arguments count as inputs after the positional ones (one gradient each).
    flat = args + tuple(kwargs.values()) if kwargs else args
    is_tensor = tuple(isinstance(a, Tensor) for a in flat)
    needs = tuple(t and a._requires_grad for t, a in zip(is_tensor, flat))
    executable = _grad_var.get() and any(needs)
    tensor_args = [a for t, a in zip(is_tensor, flat) if t]
    Node.__init__(ctx, tuple(grad_edge(a) for a in tensor_args) if executable else ())
    ctx.needs_input_grad = needs
    ctx.materialize_grads = True
    token = _grad_var.set(False)
    try:
        if setup:
            output = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args, **kwargs)
    finally:
        _grad_var.reset(token)
    return _wrap_outputs(ctx, is_tensor, tensor_args, output, executable)


def _wrap_outputs(ctx, is_tensor, tensor_args, output, executable):
    """Attach ``ctx`` to the differentiable outputs and store what ``backward`` needs."""
    from .._tensor import Tensor
    d = ctx.__dict__
    dirty = {id(t) for t in d.pop('dirty_tensors', ())}
    non_diff = {id(t) for t in d.pop('non_differentiable', ())}
    to_save = d.pop('to_save', ())
    inputs = {id(a) for a in tensor_args}
    is_tuple = isinstance(output, tuple)
    outs = output if is_tuple else (output,)
    if executable:
        for a in tensor_args:
            if id(a) in dirty and a._requires_grad and a.grad_fn is None:
                raise RuntimeError('a leaf Variable that requires grad has been used in an in-place operation.')
    new_outs = []
    saved_as_output = {}
    meta = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            new_outs.append(o)
            meta.append(None)
            continue
        original = o
        if id(o) in dirty:
            o._vc[0] += 1
        elif id(o) in inputs and executable:
            # An input returned unchanged becomes a new view so that it can get this grad_fn.
            token = _grad_var.set(False)
            try:
                o = o.view_as(o)
            finally:
                _grad_var.reset(token)
        differentiable = executable and o._data.dtype.kind == 'f' and id(original) not in non_diff
        if differentiable:
            if id(original) in dirty and o._base is not None:
                _rebase_view(ctx, o, i, len(outs))
            else:
                o.grad_fn = ctx
                o._output_nr = i
                o._requires_grad = True
        elif executable and id(original) not in dirty:
            o._requires_grad = False
        saved_as_output[id(original)] = (i, o, differentiable)
        meta.append((o._data.shape, o._data.dtype))
        new_outs.append(o)
    if executable:
        ctx.n_outputs = len(outs)
        ctx._output_meta = meta
        ctx._is_tensor_input = is_tensor
        ctx._input_meta = [(a._data.shape, a._data.dtype) for a in tensor_args]
        saved = []
        versions = []
        for t in to_save:
            if t is None:
                saved.append(None)
                versions.append(None)
                continue
            hit = saved_as_output.get(id(t))
            if hit is not None:
                nr, o, differentiable = hit
                saved.append(_SavedOutput(o, nr, differentiable and o.grad_fn is ctx))
                versions.append(o._vc[0])
            else:
                saved.append(t)
                versions.append(t._vc[0])
        ctx._saved = tuple(saved)
        ctx._versions = tuple(versions)
    else:
        ctx._saved = tuple(to_save)
        ctx._versions = tuple(None if t is None else t._vc[0] for t in to_save)
    return tuple(new_outs) if is_tuple else new_outs[0]


def _rebase_view(ctx, view, output_nr, n_outputs):
    """A view input modified in place: its base's history goes through ``ctx`` (``CopySlices``)."""
    if n_outputs > 1:
        raise RuntimeError('If your Function modifies inplace an input that is a view of another Tensor, your Function '
                           'cannot return more than one Tensor. This is not supported by the current autograd engine. '
                           'You should either make sure the input is not a view (using .clone() for example) or make '
                           'your Function only return one Tensor (potentially splitting it into two Functions: one '
                           'doing the inplace that returns a single Tensor and a second one that does the other '
                           'operations).')
    from ..ops._views import rebase_history
    rebase_history(view, ctx, output_nr)


def _zeros(shape, dtype):
    import numpy as np
    from .._tensor import _wrap
    return _wrap(np.zeros(shape, dtype))


def _expandable(shape, to):
    if len(shape) > len(to):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(to)))


def _dtype_of(npd):
    from .._dtype import _BY_NP
    return _BY_NP[npd]


class Error(Node):
    """A node whose backward raises: outputs of a ``once_differentiable`` backward under
    ``create_graph`` get it, so that differentiating them again fails with ``msg``."""

    __slots__ = ('msg',)

    def name(self):
        return 'torch::autograd::Error'

    def backward(self, grads):
        raise RuntimeError(self.msg)


def once_differentiable(fn):
    """Decorate a Function's ``backward`` that is not itself differentiable.

    It runs under no_grad; under ``create_graph`` its results get a node that raises when
    differentiated again.
    """
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        from .._tensor import Tensor
        token = _grad_var.set(False)
        try:
            outputs = fn(ctx, *args)
        finally:
            _grad_var.reset(token)
        if not _grad_var.get():
            return outputs
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        fakes = []
        for v in outs:
            if v is not None:
                v = v.detach()
                v._requires_grad = True
            fakes.append(v)
        err = Error(tuple(grad_edge(v) if v is not None else (None, 0) for v in fakes))
        err.msg = 'trying to differentiate twice a function that was marked with @once_differentiable'
        err.n_outputs = len(fakes)
        wrapped = []
        for i, v in enumerate(fakes):
            if v is not None:
                v = v.detach()
                v.grad_fn = err
                v._output_nr = i
                v._requires_grad = True
            wrapped.append(v)
        return tuple(wrapped) if isinstance(outputs, tuple) else wrapped[0]
    return wrapper


class InplaceFunction(Function):
    """Kept for backward compatibility: a Function with an ``inplace`` flag."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace
