"""The backward engine: ``backward`` and ``grad``.

The graph is walked without recursion. A first pass from the roots counts, for every
node, how many edges point at it. A node runs once all those edges have delivered (its
gradient buffer is then complete); running it delivers to its ``next_functions``. A node
that received no gradient at all still "runs" as a no-op, so that the counts of the
nodes below it reach zero.

At a node, hooks run in PyTorch's order: the hooks of its output tensors
(``Tensor.register_hook``), then ``retain_grad``, then ``Node.register_prehook`` hooks,
the backward itself, then ``Node.register_hook`` hooks. A leaf's ``AccumulateGrad`` runs
the leaf's tensor hooks, its pre-hooks, adds into ``.grad`` (then post-accumulate hooks).

``grad`` captures the gradient arriving at the requested tensors (after their tensor
hooks) instead of accumulating into ``.grad``; ``backward(inputs=...)`` accumulates only
into the requested tensors. Either way only the nodes with a path to a requested tensor
run. Without ``retain_graph`` every node that ran releases its saved tensors.
"""
import warnings

import numpy as np

from .anomaly_mode import _anomaly, _current_node, _report
from .grad_mode import _grad_var
from .graph import AccumulateGrad, grad_edge


def _as_tuple(x):
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, dict):
        return tuple(x.values())
    return tuple(x)


def _tensor_or_tensors_to_tuple(tensors, length):
    from .._tensor import Tensor
    if tensors is None:
        return (None,) * length
    if isinstance(tensors, Tensor):
        return (tensors,)
    return tuple(tensors)


