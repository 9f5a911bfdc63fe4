"""``gradcheck`` and ``gradgradcheck``: autograd's gradients against central finite differences.

Slow mode builds both Jacobians in full: the numerical one by perturbing each input element
by ``±eps`` in place, the analytical one row by row with ``grad`` and one-hot output
gradients (twice, to catch a non-deterministic backward). Fast mode compares only
``v·J·u`` for random unit vectors ``u`` (per input) and ``v`` (per output): two forward
evaluations per input and one backward per output. Both then check, as PyTorch does, that
zero output gradients give zero input gradients of the inputs' dtype and shape, and that
backward copes with undefined (None) output gradients.
"""
import warnings

import numpy as np

from .engine import grad as _grad
from .graph import Node, grad_edge


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_tensor(x):
    from .._tensor import Tensor
    return isinstance(x, Tensor)


def _wrap(arr):
    from .._tensor import _wrap as wrap
    return wrap(arr)


def _differentiable_outputs(out):
    return tuple(o for o in _as_tuple(out) if _is_tensor(o) and o.requires_grad)


def _check_inputs(inputs):
    any_requires_grad = False
    for i, t in enumerate(inputs):
        if _is_tensor(t) and t.requires_grad:
            if t._data.dtype != np.float64:
                warnings.warn(f'Input #{i} requires gradient and is not a double precision floating point or '
                              'complex. This check will likely fail if all the inputs are not of double precision '
                              'floating point or complex. ', stacklevel=4)
            if not all(st > 0 or n <= 1 for st, n in zip(t._data.strides, t._data.shape)):
                raise RuntimeError(f'The {i}th input has a dimension with stride 0. gradcheck only supports inputs '
                                   'that are non-overlapping to be able to compute the numerical gradients '
                                   'correctly. You should call .contiguous on the input before passing it to '
                                   'gradcheck.')
            any_requires_grad = True
    if not any_requires_grad:
        raise ValueError('gradcheck expects at least one input tensor to require gradient, but none of the them '
                         'have requires_grad=True.')


def _float_outputs(func, inputs):
    """``func``'s floating-point tensor outputs as flat float64 copies (None for other outputs)."""
    out = []
    for o in _as_tuple(func(*inputs)):
        if _is_tensor(o) and o._data.dtype.kind == 'f':
            out.append(o._data.astype(np.float64).reshape(-1))
        else:
            out.append(None)
    return out


def _numerical_jacobian(func, inputs, diff_idx, eps):
    """``jac[k][m]``: d(output m)/d(input diff_idx[k]) as an (out.numel(), in.numel()) array
    (None for non-float outputs)."""
    jac = []
    for i in diff_idx:
        arr = inputs[i]._data
        cols = []
        for idx in np.ndindex(arr.shape):
            orig = arr[idx].item()
            arr[idx] = orig - eps
            a = _float_outputs(func, inputs)
            arr[idx] = orig + eps
            b = _float_outputs(func, inputs)
            arr[idx] = orig
            cols.append([None if x is None else (y - x) / (2 * eps) for x, y in zip(a, b)])
        n_out = len(_float_outputs(func, inputs)) if not cols else len(cols[0])
        per_out = []
        for m in range(n_out):
            if cols and cols[0][m] is None:
                per_out.append(None)
                continue
            per_out.append(np.stack([c[m] for c in cols], axis=1) if cols else None)
        jac.append(per_out)
    return jac


def _vjp(output, inputs, v):
    return _grad((output,), inputs, (v,), retain_graph=True, allow_unused=True)


