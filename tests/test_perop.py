"""The per-op hot paths: binary-op backward on arrays (no create_graph), nodes without ``meta``,
the fast tensor-with-float forward path and the engine's buffers (single- and multi-output nodes,
several roots, nodes reached by several edges)."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check

OPS = {
    'add': lambda a, b: a + b, 'sub': lambda a, b: a - b, 'mul': lambda a, b: a * b, 'div': lambda a, b: a / b,
}


def _grads(lib, op, kind, shape, dtype, create_graph):
    rng = np.random.default_rng(0)
    xa = rng.uniform(0.5, 2.0, shape).astype(dtype)
    xb = rng.uniform(0.5, 2.0, shape).astype(dtype)
    w = rng.uniform(-1, 1, shape).astype(dtype)
    a = lib.tensor(xa, requires_grad=True)
    b = lib.tensor(xb, requires_grad=True)
    if kind == 'ts':
        y, ins = OPS[op](a, 1.25), (a,)
    elif kind == 'st':
        y, ins = OPS[op](1.25, b), (b,)
    elif kind == 'ts_int':
        y, ins = OPS[op](a, 3), (a,)
    else:
        y, ins = OPS[op](a, b), (a, b)
    return lib.autograd.grad((y * lib.tensor(w)).sum(), ins, create_graph=create_graph)


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
@pytest.mark.parametrize('shape', [(), (5,), (3, 4)])
@pytest.mark.parametrize('kind', ['ts', 'st', 'ts_int', 'tt'])
@pytest.mark.parametrize('op', list(OPS))
def test_array_backward_matches_tensor_backward_and_torch(op, kind, shape, dtype):
    # create_graph=False runs the formulas on arrays; create_graph=True through Ember ops.
    plain = _grads(ember, op, kind, shape, dtype, False)
    recorded = _grads(ember, op, kind, shape, dtype, True)
    expected = _grads(torch, op, kind, shape, dtype, False)
    for p, r, t in zip(plain, recorded, expected):
        assert p.dtype == r.dtype == getattr(ember, dtype) and p.shape == r.shape == t.shape
        np.testing.assert_array_equal(p.detach().numpy(), r.detach().numpy())
        assert_close(p, t)


@pytest.mark.parametrize('fn', [
    lambda lib, x: x * np.float64(1.5),            # NumPy scalar: promoted path, gradient stays float32
    lambda lib, x: (x + 3) / np.float32(2.0),
    lambda lib, x: x * True - 2,
    lambda lib, x: x.t() * 1.5 + 0.25,             # non-contiguous input
    lambda lib, x: x[:, ::2] / 3.0,
    lambda lib, x: (x * x[0]) - x[:, :1],          # broadcasting: gradients summed back
    lambda lib, x: x.double() * x,                 # mixed dtypes: cast back
    lambda lib, x: x[:0] * 2.0 + 1.0,              # empty
])
def test_scalar_and_broadcast_cases_match_torch(fn):
    check(fn, (3, 4))


def test_double_backward_through_binary_ops():
    check(lambda lib, x: lib.autograd.grad(((x * 1.5 + 2.0) / x * x).sum(), x, create_graph=True)[0], (3, 4),
          low=0.5, high=2.0)


def test_inplace_change_of_saved_input_is_detected():
    a = ember.ones(3, requires_grad=True)
    b = ember.ones(3) * 2
    y = a * b
    b.add_(1)
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        y.sum().backward()


def test_inplace_change_of_saved_output_is_detected():
    x = ember.ones(3, requires_grad=True)
    y = 2.0 ** (x + 0)  # the gradient w.r.t. the exponent reads the saved result
    y.add_(1)
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        y.sum().backward()


def test_second_backward_through_freed_saved_tensors_raises():
    a = ember.ones(3, requires_grad=True)
    y = (a * a).sum()
    y.backward()
    with pytest.raises(RuntimeError, match='backward through the graph a second time'):
        y.backward()


def test_second_backward_without_saved_tensors_accumulates():
    a = ember.ones(3, requires_grad=True)
    y = (a * 2.0 + 1.0).sum()
    y.backward()
    y.backward()
    assert a.grad.tolist() == [4.0, 4.0, 4.0]


def test_view_input_of_fast_path_records_view_history():
    for lib in (ember, torch):
        x = lib.ones(4, requires_grad=True)
        base = x * 1.0
        v = base[1:]
        base.mul_(3.0)      # v's history now goes through the in-place mul
        (v * 2.0).sum().backward()
        assert x.grad.tolist() == [0.0, 6.0, 6.0, 6.0]


def test_hooks_retain_grad_and_anomaly_on_a_chain():
    x = ember.ones(2, requires_grad=True)
    seen = []
    y = x * 2.0
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.retain_grad()
    z = y + 1.0
    z.grad_fn.register_hook(lambda gi, go: seen.append('post'))
    with ember.autograd.set_detect_anomaly(True):
        (z * 3.0).sum().backward()
    assert seen == ['post', [3.0, 3.0]] and y.grad.tolist() == [3.0, 3.0] and x.grad.tolist() == [6.0, 6.0]


@pytest.mark.parametrize('fn', [
    lambda lib, x: (lambda y: (y, y * 2.0, y.sum()))(x * 3.0),           # several roots sharing nodes
    lambda lib, x: (lambda y: y * y + y / 2.0)(x - 1.0),                  # a node reached by three edges
    lambda lib, x: x.max(1)[0] + 0,                                     # multi-output node (values, indices)
    lambda lib, x: tuple(t * 2.0 for t in x.split(1, 1)),               # outputs of one node as roots
    lambda lib, x: (lambda v: v[0] * v[1])(x.max(0)[0].sort()),         # multi-output node partly used
])
def test_engine_buffers_match_torch(fn):
    check(fn, (3, 4))


def test_grad_of_roots_reaching_each_other():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * 2.0
        z = y * 3.0
        gx, = lib.autograd.grad((y, z), x, (lib.ones(2), lib.ones(2)))
        assert gx.tolist() == [8.0, 8.0]
