"""Array kernels for convolution, shared by ``conv.py`` (conv, conv_transpose, fold/unfold).

All kernels work on NumPy arrays laid out ``(N, C, *spatial)`` with 1 to 3 spatial dims and
never import torch or loop in Python over batch or output positions.

A convolution is ``im2col`` + one GEMM. ``im2col`` copies every receptive field of the zero-padded
input once, through a strided window view, into a buffer laid out ``(C, *kernel, N, *out)``:
reshaped to ``(C*K, N*P)`` it is the GEMM's right operand (grouped convolutions use a batched
GEMM over groups), and the channel-major layout makes every other copy a swap of the two outer
axes with contiguous inner blocks (cheap), never an element-wise transpose. The input gradient
of a stride-1 convolution is itself a convolution (of the padded output gradient with the flipped
kernel); with stride > 1 it is a GEMM followed by ``col2im``, one strided slice-add per kernel
offset.

A geometry is ``(stride, dilation, pads, groups)`` with per-dim tuples; ``pads`` holds
``(low, high)`` pairs, so that asymmetric ``padding='same'`` needs no special case.

The forward and weight-gradient GEMMs run over blocks of images whose receptive fields fit in the
CPU cache (``_CACHE_BLOCK`` bytes): the whole im2col buffer of a batch is tens of MB, and writing
it to memory then reading it back costed more than the copy into a cache-sized block (about 20%
of a convolution, measured on a 64 x 32 x 16 x 16 batch).
"""
import itertools
import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

# Scratch buffers reused across calls, one per purpose and thread. im2col buffers are often
# tens of MB: allocations that size are fresh mmaps whose page faults cost as much as the copy.
_SCRATCH = threading.local()
_SCRATCH_MAX = 1 << 27
_CACHE_BLOCK = 1 << 21


