"""Recording the ops a forward pass runs.

Ember has no dispatcher, so while ``export`` runs the model, every public op is temporarily
replaced by a recorder: the functions each op family exports (``__all__``), the ``Tensor``
methods it attaches (``METHODS``), and ``ember.nn.functional``. Replacement is by identity:
wherever one of those function objects is reachable as an attribute of an ``ember`` module, of
a class in one (``Conv2d._fn``), of ``Tensor`` or of one of the exported model's modules
(``self.activation = F.gelu``), the recorder takes its place; on exit every
attribute gets its original back, even on error, so ops cost nothing when no export runs.

A recorder that is called while another recorded op runs just calls through, so an op's
internal calls are not recorded twice. An op with a converter is recorded as one unit: the
converter turns the call (its arguments, and the traced result for shapes and dtypes) into
ONNX nodes. An op without one is transparent: the ops it calls are recorded instead, and if
its result did not come from recorded ops the export fails naming it. An op whose tensor
inputs are all constants is folded: its traced result becomes a constant.

Tensors are tracked by identity (``Graph.values``). Inputs are traced through a copy that
requires grad, so that a tensor computed by anything the recorders missed carries a
``grad_fn`` and is reported instead of being taken for a constant.
"""
import sys
import threading

from .._tensor import Tensor
from .errors import UnsupportedOperatorError

_state = threading.local()

# Tensor methods defined on the class itself that return tensors computed from ``self``.
_TENSOR_EXTRAS = ('detach', 'cpu', 'type')

# Private ``nn.functional`` helpers that build tensors with NumPy, called by modules on masks that
# may be graph inputs (``MultiheadAttention``, the Transformer layers): recorded like public ops.
_PRIVATE_FUNCTIONAL = ('_canonical_mask',)


def active():
    """The recorder of the export running in this thread, or None."""
    return getattr(_state, 'recorder', None)


