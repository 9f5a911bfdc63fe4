"""Custom ``autograd.Function`` against PyTorch's: the same class bodies run on both."""
import gc
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close

RNG = np.random.default_rng(1)
A = RNG.uniform(0.5, 1.5, (3, 4))
B = RNG.uniform(-1, 1, (3, 4))
V = RNG.uniform(-1, 1, (3, 4))


def _compare(e, t, what='result'):
    if isinstance(t, (tuple, list)):
        assert len(e) == len(t), f'{what}: {len(e)} items != torch {len(t)}'
        for i, (a, b) in enumerate(zip(e, t)):
            _compare(a, b, f'{what}[{i}]')
    else:
        assert_close(e, t, what=what)


def both(fn):
    e, t = fn(ember, make(ember)), fn(torch, make(torch))
    _compare(e, t)
    return e, t


def leaf(lib, arr):
    return lib.tensor(arr.copy(), requires_grad=True)


def make(lib):
    """The same Function definitions, written once against ``lib``."""
    Function = lib.autograd.Function
    once_differentiable = lib.autograd.function.once_differentiable

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y

    class MulScaled(Function):
        @staticmethod
        def forward(ctx, x, y, scale, tag='t'):
            ctx.save_for_backward(x, y)
            ctx.scale = scale
            ctx.record = (ctx.needs_input_grad, lib.is_grad_enabled(), tag)
            return x * y * scale

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            gx = g * y * ctx.scale if ctx.needs_input_grad[0] else None
            gy = g * x * ctx.scale if ctx.needs_input_grad[1] else None
            return gx, gy, None, None

    class Cube(Function):
        # setup_context style; backward uses differentiable ops, so double backward works.
        @staticmethod
        def forward(x, power=3):
            return x ** power

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, power = inputs
            ctx.save_for_backward(x)
            ctx.power = power

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * ctx.power * x ** (ctx.power - 1), None

    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            s, idx = x.sort(-1)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return s, idx

        @staticmethod
        def backward(ctx, gs, gi):
            idx, = ctx.saved_tensors
            ctx.gi_seen = gi
            return lib.zeros_like(gs).scatter(-1, idx, gs)

    class TwoOut(Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.set_materialize_grads(False)
            return x * k, x.sin(), k, 'label'

        @staticmethod
        def backward(ctx, g1, g2, gk, glabel):
            ctx.seen = (g1 is None, g2 is None, gk is None, glabel is None)
            total = None
            if g1 is not None:
                total = g1 * 2
            if g2 is not None:
                total = g2 if total is None else total + g2
            return total, None

    class ScaleInplace(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(3)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class OnceSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            ctx.grad_mode_inside = lib.is_grad_enabled()
            return 2 * x * g

    class Log(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.log()

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g / x

    return type('Fns', (), dict(Exp=Exp, MulScaled=MulScaled, Cube=Cube, SortWithIndex=SortWithIndex,
                                TwoOut=TwoOut, ScaleInplace=ScaleInplace, Identity=Identity,
                                OnceSquare=OnceSquare, Log=Log))


def test_forward_backward_and_node():
    def f(lib, F):
        x = leaf(lib, A)
        y = F.Exp.apply(x)
        (y * lib.tensor(V)).sum().backward()
        node = y.grad_fn
        return (y, x.grad, node.name(), type(node).__name__, len(node.next_functions),
                node.next_functions[0][0].name(), y.is_leaf, y.requires_grad)
    both(f)


def test_node_is_ctx_and_exposes_attributes():
    def f(lib, F):
        x, w = leaf(lib, A), lib.tensor(B.copy())
        y = F.MulScaled.apply(x, w, 2.5, tag='u')
        node = y.grad_fn
        return node.scale, node.record, node.needs_input_grad, len(node.next_functions), node.next_functions[1]
    e, t = both(f)
    assert e[2] == (True, False, False, False)


def test_saved_tensors_unpack_inputs_as_themselves_and_outputs_as_new_tensors():
    def f(lib, F):
        x = leaf(lib, A)
        y = F.Exp.apply(x)
        out, = y.grad_fn.saved_tensors
        m = F.MulScaled.apply(x, x, 1.0)
        a, b = m.grad_fn.saved_tensors
        return out is y, out.grad_fn is y.grad_fn, out.requires_grad, a is x, b is x
    both(f)


def test_setup_context_style_with_defaults_and_double_backward():
    def f(lib, F):
        x = leaf(lib, A)
        y = F.Cube.apply(x)
        z = F.Cube.apply(x, power=2)
        g, = lib.autograd.grad((y + z).sum(), x, create_graph=True)
        h, = lib.autograd.grad((g * lib.tensor(V)).sum(), x)
        return y, z, g, h, y.grad_fn.power, z.grad_fn.power
    both(f)


def test_double_backward_through_saved_output():
    def f(lib, F):
        x = leaf(lib, A)
        g, = lib.autograd.grad(F.Exp.apply(x).sum(), x, create_graph=True)
        h, = lib.autograd.grad((g * g).sum(), x)
        return g, h
    both(f)


def test_non_differentiable_outputs():
    def f(lib, F):
        x = leaf(lib, B)
        s, idx = F.SortWithIndex.apply(x)
        (s * lib.tensor(V)).sum().backward()
        gi = s.grad_fn.gi_seen
        return s, idx, s.requires_grad, idx.requires_grad, idx.grad_fn is None, x.grad, gi
    both(f)


def test_materialize_grads_off_and_non_tensor_outputs():
    def f(lib, F):
        x = leaf(lib, A)
        a, b, k, label = F.TwoOut.apply(x, 4)
        a.sum().backward(retain_graph=True)
        seen_a = a.grad_fn.seen
        b.sum().backward()
        return k, label, a.output_nr, b.output_nr, seen_a, a.grad_fn.seen, x.grad
    e, t = both(f)
    assert e[4] == (False, True, True, True)


def test_mark_dirty():
    def f(lib, F):
        x = leaf(lib, A)
        h = x * 1
        v0 = h._version
        r = F.ScaleInplace.apply(h)
        (r * lib.tensor(V)).sum().backward()
        return r is h, h._version - v0, h.grad_fn.name(), x.grad, h
    both(f)


def test_mark_dirty_on_a_view_rebases_the_base():
    def f(lib, F):
        x = leaf(lib, A)
        h = x * 1
        F.ScaleInplace.apply(h[1])
        (h * lib.tensor(V)).sum().backward()
        return h, x.grad
    both(f)


def test_mark_dirty_on_a_leaf_raises():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match='a leaf Variable that requires grad has been used in an in-place'):
            make(lib).ScaleInplace.apply(leaf(lib, A))


def test_input_returned_unchanged_becomes_a_new_tensor():
    def f(lib, F):
        x = leaf(lib, A)
        y = F.Identity.apply(x)
        y.sum().backward()
        return y is x, y.grad_fn.name(), x.grad
    both(f)


def test_no_graph_without_grad():
    def f(lib, F):
        x = leaf(lib, A)
        with lib.no_grad():
            y = F.Exp.apply(x)
        z = F.Exp.apply(lib.tensor(A.copy()))
        return y.requires_grad, y.grad_fn is None, z.requires_grad, z.grad_fn is None
    both(f)


def test_once_differentiable():
    def f(lib, F):
        x = leaf(lib, A)
        y = F.OnceSquare.apply(x)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        inside = y.grad_fn.grad_mode_inside
        y = F.OnceSquare.apply(x)
        g2, = lib.autograd.grad(y, x, lib.ones(3, 4, dtype=lib.float64, requires_grad=True), create_graph=True)
        return g, g.requires_grad, inside, g2, g2.requires_grad, g2.grad_fn.name()
    both(f)
    for lib in (ember, torch):
        x = leaf(lib, A)
        y = make(lib).OnceSquare.apply(x)
        g, = lib.autograd.grad(y, x, lib.ones(3, 4, dtype=lib.float64, requires_grad=True), create_graph=True)
        with pytest.raises(RuntimeError, match='trying to differentiate twice a function that was marked with '
                                               '@once_differentiable'):
            g.sum().backward()


def test_saved_tensor_modified_in_place_raises():
    for lib in (ember, torch):
        x = leaf(lib, A)
        h = x * 1
        y = make(lib).MulScaled.apply(h, h, 1.0)
        h.add_(1)
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            y.sum().backward()
        y = make(lib).Exp.apply(x)
        node = y.grad_fn
        y.add_(1)
        with pytest.raises(RuntimeError, match=r'which is output 0 of Exp, is at version 1; expected version 0'):
            node.saved_tensors


def test_saved_tensors_freed_after_backward():
    for lib in (ember, torch):
        y = make(lib).Exp.apply(leaf(lib, A))
        y.sum().backward()
        with pytest.raises(RuntimeError, match='Trying to backward through the graph a second time'):
            y.grad_fn.saved_tensors


def _bad(lib, backward, forward=None, n_in=1):
    def fwd(ctx, *args):
        return args[0] * 2

    return type('Bad', (lib.autograd.Function,), {'forward': staticmethod(forward or fwd),
                                                   'backward': staticmethod(backward)})


@pytest.mark.parametrize('backward, args, match', [
    (lambda ctx, g: g, (None, None), r'function BadBackward returned an incorrect number of gradients \(expected 2, '
                                     r'got 1\)'),
    (lambda ctx, g: (g, g), (None, 3), 'function BadBackward returned a gradient different than None at position 2, '
                                       'but the corresponding forward input was not a Variable'),
    (lambda ctx, g: g[:2], (None,), r'Function BadBackward returned an invalid gradient at index 0 - got \[2, 4\] '
                                    r'but expected shape compatible with \[3, 4\]'),
    (lambda ctx, g: 3, (None,), r'expected Variable or None \(got int\)'),
])
def test_bad_backward_errors(backward, args, match):
    for lib in (ember, torch):
        x = leaf(lib, A)
        full = tuple(x if a is None else a for a in args)
        y = _bad(lib, backward).apply(*full)
        with pytest.raises(RuntimeError, match=match):
            y.sum().backward()


def test_gradient_is_summed_to_shape_cast_and_extra_nones_dropped():
    def f(lib, F):
        x = leaf(lib, A[0])
        y = _bad(lib, lambda ctx, g: (g.expand(2, 4).float(), None, None)).apply(x)
        y.sum().backward()
        return x.grad
    both(f)


def test_legacy_instantiation_raises():
    for lib in (ember, torch):
        with pytest.warns(DeprecationWarning):
            fn = make(lib).Exp()
        with pytest.raises(RuntimeError, match='Legacy autograd function with non-static forward method'):
            fn(leaf(lib, A))


def test_hooks_and_anomaly_on_function_nodes():
    x = leaf(ember, A)
    y = make(ember).Exp.apply(x)
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0,))
    y.sum().backward()
    assert (x.grad.numpy() == 0).all()
    z = ember.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        anomaly = ember.autograd.detect_anomaly()
    with anomaly:
        y = make(ember).Log.apply(z)
        with pytest.warns(UserWarning, match='Error detected in LogBackward'):
            with pytest.raises(RuntimeError, match="Function 'LogBackward' returned nan values in its 0th output"):
                (y * 0).sum().backward()


def test_gradcheck_and_gradgradcheck_of_functions():
    F = make(ember)
    x = leaf(ember, A)
    w = leaf(ember, B)
    assert ember.autograd.gradcheck(F.Exp.apply, (x,))
    assert ember.autograd.gradgradcheck(F.Exp.apply, (x,))
    assert ember.autograd.gradcheck(lambda a, b: F.MulScaled.apply(a, b, 0.5), (x, w))
    assert ember.autograd.gradgradcheck(lambda a, b: F.MulScaled.apply(a, b, 0.5), (x, w))
    assert ember.autograd.gradgradcheck(F.Cube.apply, (x,))


def test_function_graph_has_no_reference_cycles():
    F = make(ember)
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            x = leaf(ember, A)
            y = F.Exp.apply(F.Cube.apply(x))
            s, _ = F.SortWithIndex.apply(y)
            g, = ember.autograd.grad(s.sum(), x, create_graph=True)
            g.sum().backward()
        del x, y, s, g
        found = gc.collect()
    finally:
        gc.enable()
    assert found == 0
