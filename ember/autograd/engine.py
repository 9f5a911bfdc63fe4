"""The backward engine: ``backward`` and ``grad``.

The graph is walked without recursion. A first pass from the roots counts, for every
node, how many edges point at it. A node runs once all those edges have delivered (its
gradient buffer is then complete); running it delivers to its ``next_functions``. A node
that received no gradient at all still "runs" as a no-op, so that the counts of the
nodes below it reach zero.

``grad`` (and ``backward(inputs=...)``) capture the gradient arriving at the requested
tensors instead of accumulating into ``.grad``; nodes that lead to none of them are skipped.
Without ``retain_graph`` every node releases its saved tensors after running.
"""
import numpy as np

from . import grad_mode
from .graph import AccumulateGrad, grad_edge
from .anomaly_mode import _anomaly


def _make_grads(outputs, grad_outputs):
    from .._tensor import Tensor, _wrap
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if not out._requires_grad:
                raise RuntimeError(f'element {i} of tensors does not require grad and does not have a grad_fn')
            if out._data.size != 1:
                raise RuntimeError('grad can be implicitly created only for scalar outputs')
            g = _wrap(np.ones_like(out._data))
        elif not isinstance(g, Tensor):
            from .._creation import tensor
            g = tensor(g, dtype=out.dtype)
        else:
            if g._data.shape != out._data.shape:
                raise RuntimeError(f'Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and '
                                   f'output[{i}] has a shape of {out.shape}.')
            if g._data.dtype.kind != out._data.dtype.kind:
                raise RuntimeError(f'For complex Tensors, both grad_output and output are required to have the '
                                   f'same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} '
                                   f'and output[{i}] has a dtype of {out.dtype}.')
        grads.append(g)
    return grads


