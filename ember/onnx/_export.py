"""``export`` and ``load_weights``: run the model under the recorders, then assemble and write
the ONNX model (see ``_trace`` for how ops are recorded)."""
import inspect
import io
import os

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import set_grad_enabled
from . import TrainingMode


def _onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError('ember.onnx needs the onnx package: pip install ember[onnx]') from e
    return onnx


def _converters():
    from . import symbolic_nn, symbolic_seq, symbolic_tensor
    table = dict(symbolic_tensor.CONVERTERS)
    table.update(symbolic_nn.CONVERTERS)
    table.update(symbolic_seq.CONVERTERS)
    return table


def _split_args(args, kwargs):
    if isinstance(args, Tensor):
        args = (args,)
    elif not isinstance(args, tuple):
        args = tuple(args) if isinstance(args, list) else (args,)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):  # PyTorch's convention: a trailing dict holds keyword arguments
        kwargs.update(args[-1])
        args = args[:-1]
    return args, kwargs


def _input_copies(obj, found):
    """Replace each tensor in ``obj`` by a traced copy (one that requires grad when it can, so that
    anything computed from it outside the recorders carries a ``grad_fn``)."""
    if isinstance(obj, Tensor):
        t = obj.detach()
        if t.is_floating_point():
            t = t.requires_grad_(True).clone()
        else:
            t = t.clone()
        found.append((obj, t))
        return t
    if isinstance(obj, (list, tuple)) and not hasattr(obj, '_fields'):
        return type(obj)(_input_copies(o, found) for o in obj)
    if isinstance(obj, dict):
        return {k: _input_copies(v, found) for k, v in obj.items()}
    return obj


def _default_input_names(model, n):
    try:
        params = [p for p in inspect.signature(getattr(model, 'forward', model)).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:n]]
    return names + [f'input_{i}' for i in range(len(names), n)]


def _dynamic(spec, name):
    axes = (spec or {}).get(name)
    if axes is None:
        return None
    if isinstance(axes, dict):
        return {int(k): str(v) for k, v in axes.items()}
    return {int(a): f'{name}_dynamic_axes_{i + 1}' for i, a in enumerate(axes)}


def _set_training(model, training):
    from ..nn import Module
    if not isinstance(model, Module) or training == TrainingMode.PRESERVE:
        return None
    flags = [(m, m.training) for m in model.modules()]
    model.train(training == TrainingMode.TRAINING)
    return flags


def export(model, args, f, *, kwargs, verbose, input_names, output_names, opset_version, export_params,
           keep_initializers_as_inputs, dynamic_axes, training, do_constant_folding):
    onnx = _onnx()
    from onnx import helper
    from ._graph import Graph, value_info
    from ._trace import Recorder, _tensors
    if not 13 <= opset_version <= 21:
        raise ValueError(f'ember.onnx.export: opset_version must be between 13 and 21, got {opset_version}')
    args, kwargs = _split_args(args, kwargs)
    pairs = []
    traced_args = _input_copies(args, pairs)
    traced_kwargs = _input_copies(kwargs, pairs)
    inputs = [t for _, t in pairs]
    names = list(input_names or [])
    names += _default_input_names(model, len(inputs))[len(names):]
    if len(names) > len(inputs):
        names = names[:len(inputs)]

    g = Graph(opset_version, export_params)
    modules = {}
    instances = []
    if hasattr(model, 'named_modules'):
        for path, m in model.named_modules():
            modules.setdefault(id(m), path)
            instances.append(m)
        for key, t in model.state_dict(keep_vars=True).items():
            g.params.setdefault(id(t), key)
            g.keep[id(t)] = t
    dyn = dynamic_axes or {}
    graph_inputs = []
    for name, t in zip(names, inputs):
        g.bind(t, name)
        graph_inputs.append(value_info(name, t.dtype, t.shape, _dynamic(dyn, name)))
    flags = _set_training(model, training)
    try:
        with set_grad_enabled(True), Recorder(g, _converters(), do_constant_folding, modules,
                                                    instances):
            result = model(*traced_args, **traced_kwargs)
    finally:
        if flags:
            for m, was in flags:
                m.training = was
    outs = _tensors(result, [])
    if not outs:
        raise ValueError('ember.onnx.export: the model returned no tensors')
    out_names = list(output_names or [])
    out_names += ['output' if len(outs) == 1 else f'output_{i}' for i in range(len(out_names), len(outs))]
    graph_outputs = []
    any_dynamic = any(_dynamic(dyn, n) for n in names)
    for name, t in zip(out_names, outs):
        _name_output(g, g.value(t), name)
        given = _dynamic(dyn, name)
        shape = [None] * t.dim() if any_dynamic and not given else list(t.shape)
        graph_outputs.append(value_info(name, t.dtype, shape, given))
    initializer_inputs = []
    if keep_initializers_as_inputs:
        initializer_inputs = [helper.make_tensor_value_info(i.name, i.data_type, list(i.dims))
                              for i in g.initializers]
    graph = helper.make_graph(g.nodes, type(model).__name__ if hasattr(model, 'named_modules') else 'main_graph',
                              graph_inputs + g.param_inputs + initializer_inputs, graph_outputs,
                              initializer=g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset_version)],
                              producer_name='ember', producer_version=_version())
    proto.ir_version = min(proto.ir_version, 8 if opset_version <= 18 else 9)
    onnx.checker.check_model(proto)
    if verbose:
        print(helper.printable_graph(proto.graph))
    if f is not None:
        data = proto.SerializeToString()
        if isinstance(f, (str, os.PathLike)):
            with open(f, 'wb') as fh:
                fh.write(data)
        else:
            f.write(data)
    return proto


