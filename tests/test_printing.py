"""``repr``/``str`` of tensors compared as strings with PyTorch's (``torch.`` read as ``ember.``)."""
import numpy as np
import pytest
import torch

import ember

nan, inf = np.nan, np.inf
rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def default_options():
    yield
    for lib in (ember, torch):
        lib.set_printoptions(profile='default')
        lib.set_default_dtype(lib.float32)


def assert_same(e, t):
    expected = repr(t).replace('torch.', 'ember.')
    assert repr(e) == expected, f'\nember:\n{e!r}\ntorch:\n{expected}'
    assert str(e) == str(t).replace('torch.', 'ember.')


def both(arr, requires_grad=False):
    return (ember.tensor(arr, requires_grad=requires_grad), torch.tensor(arr, requires_grad=requires_grad))


def f32(*values):
    return np.array(values, np.float32)


VALUES = [
    np.arange(6), np.arange(-3, 4), np.array([1, 10, 100, -1000]), np.array(7), np.array(-5, np.int32),
    f32(1, 2, 3), f32(1.5, -2.25, 3), f32(0.1, 2.5e-5), f32(1e10, 1), f32(1e-5, 1), f32(123456.7, 0.5),
    f32(1e8, 2), f32(1.1e8, 2), f32(0.0001, 1), f32(0.00009, 1), f32(999, 1), f32(1001, 1), f32(0.99995, 1.5),
    f32(nan, inf, -inf, 1), f32(nan, 1.5), f32(nan, nan), f32(inf, -inf), f32(-0.0, 0.0), f32(0, 0), f32(-0.0, 1.5),
    f32(-1e-10), f32(3.5), f32(-2), f32(nan), f32(0), np.float32(2.5), np.float32(-0.0), np.float32(nan),
    np.array([True, False, True]), np.array(True), np.array([[True], [False]]),
    np.array([1.5, 2.25], np.float16), np.array([65504, 1], np.float16), np.array(0.1, np.float16),
    np.array([1.123456789, 2.0]), np.array([1e300, 1e-300]), np.array(1 / 3),
    np.array([1, 2], np.int32), np.array([1, -2], np.int16), np.array([1, 2], np.int8), np.array([255, 0], np.uint8),
    np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros(0, np.bool_), np.zeros((0, 3), np.float32),
    np.zeros((2, 0, 3), np.int64), np.zeros((0,), np.float64), np.zeros((3, 0), np.float16),
    rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((2, 3, 4)).astype(np.float32),
    rng.standard_normal((2, 2, 2, 3)).astype(np.float32), rng.standard_normal((4, 3)) * 1e5,
    (rng.standard_normal((5, 6)) * 1e-6).astype(np.float32), rng.integers(-1000, 1000, (4, 5)),
    rng.standard_normal(30).astype(np.float32), np.arange(40, dtype=np.float32), np.arange(100),
    rng.standard_normal((2, 30)).astype(np.float32), rng.standard_normal((3, 2, 25)).astype(np.float32),
    np.arange(2000), rng.standard_normal(1001).astype(np.float32), rng.standard_normal((40, 40)).astype(np.float32),
    rng.standard_normal((12, 10, 10)).astype(np.float32), np.arange(1200).reshape(2, 600) * 1.5,
    rng.standard_normal((2000, 3)), np.arange(24).reshape(2, 3, 4) > 10,
]


@pytest.mark.parametrize('arr', VALUES, ids=lambda a: f'{a.dtype}{list(a.shape)}')
def test_repr_matches_pytorch(arr):
    assert_same(*both(arr))