def _as_tuple(x):
    from .._tensor import Tensor
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Accumulate gradients of ``tensors`` w.r.t. graph leaves into their ``.grad``.

    ``grad_tensors`` are the vectors of the vector-Jacobian product (needed for non-scalars);
    ``inputs`` restricts accumulation to those tensors.
    """
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f'got {len(grad_tensors)} tensors and {len(tensors)} gradients')
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors)
    inputs = _as_tuple(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    captured = _run(tensors, grads, retain_graph, create_graph, inputs)
    if inputs is not None:
        from .._tensor import _accumulate_into_leaf
        with grad_mode.set_grad_enabled(create_graph):
            for t, g in zip(inputs, captured):
                if g is not None:
                    _accumulate_into_leaf(t, g)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned as a tuple (``.grad`` is left untouched)."""
    if is_grads_batched:
        raise NotImplementedError('ember.autograd.grad: is_grads_batched=True is not supported')
    outputs = _as_tuple(outputs)
    single = not isinstance(inputs, (tuple, list))
    inputs = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and not allow_unused:
        raise ValueError('Expected allow_unused to be True or not passed when materialize_grads=True, '
                         'but got: allow_unused=False.')
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError('One of the differentiated Tensors does not require grad')
    grad_outputs = _as_tuple(grad_outputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f'grad requires one grad_output per output: got {len(grad_outputs)} grad_outputs '
                           f'and {len(outputs)} outputs')
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, grad_outputs)
    captured = _run(outputs, grads, retain_graph, create_graph, inputs)
    result = []
    for t, g in zip(inputs, captured):
        if g is None:
            if materialize_grads:
                from .._tensor import _wrap
                g = _wrap(np.zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError('One of the differentiated Tensors appears to not have been used in the graph. '
                                   'Set allow_unused=True if this is the desired behavior.')
        result.append(g)
    return tuple(result)


def _run(outputs, grads, retain_graph, create_graph, inputs):
    """Run backward from ``outputs``; return the gradients captured at ``inputs`` (or None)."""
    roots = []
    for out, g in zip(outputs, grads):
        node, nr = grad_edge(out)
        if node is None:
            raise RuntimeError('element 0 of tensors does not require grad and does not have a grad_fn')
        roots.append((node, nr, g))

    # Count incoming edges for every node reachable from the roots.
    deps = {}
    seen = {node for node, _, _ in roots}
    stack = list(seen)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is not None:
                if nxt in deps:
                    deps[nxt] += 1
                else:
                    deps[nxt] = 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)

    capture = None
    needed = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            node, nr = grad_edge(t)
            capture.setdefault(node, []).append((nr, i))
        needed = _needed_nodes(seen, capture)
    captured = [None] * (len(inputs) if inputs is not None else 0)

    buffers = {}
    for node, nr, g in roots:
        buf = buffers.get(node)
        if buf is None:
            buffers[node] = buf = [None] * node.n_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    ready = [node for node in buffers if deps.get(node, 0) == 0]

    check_nan = _anomaly[0]
    prev_mode = grad_mode._enabled[0]
    grad_mode._enabled[0] = create_graph
    try:
        while ready:
            node = ready.pop()
            buf = buffers.pop(node, None)
            outs = None
            if buf is not None:
                if node._pre_hooks:
                    buf = _call_pre_hooks(node, buf)
                if capture is not None and node in capture:
                    for nr, i in capture[node]:
                        captured[i] = _leaf_hooked(node, buf[nr])
                if type(node) is AccumulateGrad:
                    if capture is None:
                        g = _leaf_hooked(node, buf[0])
                        if g is not None:
                            node.backward(g)
                    continue
                if needed is None or node in needed:
                    if node.n_outputs == 1:
                        outs = node.backward(buf[0])
                    else:
                        outs = node.backward(tuple(buf))
                    if type(outs) is not tuple:
                        outs = (outs,)
                    if check_nan:
                        _check_nan(node, outs)
                    if node._hooks:
                        outs = _call_post_hooks(node, outs, buf)
            if not retain_graph:
                node._release()
            for i, (nxt, nr) in enumerate(node.next_functions):
                if nxt is None:
                    continue
                if outs is not None:
                    g = outs[i]
                    if g is not None:
                        b = buffers.get(nxt)
                        if b is None:
                            buffers[nxt] = b = [None] * nxt.n_outputs
                        b[nr] = g if b[nr] is None else b[nr] + g
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    ready.append(nxt)
    finally:
        grad_mode._enabled[0] = prev_mode
    return captured


def _needed_nodes(nodes, capture):
    """Nodes with an edge path to a captured node: only they need to run for ``grad``."""
    needed = set()
    order = []
    visited = set()
    for start in nodes:
        if start in visited:
            continue
        stack = [(start, iter(start.next_functions))]
        visited.add(start)
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
        if any(n in needed or n in capture for n, _ in node.next_functions if n is not None):
            needed.add(node)
    return needed


def _leaf_hooked(node, g):
    """Apply a leaf tensor's hooks to its incoming gradient (and non-leaf retain hooks are pre-hooks)."""
    if g is None or type(node) is not AccumulateGrad:
        return g
    hooks = node.variable._hooks
    if hooks:
        for h in list(hooks.values()):
            r = h(g)
            if r is not None:
                g = r
    return g


def _call_pre_hooks(node, buf):
    for h in list(node._pre_hooks.values()):
        r = h(tuple(buf))
        if r is not None:
            buf = list(r)
    return buf


def _call_post_hooks(node, outs, buf):
    for h in list(node._hooks.values()):
        r = h(outs, tuple(buf))
        if r is not None:
            outs = tuple(r)
    return outs


def _check_nan(node, outs):
    for i, g in enumerate(outs):
        if g is not None and g._data.dtype.kind == 'f' and np.isnan(g._data).any():
            trace = getattr(node, '_anomaly_trace', None)
            msg = f"Function '{node.name()}' returned nan values in its {i}th output."
            if trace:
                import sys
                print('Traceback of forward call that caused the error:\n' + trace, file=sys.stderr)
            raise RuntimeError(msg)

