"""``add_graph``: a model's op graph as the ``GraphDef`` TensorBoard's Graphs tab draws.

PyTorch traces the model with the JIT; Ember records the same information from one ordinary
run. Forward hooks on every module give each autograd node the scope of the module that created
it: when a module starts, the not yet scoped nodes behind its arguments belong to the enclosing
module; when it returns, the not yet scoped nodes behind its outputs are its own (inner modules
return first, so they claim their nodes before their parents). The graph is then read from the
outputs' ``grad_fn`` nodes and their ``next_functions`` down to the ``AccumulateGrad`` leaves,
which are the inputs and the parameters (named by module path). A node does not keep the shapes
of its outputs, so one backward pass with node pre-hooks reads them from the incoming gradients,
which have the outputs' shapes.

Names follow PyTorch's: ``Net/Conv2d[conv1]/convolution`` for an op, ``Net/Conv2d[conv1]/weight``
for a parameter, ``input/x`` and ``output/output.1`` for the model's inputs and outputs; an op's
type is ``aten::<op>``, the snake-case name of its ``grad_fn`` without ``Backward<n>``.
"""
import inspect
import re

from tensorboardX.proto.attr_value_pb2 import AttrValue
from tensorboardX.proto.graph_pb2 import GraphDef
from tensorboardX.proto.node_def_pb2 import NodeDef
from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboardX.proto.versions_pb2 import VersionDef

_CAMEL = re.compile(r'(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z0-9])(?=[A-Z][a-z])')


def _op_name(node):
    """``MaxPool2DWithIndicesBackward0`` -> ``max_pool2d_with_indices``."""
    name = re.sub(r'Backward\d*$', '', type(node).__name__) or type(node).__name__
    return _CAMEL.sub('_', name).lower()


def _tensors(x):
    """The tensors in ``x`` (a tensor, or nested tuples, lists and dict values), in order."""
    from ..._tensor import Tensor
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for e in x for t in _tensors(e)]
    if isinstance(x, dict):
        return [t for e in x.values() for t in _tensors(e)]
    return []


def _require_grad(x):
    """``x`` with its floating-point tensors replaced by detached copies that require grad."""
    from ..._tensor import Tensor
    if isinstance(x, Tensor):
        return x.detach().requires_grad_(True) if x.is_floating_point() else x
    if isinstance(x, list):
        return [_require_grad(e) for e in x]
    if isinstance(x, tuple) and not hasattr(x, '_fields'):
        return tuple(_require_grad(e) for e in x)
    if isinstance(x, dict):
        return {k: _require_grad(v) for k, v in x.items()}
    return x


def _input_names(model, args):
    """``input/<name>`` for each tensor of ``args``, named after ``model.forward``'s parameters."""
    try:
        params = [p.name for p in inspect.signature(getattr(model, 'forward', model)).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = []
    for i, a in enumerate(args):
        base = params[i] if i < len(params) else f'input.{i}'
        ts = _tensors(a)
        names += [f'input/{base}'] if len(ts) == 1 else [f'input/{base}.{j}' for j in range(len(ts))]
    return names


def _scopes(model, root):
    """``(scope by module id, name by parameter id)`` for every module and parameter of ``model``."""
    from ...nn.modules.module import Module
    if not isinstance(model, Module):
        return {}, {}
    scope, by_path, param_names = {}, {}, {}
    for path, m in model.named_modules():
        by_path[path] = m
        if path:
            parent, _, attr = path.rpartition('.')
            scope[id(m)] = f'{scope[id(by_path[parent])]}/{type(m).__name__}[{attr}]'
        else:
            scope[id(m)] = root
        for pname, p in m._parameters.items():
            if p is not None:
                param_names.setdefault(id(p), f'{scope[id(m)]}/{pname}')
    return scope, param_names


def _shape_attr(shapes):
    return AttrValue(list=AttrValue.ListValue(shape=[
        TensorShapeProto(unknown_rank=True) if s is None else
        TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in s]) for s in shapes]))


def _node(name, op, inputs=(), shapes=None, attr=None):
    attrs = {}
    if attr is not None:
        attrs['attr'] = AttrValue(s=attr.encode('utf-8'))
    if shapes is not None:
        attrs['_output_shapes'] = _shape_attr(shapes)
    return NodeDef(name=name, op=op, input=list(inputs), attr=attrs)


def _record(model, args, root):
    """Run ``model(*args)`` in eval mode with scope-recording hooks. Returns ``(outputs, scope by node,
    parameter names by id)``; inputs and all parameters require grad during the run."""
    from ...autograd.grad_mode import enable_grad
    from ...autograd.graph import AccumulateGrad, grad_edge
    from ...nn.modules.module import Module
    module_scope, param_names = _scopes(model, root)
    node_scope, stack = {}, []

    def claim(tensors, scope):
        todo = [grad_edge(t)[0] for t in _tensors(tensors)]
        while todo:
            n = todo.pop()
            if n is None or n in node_scope or type(n) is AccumulateGrad:
                continue
            node_scope[n] = scope
            todo.extend(f for f, _ in n.next_functions)

    def pre_hook(module, inputs):
        if stack:
            claim(inputs, stack[-1])
        stack.append(module_scope[id(module)])

    def hook(module, inputs, output):
        claim(output, stack.pop())

    handles = []
    if isinstance(model, Module):
        for _, m in model.named_modules():
            handles += [m.register_forward_pre_hook(pre_hook), m.register_forward_hook(hook)]
    try:
        with enable_grad():
            output = model(*args)
    finally:
        for h in handles:
            h.remove()
    return output, node_scope, param_names


