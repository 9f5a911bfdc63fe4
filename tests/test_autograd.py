"""The backward engine against PyTorch: accumulation, VJPs, retain/create_graph, grad(),
hooks, retain_grad, graph structure, errors, anomaly mode, memory and deep graphs."""
import gc
import subprocess
import sys
import textwrap
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check_raises

LIBS = (ember, torch)
RNG = np.random.default_rng(0)
A = RNG.uniform(-1, 1, (3, 4)).astype(np.float64)
B = RNG.uniform(-1, 1, (4, 2)).astype(np.float64)
V = RNG.uniform(-1, 1, (3, 4)).astype(np.float64)


def both(fn):
    """Run ``fn(lib)`` for ember and torch and compare the (nested) results."""
    e, t = fn(ember), fn(torch)
    _compare(e, t)
    return e, t


def _compare(e, t, what='result'):
    if isinstance(t, (tuple, list)):
        assert len(e) == len(t), f'{what}: {len(e)} items != torch {len(t)}'
        for i, (a, b) in enumerate(zip(e, t)):
            _compare(a, b, f'{what}[{i}]')
    else:
        assert_close(e, t, what=what)


def leaf(lib, arr, requires_grad=True):
    return lib.tensor(arr.copy(), requires_grad=requires_grad)


# ---- flags, accumulation, vector-Jacobian products --------------------------------------

def test_leaf_flags():
    def f(lib):
        x = leaf(lib, A)
        c = lib.tensor(A.copy())
        y = x * 2
        z = c * 2
        return (x.is_leaf, x.requires_grad, x.grad_fn is None, y.is_leaf, y.requires_grad, z.is_leaf,
                z.requires_grad, c.requires_grad_() is c, c.requires_grad, c.is_leaf, x.grad is None)
    both(f)


def test_grad_accumulates_across_backward_calls():
    def f(lib):
        x = leaf(lib, A)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * 3).sum().backward()
        return first, x.grad
    both(f)


def test_backward_gradient_is_a_vector_jacobian_product():
    def f(lib):
        x = leaf(lib, A)
        y = (x * x).sin()
        y.backward(lib.tensor(V))
        return x.grad
    both(f)


def test_backward_several_roots_with_gradients():
    def f(lib):
        x = leaf(lib, A)
        y1, y2 = x.exp(), (x * 2).sum(1)
        lib.autograd.backward([y1, y2], [lib.tensor(V), lib.ones(3, dtype=lib.float64)])
        return x.grad
    both(f)


def test_gradient_dtype_is_cast_to_the_output_dtype():
    def f(lib):
        x = lib.tensor(A.astype(np.float32), requires_grad=True)
        (x * 2).backward(lib.ones(3, 4, dtype=lib.float64))
        return x.grad
    both(f)


def test_retain_graph_allows_a_second_backward():
    def f(lib):
        x = leaf(lib, A)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    both(f)


def test_shared_subgraph_gets_gradients_from_all_paths():
    def f(lib):
        x = leaf(lib, A)
        h = x.tanh()
        y = (h * h + h.exp() + h[0:1] * 3).sum()
        y.backward()
        return x.grad
    both(f)


# ---- create_graph: higher derivatives ----------------------------------------------------------

SECOND_ORDER = [
    lambda lib, x, w: (x ** 3).sum(),
    lambda lib, x, w: (x.sin() * x.exp()).sum(),
    lambda lib, x, w: (x.tanh() + x.sigmoid() * x).sum(),
    lambda lib, x, w: (x / (x * x + 1)).mean(),
    lambda lib, x, w: (x.reshape(4, 3).t() * x).sum(),
    lambda lib, x, w: (x.expand(2, 3, 4) * x[None]).sum(),
    lambda lib, x, w: (x[:, 1:3] ** 2).sum() + (x[1] * x[2]).sum(),
    lambda lib, x, w: ((x @ w) ** 2).sum(),
    lambda lib, x, w: (x @ w).tanh().sum(),
    lambda lib, x, w: (x.relu() * x).sum(),
    lambda lib, x, w: ((x @ w).softmax(-1) * lib.arange(2.0, dtype=lib.float64)).sum(),
    lambda lib, x, w: (x.abs() * x * (x + 2).sqrt()).sum(),
    lambda lib, x, w: x.sum(0).pow(2).sum() * x.mean(),
]


