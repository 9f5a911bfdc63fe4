"""The test harness: run one lambda on Ember and on PyTorch with the same inputs and compare.

    check(lambda lib, x: lib.exp(x), (3, 4))            # random float32 input of shape (3, 4)
    check(lambda lib, x, y: x @ y, (2, 3), (3, 5))
    check(lambda lib, x: x.sum(1, keepdim=True), np.arange(6.).reshape(2, 3))
    check_raises(lambda lib, x: x.view(5), (2, 3))      # same exception type in both
    check_gradcheck(lambda lib, x: x.tanh(), (3,))      # float64 finite differences, in Ember

``lib`` is ``ember`` or ``torch``: since Ember's API is PyTorch's, the lambda is literally shared.
Inputs are shapes (random floats), NumPy arrays, or Python scalars passed through unchanged.
``check`` compares values, dtypes and shapes of every output, then backpropagates the same
random output gradients through both and compares the input gradients.
"""
import numpy as np
import torch

import ember

TOL = {  # dtype name -> (rtol, atol)
    'float16': (1e-2, 1e-2),
    'float32': (1e-5, 1e-5),
    'float64': (1e-10, 1e-10),
}


def _rng(seed=0):
    return np.random.default_rng(seed)


def make_inputs(specs, dtype=np.float32, seed=0, low=-2.0, high=2.0):
    """Turn shape tuples into random arrays; pass arrays and scalars through."""
    rng = _rng(seed)
    out = []
    for s in specs:
        if isinstance(s, tuple) and all(isinstance(d, int) for d in s):
            out.append(rng.uniform(low, high, s).astype(dtype))
        else:
            out.append(s)
    return out


def _to_lib(lib, v, requires_grad):
    if isinstance(v, np.ndarray):
        t = lib.tensor(v.copy())
        if requires_grad and v.dtype.kind == 'f':
            t.requires_grad_(True)
        return t
    return v


def _flatten(out):
    if isinstance(out, (tuple, list)):
        items = []
        for o in out:
            items.extend(_flatten(o))
        return items
    return [out]


def _np(v):
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    if isinstance(v, ember.Tensor):
        return v.detach().numpy()
    return v


def _dtype_name(t):
    return str(t.dtype).split('.')[-1]


def assert_close(e, t, rtol=None, atol=None, what='output'):
    """Compare an Ember value with a torch value: type, dtype, shape and numbers."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f'{what}: expected an ember.Tensor, got {type(e).__name__}'
        assert _dtype_name(e) == _dtype_name(t), f'{what}: dtype {e.dtype} != torch {t.dtype}'
        assert tuple(e.shape) == tuple(t.shape), f'{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}'
        r, a = TOL.get(_dtype_name(t), (0, 0))
        r = r if rtol is None else rtol
        a = a if atol is None else atol
        ev, tv = _np(e), _np(t)
        if ev.dtype.kind in 'iub':
            np.testing.assert_array_equal(ev, tv, err_msg=what)
        else:
            np.testing.assert_allclose(ev.astype(np.float64), tv.astype(np.float64), rtol=r, atol=a,
                                       equal_nan=True, err_msg=what)
    elif isinstance(t, (bool, int, float)):
        assert not isinstance(e, ember.Tensor), f'{what}: expected a Python {type(t).__name__}, got a tensor'
        if isinstance(t, float):
            np.testing.assert_allclose(e, t, rtol=rtol or 1e-6, atol=atol or 1e-6, err_msg=what)
        else:
            assert e == t, f'{what}: {e!r} != torch {t!r}'
    elif isinstance(t, torch.Size):
        assert tuple(e) == tuple(t), f'{what}: {e} != {t}'
    else:
        assert e == t or (e is None and t is None), f'{what}: {e!r} != torch {t!r}'


def check(fn, *specs, grad=True, dtype=np.float32, rtol=None, atol=None, grad_rtol=None, grad_atol=None,
          seed=0, low=-2.0, high=2.0):
    """Run ``fn(lib, *inputs)`` with lib = ember and torch; compare outputs and gradients.

    Returns the (ember, torch) outputs for further checks.
    """
    arrays = make_inputs(specs, dtype=dtype, seed=seed, low=low, high=high)
    e_in = [_to_lib(ember, a, grad) for a in arrays]
    t_in = [_to_lib(torch, a, grad) for a in arrays]
    e_out = fn(ember, *e_in)
    t_out = fn(torch, *t_in)
    e_flat, t_flat = _flatten(e_out), _flatten(t_out)
    assert len(e_flat) == len(t_flat), f'{len(e_flat)} outputs != torch {len(t_flat)}'
    for i, (e, t) in enumerate(zip(e_flat, t_flat)):
        assert_close(e, t, rtol, atol, what=f'output {i}')
    if not grad:
        return e_out, t_out
    # Backpropagate the same random weights through every float output that has a graph.
    rng = _rng(seed + 1)
    e_terms, t_terms = [], []
    for e, t in zip(e_flat, t_flat):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point:
            assert e.requires_grad, 'ember output does not require grad but torch output does'
            w = rng.uniform(-1, 1, tuple(t.shape)).astype(_np(t).dtype)
            e_terms.append((e * ember.tensor(w)).sum())
            t_terms.append((t * torch.tensor(w)).sum())
    if not t_terms:
        return e_out, t_out
    sum(t_terms).backward()
    sum(e_terms).backward()
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:
                assert e.grad is None, f'input {i}: ember has a gradient where torch has None'
                continue
            assert e.grad is not None, f'input {i}: ember gradient is None'
            assert_close(e.grad, t.grad, grad_rtol or rtol, grad_atol or atol, what=f'grad of input {i}')
    return e_out, t_out


def check_raises(fn, *specs, dtype=np.float32, match=None):
    """Both libraries raise, with the same exception type; Ember's message may be checked with ``match``."""
    arrays = make_inputs(specs, dtype=dtype)
    t_in = [_to_lib(torch, a, False) for a in arrays]
    e_in = [_to_lib(ember, a, False) for a in arrays]
    try:
        fn(torch, *t_in)
    except Exception as exc:
        t_exc = exc
    else:
        raise AssertionError('torch did not raise')
    try:
        fn(ember, *e_in)
    except Exception as exc:
        e_exc = exc
    else:
        raise AssertionError(f'ember did not raise; torch raised {type(t_exc).__name__}: {t_exc}')
    assert type(e_exc) is type(t_exc) or isinstance(e_exc, type(t_exc)), \
        f'ember raised {type(e_exc).__name__}: {e_exc}; torch raised {type(t_exc).__name__}: {t_exc}'
    assert str(e_exc), 'ember raised with an empty message'
    if match is not None:
        import re
        assert re.search(match, str(e_exc)), f'{match!r} not in {e_exc}'
    return e_exc, t_exc


def check_gradcheck(fn, *specs, seed=0, low=-2.0, high=2.0, gradgrad=True, **kw):
    """Ember's float64 finite-difference gradcheck (and gradgradcheck) of ``fn(ember, *inputs)``."""
    arrays = make_inputs(specs, dtype=np.float64, seed=seed, low=low, high=high)
    e_in = tuple(_to_lib(ember, a, True) for a in arrays)
    tensors = [t for t in e_in if isinstance(t, ember.Tensor)]

    def f(*ts):
        it = iter(ts)
        args = [next(it) if isinstance(a, ember.Tensor) else a for a in e_in]
        return fn(ember, *args)

    assert ember.autograd.gradcheck(f, tuple(tensors), **kw)
    if gradgrad:
        assert ember.autograd.gradgradcheck(f, tuple(tensors), **kw)
