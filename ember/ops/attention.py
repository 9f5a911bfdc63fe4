"""Attention: ``scaled_dot_product_attention`` as one fused op, and ``multi_head_attention_forward``.

The fused op computes, for query ``(*, L, E)``, key ``(*, S, E)`` and value ``(*, S, Ev)``
(batch dimensions ``*`` broadcast)::

    s = q @ k^T * scale + bias          bias: attn_mask (float, added) or -inf where a bool mask is False
    p = softmax(s, -1)                  rows that are all -inf give 0, not nan (PyTorch's safe softmax;
                                        multi-head attention's explicit-weights path keeps the nan)
    out = (p * d) @ v                   d: the dropout mask scaled by 1 / (1 - dropout_p), or 1

with NumPy on whole arrays, and records one node that keeps ``p`` (and ``d``). Its backward is
the chain rule written out::

    dv = (p * d)^T @ g
    dp = (g @ v^T) * d
    ds = p * (dp - sum(dp * p, -1))     the softmax backward; ds is also the float mask's gradient
    dq = ds @ k * scale                 dk = ds^T @ q * scale

so a training step costs four matrix products and a few elementwise passes instead of the dozen
recorded ops of the composite formula. Under ``create_graph`` the backward recomputes the forward
with Ember ops and applies the same formulas with Ember ops, so gradients of gradients work.

The dropout mask is drawn as PyTorch's CPU math path draws it (``bernoulli_(1 - p)`` on a tensor
shaped like the attention weights), so seeded runs drop the same weights.
"""
import math

import numpy as np

from .. import _dtype
from .._creation import empty, zeros
from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node
from ._node import attach, edges, needs_grad, sum_to_shape
from .join import cat
from .linalg import _CPP_NAME, _TYPE_NAME, _matmul_checks, _mm, broadcast_shapes_strict, matmul
from .pad import pad
from .softmax import softmax

_NEG_INF = float('-inf')


# ---- checks -------------------------------------------------------------------------------------

def _check_inputs(q, k, v, attn_mask, is_causal, dropout_p, enable_gqa):
    for name, t in (('query', q), ('key', k), ('value', v)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        raise TypeError("scaled_dot_product_attention(): argument 'attn_mask' must be Tensor, not "
                        f"{type(attn_mask).__name__}")
    qa, ka, va = q._data, k._data, v._data
    if not qa.dtype == ka.dtype == va.dtype:
        raise RuntimeError('Expected query, key, and value to have the same dtype, but got query.dtype: '
                           f'{_CPP_NAME[qa.dtype.name]} key.dtype: {_CPP_NAME[ka.dtype.name]} and value.dtype: '
                           f'{_CPP_NAME[va.dtype.name]} instead.')
    if qa.ndim < 2 or ka.ndim < 2 or va.ndim < 2:
        raise RuntimeError('Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: '
                           f'{qa.ndim} key.dim: {ka.ndim} and value.dim: {va.ndim} instead.')
    if attn_mask is not None:
        md = attn_mask._data.dtype
        if md != np.bool_ and md != np.float32 and md != qa.dtype:
            raise RuntimeError('Expected attn_mask dtype to be bool or float or to match query dtype, but got '
                               f'attn_mask.dtype: {_CPP_NAME[md.name]} and  query.dtype: {_CPP_NAME[qa.dtype.name]} '
                               'instead.')
    if is_causal and attn_mask is not None:
        raise RuntimeError('_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True')
    if dropout_p > 1:
        raise RuntimeError(f'dropout probability has to be between 0 and 1, but got {dropout_p}')
    rep_k = rep_v = 1
    if enable_gqa:
        for t in (q, k, v):
            if t._data.ndim < 3:
                raise IndexError(f'Dimension out of range (expected to be in range of [-{t._data.ndim}, '
                                 f'{t._data.ndim - 1}], but got -3)')
        hq, hk, hv = qa.shape[-3], ka.shape[-3], va.shape[-3]
        if not (hq == hk == hv) and (hq % hk or hq % hv):
            raise RuntimeError('Number of heads in key and value must divide the number of heads in ')
        rep_k, rep_v = hq // hk, hq // hv
    # The products' own checks (and messages), on stand-ins with the operands' shapes.
    fdt = qa.dtype if qa.dtype.kind == 'f' else _dtype.get_default_dtype().np
    kt_shape = ka.shape[:-3] + (ka.shape[-3] * rep_k,) + ka.shape[-2:] if rep_k > 1 else ka.shape
    vr_shape = va.shape[:-3] + (va.shape[-3] * rep_v,) + va.shape[-2:] if rep_v > 1 else va.shape
    _matmul_checks(_stand_in(qa.shape, fdt, qa), _stand_in(kt_shape, fdt, qa).swapaxes(-1, -2), False, False, False)
    s_shape = np.broadcast_shapes(qa.shape[:-2], kt_shape[:-2]) + (qa.shape[-2], ka.shape[-2])
    if attn_mask is not None:
        ms = attn_mask._data.shape
        b = broadcast_shapes_strict(s_shape, ms)
        if b != s_shape:
            raise RuntimeError(f"output with shape {list(s_shape)} doesn't match the broadcast shape {list(b)}")
    if va.dtype.kind != 'f':
        raise RuntimeError(f'expected scalar type {_TYPE_NAME[fdt.name]} but found {_TYPE_NAME[va.dtype.name]}')
    _matmul_checks(_stand_in(s_shape, fdt, qa), _stand_in(vr_shape, fdt, qa), False, False, False)
    return s_shape, rep_k, rep_v


def _stand_in(shape, dtype, like):
    """A read-only array of ``shape`` that takes no memory, for running shape checks."""
    return np.broadcast_to(np.zeros((), dtype, like=like), shape)


# ---- NumPy kernels ------------------------------------------------------------------------------

def _sum_to(a, shape):
    """Sum array ``a`` over the dimensions broadcast to reach ``a.shape`` from ``shape``."""
    if a.shape == shape:
        return a
    lead = a.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and a.shape[i + lead] != 1)
    return a.sum(axis=dims, keepdims=True).reshape(shape)


