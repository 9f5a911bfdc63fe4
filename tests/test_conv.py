"""conv1d/2d/3d, conv_transpose1d/2d/3d, unfold/fold against PyTorch: values, gradients (input,
weight, bias), double backward, float64 gradcheck, and PyTorch's errors."""
import types

import numpy as np
import pytest
import torch

import ember
from ember.ops import conv as _conv, pool as _pool
from oracle import check, check_gradcheck, check_raises

EF = types.SimpleNamespace(**{n: getattr(m, n) for m in (_conv, _pool) for n in dir(m) if not n.startswith('_')})
TOL = dict(rtol=1e-4, atol=1e-4)


def F(lib):
    return EF if lib is ember else torch.nn.functional


# input, weight, bias, stride, padding, dilation, groups
CONV2D = [
    ((2, 3, 7, 7), (4, 3, 3, 3), True, 1, 0, 1, 1),
    ((2, 3, 8, 9), (5, 3, 3, 2), True, 2, 1, 1, 1),
    ((1, 4, 9, 7), (6, 2, 3, 3), True, (2, 1), (1, 2), (2, 1), 2),
    ((2, 4, 6, 6), (4, 1, 3, 3), False, 1, 1, 1, 4),          # depthwise
    ((2, 4, 6, 6), (8, 1, 3, 3), True, 2, 1, 1, 4),           # depthwise, channel multiplier 2
    ((3, 5, 5, 6), (7, 5, 1, 1), True, 1, 0, 1, 1),           # 1x1
    ((2, 6, 9, 9), (4, 6, 1, 1), True, 2, 0, 1, 1),           # strided 1x1 (ResNet shortcut)
    ((2, 3, 7, 7), (4, 3, 3, 3), True, 1, 'same', 1, 1),
    ((2, 3, 7, 8), (4, 3, 4, 2), True, 1, 'same', 1, 1),      # even kernel: extra zero at the end
    ((2, 3, 9, 8), (4, 3, 2, 3), True, 1, 'same', (2, 3), 1),
    ((2, 3, 7, 7), (4, 3, 3, 3), True, 1, 'valid', 1, 1),
    ((1, 2, 5, 5), (3, 2, 5, 5), True, 1, 0, 1, 1),           # kernel == input
    ((2, 2, 7, 11), (3, 2, 3, 3), True, 3, 4, 1, 1),          # padding > kernel
    ((2, 3, 10, 10), (4, 3, 5, 5), True, 3, 2, 1, 1),         # stride leaves a remainder
    ((2, 6, 8, 8), (6, 2, 3, 3), True, 1, 2, 2, 3),
    ((2, 3, 32, 32), (8, 3, 5, 5), True, 1, 2, 1, 1),         # the CIFAR CNN's first layer
]


@pytest.mark.parametrize('xs,ws,bias,s,p,d,g', CONV2D)
def test_conv2d(xs, ws, bias, s, p, d, g):
    if bias:
        check(lambda lib, x, w, b: F(lib).conv2d(x, w, b, s, p, d, g), xs, ws, (ws[0],), **TOL)
    else:
        check(lambda lib, x, w: F(lib).conv2d(x, w, None, s, p, d, g), xs, ws, **TOL)


CONV1D = [
    ((2, 3, 9), (4, 3, 3), 1, 0, 1, 1),
    ((2, 4, 10), (6, 2, 4), 2, 1, 2, 2),
    ((1, 3, 7), (2, 3, 2), 1, 'same', 3, 1),
    ((3, 4, 8), (4, 1, 3), 3, 2, 1, 4),
]


@pytest.mark.parametrize('xs,ws,s,p,d,g', CONV1D)
def test_conv1d(xs, ws, s, p, d, g):
    check(lambda lib, x, w, b: F(lib).conv1d(x, w, b, s, p, d, g), xs, ws, (ws[0],), **TOL)


CONV3D = [
    ((2, 3, 5, 6, 5), (4, 3, 3, 3, 3), 1, 1, 1, 1),
    ((1, 4, 6, 5, 7), (4, 2, 2, 3, 2), (2, 1, 2), (1, 0, 1), (1, 2, 1), 2),
    ((2, 2, 4, 4, 4), (3, 2, 1, 1, 1), 1, 0, 1, 1),
    ((1, 2, 5, 5, 5), (3, 2, 3, 3, 3), 1, 'same', 1, 1),
]


