"""gradcheck / gradgradcheck: pass for correct gradients, fail for wrong ones, PyTorch's checks."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import Function, GradcheckError, gradcheck, gradgradcheck
from oracle import check_gradcheck

RNG = np.random.default_rng(2)


def rand(*shape, requires_grad=True):
    return ember.tensor(RNG.uniform(0.5, 1.5, shape), requires_grad=requires_grad)


GOOD = [
    (lambda x, w: (x * w).tanh(), ((3, 4), (4,))),
    (lambda x, w: x.exp().sum(0) / w, ((3, 4), (4,))),
    (lambda x, w: (x @ w).sigmoid(), ((3, 4), (4, 2))),
    (lambda x, w: (x.t() @ w.t()).relu(), ((2, 3), (4, 2))),
    (lambda x, w: ((x - w.mean()) ** 2).mean(1), ((3, 4), (2,))),
    (lambda x, w: (x.reshape(6, 2)[::2] * w).softmax(-1), ((3, 4), (2,))),
    (lambda x, w: (x.sin(), w.log(), x.detach() * 2), ((2, 2), (3,))),
]


@pytest.mark.parametrize('fast_mode', [False, True])
@pytest.mark.parametrize('fn, shapes', GOOD)
def test_correct_gradients_pass(fn, shapes, fast_mode):
    inputs = tuple(rand(*s) for s in shapes)
    assert gradcheck(fn, inputs, fast_mode=fast_mode)
    assert gradgradcheck(fn, inputs, fast_mode=fast_mode)


def test_non_contiguous_inputs_and_grad_outputs():
    x = rand(4, 3).detach().t().requires_grad_()
    w = ember.tensor(RNG.uniform(0.5, 1.5, (4, 6)))[:, ::2].requires_grad_()
    assert not x.is_contiguous() and not w.is_contiguous()
    assert gradcheck(lambda a, b: a * b.exp(), (x, w.t()))
    assert gradgradcheck(lambda a, b: a * b.exp(), (x, w.t()), gen_non_contig_grad_outputs=True)


def test_non_tensor_inputs_pass_through():
    assert gradcheck(lambda x, k, name: x.pow(k), (rand(3), 3, 'label'))


class WrongBackward(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x * 3


class WrongSecondDerivative(Function):
    """Correct first derivative, but its backward is built from a detached input."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x.detach() ** 2


@pytest.mark.parametrize('fast_mode', [False, True])
def test_wrong_backward_fails(fast_mode):
    x = rand(3, 2)
    with pytest.raises(GradcheckError, match='Jacobian mismatch for output 0 with respect to input 0'):
        gradcheck(WrongBackward.apply, (x,), fast_mode=fast_mode)
    assert gradcheck(WrongBackward.apply, (x,), fast_mode=fast_mode, raise_exception=False) is False
    assert gradcheck(WrongSecondDerivative.apply, (x,), fast_mode=fast_mode)
    assert gradgradcheck(WrongSecondDerivative.apply, (x,), fast_mode=fast_mode, raise_exception=False) is False


def test_fast_mode_failure_reports_slow_mode_jacobians():
    with pytest.raises(GradcheckError, match='(?s)computed \nin fast mode.*Numerical:.*Analytical:'):
        gradcheck(WrongBackward.apply, (rand(2),), fast_mode=True)


def test_error_is_a_runtime_error_like_torch():
    assert issubclass(GradcheckError, RuntimeError)
    from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError
    assert issubclass(TorchGradcheckError, RuntimeError)


class NoisyBackward(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * (2 + ember.tensor(np.random.default_rng().uniform(-1e-9, 1e-9, g.shape)))


def test_nondeterministic_backward_needs_nondet_tol():
    x = rand(3)
    with pytest.raises(GradcheckError, match='Backward is not reentrant'):
        gradcheck(NoisyBackward.apply, (x,))
    assert gradcheck(NoisyBackward.apply, (x,), nondet_tol=1e-6)


class IgnoresGradOutput(Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum() * 2

    @staticmethod
    def backward(ctx, g):
        return ember.ones(3, dtype=ember.float64) * 2


def test_backward_must_multiply_by_grad_output():
    with pytest.raises(GradcheckError, match='backward not multiplied by grad_output'):
        gradcheck(IgnoresGradOutput.apply, (rand(3),))


def _two_outputs(lib, safe):
    class TwoOutputs(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            if safe:
                if g1 is None and g2 is None:
                    return None
                g1 = 0 if g1 is None else g1
                g2 = 0 if g2 is None else g2
            return g1 * 2 + g2 * 3
    return TwoOutputs


def test_undefined_output_gradients():
    for lib in (ember, torch):
        x = lib.tensor(RNG.uniform(0.5, 1.5, 3), requires_grad=True)
        assert lib.autograd.gradcheck(_two_outputs(lib, True).apply, (x,))
        with pytest.raises(TypeError):
            lib.autograd.gradcheck(_two_outputs(lib, False).apply, (x,))


@pytest.mark.parametrize('fn, ok', [
    (lambda lib, x: x.detach() * 2, False),
    (lambda lib, x: (x > 1).to(x.dtype), True),
])
def test_no_differentiable_outputs(fn, ok):
    for lib in (ember, torch):
        x = lib.tensor(RNG.uniform(0.5, 1.5, 3), requires_grad=True)
        for fast_mode in (False, True):
            assert lib.autograd.gradcheck(lambda a: fn(lib, a), (x,), raise_exception=False,
                                          fast_mode=fast_mode) is ok


def test_input_checks_match_torch():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match='at least one input tensor to require gradient'):
            lib.autograd.gradcheck(lambda a: a * 2, (lib.ones(2, dtype=lib.float64),))
        with pytest.raises(RuntimeError, match='has a dimension with stride 0'):
            lib.autograd.gradcheck(lambda a: a * 2, (lib.ones(1, dtype=lib.float64).expand(3).requires_grad_(),))
        with pytest.warns(UserWarning, match='is not a double precision floating point'):
            lib.autograd.gradcheck(lambda a: a * 2, (lib.ones(2, requires_grad=True),), atol=1e-2, rtol=1e-2,
                                   eps=1e-3)


def test_unsupported_modes_say_so():
    with pytest.raises(NotImplementedError, match='forward-mode AD'):
        gradcheck(lambda a: a * 2, (rand(2),), check_forward_ad=True)
    with pytest.raises(NotImplementedError, match='vmap'):
        gradcheck(lambda a: a * 2, (rand(2),), check_batched_grad=True)


def test_oracle_helper_runs_both_checks():
    check_gradcheck(lambda lib, x, y: (x * y).exp().sum(1), (2, 3), (3,))
    with pytest.raises(GradcheckError):
        check_gradcheck(lambda lib, x: WrongBackward.apply(x), (3,))
