"""``gradcheck`` and ``gradgradcheck``: autograd's gradients against central finite differences.

The numerical Jacobian perturbs each input element by ``±eps``; the analytical one is built
row by row with ``grad`` and one-hot output gradients. ``fast_mode`` compares only ``v·J·u``
for random ``u``, ``v`` (one backward and two forward evaluations per input).
"""
import numpy as np

from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical gradients disagree."""


def _as_tuple(x):
    from .._tensor import Tensor
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _diff_inputs(inputs):
    from .._tensor import Tensor
    return [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _outputs(func, inputs):
    from .._tensor import Tensor
    return [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]


def _numerical_jacobian(func, inputs, idx, eps):
    """J[out][in] as arrays of shape (out.numel(), in.numel())."""
    with no_grad():
        outs = _outputs(func, inputs)
        jac = [[np.zeros((o.numel(), inputs[i].numel())) for i in idx] for o in outs]
        for k, i in enumerate(idx):
            flat = inputs[i]._data.reshape(-1) if inputs[i]._data.flags.c_contiguous else None
            if flat is None:
                raise ValueError('gradcheck expects contiguous inputs')
            for j in range(flat.size):
                orig = flat[j].item()
                flat[j] = orig + eps
                plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outputs(func, inputs)]
                flat[j] = orig - eps
                minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outputs(func, inputs)]
                flat[j] = orig
                for m in range(len(outs)):
                    jac[m][k][:, j] = (plus[m] - minus[m]) / (2 * eps)
    return jac


def _analytical_jacobian(func, inputs, idx):
    from .._tensor import _wrap
    outs = _outputs(func, inputs)
    jac = [[np.zeros((o.numel(), inputs[i].numel())) for i in idx] for o in outs]
    for m, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for r in range(o.numel()):
            g = np.zeros(o._data.size, o._data.dtype)
            g[r] = 1
            grads = _grad((o,), [inputs[i] for i in idx], (_wrap(g.reshape(o._data.shape)),),
                          retain_graph=True, allow_unused=True)
            for k, gi in enumerate(grads):
                if gi is not None:
                    jac[m][k][r, :] = gi._data.astype(np.float64).reshape(-1)
    return jac


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """True if ``func``'s analytical gradients match finite differences for float64 ``inputs``."""
    if check_forward_ad or check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError('gradcheck: check_forward_ad/check_batched_grad/check_batched_forward_grad are '
                                  'not supported (Ember has no forward-mode AD or vmap)')
    inputs = _as_tuple(inputs)
    idx = _diff_inputs(inputs)
    if not idx:
        raise ValueError('gradcheck expects at least one input tensor to require gradient, but none of the them '
                         'have requires_grad=True.')
    for i in idx:
        if inputs[i].dtype.name != 'float64':
            import warnings
            warnings.warn(f'Input #{i} requires gradient and is not a double precision floating point. This check '
                          'will likely fail if all the inputs are not of double precision floating point.')
    if not check_backward_ad:
        return True
    if fast_mode:
        return _fast_check(func, inputs, idx, eps, atol, rtol, raise_exception)
    numerical = _numerical_jacobian(func, inputs, idx, eps)
    analytical = _analytical_jacobian(func, inputs, idx)
    for m, (num_row, ana_row) in enumerate(zip(numerical, analytical)):
        for k, (n, a) in enumerate(zip(num_row, ana_row)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                return _fail(f'Jacobian mismatch for output {m} with respect to input {idx[k]},\n'
                             f'numerical:{n}\nanalytical:{a}\n', raise_exception)
    return True


def _fast_check(func, inputs, idx, eps, atol, rtol, raise_exception):
    from .._tensor import _wrap
    rng = np.random.default_rng(0)
    outs = _outputs(func, inputs)
    vs = [rng.standard_normal(o._data.shape) for o in outs]
    for k, i in enumerate(idx):
        u = rng.standard_normal(inputs[i]._data.shape)
        flat = inputs[i]._data
        with no_grad():
            orig = flat.copy()
            flat += eps * u
            plus = [o._data.astype(np.float64) for o in _outputs(func, inputs)]
            flat[...] = orig - eps * u
            minus = [o._data.astype(np.float64) for o in _outputs(func, inputs)]
            flat[...] = orig
        numerical = sum(float(((p - q) / (2 * eps) * v).sum()) for p, q, v in zip(plus, minus, vs))
        diff_outs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        analytical = 0.0
        if diff_outs:
            g = _grad([o for o, _ in diff_outs], [inputs[i]], [_wrap(v.astype(o._data.dtype)) for o, v in diff_outs],
                      retain_graph=True, allow_unused=True)[0]
            if g is not None:
                analytical = float((g._data.astype(np.float64) * u).sum())
        if not np.isclose(analytical, numerical, rtol=rtol, atol=atol):
            return _fail(f'Jacobian mismatch for output with respect to input {i} (fast mode):\n'
                         f'numerical: {numerical}\nanalytical: {analytical}\n', raise_exception)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """``gradcheck`` of the gradient of ``func``: checks second derivatives (``create_graph=True``)."""
    from .._tensor import _wrap
    inputs = _as_tuple(inputs)
    idx = _diff_inputs(inputs)
    outs = _outputs(func, inputs)
    diff_outs = [o for o in outs if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        grad_outputs = tuple(_wrap(rng.standard_normal(o._data.shape).astype(o._data.dtype)).requires_grad_()
                             for o in diff_outs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_grads(*args):
        ins, gos = args[:n], args[n:]
        # The numerical Jacobian evaluates this under no_grad; the first gradients still need a graph.
        with enable_grad():
            os = [o for o in _outputs(func, ins) if o.requires_grad]
            gs = _grad(os, [ins[i] for i in idx], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    if not check_rev_over_rev:
        return True
    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast_mode=fast_mode)