def _make_grads(outputs, grad_outputs):
    """The root gradients: ``grad_outputs`` checked against ``outputs``, ones for scalars."""
    from .._tensor import Tensor, _wrap
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f'got {len(grad_outputs)} gradients for {len(outputs)} tensors: pass one gradient '
                           'per tensor')
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out._requires_grad:
                if out._data.size != 1:
                    raise RuntimeError('grad can be implicitly created only for scalar outputs')
                if out._data.dtype.kind != 'f':
                    raise RuntimeError(f'grad can be implicitly created only for real scalar outputs but got '
                                       f'{out.dtype}')
                g = _wrap(np.ones_like(out._data))
        elif isinstance(g, Tensor):
            if g._data.shape != out._data.shape:
                raise RuntimeError(f'Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and '
                                   f'output[{i}] has a shape of {out.shape}.')
            if g._data.dtype != out._data.dtype:
                g = g.to(out.dtype)
        else:
            raise TypeError(f'gradients can be either Tensors or None, but got {type(g).__name__}')
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Accumulate the gradients of ``tensors`` w.r.t. graph leaves into their ``.grad``.

    ``grad_tensors`` are the vectors of the vector-Jacobian product (required for non-scalar
    tensors); ``retain_graph`` keeps saved tensors for another backward (default:
    ``create_graph``); ``create_graph`` records the backward itself for higher-order
    derivatives; ``inputs`` (tensors or a dict of them) restricts accumulation to those
    tensors (non-leaf ones get ``retain_grad()``).
    """
    if grad_variables is not None:
        warnings.warn('`grad_variables` is deprecated. Use `grad_tensors` instead.', FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError('`grad_tensors` and `grad_variables` (deprecated) arguments both passed to '
                               '`backward()`. Please only use `grad_tensors`.')
        grad_tensors = grad_variables
    tensors = _as_tuple(tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError('`inputs` argument to `backward()` cannot be empty.')
    grads = _make_grads(tensors, _tensor_or_tensors_to_tuple(grad_tensors, len(tensors)))
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        warnings.warn('Using backward() with create_graph=True will create a reference cycle between the parameter '
                      'and its gradient which can cause a memory leak. We recommend using autograd.grad when creating '
                      'the graph to avoid this. If you have to use this function, make sure to reset the .grad fields '
                      'of your parameters to None after use to break the cycle and avoid the leak.', stacklevel=3)
    targets = None
    if inputs is not None:
        targets = set()
        for t in inputs:
            if not t._requires_grad:
                raise RuntimeError('One of the differentiated Tensors does not require grad')
            if t.grad_fn is not None:
                t.retain_grad()
            targets.add(grad_edge(t)[0])
    _run(tensors, grads, retain_graph, create_graph, None, targets)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` w.r.t. ``inputs``, as a tuple (``.grad`` is left untouched).

    ``grad_outputs``: the vectors of the vector-Jacobian product (None for scalar outputs);
    ``allow_unused``: return None for inputs the outputs do not depend on instead of
    raising; ``materialize_grads``: return zeros instead of None. ``inputs`` may be a dict,
    and a dict of gradients with the same keys is then returned.
    """
    if is_grads_batched:
        raise NotImplementedError('ember.autograd.grad: is_grads_batched=True needs vmap, which Ember does not have')
    if materialize_grads and allow_unused is False:
        raise ValueError('Expected allow_unused to be True or not passed when materialize_grads=True, but got: '
                         'allow_unused=False.')
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _as_tuple(outputs)
    keys = list(inputs.keys()) if type(inputs) is dict else None
    inputs = _as_tuple(inputs)
    if len(inputs) == 0:
        raise RuntimeError('`inputs` argument to `grad()` cannot be empty.')
    if not only_inputs:
        warnings.warn('only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate '
                      'gradient for other parts of the graph, please use torch.autograd.backward.', FutureWarning,
                      stacklevel=2)
    grads = _make_grads(outputs, _tensor_or_tensors_to_tuple(grad_outputs, len(outputs)))
    if retain_graph is None:
        retain_graph = create_graph
    capture = {}
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError('One of the differentiated Tensors does not require grad')
        node, nr = grad_edge(t)
        capture.setdefault(node, []).append((nr, i))
    captured = _run(outputs, grads, retain_graph, create_graph, capture, None, len(inputs))
    for i, (t, g) in enumerate(zip(inputs, captured)):
        if g is None:
            if materialize_grads:
                from .._tensor import _wrap
                captured[i] = _wrap(np.zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(f'The differentiated Tensor at index {i} appears to not have been used in the '
                                   'graph. Set allow_unused=True if this is the desired behavior.')
    if keys is not None:
        return dict(zip(keys, captured))
    return tuple(captured)


def _run(outputs, grads, retain_graph, create_graph, capture, targets, n_captured=0):
    """Run backward from ``outputs`` seeded with ``grads``.

    ``capture`` (for ``grad``) maps a node to the ``(output_nr, slot)`` pairs whose gradient
    is returned; ``targets`` (for ``backward(inputs=...)``) are the nodes that must run.
    With either, only nodes with a path to a captured node or a target run.
    """
    buffers = {}
    for i, (out, g) in enumerate(zip(outputs, grads)):
        node, nr = grad_edge(out)
        if node is None:
            raise RuntimeError(f'element {i} of tensors does not require grad and does not have a grad_fn')
        buffers[node] = _accumulate(buffers.get(node), node, nr, g)

    # Count incoming edges for every node reachable from the roots (its keys: the nodes seen).
    deps = dict.fromkeys(buffers, 0)
    stack = list(buffers)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is not None:
                d = deps.get(nxt)
                if d is None:
                    deps[nxt] = 1
                    stack.append(nxt)
                else:
                    deps[nxt] = d + 1

    needed = None
    if capture is not None or targets is not None:
        needed = _needed_nodes(deps, capture if capture is not None else targets, targets is not None)
    captured = [None] * n_captured
    # ``ready`` holds (node, gradient buffer) pairs (see ``_accumulate``); a buffer stays in
    # ``buffers`` only while some edges into its node have not delivered yet, so a node with one
    # incoming edge (a chain) never enters the dicts after the counting pass.
    ready = [(node, buffers.pop(node)) for node in list(buffers) if deps[node] == 0]

    anomaly = _anomaly[0]
    check_nan = anomaly and _anomaly[1]
    plain = needed is None and not anomaly
    token = _grad_var.set(bool(create_graph))
    try:
        while ready:
            node, buf = ready.pop()
            if buf is None:
                outs = (None,) * len(node.next_functions)
            elif plain and node._hooks is None and type(node) is not AccumulateGrad:
                outs = node.backward(buf) if node.n_outputs == 1 else node.backward(tuple(buf))
                if type(outs) is not tuple:
                    outs = (outs,)
                if not retain_graph:
                    node._release()
            else:
                # Drop this loop's own references to earlier gradients first: a leaf's AccumulateGrad
                # takes over a gradient array nothing else references (see ``_accumulate_into_leaf``).
                outs = g = b = None
                outs = _run_node(node, [buf] if node.n_outputs == 1 else buf, capture, captured, needed, anomaly,
                                 check_nan, retain_graph)
            for (nxt, nr), g in zip(node.next_functions, outs, strict=True):
                if nxt is None:
                    continue
                d = deps[nxt]
                if d == 1:  # the last edge into nxt: it is ready
                    b = buffers.pop(nxt, None)
                    if g is not None:
                        b = g if b is None and nxt.n_outputs == 1 else _accumulate(b, nxt, nr, g)
                    ready.append((nxt, b))
                else:
                    deps[nxt] = d - 1
                    if g is not None:
                        buffers[nxt] = _accumulate(buffers.get(nxt), nxt, nr, g)
    finally:
        _grad_var.reset(token)
    return captured


def _accumulate(buf, node, nr, g):
    """``node``'s gradient buffer ``buf`` (None while empty) with ``g`` added for output ``nr``. The
    buffer of a one-output node is its gradient itself; of a multi-output node, a list with one
    entry per output (None for outputs that got no gradient)."""
    n = node.n_outputs
    if n == 1:
        return g if buf is None else buf + g
    if buf is None:
        buf = [None] * n
    buf[nr] = g if buf[nr] is None else buf[nr] + g
    return buf


def _run_node(node, buf, capture, captured, needed, anomaly, check_nan, retain_graph):
    """Run one node that received gradients ``buf`` with its hooks, captures and anomaly checks;
    its input gradients (None for each edge when ``needed`` excludes it)."""
    hooks = node._hooks
    leaf = type(node) is AccumulateGrad
    if leaf:
        th = node.variable._hooks
        if th:
            buf[0] = _call_tensor_hooks(th, buf[0])
    elif hooks is not None:
        buf = _call_tensor_pre_hooks(hooks, buf)
    if capture is not None and node in capture:
        for nr, i in capture[node]:
            captured[i] = buf[nr]
    if needed is not None and node not in needed:
        return (None,) * len(node.next_functions)
    if hooks is not None and hooks.pre:
        buf = _call_pre_hooks(hooks.pre, buf)
    if anomaly:
        outs = _run_node_anomaly(node, buf, check_nan)
    elif leaf:
        if buf[0] is not None:
            if th or hooks is not None:  # a hook's result may be held elsewhere
                node.backward(buf[0])
            else:
                node.take(buf[0])
        outs = ()
    else:
        outs = node.backward(buf[0]) if node.n_outputs == 1 else node.backward(tuple(buf))
        if type(outs) is not tuple:
            outs = (outs,)
    if hooks is not None and hooks.post:
        outs = _call_post_hooks(hooks.post, outs, buf)
    if not retain_graph:
        node._release()
    return outs


def _run_node_anomaly(node, buf, check_nan):
    """Run ``node`` under anomaly detection: report its forward traceback on failure or NaN."""
    prev = _current_node[0]
    _current_node[0] = node
    try:
        if type(node) is AccumulateGrad:
            if buf[0] is not None:
                node.backward(buf[0])
            return ()
        outs = node.backward(buf[0]) if node.n_outputs == 1 else node.backward(tuple(buf))
        if type(outs) is not tuple:
            outs = (outs,)
        if check_nan:
            for i, g in enumerate(outs):
                if g is not None and g._data.dtype.kind == 'f' and np.isnan(g._data).any():
                    raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
        return outs
    except Exception:
        _report(node)
        raise
    finally:
        _current_node[0] = prev


def _needed_nodes(nodes, wanted, include_wanted):
    """Nodes with an edge path to a node of ``wanted`` (and those nodes when ``include_wanted``)."""
    needed = set(wanted) if include_wanted else set()
    order = []
    visited = set()
    for start in nodes:
        if start in visited:
            continue
        visited.add(start)
        stack = [(start, iter(start.next_functions))]
        while stack:
            node, it = stack[-1]
            for nxt, _ in it:
                if nxt is not None and nxt not in visited:
                    visited.add(nxt)
                    stack.append((nxt, iter(nxt.next_functions)))
                    break
            else:
                stack.pop()
                order.append(node)
    for node in order:
        for n, _ in node.next_functions:
            if n is not None and (n in needed or n in wanted):
                needed.add(node)
                break
    return needed


def _check_hook_result(old, new, hook):
    from .._tensor import Tensor
    if not isinstance(new, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
    if old is not None:
        if new._data.dtype != old._data.dtype:
            raise TypeError(f"hook '{getattr(hook, '__name__', hook)}' has changed the type of value (was "
                            f"{old.type()} got {new.type()})")
        if new._data.shape != old._data.shape:
            raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value")


def _call_tensor_hooks(hooks, g):
    for h in tuple(hooks.values()):
        r = h(g)
        if r is not None:
            _check_hook_result(g, r, h)
            g = r
    return g


def _call_tensor_pre_hooks(hooks, buf):
    for nr, d in hooks.tensor_pre:
        if d:
            buf[nr] = _call_tensor_hooks(d, buf[nr])
    for nr, fn in tuple(hooks.retains.items()):
        fn(buf[nr])
    return buf


def _call_pre_hooks(pre, buf):
    for h in tuple(pre.values()):
        r = h(tuple(buf))
        if r is not None:
            buf = list(r)
    return buf


def _call_post_hooks(post, outs, buf):
    for h in tuple(post.values()):
        r = h(outs, tuple(buf))
        if r is not None:
            outs = tuple(r)
    return outs