def _tensors(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors(o, out)
    return out


def _public_ops():
    """``{id(function): (function, op name)}`` for every op the recorders replace."""
    from .. import ops
    from ..nn import functional as F
    table = {}

    def add(fn, name):
        if callable(fn) and id(fn) not in table:
            table[id(fn)] = (fn, name)

    for name in dir(F):
        fn = getattr(F, name)
        if not name.startswith('_') and type(fn).__name__ == 'function':
            add(fn, name)
    for name in _PRIVATE_FUNCTIONAL:
        add(getattr(F, name, None), name)
    for family in ops.FAMILIES:
        for name in family.__all__:
            add(getattr(family, name), name)
        for name, fn in family.METHODS.items():
            # a method that is not the function of the same name may order its arguments differently
            fn = fn.fget if isinstance(fn, property) else fn
            add(fn, name if getattr(family, name, None) is fn else 'Tensor.' + name)
    for name in _TENSOR_EXTRAS:
        add(Tensor.__dict__[name], 'Tensor.' + name)
    return table


class Recorder:
    """Installs recorders for one export and turns recorded calls into graph nodes."""

    def __init__(self, graph, converters, fold, module_names, instances=()):
        self.graph = graph
        self.module_names = module_names  # id(module) -> its path in the exported model
        self.instances = list(instances)  # the exported model's modules
        self.converters = converters
        self.fold = fold
        self.depth = 0
        self.thread = threading.get_ident()
        self._patched = []
        self._hooks = []

    # ---- installation ------------------------------------------------------------------------
    def __enter__(self):
        if active() is not None:
            raise RuntimeError('ember.onnx.export: an export is already running in this thread')
        _state.recorder = self
        try:
            self._install()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for owner, attr, original in reversed(self._patched):
            setattr(owner, attr, original)
        self._patched.clear()
        for h in self._hooks:
            h.remove()
        self._hooks.clear()
        _state.recorder = None
        return False

    def _install(self):
        from ..nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
        table = _public_ops()
        wrappers = {key: self._wrap(fn, name) for key, (fn, name) in table.items()}
        for attr, value in list(vars(Tensor).items()):
            self._patch(Tensor, attr, value, wrappers)
        for modname, module in list(sys.modules.items()):
            if module is None or not (modname == 'ember' or modname.startswith('ember.')):
                continue
            if modname.startswith('ember.onnx'):
                continue
            for attr, value in list(vars(module).items()):
                if isinstance(value, type) and value is not Tensor and value.__module__ == modname:
                    for cattr, cvalue in list(vars(value).items()):
                        self._patch(value, cattr, cvalue, wrappers)
                else:
                    self._patch(module, attr, value, wrappers)
        for m in self.instances:
            # a module may keep an op as an attribute of its own (``self.activation = F.gelu``)
            for attr, value in list(vars(m).items()):
                self._patch(m, attr, value, wrappers)
        self._hooks.append(register_module_forward_pre_hook(lambda m, args: self._enter_module(m)))
        self._hooks.append(register_module_forward_hook(lambda m, args, out: self._exit_module()))

    def _patch(self, owner, attr, value, wrappers):
        if isinstance(value, property):
            w = wrappers.get(id(value.fget))
            new = property(w, value.fset, value.fdel, value.__doc__) if w else None
        elif isinstance(value, staticmethod):
            w = wrappers.get(id(value.__func__))
            new = staticmethod(w) if w else None
        else:
            new = wrappers.get(id(value))
        if new is not None:
            self._patched.append((owner, attr, value))
            setattr(owner, attr, new)

    def _enter_module(self, module):
        path = self.module_names.get(id(module))
        if path is None:
            path = (self.graph.scope[-1][0] + '.' if self.graph.scope and self.graph.scope[-1][0] else '') + \
                type(module).__name__
        self.graph.scope.append((path, module))

    def _exit_module(self):
        if self.graph.scope:
            self.graph.scope.pop()

    def _wrap(self, fn, name):
        def recorder(*args, **kwargs):
            if self.depth or threading.get_ident() != self.thread:
                return fn(*args, **kwargs)
            return self._record(name, fn, args, kwargs)
        recorder.__name__ = getattr(fn, '__name__', name)
        recorder.__qualname__ = getattr(fn, '__qualname__', name)
        recorder.__doc__ = fn.__doc__
        recorder.__wrapped__ = fn
        return recorder

    # ---- recording ---------------------------------------------------------------------------
    def _converter(self, name):
        for candidate in (name, name[7:] if name.startswith('Tensor.') else None):
            if candidate is None:
                continue
            found = self.converters.get(candidate)
            if found is None and candidate.endswith('_') and not candidate.endswith('__'):
                found = self.converters.get(candidate[:-1])  # in-place variant: same nodes, rebinds self
            if found is not None:
                return found
        return None

    def _record(self, name, fn, args, kwargs):
        g = self.graph
        inputs = _tensors((args, kwargs), [])
        converter = self._converter(name)
        folded = self.fold and all(g.is_constant(t) for t in inputs)
        before = [g.values.get(id(t)) for t in inputs]
        if converter is None and not folded:
            out = fn(*args, **kwargs)
            for t in _tensors(out, []):
                name_now = g.values.get(id(t))
                if name_now is None or any(t is i and name_now == b for i, b in zip(inputs, before)):
                    raise UnsupportedOperatorError(name if name.startswith('Tensor.') else 'ember.' + name,
                                                   g.opset, g.where())
            return out
        self.depth += 1
        try:
            out = fn(*args, **kwargs)
            outs = _tensors(out, [])
            if not outs:
                return out
            if folded:
                # constants are made when first used; a tensor already in the graph gets its new value now
                for t in outs:
                    if id(t) in g.values:
                        g.bind(t, g.const(t._data.copy()))
                return out
            result = converter(g, out, *args, **kwargs)
            names = result if isinstance(result, list) else [result]
            if len(names) != len(outs):
                raise RuntimeError(f'ember.onnx: the converter of {name} gave {len(names)} values for '
                                   f'{len(outs)} outputs')
            for t, value in zip(outs, names):
                previous = g.values.get(id(t))
                g.bind(t, value)
                if t._base is not None and previous is not None and previous != value and \
                        any(t is i for i in inputs):
                    g.stale_aliases(t)
        finally:
            self.depth -= 1
        return out