def _version():
    from .. import __version__
    return __version__


def _name_output(g, value, name):
    """Give graph value ``value`` the output name ``name``: rename the node output in place when
    the value is a node's and not yet an output, otherwise add an Identity."""
    producer = None
    for node in g.nodes:
        if value in node.output:
            producer = node
    taken = getattr(g, '_output_values', set())
    if producer is None or value in taken or value in g.constants:
        g.nodes.append(_identity(value, name))
        return
    for node in g.nodes:
        for i, v in enumerate(node.input):
            if v == value:
                node.input[i] = name
        for i, v in enumerate(node.output):
            if v == value:
                node.output[i] = name
    for key, v in list(g.values.items()):
        if v == value:
            g.values[key] = name
    taken.add(name)
    g._output_values = taken


def _identity(value, name):
    from onnx import helper
    return helper.make_node('Identity', [value], [name], name=f'/Identity_{name}')


def _read_model(f):
    onnx = _onnx()
    if isinstance(f, onnx.ModelProto):
        return f
    if isinstance(f, (bytes, bytearray)):
        return onnx.load_model_from_string(bytes(f))
    if isinstance(f, (str, os.PathLike)):
        return onnx.load(os.fspath(f))
    if isinstance(f, io.IOBase) or hasattr(f, 'read'):
        return onnx.load_model_from_string(f.read())
    raise TypeError(f'load_weights(): expected a path, a file object, bytes or an onnx.ModelProto, '
                    f'got {type(f).__name__}')


def load_weights(model, f, strict=True):
    from onnx import numpy_helper
    from ..autograd.grad_mode import no_grad
    from ..nn.modules.module import _IncompatibleKeys
    proto = _read_model(f)
    arrays = {init.name: numpy_helper.to_array(init) for init in proto.graph.initializer}
    state = model.state_dict(keep_vars=True)
    errors = []
    for key, t in state.items():
        if key in arrays and tuple(arrays[key].shape) != tuple(t.shape):
            errors.append(f'size mismatch for {key}: copying a param with shape {list(arrays[key].shape)} from '
                          f'the ONNX model, the shape in current model is {list(t.shape)}.')
    missing = [k for k in state if k not in arrays]
    unexpected = [k for k in arrays if k not in state]
    params = {k for k, _ in model.named_parameters()}
    if strict:
        absent = [k for k in missing if k in params]
        if absent:
            errors.insert(0, 'Missing key(s) in the ONNX model: ' + ', '.join(f'"{k}"' for k in absent) + '.')
    if errors:
        raise RuntimeError(f'Error(s) in loading ONNX weights for {type(model).__name__}:\n\t' + '\n\t'.join(errors))
    with no_grad():
        for key, t in state.items():
            if key in arrays:
                t._data[...] = np.asarray(arrays[key]).astype(t._data.dtype, copy=False)
                t._vc[0] += 1
    return _IncompatibleKeys(missing, unexpected)
