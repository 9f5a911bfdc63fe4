"""The ONNX graph under construction: nodes, constants, initializers and the map from the
tensors seen while tracing to the graph values that compute them.

Converters receive a ``Graph`` and build nodes with ``g.op('Conv', x, w, strides=[1, 1])``;
``g.value(t)`` names any tensor or Python number as a graph value (a traced result, an input,
a parameter's initializer, or a constant), cast to a dtype when asked.
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper

from .. import _dtype
from .._tensor import Tensor
from .errors import SymbolicValueError

INT64_MAX = np.iinfo(np.int64).max


def onnx_type(dtype):
    """The ONNX element type of an Ember dtype (or NumPy dtype)."""
    npd = dtype.np if isinstance(dtype, _dtype.dtype) else np.dtype(dtype)
    return helper.np_dtype_to_tensor_dtype(npd)


class Graph:
    def __init__(self, opset, export_params=True):
        self.opset = opset
        self.export_params = export_params
        self.nodes = []
        self.initializers = []
        self.param_inputs = []
        self.values = {}        # id(tensor) -> value name (None once the tensor went stale)
        self.keep = {}          # id(tensor) -> tensor: ids stay unique while the graph lives
        self.params = {}        # id(parameter or buffer) -> state_dict name
        self.constants = set()  # value names whose values are known numbers
        self.scope = []         # (path, module) of the modules running, outermost first
        self._node_names = set()

    # ---- naming ------------------------------------------------------------------------------
    def where(self):
        """The module path running now, for error messages."""
        if not self.scope:
            return 'the top-level function'
        path, module = self.scope[-1]
        return f"module '{path or '<root>'}' ({type(module).__name__})"

    def _node_name(self, op_type):
        path = self.scope[-1][0] if self.scope else ''
        base = '/' + path.replace('.', '/') + '/' + op_type if path else '/' + op_type
        name, k = base, 0
        while name in self._node_names:
            k += 1
            name = f'{base}_{k}'
        self._node_names.add(name)
        return name

    def fail(self, op, why):
        raise SymbolicValueError(f'ember.onnx.export: {op} in {self.where()}: {why}')

    # ---- nodes -------------------------------------------------------------------------------
    def op(self, op_type, *inputs, outputs=1, **attrs):
        """Append a node; return its output name (a list of names when ``outputs > 1``)."""
        name = self._node_name(op_type)
        outs = [f'{name}_output_{i}' for i in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        names = [i or '' for i in inputs]
        while names and not names[-1]:  # trailing optional inputs are left out, not named ''
            names.pop()
        self.nodes.append(helper.make_node(op_type, names, outs, name=name, **attrs))
        return outs[0] if outputs == 1 else outs

    def const(self, array, dtype=None):
        """A Constant node holding ``array`` (cast to ``dtype``, an Ember or NumPy dtype)."""
        arr = np.asarray(array)
        if dtype is not None:
            arr = arr.astype(dtype.np if isinstance(dtype, _dtype.dtype) else dtype)
        out = self.op('Constant', value=numpy_helper.from_array(arr.copy(order='C')))
        self.constants.add(out)
        return out

    def ints(self, values):
        """A 1-D int64 constant (shapes, axes, pads given as inputs)."""
        return self.const(np.array(list(values), dtype=np.int64).reshape(-1))

    def cast(self, name, to):
        return self.op('Cast', name, to=onnx_type(to))

    # ---- values ------------------------------------------------------------------------------
    def is_constant(self, t):
        """Whether ``t`` holds a known number: a constant, a folded result, or a tensor made
        outside the recorded ops (not a parameter, buffer or input)."""
        name = self.values.get(id(t), False)
        if name is False:
            return id(t) not in self.params and t.grad_fn is None
        return name in self.constants

    def value(self, x, dtype=None):
        """The graph value of tensor or number ``x``, cast to ``dtype`` if given and different."""
        if not isinstance(x, Tensor):
            if isinstance(x, (list, tuple)) and not x:
                self.fail('a constant', 'empty list')
            if dtype is None:
                dtype = _dtype.tensor_result_type(x, x) if np.ndim(x) == 0 else None
            return self.const(np.asarray(x), dtype)
        name = self.values.get(id(x), False)
        if name is None:
            self.fail('reading a tensor', 'it was changed in place through a view, which the exporter cannot '
                                          'record; use out-of-place ops')
        if name is False:
            if id(x) in self.params:
                name = self._initializer(x)
            elif x.grad_fn is not None:
                self.fail(type(x.grad_fn).__name__, 'this tensor was computed by an op the exporter did not record '
                                                    '(a function outside ember\'s op families)')
            else:
                name = self.const(x._data.copy())
            self.bind(x, name)
        if dtype is not None and x.dtype != dtype:
            return self.cast(name, dtype)
        return name

    def _initializer(self, t):
        name = self.params[id(t)]
        if self.export_params:
            self.initializers.append(numpy_helper.from_array(t._data.copy(order='C'), name))
        else:
            self.param_inputs.append(helper.make_tensor_value_info(name, onnx_type(t.dtype), list(t.shape)))
        return name

    def bind(self, t, name):
        """Record that graph value ``name`` computes tensor ``t`` (now)."""
        self.values[id(t)] = name
        self.keep[id(t)] = t

    def stale_aliases(self, t):
        """``t`` (a view) was written in place: other tensors sharing its memory no longer match
        their graph values."""
        base = t._base
        for key, u in self.keep.items():
            if u is not t and (u is base or u._base is base) and self.values.get(key):
                self.values[key] = None

    # ---- helpers converters share ------------------------------------------------------------
    def reduce(self, op_type, x, axes, keepdims):
        """``ReduceXxx`` over ``axes`` (a list): ReduceSum takes axes as an input from opset 13, the
        others from opset 18."""
        if op_type == 'ReduceSum' or self.opset >= 18:
            return self.op(op_type, x, self.ints(axes), keepdims=int(keepdims))
        return self.op(op_type, x, axes=list(axes), keepdims=int(keepdims))

    def unsqueeze(self, x, axes):
        return self.op('Unsqueeze', x, self.ints(axes))

    def squeeze(self, x, axes):
        return self.op('Squeeze', x, self.ints(axes))

    def split(self, x, sizes, axis):
        outs = self.op('Split', x, self.ints(sizes), axis=axis, outputs=len(sizes))
        return [outs] if len(sizes) == 1 else outs


def value_info(name, dtype, shape, dynamic=None):
    """A graph input/output declaration; ``dynamic`` maps axes to symbolic dimension names."""
    dims = [dynamic[i] if dynamic and i in dynamic else d for i, d in enumerate(shape)]
    return helper.make_tensor_value_info(name, onnx_type(dtype), dims)


__all__ = ['Graph', 'INT64_MAX', 'onnx_type', 'value_info', 'onnx']