@pytest.mark.parametrize('xs,ws,s,p,d,g', CONV3D)
def test_conv3d(xs, ws, s, p, d, g):
    check(lambda lib, x, w, b: F(lib).conv3d(x, w, b, s, p, d, g), xs, ws, (ws[0],), **TOL)


@pytest.mark.parametrize('block', [1, 8000])
@pytest.mark.parametrize('xs,ws,bias,s,p,d,g', [CONV2D[i] for i in (1, 2, 4, 5, 13)] + [
    ((5, 3, 6, 6), (4, 3, 3, 3), True, 1, 1, 1, 1)])
def test_conv2d_over_batch_blocks(monkeypatch, block, xs, ws, bias, s, p, d, g):
    # Big batches run im2col + GEMM one cache-sized block of images at a time: force blocks of one
    # image and of a few, including a last block smaller than the others.
    from ember.ops import _im2col
    monkeypatch.setattr(_im2col, '_CACHE_BLOCK', block)
    b = (ws[0],) if bias else None
    check(lambda lib, x, w, *bb: F(lib).conv2d(x, w, bb[0] if bb else None, s, p, d, g), xs, ws,
          *([b] if b else []), **TOL)
    check(lambda lib, x, w: F(lib).conv1d(x, w, None, 1, 1), (5, 3, 9), (4, 3, 3), **TOL)
    check(lambda lib, x, w: F(lib).conv3d(x, w, None, 1, 1, 1, 2), (3, 4, 4, 4, 4), (2, 2, 3, 3, 3), **TOL)


# input, weight, stride, padding, output_padding, groups, dilation
CONV_T = [
    ((2, 4, 5, 5), (4, 3, 3, 3), 1, 0, 0, 1, 1),
    ((2, 4, 5, 6), (4, 3, 3, 3), 2, 1, 1, 1, 1),
    ((1, 4, 4, 5), (4, 2, 4, 3), (2, 3), (1, 0), (1, 2), 2, 1),
    ((2, 4, 5, 5), (4, 3, 3, 3), 1, 1, 1, 1, 2),              # output_padding < dilation with stride 1
    ((2, 6, 4, 4), (6, 1, 3, 3), 2, 1, 0, 6, 1),              # depthwise
    ((2, 3, 3, 3), (3, 5, 2, 2), 2, 0, 0, 1, 1),              # the usual 2x upsampling
    ((2, 3, 4, 4), (3, 2, 1, 1), 3, 0, 2, 1, 1),
    ((2, 4, 5, 6), (4, 2, 3, 2), 1, 1, 1, 2, 2),              # grouped, stride 1: the flipped-kernel path
]


@pytest.mark.parametrize('xs,ws,s,p,op,g,d', CONV_T)
def test_conv_transpose2d(xs, ws, s, p, op, g, d):
    check(lambda lib, x, w, b: F(lib).conv_transpose2d(x, w, b, s, p, op, g, d), xs, ws, (ws[1] * g,), **TOL)


@pytest.mark.parametrize('xs,ws,s,p,op,g,d', [
    ((2, 4, 7), (4, 3, 3), 2, 1, 1, 1, 1),
    ((1, 4, 6), (4, 1, 4), 3, 2, 0, 2, 2),
])
def test_conv_transpose1d(xs, ws, s, p, op, g, d):
    check(lambda lib, x, w, b: F(lib).conv_transpose1d(x, w, b, s, p, op, g, d), xs, ws, (ws[1] * g,), **TOL)


@pytest.mark.parametrize('xs,ws,s,p,op,g,d', [
    ((1, 2, 3, 4, 3), (2, 3, 3, 2, 3), 2, 1, 1, 1, 1),
    ((2, 4, 3, 3, 3), (4, 1, 2, 2, 2), (1, 2, 1), 0, (0, 1, 0), 2, (2, 1, 1)),
])
def test_conv_transpose3d(xs, ws, s, p, op, g, d):
    check(lambda lib, x, w, b: F(lib).conv_transpose3d(x, w, b, s, p, op, g, d), xs, ws, (ws[1] * g,), **TOL)


def test_float64_and_unbatched():
    check(lambda lib, x, w, b: F(lib).conv2d(x, w, b, 2, 1), (3, 7, 6), (4, 3, 3, 3), (4,), dtype=np.float64)
    check(lambda lib, x, w: F(lib).conv1d(x, w, padding='same'), (3, 7), (4, 3, 3))
    check(lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=2), (3, 4, 4), (3, 2, 3, 3), **TOL)
    check(lambda lib, x, w: F(lib).conv3d(x, w), (2, 4, 4, 4), (3, 2, 2, 2, 2), **TOL)