def _analytical_jacobian(diff_inputs, output, nondet_tol, check_grad_dtypes):
    """``jac[k]``: d(output)/d(diff_inputs[k]) built row by row; computed twice to check that
    backward is deterministic."""
    def rows():
        jac = [np.zeros((output._data.size, t._data.size)) for t in diff_inputs]
        sizes_ok = types_ok = True
        flat = np.zeros(output._data.size, output._data.dtype)
        for r in range(flat.size):
            flat[:] = 0
            flat[r] = 1
            grads = _vjp(output, diff_inputs, _wrap(flat.reshape(output._data.shape).copy()))
            for k, (g, t) in enumerate(zip(grads, diff_inputs)):
                if g is None:
                    continue
                if g._data.shape != t._data.shape:
                    sizes_ok = False
                    continue
                if g._data.dtype != t._data.dtype:
                    types_ok = False
                jac[k][r, :] = g._data.astype(np.float64).reshape(-1)
        return jac, sizes_ok, types_ok

    jac1, sizes_ok, types_ok = rows()
    jac2, _, _ = rows()
    if not types_ok and check_grad_dtypes:
        raise GradcheckError('Gradient has dtype mismatch')
    if not sizes_ok:
        raise GradcheckError('Analytical gradient has incorrect size')
    for a, b in zip(jac1, jac2):
        if a.size and np.abs(a - b).max() > nondet_tol:
            raise GradcheckError('Backward is not reentrant, i.e., running backward with same input and grad_output '
                                 'multiple times gives different values, although analytical gradient matches '
                                 f'numerical gradient.The tolerance for nondeterminism was {nondet_tol}.')
    return jac1


def _mismatch_msg(a, n, out_idx, in_idx, fast=False):
    if fast:
        a, n = _wrap(np.asarray(a)), _wrap(np.asarray(n))
    else:
        a, n = _wrap(a), _wrap(n)
    return (f'Jacobian mismatch for output {out_idx:d} with respect to input {in_idx:d},\n'
            f'numerical:{n}\nanalytical:{a}\n')


def _slow_gradcheck(func, inputs, diff_idx, out_pos, outputs, eps, rtol, atol, nondet_tol, check_grad_dtypes):
    numerical = _numerical_jacobian(func, inputs, diff_idx, eps)
    if not outputs:
        for per_out in numerical:
            for j in per_out:
                if j is not None and (j != 0).any():
                    raise GradcheckError('Numerical gradient for function expected to be zero')
        return
    diff_inputs = [inputs[i] for i in diff_idx]
    for m, (pos, o) in enumerate(zip(out_pos, outputs)):
        analytical = _analytical_jacobian(diff_inputs, o, nondet_tol, check_grad_dtypes)
        for k, a in enumerate(analytical):
            n = numerical[k][pos]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(_mismatch_msg(a, n, m, k))


def _unit_vector(rng, size):
    v = rng.random(size)
    norm = np.sqrt((v * v).sum())
    return v / norm if norm else v