@pytest.mark.parametrize('fn', SECOND_ORDER)
def test_second_order_through_grad_create_graph(fn):
    def f(lib):
        x, w = leaf(lib, A), leaf(lib, B)
        y = fn(lib, x, w)
        gx, gw = lib.autograd.grad(y, (x, w), create_graph=True, allow_unused=True)
        assert gx.requires_grad
        # Hessian-vector product and second derivative w.r.t. the other input.
        hv = lib.autograd.grad((gx * lib.tensor(V)).sum(), (x, w), allow_unused=True, retain_graph=True)
        return (gx,) + tuple(h if h is not None else lib.zeros(()) for h in hv)
    both(f)


def test_backward_create_graph_then_second_backward():
    def f(lib):
        x = leaf(lib, A)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        x.grad = None
        (g * lib.tensor(V)).sum().backward()
        return g, x.grad, g.requires_grad
    both(f)


def test_gradient_penalty_trains_weights():
    def f(lib):
        w = leaf(lib, B)
        x = leaf(lib, A)
        out = (x @ w).tanh().sum()
        gx, = lib.autograd.grad(out, x, create_graph=True)
        penalty = ((gx * gx).sum(1) - 1).pow(2).mean()
        penalty.backward()
        return penalty, w.grad, x.grad
    both(f)


