"""nn.utils: gradient clipping (by norm and by value), total norms and parameter/vector conversion,
compared with PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _params(lib, dtypes=('float32', 'float32', 'float32'), scale=3.0, with_none=True, special=None):
    rng = np.random.default_rng(0)
    shapes = [(4, 5), (5,), (2, 3, 2)]
    params = []
    for shape, dt in zip(shapes, dtypes):
        p = lib.nn.Parameter(lib.tensor(rng.standard_normal(shape).astype(dt)))
        g = (rng.standard_normal(shape) * scale).astype(dt)
        if special is not None and not params:
            g.flat[3] = special
        p.grad = lib.tensor(g)
        params.append(p)
    if with_none:
        params.append(lib.nn.Parameter(lib.ones(3)))  # no gradient: skipped
    return params


def _grads(params):
    return [p.grad.numpy().copy() if p.grad is not None else None for p in params]


def _assert_same(a, b, rtol=1e-6):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if y is None:
            assert x is None
        else:
            assert x.dtype == y.dtype
            np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-7)


@pytest.mark.parametrize('max_norm, norm_type', [
    (1.0, 2.0), (100.0, 2.0), (0.5, 1), (2.0, float('inf')), (2.0, 'inf'), (1.0, 3.0), (1.0, 0.5),
    (5.0, 0), (1.0, -float('inf')), (0.0, 2.0), (3, 2),
])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    out = {}
    for lib in (ember, torch):
        ps = _params(lib)
        total = lib.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        out[lib.__name__] = (total, _grads(ps))
    te, tt = out['ember'][0], out['torch'][0]
    assert te.dtype.name == str(tt.dtype).split('.')[-1] and te.shape == () and te.grad_fn is None
    np.testing.assert_allclose(te.numpy(), tt.numpy(), rtol=1e-6)
    _assert_same(out['ember'][1], out['torch'][1])


@pytest.mark.parametrize('dtypes', [('float64', 'float64', 'float64'), ('float32', 'float64', 'float32'),
                                    ('float64', 'float32', 'float16')])
@pytest.mark.parametrize('norm_type', [2.0, float('inf'), 1.0])
def test_mixed_dtypes(dtypes, norm_type):
    out = {}
    for lib in (ember, torch):
        ps = _params(lib, dtypes)
        total = lib.nn.utils.clip_grad_norm_(ps, 1.5, norm_type)
        out[lib.__name__] = (total, _grads(ps))
    te, tt = out['ember'][0], out['torch'][0]
    assert te.dtype.name == str(tt.dtype).split('.')[-1]
    np.testing.assert_allclose(te.numpy(), tt.numpy(), rtol=1e-3)
    _assert_same(out['ember'][1], out['torch'][1], rtol=1e-3)


def test_single_tensor_generator_and_empty_inputs():
    for lib in (ember, torch):
        ps = _params(lib)
        total = lib.nn.utils.clip_grad_norm_(ps[0], 1.0)
        np.testing.assert_allclose(float(total), np.linalg.norm(_params(lib)[0].grad.numpy()), rtol=1e-6)
        assert float(lib.linalg.vector_norm(ps[0].grad)) == pytest.approx(1.0, rel=1e-5)
        total = lib.nn.utils.clip_grad_norm_((p for p in _params(lib)), 1.0)
        assert total.shape == ()
        with pytest.warns(UserWarning, match='`parameters` is an empty generator, no gradient clipping will occur.'):
            total = lib.nn.utils.clip_grad_norm_((p for p in []), 1.0)
        assert float(total) == 0.0 and total.dtype == lib.float32
        assert float(lib.nn.utils.clip_grad_norm_([], 1.0)) == 0.0
        assert float(lib.nn.utils.get_total_norm([])) == 0.0


@pytest.mark.parametrize('special', [float('nan'), float('inf'), -float('inf')])
@pytest.mark.parametrize('norm_type', [2.0, float('inf')])
@pytest.mark.filterwarnings('error')
def test_non_finite_total_norm(special, norm_type):
    messages, grads = [], []
    for lib in (ember, torch):
        ps = _params(lib, special=special)
        with pytest.raises(RuntimeError) as info:
            lib.nn.utils.clip_grad_norm_(ps, 1.0, norm_type, error_if_nonfinite=True)
        messages.append(str(info.value))
        before = _grads(ps)
        total = lib.nn.utils.clip_grad_norm_(ps, 1.0, norm_type)
        grads.append((float(total), _grads(ps), before))
    assert messages[0] == messages[1]
    assert 'is non-finite, so it cannot be clipped' in messages[0]
    np.testing.assert_equal(grads[0][0], grads[1][0])
    _assert_same(grads[0][1], grads[1][1])
    _assert_same(grads[0][2], grads[1][2])


@pytest.mark.parametrize('foreach', [None, False, True])
def test_foreach_argument_gives_the_same_result(foreach):
    out = []
    for lib in (ember, torch):
        ps = _params(lib)
        total = lib.nn.utils.clip_grad_norm_(ps, 1.0, 3.0, foreach=foreach)
        lib.nn.utils.clip_grad_value_(ps, 0.1, foreach=foreach)
        out.append((float(total), _grads(ps)))
    assert out[0][0] == pytest.approx(out[1][0], rel=1e-6)
    _assert_same(out[0][1], out[1][1])


@pytest.mark.parametrize('clip_value', [0.5, 2, 100.0, 0.0])
def test_clip_grad_value_matches_torch(clip_value):
    out = []
    for lib in (ember, torch):
        ps = _params(lib, ('float32', 'float64', 'float32'))
        assert lib.nn.utils.clip_grad_value_(ps, clip_value) is None
        lib.nn.utils.clip_grad_value_(ps[1], clip_value / 2)
        out.append(_grads(ps))
    _assert_same(out[0], out[1], rtol=0)


@pytest.mark.parametrize('norm_type', [2.0, 1.0, float('inf')])
def test_get_total_norm_and_clip_grads_with_norm(norm_type):
    out = []
    for lib in (ember, torch):
        ps = _params(lib)
        grads = [p.grad for p in ps if p.grad is not None]
        total = lib.nn.utils.get_total_norm(grads, norm_type)
        assert float(lib.nn.utils.get_total_norm(grads[0], norm_type)) == float(lib.linalg.vector_norm(grads[0],
                                                                                                       norm_type))
        lib.nn.utils.clip_grads_with_norm_(ps, 2.0, total * 2)
        lib.nn.utils.clip_grads_with_norm_(ps[3], 2.0, total)  # no grad: nothing to do
        out.append((float(total), _grads(ps)))
    assert out[0][0] == pytest.approx(out[1][0], rel=1e-6)
    _assert_same(out[0][1], out[1][1])


def test_clipping_records_no_history_and_keeps_grad_objects():
    p = ember.nn.Parameter(ember.ones(4))
    p.grad = ember.full((4,), 3.0)
    g = p.grad
    version = g._version
    total = ember.nn.utils.clip_grad_norm_([p], 1.0)
    assert p.grad is g and g._version > version and total.grad_fn is None and not total.requires_grad
    np.testing.assert_allclose(g.numpy(), np.full(4, 0.5), rtol=1e-6)


def test_clip_grad_norm_deprecated_alias():
    for lib in (ember, torch):
        ps = _params(lib)
        with pytest.warns(FutureWarning, match='`torch.nn.utils.clip_grad_norm` is now deprecated'):
            total = lib.nn.utils.clip_grad_norm(ps, 1.0)
        assert total.shape == ()


def test_parameters_to_vector_matches_torch_and_is_differentiable():
    out = []
    for lib in (ember, torch):
        ps = _params(lib, with_none=False)
        vec = lib.nn.utils.parameters_to_vector(ps)
        assert vec.shape == (20 + 5 + 12,) and type(vec.grad_fn).__name__ == 'CatBackward0'
        (vec * lib.arange(37.0)).sum().backward()
        out.append((vec.detach().numpy(), [p.grad.numpy() for p in ps]))
        with pytest.raises(RuntimeError, match='view size is not compatible'):
            lib.nn.utils.parameters_to_vector([lib.nn.Parameter(lib.ones(3, 4)).t()])
    np.testing.assert_array_equal(out[0][0], out[1][0])
    for a, b in zip(out[0][1], out[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_vector_to_parameters_matches_torch_and_shares_memory():
    out = []
    for lib in (ember, torch):
        ps = _params(lib, with_none=False)
        vec = lib.arange(37.0) * 0.5
        lib.nn.utils.vector_to_parameters(vec, ps)
        with lib.no_grad():
            vec[0] = 100.0
        out.append([p.detach().numpy().copy() for p in ps])
        assert all(isinstance(p, lib.nn.Parameter) and p.requires_grad for p in ps)
        with pytest.raises(TypeError) as info:
            lib.nn.utils.vector_to_parameters([1.0, 2.0], ps)
        out.append(str(info.value))
    assert out[1] == out[3] == 'expected torch.Tensor, but got: list'
    for a, b in zip(out[0], out[2]):
        np.testing.assert_array_equal(a, b)
    assert out[0][0][0, 0] == 100.0


def test_public_names():
    names = ['clip_grad_norm', 'clip_grad_norm_', 'clip_grad_value_', 'clip_grads_with_norm_', 'get_total_norm',
             'parameters_to_vector', 'vector_to_parameters']
    for name in names:
        assert hasattr(ember.nn.utils, name) and hasattr(torch.nn.utils, name)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        from ember.nn.utils import clip_grad, convert_parameters  # noqa: F401
