"""Lazy modules against PyTorch: repr and state_dict before the first forward, the same seeded weights
and outputs after it, the class they become, loading, dtype casts, optimizers made early, and errors."""
import copy

import numpy as np
import pytest
import torch

import ember
from ember import nn

CASES = [  # (class name, args, kwargs, input shape)
    ('LazyLinear', (5,), {}, (3, 7)),
    ('LazyLinear', (4,), {'bias': False}, (2, 3, 6)),
    ('LazyLinear', (2,), {'dtype': 'float64'}, (4,)),
    ('LazyConv1d', (6, 3), {'stride': 2}, (2, 4, 9)),
    ('LazyConv1d', (4, 3), {'padding': 'same', 'padding_mode': 'reflect'}, (3, 8)),
    ('LazyConv2d', (8, 3), {'padding': 1}, (2, 3, 6, 6)),
    ('LazyConv2d', (4, (2, 3)), {'groups': 2, 'bias': False}, (1, 6, 5, 5)),
    ('LazyConv3d', (3, 2), {}, (1, 2, 4, 4, 4)),
    ('LazyConvTranspose1d', (3, 3), {'stride': 2, 'output_padding': 1}, (2, 4, 5)),
    ('LazyConvTranspose2d', (4, 3), {'groups': 2}, (1, 6, 4, 4)),
    ('LazyConvTranspose3d', (2, 2), {}, (1, 3, 3, 3, 3)),
]


def _make(lib, name, args, kwargs):
    kw = {k: getattr(lib, v) if k == 'dtype' else v for k, v in kwargs.items()}
    return getattr(lib.nn, name)(*args, **kw)


def _input(lib, shape, kwargs):
    x = np.random.default_rng(0).standard_normal(shape).astype(kwargs.get('dtype', 'float32'))
    return lib.from_numpy(x)


@pytest.mark.parametrize('name, args, kwargs, shape', CASES)
def test_first_forward_matches_torch(name, args, kwargs, shape):
    mods = {}
    for lib in (ember, torch):
        lib.manual_seed(7)
        m = _make(lib, name, args, kwargs)
        before = (repr(m), list(m.state_dict()), [repr(v) for v in m.state_dict().values()],
                  m.has_uninitialized_params())
        out = m(_input(lib, shape, kwargs))
        mods[lib] = m, before, out, repr(m), type(m).__name__
    (e, e_before, e_out, e_repr, e_cls), (t, t_before, t_out, t_repr, t_cls) = mods[ember], mods[torch]
    assert e_before == t_before and e_before[3] is True
    assert (e_repr, e_cls) == (t_repr, t_cls) and not hasattr(e, 'has_uninitialized_params')
    for (kn, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert type(pe) is nn.Parameter and pe.dtype == getattr(ember, str(pt.dtype).split('.')[1]), kn
        np.testing.assert_array_equal(pe.detach().numpy(), pt.detach().numpy(), err_msg=kn)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert e_out.dtype == getattr(ember, str(t_out.dtype).split('.')[1])


def test_optimizer_made_before_the_first_forward_trains_the_materialised_parameters():
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.LazyLinear(4), lib.nn.ReLU(), lib.nn.LazyLinear(2))
        params = list(m.parameters())
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        x = _input(lib, (5, 3), {})
        for _ in range(2):
            opt.zero_grad()
            m(x).pow(2).sum().backward()
            opt.step()
        assert all(p is q for p, q in zip(params, m.parameters()))
        results.append([p.detach().numpy().copy() for p in m.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('make', [
    lambda lib: lib.nn.Linear(6, 3),
    lambda lib: lib.nn.Linear(6, 3, bias=False),
])
def test_load_state_dict_materialises_then_forward_becomes_linear(make):
    reprs = []
    for lib in (ember, torch):
        lib.manual_seed(1)
        src = make(lib)
        lazy = lib.nn.LazyLinear(3, bias=src.bias is not None)
        assert repr(lazy.load_state_dict(src.state_dict())) == '<All keys matched successfully>'
        shapes = [tuple(p.shape) for p in lazy.parameters()]
        reprs.append((repr(lazy), type(lazy).__name__, shapes))
        out = lazy(lib.ones(2, 6))
        reprs.append((repr(lazy), type(lazy).__name__, lazy.in_features, out.sum().item()))
    assert reprs[0] == reprs[2]
    assert reprs[1][:3] == reprs[3][:3] and reprs[1][3] == pytest.approx(reprs[3][3], rel=1e-5)


def test_uninitialised_into_uninitialised_state_dict_keeps_it_lazy():
    m = nn.LazyLinear(3)
    assert repr(m.load_state_dict(nn.LazyLinear(3).state_dict())) == '<All keys matched successfully>'
    assert m.has_uninitialized_params() and isinstance(m.weight, nn.UninitializedParameter)
    with pytest.raises(RuntimeError, match='Missing key'):
        nn.LazyLinear(3).load_state_dict({'weight': nn.Linear(2, 3).weight})


def test_dtype_cast_before_the_first_forward():
    m = nn.LazyConv2d(2, 3).double()
    assert isinstance(m.weight, nn.UninitializedParameter) and m.weight.dtype == ember.float64
    m(ember.ones(1, 1, 4, 4, dtype=ember.float64))
    assert type(m) is nn.Conv2d and m.weight.dtype == ember.float64 and m.bias.dtype == ember.float64


def test_deepcopy_and_explicit_initialize_parameters():
    m = nn.LazyLinear(3, dtype=ember.float64)
    c = copy.deepcopy(m)
    assert isinstance(c.weight, nn.UninitializedParameter) and c.weight.dtype == ember.float64
    c.initialize_parameters(ember.ones(5, 4))
    assert c.in_features == 4 and tuple(c.weight.shape) == (3, 4) and type(c) is nn.LazyLinear
    c(ember.ones(1, 4, dtype=ember.float64))
    assert type(c) is nn.Linear and isinstance(m.weight, nn.UninitializedParameter)


@pytest.mark.parametrize('call, exc, message', [
    (lambda lib: lib.nn.LazyLinear(3).weight.shape, RuntimeError, "Can't access the shape of an uninitialized"),
    (lambda lib: lib.nn.LazyConv2d(3, 3)(lib.ones(4, 4)), RuntimeError,
     'Expected 3D (unbatched) or 4D (batched) input to LazyConv2d, but got input of size'),
    (lambda lib: lib.nn.LazyConv1d(4, 3, groups=2)(lib.ones(1, 3, 5)), ValueError,
     'in_channels must be divisible by groups'),
    (lambda lib: lib.nn.LazyLinear(3).weight.share_memory_(), RuntimeError, "Can't share memory on an uninit"),
])
def test_errors_match_torch(call, exc, message):
    for lib in (ember, torch):
        with pytest.raises(exc) as err:
            call(lib)
        assert message in str(err.value), lib.__name__


def test_uninitialized_parameter_repr_and_materialize():
    for lib in (ember, torch):
        p = lib.nn.UninitializedParameter(requires_grad=False, dtype=lib.float64)
        assert repr(p) == '<UninitializedParameter>'
        p.materialize((2, 3))
        assert type(p) is lib.nn.Parameter and tuple(p.shape) == (2, 3) and p.dtype == lib.float64
        assert p.requires_grad is False