def test_third_derivative():
    def f(lib):
        x = leaf(lib, A)
        g1, = lib.autograd.grad((x ** 4).sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = lib.autograd.grad(g2.sum(), x)
        return g1, g2, g3
    both(f)


def test_create_graph_leaf_grad_is_not_shared_between_leaves():
    def f(lib):
        a, b = leaf(lib, A), leaf(lib, A)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            (a + b).sum().backward(create_graph=True)
        return a.grad is b.grad, a.grad.requires_grad
    both(f)


# ---- autograd.grad ------------------------------------------------------------------------------

def test_grad_does_not_touch_dot_grad():
    def f(lib):
        x = leaf(lib, A)
        g, = lib.autograd.grad((x * x).sum(), x)
        return g, x.grad is None, g.requires_grad
    both(f)


def test_grad_outputs_and_unused_inputs():
    def f(lib):
        x, w, u = leaf(lib, A), leaf(lib, B), leaf(lib, V)
        y = x @ w
        gx, gu = lib.autograd.grad(y, (x, u), grad_outputs=lib.ones(3, 2, dtype=lib.float64), allow_unused=True,
                                   retain_graph=True)
        mx, mu = lib.autograd.grad(y, [x, u], grad_outputs=[lib.ones(3, 2, dtype=lib.float64)],
                                   materialize_grads=True)
        return gx, gu is None, mx, mu
    both(f)


def test_grad_of_non_leaf_and_of_output_itself():
    def f(lib):
        x = leaf(lib, A)
        h = x.exp()
        y = (h * 3).sum()
        gh, gy = lib.autograd.grad(y, (h, y))
        return gh, gy
    both(f)


def test_grad_with_dict_inputs():
    x = ember.tensor(A, requires_grad=True)
    g = ember.autograd.grad((x * 2).sum(), {'x': x})
    assert list(g) == ['x'] and np.allclose(g['x'].numpy(), 2)


def test_grad_only_runs_needed_nodes_and_leaves_the_rest_intact():
    def f(lib):
        x, w = leaf(lib, A), leaf(lib, B)
        y = (x.sin() @ w.exp()).sum()
        gw, = lib.autograd.grad(y, w, retain_graph=False)
        # The x-branch did not run, so its saved tensors were not freed.
        y2 = x.sin().sum()
        y2.backward()
        return gw, x.grad
    both(f)


@pytest.mark.parametrize('fn', [
    lambda lib, x: lib.autograd.grad((x * 2).sum(), [x, lib.zeros(2, dtype=lib.float64, requires_grad=True)]),
    lambda lib, x: lib.autograd.grad((x * 2).sum(), [lib.zeros(2, dtype=lib.float64)]),
    lambda lib, x: lib.autograd.grad((x * 2).sum(), x, materialize_grads=True, allow_unused=False),
    lambda lib, x: lib.autograd.grad((x * 2).sum(), []),
])
def test_grad_errors(fn):
    check_raises(lambda lib, x: fn(lib, x.requires_grad_()), A)


def test_grad_unused_message_names_the_index():
    check_raises(lambda lib, x: lib.autograd.grad((x.requires_grad_() * 2).sum(),
                                                  [x, lib.zeros(2, requires_grad=True)]),
                 A, match='The differentiated Tensor at index 1 appears to not have been used in the graph')


# ---- backward(inputs=...) -----------------------------------------------------------------------

def test_backward_inputs_restricts_accumulation():
    def f(lib):
        x, w = leaf(lib, A), leaf(lib, B)
        h = x @ w
        y = h.tanh().sum()
        y.backward(inputs=[w, h])
        return w.grad, x.grad is None, h.grad, h.retains_grad
    both(f)


def test_backward_inputs_single_tensor():
    def f(lib):
        x, w = leaf(lib, A), leaf(lib, B)
        (x @ w).sum().backward(inputs=x)
        return x.grad, w.grad is None
    both(f)


def test_backward_inputs_empty_raises():
    check_raises(lambda lib, x: (x.requires_grad_() * 2).sum().backward(inputs=[]), A)


# ---- graph structure ----------------------------------------------------------------------------

def _structure(t):
    """Nested (name, children) tuples of a graph, from ``t.grad_fn`` down."""
    def walk(fn):
        if fn is None:
            return None
        return (fn.name(), tuple((walk(n), nr) for n, nr in fn.next_functions))
    return walk(t.grad_fn)


@pytest.mark.parametrize('fn', [
    lambda lib, x, w: x * 2,
    lambda lib, x, w: (x * 2 + 1).sum(),
    lambda lib, x, w: (x.exp() - x).mean(),
    lambda lib, x, w: x @ w,
    lambda lib, x, w: (x @ w).tanh().sum(1),
    lambda lib, x, w: x.t().sum(0) / 3,
    lambda lib, x, w: x.sin() * x.cos(),
    lambda lib, x, w: x.relu().sigmoid().neg(),
])
def test_grad_fn_names_and_next_functions_match_torch(fn):
    e = fn(ember, leaf(ember, A), leaf(ember, B))
    t = fn(torch, leaf(torch, A), leaf(torch, B))
    assert _structure(e) == _structure(t)


def test_accumulate_grad_node_holds_the_leaf():
    x = ember.tensor(A, requires_grad=True)
    acc = (x * 2).grad_fn.next_functions[0][0]
    assert acc.name() == 'torch::autograd::AccumulateGrad' and acc.variable is x and acc.next_functions == ()
    assert (x * 3).grad_fn.next_functions[0][0] is acc


# ---- retain_grad and tensor hooks --------------------------------------------------------------

def test_retain_grad_populates_non_leaf_grad():
    def f(lib):
        x = leaf(lib, A)
        h = x * 2
        h.retain_grad()
        h.retain_grad()
        y = (h.sin() * h).sum()
        y.backward(retain_graph=True)
        first = h.grad.clone()
        y.backward()
        return first, h.grad, h.retains_grad, x.retains_grad, x.grad
    both(f)


def test_retain_grad_on_leaf_is_a_no_op_and_needs_requires_grad():
    def f(lib):
        x = leaf(lib, A)
        x.retain_grad()
        (x * 2).sum().backward()
        return x.grad, x.retains_grad
    both(f)
    check_raises(lambda lib, x: x.retain_grad(), A, match="can't retain_grad on Tensor that has requires_grad=False")


def test_retain_grad_holds_its_tensor_weakly():
    x = ember.tensor(A, requires_grad=True)
    h = x * 2
    h.retain_grad()
    y = (h * 3).sum()
    import weakref
    ref = weakref.ref(h)
    del h
    assert ref() is None
    y.backward()
    assert x.grad is not None


def test_non_leaf_access_to_grad_warns():
    for lib in LIBS:
        x = leaf(lib, A)
        with pytest.warns(UserWarning, match='is not a leaf Tensor is being accessed'):
            assert (x * 2).grad is None


def test_non_leaf_hook_changes_the_gradient_downstream():
    def f(lib):
        x = leaf(lib, A)
        h = x.exp()
        seen = []
        h.register_hook(lambda g: seen.append(g.clone()) or g * 10)
        (h * h).sum().backward()
        return seen[0], x.grad
    both(f)


def test_hook_order_matches_torch():
    def f(lib):
        log = []
        x = leaf(lib, A)
        x.register_hook(lambda g: log.append(('leaf', round(g.sum().item(), 6))) or g * 2)
        x.register_post_accumulate_grad_hook(lambda t: log.append(('post_acc', round(t.grad.sum().item(), 6))))
        a = x * 2
        acc = a.grad_fn.next_functions[0][0]
        acc.register_prehook(lambda go: log.append(('acc_pre', round(go[0].sum().item(), 6))))
        acc.register_hook(lambda gi, go: log.append(('acc_post', len(gi), round(go[0].sum().item(), 6))))
        a.register_hook(lambda g: log.append(('t1', round(g.sum().item(), 6))) or g * 10)
        a.retain_grad()
        a.register_hook(lambda g: log.append(('t2', round(g.sum().item(), 6))))
        a.grad_fn.register_prehook(lambda go: log.append(('pre', round(go[0].sum().item(), 6))))
        a.grad_fn.register_hook(lambda gi, go: log.append(('post', round(gi[0].sum().item(), 6))))
        a.sum().backward()
        return log, a.grad, x.grad
    e, t = both(f)
    assert e[0] == t[0]


def test_hook_remove():
    def f(lib):
        x = leaf(lib, A)
        h = x.register_hook(lambda g: g * 100)
        h.remove()
        y = x * 1
        hy = y.register_hook(lambda g: g * 100)
        hy.remove()
        y.sum().backward()
        return x.grad
    both(f)


def test_node_hooks_can_replace_gradients():
    def f(lib):
        x = leaf(lib, A)
        y = x.sin()
        y.grad_fn.register_prehook(lambda go: (go[0] * 3,))
        y.grad_fn.register_hook(lambda gi, go: (gi[0] + 1,))
        y.sum().backward()
        return x.grad
    both(f)


def test_hooks_registered_before_and_after_an_inplace_op():
    def f(lib):
        log = []
        x = leaf(lib, A)
        a = x * 2
        a.register_hook(lambda g: log.append(('old', round(g.sum().item(), 6))))
        a.mul_(3)
        a.register_hook(lambda g: log.append(('new', round(g.sum().item(), 6))))
        a.sum().backward()
        return log
    e, t = both(f)
    assert e == t


def test_retain_grad_and_hook_on_a_view_after_its_base_changed_in_place():
    def f(lib):
        log = []
        x = leaf(lib, A)
        b = x * 1
        v = b[:2]
        b.mul_(2)
        v.retain_grad()
        v.register_hook(lambda g: log.append(g.clone()))
        (v * 3).sum().backward()
        return v.grad, log, x.grad
    both(f)


def test_hook_on_undefined_output_gradient_receives_none():
    def f(lib):
        seen = []
        x = leaf(lib, A)
        rows = x.unbind(0)
        rows[1].register_hook(lambda g: seen.append(g))
        rows[0].sum().backward()
        return seen == [None], x.grad
    both(f)


def test_leaf_hook_runs_before_accumulation_and_in_grad():
    def f(lib):
        x = leaf(lib, A)
        x.register_hook(lambda g: g * 0 + 7)
        (x * 5).sum().backward()
        g, = lib.autograd.grad((x * 5).sum(), x)
        return x.grad, g
    both(f)


def test_hook_errors():
    check_raises(lambda lib, x: x.register_hook(lambda g: g), A,
                 match="cannot register a hook on a tensor that doesn't require gradient")
    check_raises(lambda lib, x: (x.requires_grad_() * 2).register_post_accumulate_grad_hook(lambda t: None), A,
                 match='post accumulate grad hooks cannot be registered on non-leaf tensors')


# ---- detach, detach_, .data -------------------------------------------------------------------

def test_detach_shares_memory_and_version_counter():
    def f(lib):
        x = leaf(lib, A)
        y = x.exp()
        d = y.detach()
        d.mul_(2)
        return d.requires_grad, d.is_leaf, d.grad_fn is None, y._version, d.data_ptr() == y.data_ptr()
    both(f)
    check_raises(lambda lib, x: _modify_detached(x), A, match='modified by an inplace operation')


def _modify_detached(x):
    x.requires_grad_()
    y = x.exp()
    y.detach().add_(1)
    y.sum().backward()


def test_detach_inplace_and_data():
    def f(lib):
        x = leaf(lib, A)
        y = x * 2
        y.detach_()
        d = x.data
        d.add_(1)
        x.data = lib.tensor(B.copy())
        return y.requires_grad, y.is_leaf, y.grad_fn is None, d.requires_grad, x._version, x.shape, x.requires_grad
    both(f)


@pytest.mark.parametrize('fn, match', [
    (lambda lib, x: x[1:].detach_(), "Can't detach views in-place"),
    (lambda lib, x: setattr(x, 'data', 3), 'Variable data has to be a tensor'),
])
def test_detach_errors(fn, match):
    check_raises(fn, A, match=match)


# ---- errors -------------------------------------------------------------------------------------

def _backward_twice(x):
    y = (x.requires_grad_() * x).sum()
    y.backward()
    y.backward()


def _saved_modified(x):
    h = x.requires_grad_() * 1
    y = h.sin()
    h.add_(1)
    y.sum().backward()


def _saved_output_modified(x):
    y = x.requires_grad_().exp()
    y.add_(1)
    y.sum().backward()


@pytest.mark.parametrize('fn, match', [
    (lambda lib, x: _backward_twice(x), 'Trying to backward through the graph a second time'),
    (lambda lib, x: _saved_modified(x), r'modified by an inplace operation: \[torch.DoubleTensor \[3, 4\]\], which '
                                        r'is output 0 of Add, is at version 1; expected version 0'),
    (lambda lib, x: _saved_output_modified(x), 'which is output 0 of Exp.*, is at version 1; expected version 0'),
    (lambda lib, x: x.requires_grad_().add_(1), 'a leaf Variable that requires grad is being used in an in-place'),
    (lambda lib, x: lib.tensor([1, 2], requires_grad=True), 'floating point'),
    (lambda lib, x: lib.tensor([1, 2]).requires_grad_(), 'only Tensors of floating point dtype can require grad'),
    (lambda lib, x: (x.requires_grad_() * 2).backward(), 'grad can be implicitly created only for scalar outputs'),
    (lambda lib, x: x.sum().backward(), 'element 0 of tensors does not require grad and does not have a grad_fn'),
    (lambda lib, x: (x.requires_grad_() * 2).backward(lib.ones(4)), 'Mismatch in shape: grad_output\\[0\\]'),
    (lambda lib, x: (x.requires_grad_() * 2).backward([1.0]), 'gradients can be either Tensors or None'),
    (lambda lib, x: (x.requires_grad_() * 2).requires_grad_(False), 'you can only change requires_grad flags of leaf'),
])
def test_errors_match_torch(fn, match):
    check_raises(fn, A, match=match)


def test_error_after_inplace_on_leaf_under_no_grad():
    def f(lib):
        x = leaf(lib, A)
        y = x.sin()
        with lib.no_grad():
            x.add_(1)
        y.sum().backward()
    check_raises(lambda lib: f(lib), match=r'\[torch.DoubleTensor \[3, 4\]\] is at version 1; expected version 0')


# ---- anomaly mode ---------------------------------------------------------------------------------

def test_detect_anomaly_names_the_nan_producing_function_and_shows_the_forward_trace():
    a = ember.zeros(3, requires_grad=True)
    b = ember.zeros(3, requires_grad=True)
    with pytest.warns(UserWarning, match='Anomaly Detection has been enabled'):
        ctx = ember.autograd.detect_anomaly()
    with ctx:
        y = a / b  # the forward line the report must show
        with pytest.warns(UserWarning) as rec:
            with pytest.raises(RuntimeError, match=r"Function 'DivBackward0' returned nan values in its 1th output."):
                y.sum().backward()
    msg = '\n'.join(str(w.message) for w in rec)
    assert 'Error detected in DivBackward0. Traceback of forward call that caused the error' in msg
    assert 'y = a / b  # the forward line the report must show' in msg
    assert not ember.autograd.is_anomaly_enabled()


def test_anomaly_without_check_nan_and_outside_anomaly_mode():
    a = ember.zeros(3, requires_grad=True)
    with ember.autograd.set_detect_anomaly(True, check_nan=False):
        assert ember.is_anomaly_enabled() and not ember.is_anomaly_check_nan_enabled()
        (a / a).sum().backward()
    (a / a).sum().backward()
    assert np.isnan(a.grad.numpy()).all()
    assert not ember.is_anomaly_enabled()


def test_anomaly_reports_failures_in_double_backward_with_the_parent_node():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ctx = ember.autograd.detect_anomaly()
    with ctx:
        g, = ember.autograd.grad(x.sqrt().sum(), x, create_graph=True)
        with pytest.warns(UserWarning, match='Previous calculation was induced by SqrtBackward0'):
            with pytest.raises(RuntimeError, match='returned nan values'):
                (g * 0).sum().backward()


# ---- memory: no leaks, no cycles, deep graphs ----------------------------------------------------

def _train(steps, seed=0):
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.standard_normal((8, 4)).astype(np.float32))
    target = ember.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    W = ember.tensor(rng.standard_normal((4, 3)).astype(np.float32) * 0.1, requires_grad=True)
    b = ember.zeros(3, requires_grad=True)
    loss = None
    for _ in range(steps):
        out = (x @ W + b).tanh()
        loss = ((out - target) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            W -= 0.05 * W.grad
            b -= 0.05 * b.grad
            W.grad = None
            b.grad = None
    return loss.item()


def _live_nodes():
    return sum(1 for o in gc.get_objects() if issubclass(type(o), ember.autograd.graph.Node))


def test_training_loop_memory_stays_flat():
    first = _train(300)
    gc.collect()
    nodes, objects = _live_nodes(), len(gc.get_objects())
    last = _train(10_000)
    gc.collect()
    assert last < first
    assert _live_nodes() <= nodes
    assert len(gc.get_objects()) <= objects + 50
    tracemalloc.start()
    try:
        _train(100)
        gc.collect()
        base, _ = tracemalloc.get_traced_memory()
        _train(1000)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - base < 10_000, f'memory grew by {after - base} bytes over 1,000 steps'


def test_graph_makes_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        _train(200)
        x = ember.randn(5, requires_grad=True)
        for _ in range(50):
            h = x.exp()
            h.retain_grad()
            h.register_hook(lambda g: g)
            y = (h * x).sin().sum()
            g, = ember.autograd.grad(y, x, create_graph=True)
            g.sum().backward()
        del h, y, g
        found = gc.collect()
    finally:
        gc.enable()
    x.grad = None
    assert found < 10, f'{found} objects were only reclaimable by the cycle collector'


def test_backward_frees_saved_tensors():
    x = ember.randn(1000, requires_grad=True)
    y = x.exp().sin()
    node = y.grad_fn
    y.sum().backward()
    assert node.next_functions[0][0]._saved == () and node._saved == ()


def test_deep_graph_backward_and_deletion_do_not_recurse():
    code = textwrap.dedent('''
        import sys
        sys.setrecursionlimit(1000)
        import ember
        x = ember.ones(2, requires_grad=True)
        y = x
        for _ in range(100_000):
            y = y * 1.0001 + 0.001
        y.sum().backward()
        assert abs(x.grad[0].item() - 1.0001 ** 100_000) < 1e-2 * 1.0001 ** 100_000, x.grad
        del y
        w = ember.ones(2, requires_grad=True)
        y = x
        for _ in range(100_000):
            y = y * w
        del y
        print('ok')
    ''')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == 'ok', r.stderr[-2000:]


# ---- leaves take over unshared gradients (no copy), never shared ones ----------------------------

def test_leaves_never_alias_a_shared_gradient():
    a, b = ember.ones(3, requires_grad=True), ember.ones(3, requires_grad=True)
    (a + b).sum().backward()  # both leaves receive the same gradient tensor
    a.grad.add_(1)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]

    stored = []
    y = a + 0
    y.register_hook(stored.append)
    a.grad = None
    y.sum().backward()
    assert not np.shares_memory(a.grad.numpy(), stored[0].numpy())

    g = ember.full((3,), 2.0)
    a.grad = None
    a.backward(g)
    g.add_(1)
    assert a.grad.tolist() == [2.0, 2.0, 2.0]

    handle = a.register_hook(lambda grad: g)
    a.grad = None
    (a * 2).sum().backward()
    handle.remove()
    assert not np.shares_memory(a.grad.numpy(), g.numpy())

    y = a + 0
    y.retain_grad()
    a.grad = None
    (y * 1).sum().backward()
    assert not np.shares_memory(a.grad.numpy(), y.grad.numpy())


def test_leaves_take_over_unshared_gradients(monkeypatch):
    import ember._tensor as tensor_module

    copies = []

    class CountingNumpy:
        def __getattr__(self, name):
            return getattr(np, name)

        def array(self, *args, **kwargs):
            copies.append(args[0].shape)
            return np.array(*args, **kwargs)

    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(6, 5), ember.nn.ReLU(), ember.nn.Linear(5, 2))
    x = ember.randn(4, 6)
    monkeypatch.setattr(tensor_module, 'np', CountingNumpy())
    (model(x) ** 2).sum().backward()
    monkeypatch.undo()
    assert copies == []
    grads = [p.grad.numpy() for p in model.parameters()]
    assert all(g.flags.c_contiguous and g.flags.writeable for g in grads)
    for i, gi in enumerate(grads):
        assert not any(np.shares_memory(gi, gj) for gj in grads[i + 1:])
    t = [p.detach().numpy().copy() for p in model.parameters()]
    tm = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    with torch.no_grad():
        for p, v in zip(tm.parameters(), t):
            p.copy_(torch.from_numpy(v))
    (tm(torch.from_numpy(x.numpy())) ** 2).sum().backward()
    for g, p in zip(grads, tm.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-5, atol=1e-6)