@pytest.mark.parametrize('options,arr', [
    ({'precision': 2}, f32(1.23456, 2.5)),
    ({'precision': 8}, rng.standard_normal((2, 3)).astype(np.float32)),
    ({'precision': 0}, f32(1.5, 2.5, 3.25)),
    ({'threshold': 5}, np.arange(10)),
    ({'threshold': 5}, np.arange(7)),
    ({'threshold': 5, 'edgeitems': 1}, rng.standard_normal((4, 4, 4)).astype(np.float32)),
    ({'threshold': 5, 'edgeitems': 0}, np.arange(10)),
    ({'threshold': 5, 'edgeitems': 0}, rng.standard_normal((4, 4)).astype(np.float32)),
    ({'edgeitems': 0}, f32(1, 2)),
    ({'linewidth': 40}, rng.standard_normal(20).astype(np.float32)),
    ({'linewidth': 10}, np.arange(12)),
    ({'linewidth': 200}, rng.standard_normal((3, 30)).astype(np.float32)),
    ({'profile': 'short'}, rng.standard_normal((4, 4)).astype(np.float32)),
    ({'profile': 'short'}, np.arange(1500)),
    ({'profile': 'full'}, np.arange(1500)),
    ({'profile': 'full', 'precision': 2}, f32(1.2345)),
    ({'sci_mode': True}, f32(1, 2.5)),
    ({'sci_mode': True}, f32(0, nan, 3)),
    ({'sci_mode': True}, np.arange(3)),
    ({'sci_mode': False}, f32(1e-7, 1e9)),
    ({'sci_mode': False}, f32(1e10, 1)),
    ({'sci_mode': True, 'precision': 2}, rng.standard_normal((2, 3)).astype(np.float32)),
])
def test_printoptions(options, arr):
    for lib in (ember, torch):
        lib.set_printoptions(**options)
    assert_same(*both(arr))


def test_set_printoptions_resets_sci_mode_and_applies_profile_first():
    for lib in (ember, torch):
        lib.set_printoptions(sci_mode=True)
        lib.set_printoptions(precision=3)
    assert_same(*both(f32(1.5, 2)))
    for lib in (ember, torch):
        lib.set_printoptions(profile='short', precision=6)
    assert_same(*both(f32(1.123456789)))


def test_autograd_suffixes():
    e, t = both(f32(1, 2, 3), requires_grad=True)
    assert_same(e, t)
    assert_same(e * 2, t * 2)
    assert_same(e.sum(), t.sum())
    assert_same((e * 2).detach(), (t * 2).detach())
    a, b = both(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    c, d = both(rng.standard_normal((3, 2)).astype(np.float32))
    assert_same(a @ c, b @ d)
    assert_same(*both(np.array([1.5, 2.5], np.float16), requires_grad=True))
    assert_same(*both(np.zeros((0, 2), np.float64), requires_grad=True))
    # A suffix that would pass the line width goes on its own line, indented.
    e, t = both(rng.uniform(-0.9, -0.1, 8).astype(np.float32), requires_grad=True)
    assert_same(e, t)
    assert_same(e * 1, t * 1)
    assert ',\n       grad_fn=<MulBackward0>)' in repr(e * 1)
    e, t = both(rng.standard_normal(7).astype(np.float64), requires_grad=True)
    assert_same(e * 1, t * 1)


def test_default_dtype_decides_the_dtype_suffix():
    for lib in (ember, torch):
        lib.set_default_dtype(lib.float64)
    for arr in (f32(1, 2), np.array([1.0, 2.0]), np.zeros(0, np.float32), np.zeros(0), np.array([1, 2])):
        assert_same(*both(arr))


def test_tensor_contents_and_subclass_prefix():
    e, t = both(f32(1, 2))
    assert e.__repr__(tensor_contents='[...]') == t.__repr__(tensor_contents='[...]')

    class Special(ember.Tensor):
        pass

    class TSpecial(torch.Tensor):
        pass

    assert repr(e.as_subclass(Special)) == repr(t.as_subclass(TSpecial)).replace('TSpecial', 'Special')


def test_size_and_dtype_repr():
    for shape in ([2, 3], [], [0], [1, 2, 3, 4]):
        assert repr(ember.Size(shape)) == repr(torch.Size(shape)).replace('torch.', 'ember.')
        assert str(ember.Size(shape)) == str(torch.Size(shape)).replace('torch.', 'ember.')
    assert repr(ember.ones(2, 3).shape) == 'ember.Size([2, 3])'
    for name in ('bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64'):
        assert repr(getattr(ember, name)) == repr(getattr(torch, name)).replace('torch.', 'ember.')
        assert str(getattr(ember, name)) == str(getattr(torch, name)).replace('torch.', 'ember.')
    assert repr(ember.float) == 'ember.float32' and repr(ember.long) == 'ember.int64'


def test_print_statement(capsys):
    e, t = both(np.arange(6).reshape(2, 3) * 0.5)
    print(e)
    out_e = capsys.readouterr().out
    print(t)
    assert out_e == capsys.readouterr().out.replace('torch.', 'ember.')