@pytest.mark.parametrize('make', [
    lambda x: x.transpose(2, 3),
    lambda x: x[:, :, ::2, 1::2],
    lambda x: x.permute(1, 0, 2, 3),
])
def test_non_contiguous(make):
    check(lambda lib, x, w: F(lib).conv2d(make(x), w, padding=1), (4, 4, 10, 10), (3, 4, 3, 3), **TOL)
    check(lambda lib, x, w: F(lib).conv2d(x, w.transpose(2, 3), stride=2), (2, 3, 8, 8), (5, 3, 3, 2), **TOL)
    check(lambda lib, x, w: F(lib).conv_transpose2d(make(x), w, stride=2), (4, 4, 6, 6), (4, 2, 3, 3), **TOL)


def test_first_layer_skips_input_grad():
    """An input that needs no gradient gets none; weight and bias gradients still match."""
    e, _ = check(lambda lib, x, w, b: F(lib).conv2d(x.detach(), w, b, 1, 2), (2, 3, 8, 8), (4, 3, 5, 5), (4,),
                 **TOL)
    assert type(e.grad_fn).__name__ == 'ConvolutionBackward0'
    # frozen weight and bias: only the input gradient
    check(lambda lib, x, w, b: F(lib).conv2d(x, w.detach(), b.detach(), 2, 1), (2, 3, 8, 8), (4, 3, 3, 3), (4,),
          **TOL)
    check(lambda lib, x, w: F(lib).conv_transpose2d(x, w.detach(), None, 2, 1, 1), (2, 3, 5, 5), (3, 4, 3, 3), **TOL)


def test_batch_one_and_empty_batch():
    check(lambda lib, x, w, b: F(lib).conv2d(x, w, b, 1, 1), (1, 3, 5, 5), (2, 3, 3, 3), (2,), **TOL)
    check(lambda lib, x, w: F(lib).conv2d(x, w, None, 1, 1), (0, 3, 5, 5), (2, 3, 3, 3))
    check(lambda lib, x, w: F(lib).conv_transpose2d(x, w, None, 2), (0, 3, 5, 5), (3, 2, 3, 3))


@pytest.mark.parametrize('dt', [np.int64, np.int32, np.int16])
def test_integer(dt):
    x = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5).astype(dt) % 7
    w = np.arange(4 * 3 * 3 * 3).reshape(4, 3, 3, 3).astype(dt) % 5 - 2
    check(lambda lib, x, w: F(lib).conv2d(x, w, stride=2, padding=1), x, w, grad=False)


def test_half():
    check(lambda lib, x, w: F(lib).conv2d(x, w, padding=1), (1, 3, 5, 5), (2, 3, 3, 3), dtype=np.float16,
          grad=False, rtol=2e-2, atol=2e-2)


def test_top_level_names():
    for name in ('conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d'):
        assert getattr(ember, name) is getattr(_conv, name)
    assert 'unfold' not in _conv.__all__ and 'fold' not in _conv.__all__  # torch has them only in functional


@pytest.mark.parametrize('fn,specs', [
    (lambda lib, x, w, b: F(lib).conv2d(x, w, b, 2, 1, 1, 1), ((1, 2, 4, 4), (2, 2, 2, 2), (2,))),
    (lambda lib, x, w, b: F(lib).conv2d(x, w, b, 1, 'same', 2, 2), ((1, 2, 4, 4), (2, 1, 2, 3), (2,))),
    (lambda lib, x, w, b: F(lib).conv1d(x, w, b, 2, 1, 1, 1), ((2, 2, 5), (3, 2, 3), (3,))),
    (lambda lib, x, w, b: F(lib).conv3d(x, w, b, 1, 1, 1, 1), ((1, 1, 3, 3, 2), (2, 1, 2, 2, 2), (2,))),
    (lambda lib, x, w, b: F(lib).conv_transpose2d(x, w, b, 2, 1, 1, 1, 1), ((1, 2, 3, 3), (2, 2, 2, 2), (2,))),
    (lambda lib, x, w, b: F(lib).conv_transpose1d(x, w, b, 1, 1, 1, 1, 2), ((1, 2, 4), (2, 2, 3), (2,))),
])
def test_gradcheck(fn, specs):
    check_gradcheck(fn, *specs)