def _fast_gradcheck(func, inputs, diff_idx, out_pos, outputs, eps, rtol, atol, nondet_tol, check_grad_dtypes):
    rng = np.random.default_rng(0)
    all_u = [_unit_vector(rng, inputs[i]._data.size) for i in diff_idx]
    all_v = [_unit_vector(rng, o._data.size) for o in outputs]
    # Numerical J·u per input, by central differences along u.
    all_ju = []
    for i, u in zip(diff_idx, all_u):
        arr = inputs[i]._data
        orig = arr.copy()
        step = (eps * u).reshape(arr.shape)
        arr[...] = orig - step
        a = _float_outputs(func, inputs)
        arr[...] = orig + step
        b = _float_outputs(func, inputs)
        arr[...] = orig
        all_ju.append([None if x is None else (y - x) / (2 * eps) for x, y in zip(a, b)])
    if not outputs:
        for ju in all_ju:
            for j in ju:
                if j is not None and j.size and np.abs(j).max() > nondet_tol:
                    raise GradcheckError('Numerical gradient for function expected to be zero')
        return
    diff_inputs = [inputs[i] for i in diff_idx]
    for m, (pos, o, v) in enumerate(zip(out_pos, outputs, all_v)):
        vt = _wrap(v.reshape(o._data.shape).astype(o._data.dtype))
        first = _vjp(o, diff_inputs, vt)
        second = _vjp(o, diff_inputs, vt)
        for k, (g1, g2, u) in enumerate(zip(first, second, all_u)):
            t = diff_inputs[k]
            for g in (g1, g2):
                if g is not None and g._data.shape != t._data.shape:
                    raise GradcheckError('Analytical gradient has incorrect size')
                if g is not None and check_grad_dtypes and g._data.dtype != t._data.dtype:
                    raise GradcheckError('Gradient has dtype mismatch')
            a1 = 0.0 if g1 is None else float(g1._data.astype(np.float64).reshape(-1) @ u)
            a2 = 0.0 if g2 is None else float(g2._data.astype(np.float64).reshape(-1) @ u)
            if abs(a1 - a2) > nondet_tol:
                raise GradcheckError('Backward is not reentrant, i.e., running backward with same input and '
                                     'grad_output multiple times gives different values, although analytical gradient '
                                     f'matches numerical gradient.The tolerance for nondeterminism was {nondet_tol}.')
            n = float(v @ all_ju[k][pos])
            adjusted_atol = atol * float(u.sum()) * float(v.sum())
            if not np.isclose(a1, n, rtol=rtol, atol=adjusted_atol):
                raise GradcheckError(_mismatch_msg(a1, n, m, k, fast=True)
                                     + _slow_mode_report(func, inputs, diff_idx, k, pos, o, eps, rtol, atol))


def _slow_mode_report(func, inputs, diff_idx, k, pos, output, eps, rtol, atol):
    numerical = _numerical_jacobian(func, inputs, [diff_idx[k]], eps)[0][pos]
    analytical = _analytical_jacobian([inputs[diff_idx[k]]], output, float('inf'), False)[0]
    msg = ('\nThe above quantities relating the numerical and analytical jacobians are computed \nin fast mode. '
           'Below, we recompute numerical and analytical jacobians in slow mode:\n\n'
           f'Numerical:\n {_wrap(numerical)}\nAnalytical:\n{_wrap(analytical)}\n\n'
           f'The max per-element difference (slow mode) is: {np.abs(numerical - analytical).max()}.\n')
    if np.allclose(analytical, numerical, rtol=rtol, atol=atol):
        msg += ('\nFast gradcheck failed but element-wise differences are small. This means that the test might\'ve '
                'passed in slow_mode!\n\nIf you are adding a new operator, use `fast_mode=False` for it.\n')
    return msg


def _test_backward_mul_by_grad_output(outputs, diff_inputs):
    zeros = [_wrap(np.zeros_like(o._data)) for o in outputs]
    grads = _grad(outputs, diff_inputs, zeros, allow_unused=True)
    for g, t in zip(grads, diff_inputs):
        if g is None:
            continue
        if (g._data != 0).any():
            raise GradcheckError('backward not multiplied by grad_output')
        if g._data.dtype != t._data.dtype:
            raise GradcheckError('grad is incorrect type')
        if g._data.shape != t._data.shape:
            raise GradcheckError('grad is incorrect size')


class _UndefinedGradBackward(Node):
    """Passes no gradient on (PyTorch's ``UndefinedGrad``): the node below sees None."""

    __slots__ = ()

    def backward(self, g):
        return (None,)


def _undefined(o):
    t = _wrap(o._data)
    t.grad_fn = _UndefinedGradBackward((grad_edge(o),))
    t._requires_grad = True
    return t


