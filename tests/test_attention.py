"""scaled_dot_product_attention and MultiheadAttention against PyTorch: values, gradients, errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check, check_gradcheck, check_raises

RNG = np.random.default_rng(0)


def F(lib):
    return lib.nn.functional


def sdpa(lib, *args, **kw):
    return F(lib).scaled_dot_product_attention(*args, **kw)


def _bool(shape, p=0.6, seed=0):
    return np.random.default_rng(seed).random(shape) < p


_ROW_OFF = _bool((3, 5))
_ROW_OFF[1] = False  # a row with every position masked gives zeros


# ---- scaled_dot_product_attention -----------------------------------------------------------------

@pytest.mark.parametrize('shapes,kw', [
    (((2, 3, 4), (2, 5, 4), (2, 5, 6)), {}),
    (((3, 4), (5, 4), (5, 6)), {}),
    (((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6)), {}),
    (((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6)), {'is_causal': True}),
    (((2, 6, 4), (2, 5, 4), (2, 5, 3)), {'is_causal': True}),
    (((2, 3, 4), (2, 5, 4), (2, 5, 6)), {'scale': 0.3}),
    (((2, 3, 4), (2, 5, 4), (2, 5, 6)), {'scale': -1.5}),
    (((2, 1, 3, 4), (1, 3, 5, 4), (2, 3, 5, 6)), {}),       # batch dims broadcast
    (((3, 4), (2, 5, 4), (5, 6)), {}),
    (((2, 4, 3, 4), (2, 2, 5, 4), (2, 1, 5, 6)), {'enable_gqa': True}),
    (((2, 0, 4), (2, 5, 4), (2, 5, 6)), {}),                 # empty query
    (((2, 3, 4), (2, 0, 4), (2, 0, 6)), {}),                 # no keys: zeros
    (((0, 3, 4), (0, 5, 4), (0, 5, 6)), {}),
])
def test_sdpa(shapes, kw):
    check(lambda lib, q, k, v: sdpa(lib, q, k, v, **kw), *shapes)


@pytest.mark.parametrize('mask_shape', [(3, 5), (2, 1, 3, 5), (1, 5), (2, 2, 3, 5)])
def test_sdpa_bool_mask(mask_shape):
    m = _bool(mask_shape)
    check(lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=lib.tensor(m)), (2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6))


def test_sdpa_fully_masked_rows_are_zero():
    e, _ = check(lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=lib.tensor(_ROW_OFF)), (2, 3, 4), (2, 5, 4),
                 (2, 5, 6))
    assert (e[:, 1] == 0).all()


@pytest.mark.parametrize('mask_shape', [(3, 5), (2, 2, 3, 5), (2, 1, 1, 5), (5,)])
def test_sdpa_float_mask_gradient(mask_shape):
    check(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), (2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6),
          mask_shape)


def test_sdpa_float_mask_with_inf():
    m = np.where(_ROW_OFF, 0.0, -np.inf).astype(np.float32) + RNG.uniform(-1, 1, (3, 5)).astype(np.float32)
    check(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), (2, 3, 4), (2, 5, 4), (2, 5, 6), m)


def test_sdpa_noncontiguous_inputs():
    check(lambda lib, q, k, v: sdpa(lib, q.transpose(-1, -2), k[:, ::2], v.transpose(0, 1)),
          (2, 4, 3), (2, 10, 4), (5, 2, 6))


@pytest.mark.parametrize('dt', [np.float64, np.float16])
def test_sdpa_dtypes(dt):
    check(lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=lib.tensor(_ROW_OFF)), (2, 3, 4), (2, 5, 4), (2, 5, 6),
          dtype=dt, grad=dt != np.float16)


def test_sdpa_float32_mask_on_float64_query():
    m = RNG.uniform(-1, 1, (3, 5)).astype(np.float32)
    check(lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=lib.tensor(m)), (2, 3, 4), (2, 5, 4), (2, 5, 6),
          dtype=np.float64)


@pytest.mark.parametrize('p,shapes', [
    (0.3, ((2, 3, 4), (2, 5, 4), (2, 5, 6))),
    (0.5, ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6))),
    (1.0, ((2, 3, 4), (2, 5, 4), (2, 5, 6))),
    (-0.5, ((2, 3, 4), (2, 5, 4), (2, 5, 6))),
])
def test_sdpa_dropout_matches_seeded_stream(p, shapes):
    def fn(lib, q, k, v):
        lib.manual_seed(7)
        return sdpa(lib, q, k, v, dropout_p=p)
    check(fn, *shapes)


def test_sdpa_grad_fn_names():
    q = ember.randn(1, 2, 3, 4, requires_grad=True)
    assert sdpa(ember, q, q, q).grad_fn.name() == 'ScaledDotProductFlashAttentionForCpuBackward0'
    assert sdpa(ember, q[0], q[0], q[0]).grad_fn.name() == 'UnsafeViewBackward0'
    assert sdpa(ember, q.detach(), q.detach(), q.detach()).grad_fn is None


def test_sdpa_saved_input_modified_inplace_raises():
    q = ember.randn(2, 3, 4, requires_grad=True)
    k = ember.randn(2, 5, 4)
    out = sdpa(ember, q, k, ember.randn(2, 5, 6))
    k.add_(1)
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        out.sum().backward()


@pytest.mark.parametrize('kw', [{}, {'is_causal': True}, {'enable_gqa': True}])
def test_sdpa_gradcheck(kw):
    check_gradcheck(lambda lib, q, k, v: sdpa(lib, q, k, v, **kw), (2, 2, 3, 4), (2, 1 if kw else 2, 5, 4),
                    (2, 1 if kw else 2, 5, 3))


def test_sdpa_gradcheck_masks():
    check_gradcheck(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), (2, 3, 4), (1, 5, 4), (2, 5, 3), (3, 5))
    check_gradcheck(lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=lib.tensor(_ROW_OFF)), (2, 3, 4), (2, 5, 4),
                    (2, 5, 3))


def test_sdpa_gradcheck_dropout():
    # The same mask each call: the seed is fixed inside the function.
    def fn(lib, q, k, v):
        lib.manual_seed(3)
        return sdpa(lib, q, k, v, dropout_p=0.4)
    check_gradcheck(fn, (2, 3, 4), (2, 5, 4), (2, 5, 3))


def test_sdpa_double_backward_matches_torch():
    def fn(lib, q, k, v):
        out = sdpa(lib, q, k, v, attn_mask=lib.tensor(_ROW_OFF))
        gq, gk = lib.autograd.grad((out * out).sum(), (q, k), create_graph=True)
        return (gq * gq).sum() + (gk * k).sum()
    check(fn, (2, 3, 4), (2, 5, 4), (2, 5, 6), dtype=np.float64)


@pytest.mark.parametrize('fn', [
    lambda lib, q, k, v: sdpa(lib, q, k.double(), v),
    lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=lib.ones(3, 5, dtype=lib.int64)),
    lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=lib.ones(3, 5, dtype=lib.float64)),
    lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=lib.ones(3, 5, dtype=lib.bool), is_causal=True),
    lambda lib, q, k, v: sdpa(lib, q, k[..., :3], v),
    lambda lib, q, k, v: sdpa(lib, q[0], k[0, :, :3], v[0]),
    lambda lib, q, k, v: sdpa(lib, q, k, v[:, :4]),
    lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=lib.ones(4, 5, dtype=lib.bool)),
    lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=lib.ones(2, 2, 3, 5)),
    lambda lib, q, k, v: sdpa(lib, q.long(), k.long(), v.long()),
    lambda lib, q, k, v: sdpa(lib, q[0, 0], k[0], v[0]),
    lambda lib, q, k, v: sdpa(lib, q, k, v, dropout_p=1.5),
    lambda lib, q, k, v: sdpa(lib, q.unsqueeze(1).expand(2, 3, 3, 4), k.unsqueeze(1).expand(2, 2, 5, 4),
                              v.unsqueeze(1).expand(2, 2, 5, 6), enable_gqa=True),
    lambda lib, q, k, v: sdpa(lib, q[0], k[0], v[0], enable_gqa=True),
    lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=np.ones((3, 5), bool)),
])
def test_sdpa_errors(fn):
    check_raises(fn, (2, 3, 4), (2, 5, 4), (2, 5, 6))


# ---- MultiheadAttention ---------------------------------------------------------------------------

def _pair(make, seed=0):
    """The same module built by both libraries from the same seed: initial weights must agree;
    PyTorch's state_dict is then loaded into Ember's module so later comparisons start equal."""
    torch.manual_seed(seed)
    tm = make(torch)
    ember.manual_seed(seed)
    em = make(ember)
    ts, es = tm.state_dict(), em.state_dict()
    assert list(ts) == list(es)
    for name in ts:
        assert_close(es[name], ts[name], 1e-6, 1e-6, what=f'initial {name}')
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in ts.items()})
    return em, tm


def _inputs(shapes, seed=1, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def compare_module(em, tm, call, arrays, grad=True, rtol=1e-5, atol=1e-5):
    """Run ``call(lib, module, *inputs)`` on both; compare outputs, then input and parameter gradients."""
    e_in = [ember.tensor(a.copy(), requires_grad=grad and a.dtype.kind == 'f') for a in arrays]
    t_in = [torch.tensor(a.copy(), requires_grad=grad and a.dtype.kind == 'f') for a in arrays]
    eo, to = call(ember, em, *e_in), call(torch, tm, *t_in)
    eo = eo if isinstance(eo, tuple) else (eo,)
    to = to if isinstance(to, tuple) else (to,)
    assert len(eo) == len(to)
    for i, (e, t) in enumerate(zip(eo, to)):
        if t is None:
            assert e is None, f'output {i}: torch gives None'
            continue
        assert_close(e, t, rtol, atol, what=f'output {i}')
    if not grad:
        return eo, to
    rng = np.random.default_rng(5)
    ws = [rng.uniform(-1, 1, tuple(t.shape)).astype(np.float32 if t.dtype == torch.float32 else np.float64)
          for t in to if t is not None]
    sum((t * torch.tensor(w)).sum() for t, w in zip((t for t in to if t is not None), ws)).backward()
    sum((e * ember.tensor(w)).sum() for e, w in zip((e for e in eo if e is not None), ws)).backward()
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        if t.requires_grad:
            assert_close(e.grad, t.grad, rtol, atol, what=f'grad of input {i}')
    eparams = dict(em.named_parameters())
    for name, p in tm.named_parameters():
        if p.grad is None:
            assert eparams[name].grad is None, f'{name}: ember has a gradient where torch has None'
        else:
            assert_close(eparams[name].grad, p.grad, rtol, atol, what=f'grad of {name}')
    return eo, to


def mha(**kw):
    return lambda lib: lib.nn.MultiheadAttention(**kw)


L, S, N, E, H = 4, 5, 3, 8, 2
# Masks (True = not attended) that leave position 0 visible, so that no row is fully masked.
KPM = _bool((N, S), 0.3, seed=2)
AM2 = _bool((L, S), 0.3, seed=3)
AM3 = _bool((N * H, L, S), 0.3, seed=4)
KPM[:, 0] = AM2[:, 0] = AM3[..., 0] = False


def _t(lib, a):
    return None if a is None else lib.tensor(a)


@pytest.mark.parametrize('kw', [
    {},
    {'bias': False},
    {'add_bias_kv': True},
    {'add_zero_attn': True},
    {'add_bias_kv': True, 'add_zero_attn': True},
    {'kdim': 6, 'vdim': 7},
    {'kdim': 6, 'vdim': 7, 'bias': False},
    {'batch_first': True},
])
@pytest.mark.parametrize('need_weights,average', [(True, True), (True, False), (False, True)])
def test_mha_options(kw, need_weights, average):
    em, tm = _pair(mha(embed_dim=E, num_heads=H, **kw))
    kd, vd = kw.get('kdim', E), kw.get('vdim', E)
    shapes = [(L, N, E), (S, N, kd), (S, N, vd)]
    if kw.get('batch_first'):
        shapes = [(s[1], s[0], s[2]) for s in shapes]
    compare_module(em, tm, lambda lib, m, q, k, v: m(q, k, v, key_padding_mask=_t(lib, KPM), attn_mask=_t(lib, AM2),
                                                     need_weights=need_weights, average_attn_weights=average),
                   _inputs(shapes))


@pytest.mark.parametrize('kpm,am', [
    (None, None), (KPM, None), (None, AM2), (None, AM3), (KPM, AM3),
    ('float', 'float'), ('float', None), (None, 'float3'),
])
@pytest.mark.parametrize('need_weights', [True, False])
def test_mha_masks(kpm, am, need_weights):
    rng = np.random.default_rng(9)
    if isinstance(kpm, str):
        kpm = np.where(KPM, -np.inf, rng.uniform(-1, 1, (N, S))).astype(np.float32)
    if isinstance(am, str) and am == 'float':
        am = rng.uniform(-1, 1, (L, S)).astype(np.float32)
    elif isinstance(am, str):
        am = rng.uniform(-1, 1, (N * H, L, S)).astype(np.float32)
    em, tm = _pair(mha(embed_dim=E, num_heads=H))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        compare_module(em, tm, lambda lib, m, q, k, v: m(q, k, v, key_padding_mask=_t(lib, kpm),
                                                         attn_mask=_t(lib, am), need_weights=need_weights),
                       _inputs([(L, N, E), (S, N, E), (S, N, E)]))


@pytest.mark.parametrize('need_weights', [True, False])
def test_mha_fully_masked_rows(need_weights):
    # PyTorch's explicit path (need_weights) gives nan for such rows; its attention kernel gives 0.
    kpm = KPM.copy()
    kpm[1] = True
    em, tm = _pair(mha(embed_dim=E, num_heads=H))
    eo, _ = compare_module(em, tm, lambda lib, m, x: m(x, x, x, key_padding_mask=lib.tensor(kpm),
                                                       need_weights=need_weights), _inputs([(S, N, E)]), grad=False)
    assert eo[0][:, 1].isnan().all().item() == need_weights


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('need_weights', [True, False])
def test_mha_self_attention(batch_first, need_weights):
    em, tm = _pair(mha(embed_dim=E, num_heads=4, batch_first=batch_first))
    compare_module(em, tm, lambda lib, m, x: m(x, x, x, need_weights=need_weights), _inputs([(L, N, E)]))


def test_mha_shared_key_value():
    em, tm = _pair(mha(embed_dim=E, num_heads=H, batch_first=True))
    compare_module(em, tm, lambda lib, m, q, kv: m(q, kv, kv), _inputs([(N, L, E), (N, S, E)]))


@pytest.mark.parametrize('need_weights', [True, False])
def test_mha_causal(need_weights):
    mask = np.triu(np.full((L, L), -np.inf, np.float32), 1)
    em, tm = _pair(mha(embed_dim=E, num_heads=H))
    compare_module(em, tm, lambda lib, m, x: m(x, x, x, attn_mask=lib.tensor(mask), is_causal=True,
                                               need_weights=need_weights), _inputs([(L, N, E)]))


@pytest.mark.parametrize('kw', [{}, {'add_bias_kv': True, 'add_zero_attn': True}, {'kdim': 6, 'vdim': 7}])
def test_mha_unbatched(kw):
    em, tm = _pair(mha(embed_dim=E, num_heads=H, **kw))
    kpm = KPM[0]
    am = AM3[:H]
    compare_module(em, tm, lambda lib, m, q, k, v: m(q, k, v, key_padding_mask=lib.tensor(kpm),
                                                     attn_mask=lib.tensor(am), average_attn_weights=False),
                   _inputs([(L, E), (S, kw.get('kdim', E)), (S, kw.get('vdim', E))]))


def test_mha_eval_and_no_grad():
    em, tm = _pair(mha(embed_dim=E, num_heads=H, dropout=0.5, batch_first=True))
    em.eval()
    tm.eval()
    with torch.no_grad(), ember.no_grad():
        compare_module(em, tm, lambda lib, m, x: m(x, x, x, key_padding_mask=_t(lib, KPM)),
                       _inputs([(N, S, E)]), grad=False)


@pytest.mark.parametrize('need_weights', [True, False])
def test_mha_dropout_matches_seeded_stream(need_weights):
    em, tm = _pair(mha(embed_dim=E, num_heads=H, dropout=0.3))

    def call(lib, m, q, k, v):
        lib.manual_seed(11)
        return m(q, k, v, need_weights=need_weights)
    compare_module(em, tm, call, _inputs([(L, N, E), (S, N, E), (S, N, E)]))


def test_mha_functional_static_kv():
    em, tm = _pair(mha(embed_dim=E, num_heads=H))
    sk, sv = _inputs([(N * H, S, E // H), (N * H, S, E // H)], seed=3)

    def call(lib, m, q, k, v):
        return F(lib).multi_head_attention_forward(
            q, k, v, E, H, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight,
            m.out_proj.bias, static_k=lib.tensor(sk), static_v=lib.tensor(sv), average_attn_weights=False)
    compare_module(em, tm, call, _inputs([(L, N, E), (S, N, E), (S, N, E)]))


def test_mha_gradcheck():
    ember.manual_seed(0)
    m = ember.nn.MultiheadAttention(4, 2, add_bias_kv=True, kdim=3, vdim=5, dtype=ember.float64)
    params = [m.q_proj_weight, m.k_proj_weight, m.v_proj_weight, m.in_proj_bias, m.bias_k, m.bias_v]

    def fn(lib, q, k, v, am):
        return m(q, k, v, attn_mask=am)
    check_gradcheck(fn, (2, 2, 4), (3, 2, 3), (3, 2, 5), (2, 3), gradgrad=False)
    q, k, v = (ember.randn(*s, dtype=ember.float64) for s in ((2, 1, 4), (3, 1, 3), (3, 1, 5)))

    def of_params(*ps):
        return ember.nn.functional.multi_head_attention_forward(
            q, k, v, 4, 2, None, ps[3], ps[4], ps[5], True, 0.0, m.out_proj.weight, m.out_proj.bias,
            use_separate_proj_weight=True, q_proj_weight=ps[0], k_proj_weight=ps[1], v_proj_weight=ps[2])[0]
    assert ember.autograd.gradcheck(of_params, tuple(params))
    assert ember.autograd.gradgradcheck(of_params, tuple(params), fast_mode=True)


def test_mha_repr_and_parameter_names():
    e = ember.nn.MultiheadAttention(8, 2, add_bias_kv=True, kdim=4)
    t = torch.nn.MultiheadAttention(8, 2, add_bias_kv=True, kdim=4)
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert type(e.out_proj).__name__ == 'NonDynamicallyQuantizableLinear'
    assert e.in_proj_weight is None and e.head_dim == 4


def test_mha_merge_masks():
    em, tm = _pair(mha(embed_dim=E, num_heads=H, batch_first=True))
    am = np.where(AM2[:, :L], -np.inf, 0).astype(np.float32)
    kpm = np.where(KPM[:, :L], -np.inf, 0).astype(np.float32)
    x = _inputs([(N, L, E)])[0]
    for a, k in ((None, None), (None, kpm), (am, None), (am, kpm)):
        me, te = em.merge_masks(_t(ember, a), _t(ember, k), ember.tensor(x))
        mt, tt = tm.merge_masks(_t(torch, a), _t(torch, k), torch.tensor(x))
        assert te == tt
        assert_close(me, mt) if mt is not None else None


@pytest.mark.parametrize('make,call', [
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x, x[:, :, :4], x)),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x, x.unsqueeze(0), x)),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x[0, 0], x[0], x[0])),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x, x, x, key_padding_mask=lib.ones(N, dtype=lib.bool))),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x, x, x, key_padding_mask=lib.ones(N, L + 1).bool())),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x, x, x, key_padding_mask=lib.ones(N + 1, L).bool())),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x, x, x, attn_mask=lib.ones(L, L + 1).bool())),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x, x, x, attn_mask=lib.ones(N, L, L).bool())),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x, x, x, attn_mask=lib.ones(L, L, dtype=lib.int64))),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x, x, x, attn_mask=lib.ones(1, 1, L, L).bool())),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x, x, x, is_causal=True)),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x[0], x[0], x[0], attn_mask=lib.ones(N, L, L).bool())),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: m(x[..., :4], x[..., :4], x[..., :4])),
    (mha(embed_dim=E, num_heads=H, kdim=4), lambda lib, m, x: m(x, x, x)),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: F(lib).multi_head_attention_forward(
        x, x, x, E, 3, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight, None)),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: F(lib).multi_head_attention_forward(
        x, x, x, E, H, m.in_proj_weight, m.in_proj_bias, m.out_proj.bias.view(1, 1, E), None, False, 0.0,
        m.out_proj.weight, None)),
    (mha(embed_dim=E, num_heads=H), lambda lib, m, x: F(lib).multi_head_attention_forward(
        x, x, x, E, H, None, None, None, None, False, 0.0, m.out_proj.weight, None)),
])
def test_mha_errors(make, call):
    em, tm = _pair(make)
    x = _inputs([(L, N, E)])[0]
    check_raises(lambda lib, x: call(lib, em if lib is ember else tm, x), x)


@pytest.mark.parametrize('kw', [{'embed_dim': 0, 'num_heads': 2}, {'embed_dim': 8, 'num_heads': 3}])
def test_mha_constructor_errors(kw):
    check_raises(lambda lib: lib.nn.MultiheadAttention(**kw))


def test_mha_mismatched_mask_types_warn():
    em, tm = _pair(mha(embed_dim=E, num_heads=H))
    x = _inputs([(L, N, E)])[0]
    for lib, m in ((torch, tm), (ember, em)):
        t = lib.tensor(x)
        with pytest.warns(UserWarning, match='Support for mismatched key_padding_mask and attn_mask is deprecated'):
            m(t, t, t, key_padding_mask=lib.zeros(N, L, dtype=lib.bool), attn_mask=lib.zeros(L, L))