def _second_order(lib, x, w, b, fn):
    y = fn(lib, x, w, b)
    gy = lib.tensor(np.linspace(-1, 1, y.numel(), dtype=np.float64).reshape(tuple(y.shape)), requires_grad=True)
    gx, gw, gb = lib.autograd.grad(y, (x, w, b), gy, create_graph=True)
    loss = (gx * gx).sum() + (gw * gw.sin()).sum() + (gb * gb).sum()
    return loss, lib.autograd.grad(loss, (x, w, gy))


@pytest.mark.parametrize('fn', [
    lambda lib, x, w, b: F(lib).conv2d(x, w, b, 2, 1),
    lambda lib, x, w, b: F(lib).conv2d(x, w, b, 1, 1, 2),
])
def test_double_backward_matches_torch(fn):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((2, 2, 6, 5), (3, 2, 3, 3), (3,))]
    out = {}
    for lib in (ember, torch):
        ts = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        loss, grads = _second_order(lib, *ts, fn)
        out[lib.__name__] = [loss.detach().numpy()] + [g.detach().numpy() for g in grads]
    for e, t in zip(out['ember'], out['torch']):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-9)


def test_conv_transpose_double_backward_matches_torch():
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in ((2, 3, 4, 4), (3, 2, 3, 3), (2,))]
    out = {}
    for lib in (ember, torch):
        ts = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        loss, grads = _second_order(lib, *ts, lambda lib, x, w, b: F(lib).conv_transpose2d(x, w, b, 2, 1, 1))
        out[lib.__name__] = [g.detach().numpy() for g in grads]
    for e, t in zip(out['ember'], out['torch']):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-9)


# ---- unfold / fold ------------------------------------------------------------------------------

@pytest.mark.parametrize('xs,k,d,p,s', [
    ((2, 3, 7, 8), 3, 1, 1, 2),
    ((1, 2, 6, 6), (2, 3), (2, 1), (1, 0), (1, 2)),
    ((3, 5, 5), 2, 1, 0, 1),
])
def test_unfold(xs, k, d, p, s):
    check(lambda lib, x: F(lib).unfold(x, k, d, p, s), xs)


@pytest.mark.parametrize('xs,out,k,d,p,s', [
    ((2, 27, 16), (7, 8), 3, 1, 1, 2),
    ((1, 12, 12), (6, 6), (2, 3), (2, 1), (1, 0), (1, 2)),
    ((8, 9), (4, 4), 2, 1, 0, 1),
])
def test_fold(xs, out, k, d, p, s):
    check(lambda lib, x: F(lib).fold(x, out, k, d, p, s), xs)


def test_fold_unfold_gradcheck():
    check_gradcheck(lambda lib, x: EF.fold(EF.unfold(x, 2, 1, 1, 1) * 2, (3, 3), 2, 1, 1, 1), (1, 2, 3, 3))
    check_gradcheck(lambda lib, x: EF.unfold(x, 2, 2, 1, 1), (1, 2, 4, 4))
    assert type(EF.unfold(ember.ones(1, 1, 3, 3, requires_grad=True), 2).grad_fn).__name__ == 'Im2ColBackward0'