def _test_undefined_backward_mode(func, inputs, diff_inputs):
    def check(outs):
        zeros = [_wrap(np.zeros_like(o._data)) for o in outs]
        try:
            grads = _grad(outs, diff_inputs, zeros, allow_unused=True)
        except RuntimeError as e:
            raise GradcheckError('Expected backward function to handle undefined output grads. Please look at '
                                 '"Notes about undefined output gradients" in "tools/autograd/derivatives.yaml"') from e
        for g in grads:
            if g is not None and (g._data != 0).any():
                raise GradcheckError('Expected all input grads to be undefined or zero when all output grads are '
                                     'undefined or zero. Please look at "Notes about undefined output gradients" in '
                                     '"tools/autograd/derivatives.yaml"')

    outs = _differentiable_outputs(func(*inputs))
    check([_undefined(o) for o in outs])
    if len(outs) > 1:
        for u in range(len(outs)):
            fresh = _differentiable_outputs(func(*inputs))
            check([_undefined(o) if i == u else o for i, o in enumerate(fresh)])


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """Check the gradients of ``func`` at ``inputs`` (float64 tensors) against finite differences.

    Returns True, or raises ``GradcheckError`` (returns False with ``raise_exception=False``)
    when a check fails. ``eps``: the perturbation; ``atol``/``rtol``: tolerances on the
    Jacobians; ``nondet_tol``: allowed difference between two backward runs; ``fast_mode``:
    compare ``v·J·u`` instead of full Jacobians; ``check_undefined_grad``: backward must
    accept undefined (None) output gradients; ``check_grad_dtypes``: gradient dtypes must
    match the inputs'. Forward-mode and batched checks are not supported (Ember has neither
    forward AD nor vmap).
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError('Expected at least one of check_forward_ad or check_backward_ad to be True')
    if check_batched_grad and not check_backward_ad:
        raise AssertionError('Setting check_batched_grad=True requires check_backward_ad to be True')
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError('Setting check_batched_forward_grad=True requires check_forward_ad to be True')
    if check_forward_ad or check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError('gradcheck: check_forward_ad, check_batched_grad and check_batched_forward_grad '
                                  'are not supported (Ember has no forward-mode AD or vmap)')
    try:
        return _gradcheck_helper(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad,
                                 check_grad_dtypes, fast_mode)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck_helper(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
                      fast_mode):
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    func_out = _as_tuple(func(*inputs))
    out_pos = [p for p, o in enumerate(func_out) if _is_tensor(o) and o.requires_grad]
    outputs = [func_out[p] for p in out_pos]
    diff_idx = [i for i, t in enumerate(inputs) if _is_tensor(t) and t.requires_grad]
    check = _fast_gradcheck if fast_mode else _slow_gradcheck
    check(func, inputs, diff_idx, out_pos, outputs, eps, rtol, atol, nondet_tol, check_grad_dtypes)
    if outputs:
        diff_inputs = [inputs[i] for i in diff_idx]
        _test_backward_mul_by_grad_output(outputs, diff_inputs)
        if check_undefined_grad:
            _test_undefined_backward_mode(func, inputs, diff_inputs)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """``gradcheck`` of the gradients of ``func``: checks second derivatives through
    ``grad(..., create_graph=True)``.

    ``grad_outputs`` default to random tensors in [-1, 1) that require grad (non-contiguous
    with ``gen_non_contig_grad_outputs``); they are checked as extra inputs.
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError('Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True')
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError('Setting check_undefined_grad=True requires check_rev_over_rev to be True')
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError('Setting check_batched_grad=True requires check_rev_over_rev to be True')
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        grad_outputs = []
        for o in _differentiable_outputs(func(*inputs)):
            dt = o._data.dtype if o._data.dtype.kind == 'f' else np.float64
            arr = rng.uniform(-1, 1, o._data.shape).astype(dt)
            if gen_non_contig_grad_outputs and arr.size > 1:
                wide = np.empty(arr.shape + (2,), dt)
                wide[..., 0] = arr
                arr = wide[..., 0]
            grad_outputs.append(_wrap(arr).requires_grad_())
        grad_outputs = tuple(grad_outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if _is_tensor(t) and t.requires_grad]

    def new_func(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = _differentiable_outputs(func(*ins))
        gs = _grad(outs, [ins[i] for i in diff_idx], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(new_func, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, masked=masked)