def scratch(slot, shape, dtype, like):
    """An uninitialised array from the reusable buffer ``slot``; never returned to callers of the kernels.

    ``like`` is an input array: the pool holds NumPy memory, other array types get a fresh array of theirs.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > _SCRATCH_MAX or type(like) is not np.ndarray:
        return np.empty(shape, dtype, like=like)
    buf = getattr(_SCRATCH, slot, None)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(max(nbytes, 1 << 16), np.uint8)
        setattr(_SCRATCH, slot, buf)
    return buf[:nbytes].view(dtype).reshape(shape)


def out_size(size, k, s, d, lo, hi):
    """Number of window positions along one dim (may be <= 0 for too small inputs)."""
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def pad_array(x, pads, value=0):
    """``x`` (N, C, *S) padded by ``pads`` ``[(lo, hi), ...]``; negative amounts crop. No copy when all zero."""
    if not any(lo or hi for lo, hi in pads):
        return x
    crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for (lo, hi), s in zip(pads, x.shape[2:]))
    x = x[(slice(None), slice(None)) + crop]
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    if not any(lo or hi for lo, hi in grow):
        return x
    shape = x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], grow))
    xp = np.zeros(shape, x.dtype, like=x) if value == 0 else np.full(shape, value, x.dtype, like=x)
    xp[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for (lo, _), s in zip(grow, x.shape[2:]))] = x
    return xp


def window_view(xp, k, s, d, out, channel_major=True):
    """Read-only strided view of every window of ``xp`` (N, C, *Sp).

    Shape ``(C, *k, N, *out)`` when ``channel_major`` (the im2col layout), else ``(N, C, *k, *out)``.
    """
    st = xp.strides
    ks = tuple(st[2 + i] * d[i] for i in range(len(k)))
    os_ = tuple(st[2 + i] * s[i] for i in range(len(k)))
    if channel_major:
        shape = (xp.shape[1],) + tuple(k) + (xp.shape[0],) + tuple(out)
        strides = (st[1],) + ks + (st[0],) + os_
    else:
        shape = xp.shape[:2] + tuple(k) + tuple(out)
        strides = st[:2] + ks + os_
    return as_strided(xp, shape, strides, writeable=False)


def im2col(x, k, s, d, pads, out):
    """Receptive fields of ``x`` (N, C, *S) as a contiguous ``(C, *k, N, *out)`` scratch array."""
    v = window_view(pad_array(x, pads), k, s, d, out)
    cols = scratch('cols', v.shape, x.dtype, x)
    np.copyto(cols, v)
    return cols


def col2im(cols, in_spatial, k, s, d, lo, batch_major=False):
    """Adjoint of ``im2col``: sum ``cols`` (C, *k, N, *out) — or (N, C, *k, *out) when
    ``batch_major`` — back onto an (N, C, *in_spatial) array; ``lo`` are the low pads."""
    nd = len(k)
    if batch_major:
        n, c = cols.shape[:2]
        out = cols.shape[2 + nd:]
    else:
        c, n = cols.shape[0], cols.shape[1 + nd]
        out = cols.shape[2 + nd:]
    extent = tuple(max((o - 1) * st + dd * (kk - 1) + 1, l + i)
                   for o, st, dd, kk, l, i in zip(out, s, d, k, lo, in_spatial))
    buf = np.zeros((n, c) + extent, cols.dtype, like=cols)
    for off in itertools.product(*(range(kk) for kk in k)):
        dst = buf[(slice(None), slice(None)) + tuple(slice(o * dd, o * dd + (m - 1) * st + 1, st)
                                                     for o, dd, m, st in zip(off, d, out, s))]
        if batch_major:
            src = cols[(slice(None), slice(None)) + off]
        else:
            src = cols[(slice(None),) + off].swapaxes(0, 1)
        dst += src
    return buf[(slice(None), slice(None)) + tuple(slice(l, l + i) for l, i in zip(lo, in_spatial))]


def _outer_swap(a, lead, second, slot):
    """Contiguous ``(second, lead, rest)`` copy of ``a`` viewed as ``(lead, second, rest)``, in scratch ``slot``."""
    a = a.reshape(lead, second, -1)
    if (lead == 1 or second == 1) and a.flags.c_contiguous:
        return a.reshape(second, lead, -1)
    r = scratch(slot, (second, lead, a.shape[2]), a.dtype, a)
    np.copyto(r, a.transpose(1, 0, 2))
    return r


def _batch_blocks(n, per_image_bytes):
    """``(start, stop)`` ranges over a batch of ``n`` whose im2col columns fit in ``_CACHE_BLOCK`` bytes."""
    step = max(1, min(n, _CACHE_BLOCK // max(per_image_bytes, 1)))
    return [(i, min(i + step, n)) for i in range(0, n, step)]


def _block_cols(v, lo, hi, nd, like):
    """im2col columns of images ``lo:hi`` from the channel-major window view ``v`` (C, *k, N, *out),
    as a ``(C, *k, hi - lo, *out)`` scratch array."""
    part = v[(slice(None),) * (1 + nd) + (slice(lo, hi),)]
    cols = scratch('cols', part.shape, like.dtype, like)
    np.copyto(cols, part)
    return cols


def conv_forward(x, w, b, geo):
    """``y[n, o] = sum_c,k w[o, c, k] * xpad[n, c, s*p + d*k] (+ b[o])``; x (N, C, *S), w (O, C/g, *k)."""
    s, d, pads, groups = geo
    n, c = x.shape[:2]
    o = w.shape[0]
    k = w.shape[2:]
    nd = len(k)
    out = tuple(out_size(sz, kk, st, dd, lo, hi) for sz, kk, st, dd, (lo, hi) in zip(x.shape[2:], k, s, d, pads))
    p = math.prod(out)
    if n * p * o == 0 or c == 0:
        y = np.zeros((n, o) + out, x.dtype, like=x)
        if b is not None:
            y += b.reshape((o,) + (1,) * nd)
        return y
    res = np.empty((n, o) + out, x.dtype, like=x)
    if groups == 1 and all(kk == 1 for kk in k) and all(st == 1 for st in s) and not any(lo or hi for lo, hi in pads):
        # 1x1 convolution: a batched GEMM straight on the input, no copies at all.
        np.matmul(w.reshape(o, c), x.reshape(n, c, p), out=res.reshape(n, o, p))
        if b is not None:
            res += b.reshape((o,) + (1,) * nd)
        return res
    v = window_view(pad_array(x, pads), k, s, d, out)
    wm = w.reshape(groups, o // groups, -1)
    rows = res.reshape(n, o, p)
    for lo, hi in _batch_blocks(n, c * math.prod(k) * p * x.itemsize):
        m = hi - lo
        cols = _block_cols(v, lo, hi, nd, x).reshape(groups, -1, m * p)
        if m == 1:
            np.matmul(wm, cols, out=rows[lo].reshape(groups, o // groups, p))
            if b is not None:
                rows[lo] += b.reshape(o, 1)
            continue
        y = np.matmul(wm, cols, out=scratch('gemm', (groups, o // groups, m * p), x.dtype, x))
        y = y.reshape(o, m, p).transpose(1, 0, 2)
        if b is None:
            np.copyto(rows[lo:hi], y)
        else:  # the bias rides along with the layout swap
            np.add(y, b.reshape(o, 1), out=rows[lo:hi])
    return res


def conv_input_grad(gy, w, geo, in_spatial):
    """Adjoint of ``conv_forward`` in its input: gy (N, O, *out), w (O, C/g, *k) -> (N, C, *in_spatial).

    This is also the transposed convolution ``conv_transpose`` computes.
    """
    s, d, pads, groups = geo
    n, o = gy.shape[:2]
    out = gy.shape[2:]
    k = w.shape[2:]
    cg = w.shape[1]
    c = cg * groups
    if n * c * math.prod(in_spatial) == 0 or gy.size == 0:
        return np.zeros((n, c) + tuple(in_spatial), gy.dtype, like=gy)
    if all(st == 1 for st in s):
        # Correlation with the flipped kernel over the output gradient padded by d*(k-1) - pad.
        og = o // groups
        wf = w.reshape((groups, og, cg) + k).swapaxes(1, 2).reshape((c, og) + k)
        wf = np.ascontiguousarray(wf[(slice(None), slice(None)) + (slice(None, None, -1),) * len(k)], like=wf)
        fpads = tuple((dd * (kk - 1) - lo, i - m + lo) for dd, kk, (lo, _), i, m in zip(d, k, pads, in_spatial, out))
        return conv_forward(gy, wf, None, ((1,) * len(k), d, fpads, groups))
    p = math.prod(out)
    gyt = _outer_swap(gy, n, o, 'swap').reshape(groups, o // groups, n * p)
    cols = np.matmul(w.reshape(groups, o // groups, -1).swapaxes(1, 2), gyt,
                     out=scratch('cols', (groups, c // groups * math.prod(k), n * p), gy.dtype, gy))
    cols = cols.reshape((c,) + k + (n,) + out)
    return np.ascontiguousarray(col2im(cols, in_spatial, k, s, d, [lo for lo, _ in pads]), like=cols)


def conv_weight_grad(x, gy, wshape, geo):
    """Adjoint of ``conv_forward`` in its weight: ``sum_n,p gy[n, o, p] * cols[c, k, n, p]`` -> wshape."""
    s, d, pads, groups = geo
    n, o = gy.shape[:2]
    out = gy.shape[2:]
    k = tuple(wshape[2:])
    nd = len(k)
    p = math.prod(out)
    if n * p == 0 or x.shape[1] == 0:
        return np.zeros(wshape, x.dtype, like=x)
    c = x.shape[1]
    og = o // groups
    if groups == 1 and all(kk == 1 for kk in k) and all(st == 1 for st in s) and not any(lo or hi for lo, hi in pads):
        blocks = [(0, n)]
        v = None
    else:
        blocks = _batch_blocks(n, c * math.prod(k) * p * x.itemsize)
        v = window_view(pad_array(x, pads), k, s, d, out)
    gwt = None
    for lo, hi in blocks:
        m = hi - lo
        if v is None:
            xt = _outer_swap(x[lo:hi], m, c, 'cols').reshape(groups, -1, m * p)
        else:
            xt = _block_cols(v, lo, hi, nd, x).reshape(groups, -1, m * p)
        gyt = _outer_swap(gy[lo:hi], m, o, 'swap').reshape(groups, og, m * p)
        # cols @ gy^T rather than gy @ cols^T: the same product, but multithreaded OpenBLAS handles this
        # long-reduction shape far better that way round (10x and more on a loaded machine).
        part = np.matmul(xt, gyt.swapaxes(1, 2))
        gwt = part if gwt is None else np.add(gwt, part, out=gwt)
    return np.ascontiguousarray(gwt.swapaxes(1, 2), like=gwt).reshape(wshape)