def _ungroup(a, rep):
    """Undo ``repeat_interleave(rep, -3)`` for a gradient: sum each group of ``rep`` heads."""
    if rep == 1:
        return a
    return a.reshape(a.shape[:-3] + (a.shape[-3] // rep, rep) + a.shape[-2:]).sum(axis=-3)


def _mT(a):
    return a.swapaxes(-1, -2)


def _bias_array(mask, dtype):
    """A bool mask as an additive bias (0 where attending, -inf elsewhere); float masks pass through."""
    m = mask._data
    if m.dtype == np.bool_:
        return np.where(m, np.zeros((), dtype, like=m), np.array(_NEG_INF, dtype, like=m))
    return m.astype(dtype, copy=False)


def _causal(like):
    """True above the diagonal of the last two dimensions of ``like``: the positions a causal mask hides."""
    L, S = like.shape[-2:]
    return np.triu(np.ones((L, S), np.bool_, like=like), 1)


def _softmax_(s, safe):
    """Softmax of ``s`` along the last axis, in place; with ``safe``, rows whose entries are all -inf
    become 0 rather than nan."""
    m = s.max(axis=-1, keepdims=True)
    masked = None
    if safe and not np.isfinite(m).all():
        masked = m == _NEG_INF
        m[masked] = 0
    s -= m
    np.exp(s, out=s)
    z = s.sum(axis=-1, keepdims=True)
    if masked is not None:
        z[masked] = 1
    s /= z
    return s


def _forward_arrays(qa, ka, bias, is_causal, scale, rep_k, safe):
    """The attention weights ``softmax(q @ k^T * scale + bias)``, before dropout."""
    kk = np.repeat(ka, rep_k, axis=-3) if rep_k > 1 else ka
    s = _mm(qa, _mT(kk))
    s *= scale
    if bias is not None:
        s += bias
    if is_causal:
        np.copyto(s, _NEG_INF, where=_causal(s))
    return _softmax_(s, safe)


def _compute_dtype(arr):
    return np.float32 if arr.dtype == np.float16 else arr.dtype


class _AttentionNode(Node):
    """Backward of the fused attention op: outputs ``(out,)`` or ``(out, weights)``."""

    __slots__ = ('p', 'd', 'bias', 'scale', 'is_causal', 'rep_k', 'rep_v', 'mask_shape', 'mask_dtype', 'safe')

    def backward(self, grads):
        if self.n_outputs == 1:
            g_out, g_w = grads, None
        else:
            g_out, g_w = grads
        q, k, v, mask = self.saved()
        if _grad_enabled():
            return self._backward_graph(q, k, v, mask, g_out, g_w)
        return self._backward_arrays(q, k, v, g_out, g_w)

    def _release_extra(self):
        self.p = self.d = self.bias = None

    def _backward_arrays(self, q, k, v, g_out, g_w):
        (nq, _), (nk, _), (nv, _), (nm, _) = self.next_functions
        cd = _compute_dtype(q._data)
        qa, ka, va = (t._data.astype(cd, copy=False) for t in (q, k, v))
        p, d = self.p, self.d
        kk = np.repeat(ka, self.rep_k, axis=-3) if self.rep_k > 1 else ka
        vv = np.repeat(va, self.rep_v, axis=-3) if self.rep_v > 1 else va
        pd = p if d is None else p * d
        dq = dk = dv = dm = None
        if g_out is not None:
            ga = g_out._data.astype(cd, copy=False)
            if nv is not None:
                dv = _ungroup(_sum_to(_mm(_mT(pd), ga), vv.shape), self.rep_v)
            dp = _sum_to(_mm(ga, _mT(vv)), p.shape)
            if g_w is not None:
                dp = dp + g_w._data
        else:
            dp = g_w._data.astype(cd)
            if nv is not None:
                dv = np.zeros(va.shape, cd, like=va)
        if d is not None:
            dp = dp * d
        ds = dp * p
        ds -= p * ds.sum(axis=-1, keepdims=True)
        if nm is not None:
            dm = _sum_to(ds, self.mask_shape).astype(self.mask_dtype, copy=False)
        if dm is ds:
            ds = ds * self.scale
        else:
            ds *= self.scale
        if nq is not None:
            dq = _sum_to(_mm(ds, kk), qa.shape)
        if nk is not None:
            dk = _ungroup(_sum_to(_mm(_mT(ds), qa), kk.shape), self.rep_k)
        dt = q._data.dtype
        grads = tuple(None if x is None else _wrap(x.astype(dt, copy=False)) for x in (dq, dk, dv))
        return grads + (None if dm is None else _wrap(dm),)

    def _backward_graph(self, q, k, v, mask, g_out, g_w):
        """The same formulas with Ember ops on a recomputed forward, so the result has a graph."""
        kk = k.repeat_interleave(self.rep_k, -3) if self.rep_k > 1 else k
        vv = v.repeat_interleave(self.rep_v, -3) if self.rep_v > 1 else v
        s = matmul(q, kk.transpose(-2, -1)) * self.scale
        if mask is not None:
            s = s + mask
        elif self.bias is not None:
            s = s + _wrap(self.bias)
        if self.is_causal:
            s = s.masked_fill(_wrap(_causal(s._data)), _NEG_INF)
        # Rows with every position masked: softmax of finite stand-ins, then zeros, so that no nan
        # reaches the gradient (masked_fill passes none back to those rows).
        empty_rows = (s._data == _NEG_INF).all(axis=-1, keepdims=True)
        if self.safe and empty_rows.any():
            rows = _wrap(empty_rows)
            p = softmax(s.masked_fill(rows, 0.0), -1).masked_fill(rows, 0.0)
        else:
            p = softmax(s, -1)
        d = None if self.d is None else _wrap(self.d)
        pd = p if d is None else p * d
        (nq, _), (nk, _), (nv, _), (nm, _) = self.next_functions
        dv = None
        if g_out is not None:
            if nv is not None:
                dv = _ungroup_t(sum_to_shape(matmul(pd.transpose(-2, -1), g_out), tuple(vv.shape)), self.rep_v)
            dp = sum_to_shape(matmul(g_out, vv.transpose(-2, -1)), tuple(p.shape))
            if g_w is not None:
                dp = dp + g_w
        else:
            dp = g_w
            if nv is not None:
                dv = v.new_zeros(v.shape)
        if d is not None:
            dp = dp * d
        ds = p * (dp - (dp * p).sum(-1, keepdim=True))
        dm = sum_to_shape(ds, self.mask_shape) if nm is not None else None
        ds = ds * self.scale
        dq = sum_to_shape(matmul(ds, kk), tuple(q.shape)) if nq is not None else None
        dk = None
        if nk is not None:
            dk = _ungroup_t(sum_to_shape(matmul(ds.transpose(-2, -1), q), tuple(kk.shape)), self.rep_k)
        return dq, dk, dv, dm


def _ungroup_t(t, rep):
    if rep == 1:
        return t
    s = tuple(t.shape)
    return t.reshape(s[:-3] + (s[-3] // rep, rep) + s[-2:]).sum(-3)


# PyTorch's CPU build runs 4-D inputs without dropout through its flash kernel and everything else
# through a composite whose last op is a view; the node carries the name PyTorch's result shows.
class ScaledDotProductFlashAttentionForCpuBackward0(_AttentionNode):
    __slots__ = ()


class UnsafeViewBackward0(_AttentionNode):
    __slots__ = ()


def _attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False,
               need_weights=False):
    """The fused op; returns ``(out, weights)`` where ``weights`` (after dropout) is None unless asked for.

    With ``need_weights`` the softmax is PyTorch's plain one (rows with every position masked are
    nan), as in ``multi_head_attention_forward``'s explicit path; without, it is the safe one of
    ``scaled_dot_product_attention`` (such rows are 0).
    """
    s_shape, rep_k, rep_v = _check_inputs(query, key, value, attn_mask, is_causal, dropout_p, enable_gqa)
    qa, ka, va = query._data, key._data, value._data
    dt = qa.dtype
    cd = _compute_dtype(qa)
    if scale is None:
        scale = 1.0 / math.sqrt(qa.shape[-1]) if qa.shape[-1] else math.inf
    scale = float(scale)
    bias = None if attn_mask is None else _bias_array(attn_mask, cd)
    if ka.shape[-2] == 0:
        p = np.zeros(s_shape, cd, like=qa)
    else:
        p = _forward_arrays(qa.astype(cd, copy=False), ka.astype(cd, copy=False), bias, is_causal, scale, rep_k,
                            not need_weights)
    d = None
    if dropout_p > 0:
        if dropout_p >= 1:
            d = np.zeros((), cd, like=qa)
        else:
            d = empty(s_shape, dtype=_dtype._BY_NP[np.dtype(dt)]).bernoulli_(1 - dropout_p)._data
            d = d.astype(cd)
            d /= 1 - dropout_p
    pd = p if d is None else p * d
    vv = va.astype(cd, copy=False)
    if rep_v > 1:
        vv = np.repeat(vv, rep_v, axis=-3)
    out = _wrap(_mm(pd, vv).astype(dt, copy=False))
    weights = _wrap(pd.astype(dt, copy=False)) if need_weights else None
    mask_grad = attn_mask is not None and attn_mask._requires_grad and attn_mask._data.dtype.kind == 'f'
    if needs_grad(query, key, value, attn_mask if mask_grad else None):
        flash = qa.ndim == 4 and ka.ndim == 4 and va.ndim == 4 and dropout_p <= 0 and not mask_grad
        node = (ScaledDotProductFlashAttentionForCpuBackward0 if flash else UnsafeViewBackward0)(
            edges(query, key, value, attn_mask if mask_grad else None))
        node.save(query, key, value, attn_mask if mask_grad else None)
        node.p, node.d, node.scale, node.is_causal = p, d, scale, is_causal
        node.bias = bias if attn_mask is not None and not mask_grad else None
        node.rep_k, node.rep_v, node.safe = rep_k, rep_v, not need_weights
        if mask_grad:
            node.mask_shape, node.mask_dtype = attn_mask._data.shape, attn_mask._data.dtype
        attach(out, node)
        if need_weights:
            node.n_outputs = 2
            attach(weights, node)
            weights._output_nr = 1
    return out, weights


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """``softmax(q @ k^T * scale + mask) @ v``, with dropout on the weights.

    query ``(*, L, E)``, key ``(*, S, E)``, value ``(*, S, Ev)`` -> ``(*, L, Ev)``; batch dimensions
    broadcast. ``attn_mask`` broadcasts to ``(*, L, S)``: a bool mask marks the positions that take
    part (True), a float mask is added to the scores. ``is_causal`` hides positions above the
    diagonal (no ``attn_mask`` allowed with it). ``scale`` defaults to ``1 / sqrt(E)``. With
    ``enable_gqa`` key and value may have fewer heads (dim -3) than query, each shared by a group
    of query heads. Rows with every position masked give 0. Dropout (``dropout_p``) is always
    applied when positive, as in PyTorch: pass 0 in evaluation.
    """
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)[0]


__all__ = []
METHODS = {}


# ---- multi-head attention ----------------------------------------------------------------------

def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError('input to _none_or_dtype() must be None or torch.Tensor')


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask as a float mask of ``target_type`` (-inf where True); float masks pass through."""
    if mask is None:
        return None
    kind = mask._data.dtype.kind
    if kind != 'b' and kind != 'f':
        raise AssertionError(f'only bool and floating types of {mask_name} are supported')
    if check_other and other_type is not None and mask.dtype != other_type:
        import warnings
        warnings.warn(f'Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both '
                      'instead.', stacklevel=3)
    if kind == 'b':
        m = mask._data
        return _wrap(np.where(m, np.array(_NEG_INF, target_type.np, like=m), np.zeros((), target_type.np, like=m)))
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """True for batched (3-D) input, False for unbatched (2-D); PyTorch's AssertionErrors otherwise."""
    qd = query.dim()
    if qd == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError('For batched (3-D) `query`, expected `key` and `value` to be 3-D but found '
                                 f'{key.dim()}-D and {value.dim()}-D tensors respectively')
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError('For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but '
                                 f'found {key_padding_mask.dim()}-D tensor instead')
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError('For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but '
                                 f'found {attn_mask.dim()}-D tensor instead')
        return True
    if qd == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError('For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found '
                                 f'{key.dim()}-D and {value.dim()}-D tensors respectively')
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError('For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but '
                                 f'found {key_padding_mask.dim()}-D tensor instead')
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError('For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D '
                                     f'but found {attn_mask.dim()}-D tensor instead')
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f'Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}')
        return False
    raise AssertionError(f'query should be unbatched 2D or batched 3D tensor but received {qd}-D query tensor')


def _linear(x, w, b):
    out = x.matmul(w.t())
    return out if b is None else out + b


def _in_projection_packed(q, k, v, w, b=None):
    """Project q, k, v with the rows of ``w`` ``(3E, E)`` (and ``b``) in q, k, v order.

    Self-attention (q, k, v one tensor) is a single product whose result is split into views;
    the same tensor as key and value shares one product too.
    """
    E = q.shape[-1]
    if k is v:
        if q is k:
            proj = _linear(q, w, b)
            return proj[..., :E], proj[..., E:2 * E], proj[..., 2 * E:]
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        kv = _linear(k, w_kv, b_kv)
        return _linear(q, w_q, b_q), kv[..., :E], kv[..., E:]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None,) * 3 if b is None else b.chunk(3)
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """Project q, k, v with separate weights ``(E, E)``, ``(E, kdim)``, ``(E, vdim)``."""
    Eq, Ek, Ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for what, t, shape in (('query weights', w_q, (Eq, Eq)), ('key weights', w_k, (Eq, Ek)),
                           ('value weights', w_v, (Eq, Ev)), ('query bias', b_q, (Eq,)),
                           ('key bias', b_k, (Eq,)), ('value bias', b_v, (Eq,))):
        if t is not None and tuple(t.shape) != shape:
            raise AssertionError(f'expecting {what} shape of {shape}, but got {t.shape}')
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _pad_last(mask):
    """Append one attended (0) position to a float mask's last dimension."""
    return pad(mask, (0, 1))


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention, ``nn.MultiheadAttention``'s computation (sequence-first layout).

    query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)`` (or unbatched ``(L, E)``...).
    The projections split ``E`` into ``num_heads`` heads of ``E // num_heads``; each head attends
    with scaled dot products; the heads are concatenated and projected by ``out_proj``. Masks:
    ``attn_mask`` ``(L, S)`` or ``(N * num_heads, L, S)`` and ``key_padding_mask`` ``(N, S)``, bool
    (True = do not attend) or float (added to the scores). ``bias_k``/``bias_v`` ``(1, 1, E)`` are
    appended to the keys and values; ``add_zero_attn`` appends a zero key and value per head;
    ``static_k``/``static_v`` ``(N * num_heads, S, E // num_heads)`` replace the projected ones.
    Returns ``(output (L, N, E), weights)``; weights ``(N, L, S)`` averaged over heads, or
    ``(N, num_heads, L, S)``, after dropout, or None unless ``need_weights``.
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, 'key_padding_mask', _none_or_dtype(attn_mask),
                                       'attn_mask', query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError('Need attn_mask if specifying the is_causal hint. You may use the Transformer module '
                           'method `generate_square_subsequent_mask` to create this mask.')
    if is_causal and key_padding_mask is None and not need_weights:
        # The hint stands for the mask: attention applies the causal mask itself.
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, 'attn_mask', None, '', query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f'was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}')
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f'embed_dim {embed_dim} not divisible by num_heads {num_heads}')
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f'{value.shape[:2]}')
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f'key shape {key.shape} does not match value shape {value.shape}')

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError('use_separate_proj_weight is False but in_proj_weight is None')
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (('q', q_proj_weight), ('k', k_proj_weight), ('v', v_proj_weight)):
            if w is None:
                raise AssertionError(f'use_separate_proj_weight is True but {name}_proj_weight is None')
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f'The shape of the 2D attn_mask is {attn_mask.shape}, but should be '
                                   f'{(tgt_len, src_len)}.')
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f'The shape of the 3D attn_mask is {attn_mask.shape}, but should be '
                                   f'{(bsz * num_heads, tgt_len, src_len)}.')
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError('bias cannot be added to static key.')
        if static_v is not None:
            raise AssertionError('bias cannot be added to static value.')
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError('bias_k is set but bias_v is None')
    elif bias_v is not None:
        raise AssertionError('bias_v is set but bias_k is None')

    # Heads as (N, H, length, head_dim) views of the projections: no copies before attention.
    q = q.reshape(tgt_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    k = _static_heads(static_k, 'static_k', bsz, num_heads, head_dim) if static_k is not None else \
        k.reshape(k.shape[0], bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    v = _static_heads(static_v, 'static_v', bsz, num_heads, head_dim) if static_v is not None else \
        v.reshape(v.shape[0], bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    if add_zero_attn:
        k = cat([k, zeros((bsz, num_heads, 1, head_dim), dtype=k.dtype)], dim=2)
        v = cat([v, zeros((bsz, num_heads, 1, head_dim), dtype=v.dtype)], dim=2)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[2]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f'Expected key_padded_mask.shape[0] to be {bsz}, but got '
                                 f'{key_padding_mask.shape[0]}')
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f'Expected key_padded_mask.shape[1] to be {src_len}, but got '
                                 f'{key_padding_mask.shape[1]}')
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len)
    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
            attn_mask.view(bsz, num_heads, tgt_len, src_len)
        if key_padding_mask is not None:
            attn_mask = attn_mask + key_padding_mask
    else:
        attn_mask = key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights and is_causal and attn_mask is None:
        raise AssertionError('FIXME: is_causal not implemented for need_weights')
    out, weights = _attention(q, k, v, attn_mask, dropout_p, is_causal and not need_weights, None, False,
                              need_weights)
    out = _linear(out.permute(2, 0, 1, 3).reshape(tgt_len * bsz, embed_dim), out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, out.shape[1])
    if need_weights and average_attn_weights:
        weights = weights.mean(dim=1)
    if not is_batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


def _static_heads(t, name, bsz, num_heads, head_dim):
    if t.shape[0] != bsz * num_heads:
        raise AssertionError(f'expecting {name}.size(0) of {bsz * num_heads}, but got {t.shape[0]}')
    if t.shape[2] != head_dim:
        raise AssertionError(f'expecting {name}.size(2) of {head_dim}, but got {t.shape[2]}')
    return t.view(bsz, num_heads, t.shape[1], head_dim)