def _topological(roots):
    """Nodes reachable from ``roots``, each after the nodes it depends on (iterative post-order DFS)."""
    order, seen = [], set()
    for root in roots:
        if root is None or root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, it = stack[-1]
            for f, _ in it:
                if f is not None and f not in seen:
                    seen.add(f)
                    stack.append((f, iter(f.next_functions)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _output_shapes(nodes, outputs, leaves):
    """Output shapes of each op node, read from the gradients a backward pass brings to it."""
    from ... import ones_like
    from ...autograd import grad
    shapes, handles = {}, []

    def reader(node):
        def pre(grads):
            shapes[node] = [None if g is None else tuple(g.shape) for g in grads]
        return pre

    for n in nodes:
        handles.append(n.register_prehook(reader(n)))
    roots = [t for t in outputs if t.requires_grad]
    try:
        if roots and leaves:
            grad(roots, leaves, grad_outputs=[ones_like(t) for t in roots], allow_unused=True)
    except (RuntimeError, NotImplementedError, TypeError, ValueError):
        pass  # shapes decorate the graph; an op without a working backward leaves them unknown
    finally:
        for h in handles:
            h.remove()
    return shapes


def graph(model, args, verbose=False, use_strict_trace=True):
    """``(GraphDef, None)`` for ``model`` run on ``args`` (a tensor, a tuple/list of them, or None); the
    second item stands for PyTorch's run metadata, which Ember does not record."""
    from ...autograd.graph import AccumulateGrad, grad_edge
    from ...nn.modules.module import Module
    args = () if args is None else tuple(args) if isinstance(args, (tuple, list)) else (args,)
    root = type(model).__name__ if isinstance(model, Module) else getattr(model, '__name__', type(model).__name__)
    args = _require_grad(args)
    in_tensors = _tensors(args)
    in_names = _input_names(model, args)
    params = list(model.parameters()) if isinstance(model, Module) else []
    frozen = [p for p in params if not p.requires_grad]
    training = model.training if isinstance(model, Module) else None
    try:
        if training is not None:
            model.train(False)
        for p in frozen:
            p.requires_grad_(True)
        output, node_scope, param_names = _record(model, args, root)
        outputs = _tensors(output)
        out_edges = [grad_edge(t) if t.requires_grad else (None, 0) for t in outputs]
        nodes = _topological([n for n, _ in out_edges])
        ops = [n for n in nodes if type(n) is not AccumulateGrad]
        shapes = _output_shapes(ops, outputs, [n.variable for n in nodes if type(n) is AccumulateGrad])
    finally:
        for p in frozen:
            p.requires_grad_(False)
        if training is not None:
            model.train(training)

    input_ids = {id(t): name for t, name in zip(in_tensors, in_names)}
    defs = [_node(name, 'IO Node', shapes=[tuple(t.shape)]) for t, name in zip(in_tensors, in_names)]
    names, used = {}, set(in_names)
    for n in nodes:
        if type(n) is AccumulateGrad:
            v = n.variable
            name = input_ids.get(id(v)) or param_names.get(id(v)) or f'{root}/leaf'
        else:
            name = f'{node_scope.get(n, root)}/{_op_name(n)}'
        base, k = name, 0
        while name in used and not (type(n) is AccumulateGrad and id(n.variable) in input_ids):
            k += 1
            name = f'{base}_{k}'
        used.add(name)
        names[n] = name

    def ref(node, nr):
        return names[node] + (f':{nr}' if nr else '')

    for n in nodes:
        if type(n) is AccumulateGrad:
            if id(n.variable) not in input_ids:
                defs.append(_node(names[n], 'Parameter', shapes=[tuple(n.variable.shape)]))
        else:
            defs.append(_node(names[n], f'aten::{_op_name(n)}', [ref(f, nr) for f, nr in n.next_functions if f],
                              shapes.get(n), attr=f'{{ grad_fn : {type(n).__name__} }}'))
    for i, (t, (n, nr)) in enumerate(zip(outputs, out_edges)):
        defs.append(_node(f'output/output.{i + 1}', 'IO Node', [ref(n, nr)] if n is not None else [],
                          shapes=[tuple(t.shape)]))
    if verbose:
        for d in defs:
            shape = [[x.size for x in s.dim] for s in d.attr['_output_shapes'].list.shape]
            print(f'{d.name} = {d.op}({", ".join(d.input)}) {shape}')
    return GraphDef(node=defs, versions=VersionDef(producer=22)), None