# ---- errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize('fn,specs,match', [
    (lambda lib, x, w: F(lib).conv2d(x, w), ((1, 4, 5, 5), (8, 3, 3, 3)),
     r'^Given groups=1, weight of size \[8, 3, 3, 3\], expected input\[1, 4, 5, 5\] to have 3 channels, but got 4 '
     r'channels instead$'),
    (lambda lib, x, w: F(lib).conv2d(x, w), ((4, 5, 5), (8, 3, 3, 3)), r'expected input\[1, 4, 5, 5\]'),
    (lambda lib, x, w: F(lib).conv2d(x, w), ((2, 3), (8, 3, 3, 3)),
     r'Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[2, 3\]'),
    (lambda lib, x, w: F(lib).conv2d(x, w), ((1, 3, 2, 2), (8, 3, 3, 3)),
     r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel size can't be greater"),
    (lambda lib, x, w: F(lib).conv2d(x, w, dilation=2), ((1, 3, 4, 4), (8, 3, 3, 3)), r'Kernel size: \(5 x 5\)'),
    (lambda lib, x, w: F(lib).conv2d(x, w, groups=2), ((1, 4, 5, 5), (3, 2, 3, 3)),
     r'expected weight to be divisible by 2 at dimension 0'),
    (lambda lib, x, w: F(lib).conv2d(x, w, groups=0), ((1, 4, 5, 5), (4, 2, 3, 3)), 'non-positive groups'),
    (lambda lib, x, w, b: F(lib).conv2d(x, w, b), ((1, 3, 5, 5), (8, 3, 3, 3), (4,)),
     r'expected bias to be 1-dimensional with 8 elements, but got bias of size \[4\]'),
    (lambda lib, x, w: F(lib).conv2d(x, w, stride=2, padding='same'), ((1, 3, 5, 5), (8, 3, 3, 3)),
     "padding='same' is not supported for strided convolutions"),
    (lambda lib, x, w: F(lib).conv2d(x, w, padding='foo'), ((1, 3, 5, 5), (8, 3, 3, 3)),
     "Invalid padding string: 'foo'"),
    (lambda lib, x, w: F(lib).conv2d(x, w, padding=-1), ((1, 3, 5, 5), (8, 3, 3, 3)), 'negative padding'),
    (lambda lib, x, w: F(lib).conv2d(x, w, stride=0), ((1, 3, 5, 5), (8, 3, 3, 3)), 'non-positive stride'),
    (lambda lib, x, w: F(lib).conv2d(x, w, dilation=0), ((1, 3, 5, 5), (8, 3, 3, 3)),
     r'dilation should be greater than zero, but got \[0, 0\]'),
    (lambda lib, x, w: F(lib).conv2d(x, w, stride=(1, 1, 1)), ((1, 3, 5, 5), (8, 3, 3, 3)),
     r'expected stride to be a single integer value or a list of 2 values'),
    (lambda lib, x, w: F(lib).conv2d(x.double(), w), ((1, 3, 5, 5), (8, 3, 3, 3)),
     'expected scalar type Double but found Float'),
    (lambda lib, x, w, b: F(lib).conv2d(x, w, b.double()), ((1, 3, 5, 5), (8, 3, 3, 3), (8,)),
     r'Input type \(float\) and bias type \(double\) should be the same'),
    (lambda lib, x, w: F(lib).conv2d(x > 0, w > 0), ((1, 3, 5, 5), (8, 3, 3, 3)), 'not implemented for .Bool.'),
    (lambda lib, x, w: F(lib).conv_transpose2d(x, w), ((1, 4, 5, 5), (3, 8, 3, 3)),
     r'Given transposed=1, weight of size \[3, 8, 3, 3\], expected input\[1, 4, 5, 5\] to have 3 channels'),
    (lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=2, output_padding=2), ((1, 3, 5, 5), (3, 8, 3, 3)),
     'output padding must be smaller than either stride or dilation, but got output_padding_height: 2 '
     'output_padding_width: 2 stride_height: 2 stride_width: 2 dilation_height: 1 dilation_width: 1'),
    (lambda lib, x, w: F(lib).conv_transpose1d(x, w, stride=2, output_padding=2), ((1, 3, 5), (3, 8, 3)),
     'output_padding_height: 0 output_padding_width: 2 stride_height: 1'),
    (lambda lib, x, w: F(lib).conv_transpose2d(x, w, padding=3), ((1, 3, 1, 1), (3, 8, 3, 3)),
     r'Calculated output size per channel: \(-3 x -3\). Output size is too small'),
    (lambda lib, x, w: F(lib).conv_transpose2d(x, w, padding='same'), ((1, 3, 5, 5), (3, 8, 3, 3)),
     "argument 'padding' must be tuple of ints, not str"),
    (lambda lib, x: F(lib).unfold(x, 3), ((1, 3, 2, 2),), 'calculated shape of the array of sliding blocks'),
    (lambda lib, x: F(lib).fold(x, (4, 4), 2), ((1, 7, 9),), 'divisible by the product of kernel_size'),
    (lambda lib, x: F(lib).fold(x, (4, 4), 2), ((1, 12, 8),), r'sliding blocks 3 \* 3 = 9, but got input.size\(2\)=8'),
    (lambda lib, x: F(lib).unfold(x.long(), 2), ((1, 3, 4, 4),), 'im2col_out_cpu'),
])
def test_errors(fn, specs, match):
    check_raises(fn, *specs, match=match)
