"""Converters for sequence models: the recurrent ops (``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu``
and their cells), attention (``scaled_dot_product_attention``, ``multi_head_attention_forward``)
and the attention masks (signatures as in ``symbolic_tensor``).

A recurrent layer stack is recorded as one op, as ``nn.LSTM`` runs it, and becomes one ONNX
``LSTM``/``GRU``/``RNN`` node per layer (both directions in one node). ONNX orders the gate blocks
differently: LSTM ``i, o, f, c`` for PyTorch's ``i, f, g, o``; GRU ``z, r, h`` for ``r, z, n``
(with ``linear_before_reset=1``, PyTorch's ``r * (W_hn h + b_hn)``). The weights stay initializers
under their ``state_dict`` names (so ``load_weights`` and ``export_params=False`` work) and are
reordered by a ``Gather`` of constant indices, which ONNX Runtime folds when it loads the model.
An initial state of zeros built in ``forward`` is left out (ONNX's default), so the batch
dimension stays free for ``dynamic_axes``.

Multi-head attention is recorded as one op and written with MatMul/Softmax, keeping the batch
and sequence dimensions symbolic (reshapes copy them with ``0``; a causal mask is built from
the scores' shape). ``TransformerEncoder``'s nested-tensor inference path, which zeroes padded
positions, is not taken while exporting (it needs grad off): the graph computes them.
"""
import math

import numpy as np
from onnx import numpy_helper

from .. import _dtype
from ._graph import INT64_MAX

CONVERTERS = {}


def _seq(*names):
    def deco(fn):
        for n in names:
            CONVERTERS[n] = fn
        return fn
    return deco


def _k(g, v, dt):
    return g.value(float(v), dt)


def _dim(g, x, axis):
    """Dimension ``axis`` of graph value ``x`` as a 1-D int64 value (read at run time)."""
    return g.op('Slice', g.op('Shape', x), g.ints([axis]), g.ints([axis + 1]))


# ---- recurrent layers ------------------------------------------------------------------------
_OP_TYPE = {'LSTM': 'LSTM', 'GRU': 'GRU', 'RNN_TANH': 'RNN', 'RNN_RELU': 'RNN'}
_GATES = {'LSTM': (0, 3, 1, 2), 'GRU': (1, 0, 2), 'RNN_TANH': (0,), 'RNN_RELU': (0,)}  # ONNX block <- PyTorch block
_NAMES = {'LSTM': 'lstm', 'GRU': 'gru', 'RNN_TANH': 'rnn_tanh', 'RNN_RELU': 'rnn_relu'}


def _gates(g, t, mode, hidden, dt):
    """A weight ``(gates * hidden, ...)`` or bias with its gate blocks in ONNX's order."""
    order = _GATES[mode]
    v = g.value(t, dt)
    if order == tuple(range(len(order))):
        return v
    idx = np.concatenate([np.arange(b * hidden, (b + 1) * hidden, dtype=np.int64) for b in order])
    return g.op('Gather', v, g.const(idx), axis=0)


def _stack_dirs(g, values):
    """Per-direction values stacked along a new leading ``num_directions`` axis."""
    vals = [g.unsqueeze(v, [0]) for v in values]
    return vals[0] if len(vals) == 1 else g.op('Concat', *vals, axis=0)


def _initial_state(g, t, dt, start, stop):
    """Rows ``start:stop`` of a state ``(layers * dirs, N, H)``, or None for zeros made in ``forward``
    (ONNX's default state, which keeps the batch dimension free)."""
    if t is None or (g.is_constant(t) and not t._data.any()):
        return None
    v = g.value(t, dt)
    if start == 0 and stop == t.shape[0]:
        return v
    return g.op('Slice', v, g.ints([start]), g.ints([stop]), g.ints([0]))


def _recurrent_node(g, mode, x, directions, h0, c0, dt, reverse=False):
    """One ONNX LSTM/GRU/RNN node over ``x`` ``(L, N, I)``; ``directions`` holds per direction
    ``(w_ih, w_hh, b_ih, b_hh)`` (biases may be None). Returns ``(Y, Y_h, Y_c or None)``."""
    hidden = directions[0][1].shape[1]
    n = len(_GATES[mode]) * hidden
    w = _stack_dirs(g, [_gates(g, d[0], mode, hidden, dt) for d in directions])
    r = _stack_dirs(g, [_gates(g, d[1], mode, hidden, dt) for d in directions])
    b = None
    if any(d[2] is not None or d[3] is not None for d in directions):
        zeros = np.zeros(n, dt.np)
        b = _stack_dirs(g, [g.op('Concat', *[g.const(zeros) if t is None else _gates(g, t, mode, hidden, dt)
                                            for t in d[2:4]], axis=0) for d in directions])
    attrs = {'hidden_size': int(hidden),
             'direction': 'bidirectional' if len(directions) == 2 else 'reverse' if reverse else 'forward'}
    if mode == 'GRU':
        attrs['linear_before_reset'] = 1
    elif mode != 'LSTM':
        attrs['activations'] = ['Tanh' if mode == 'RNN_TANH' else 'Relu'] * len(directions)
    inputs = [x, w, r, b, None, h0] + ([c0] if mode == 'LSTM' else [])
    outs = g.op(_OP_TYPE[mode], *inputs, outputs=3 if mode == 'LSTM' else 2, **attrs)
    return outs[0], outs[1], (outs[2] if mode == 'LSTM' else None)


def _recurrent(mode):
    name = _NAMES[mode]

    def convert(g, res, *args):
        if isinstance(args[3], (list, tuple)):
            g.fail(name, 'a PackedSequence input; export with padded batches')
        input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first = args
        hx, cx = (hx[0], hx[1]) if mode == 'LSTM' else (hx, None)
        if cx is not None and hx.shape[-1] != cx.shape[-1]:
            g.fail(name, 'proj_size > 0: the ONNX LSTM op has no output projection')
        if dropout and train and num_layers > 1:
            g.fail(name, 'dropout between layers in training mode; export with training=TrainingMode.EVAL')
        dt = res[0].dtype
        dirs = 2 if bidirectional else 1
        per = 4 if has_biases else 2
        x = g.value(input, dt)
        if batch_first:
            x = g.op('Transpose', x, perm=[1, 0, 2])
        hs, cs = [], []
        for layer in range(num_layers):
            directions = []
            for d in range(dirs):
                p = params[(layer * dirs + d) * per:(layer * dirs + d + 1) * per]
                directions.append((p[0], p[1]) + ((p[2], p[3]) if has_biases else (None, None)))
            rows = (layer * dirs, (layer + 1) * dirs)
            y, yh, yc = _recurrent_node(g, mode, x, directions, _initial_state(g, hx, dt, *rows),
                                        _initial_state(g, cx, dt, *rows), dt)
            # Y is (L, dirs, N, H): PyTorch's output concatenates the directions' features
            x = g.squeeze(y, [1]) if dirs == 1 else \
                g.op('Reshape', g.op('Transpose', y, perm=[0, 2, 1, 3]), g.ints([0, 0, -1]))
            hs.append(yh)
            cs.append(yc)
        out = g.op('Transpose', x, perm=[1, 0, 2]) if batch_first else x
        results = [out, hs[0] if len(hs) == 1 else g.op('Concat', *hs, axis=0)]
        if mode == 'LSTM':
            results.append(cs[0] if len(cs) == 1 else g.op('Concat', *cs, axis=0))
        return results
    return convert


for _mode, _name in _NAMES.items():
    CONVERTERS[_name] = _recurrent(_mode)


def _cell(mode):
    def convert(g, res, input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        first = res[0] if isinstance(res, tuple) else res
        dt = first.dtype
        h, c = (hx[0], hx[1]) if mode == 'LSTM' else (hx, None)
        state = [None if s is None else _initial_state(g, s, dt, 0, s.shape[0]) for s in (h, c)]
        state = [None if s is None else g.unsqueeze(s, [0]) for s in state]
        _, yh, yc = _recurrent_node(g, mode, g.unsqueeze(g.value(input, dt), [0]), [(w_ih, w_hh, b_ih, b_hh)],
                                    state[0], state[1], dt)
        if mode == 'LSTM':
            return [g.squeeze(yh, [0]), g.squeeze(yc, [0])]
        return g.squeeze(yh, [0])
    return convert


for _mode, _name in _NAMES.items():
    CONVERTERS[_name + '_cell'] = _cell(_mode)


# ---- attention -------------------------------------------------------------------------------
def _mask_bias(g, mask, dt):
    """A mask as an additive bias: bool True (not attended) -> -inf, float masks as they are."""
    if mask is None:
        return None
    if mask.dtype == _dtype.bool_:
        return g.op('Where', g.value(mask), _k(g, -np.inf, dt), _k(g, 0, dt))
    return g.value(mask, dt)


@_seq('_canonical_mask')
def _canonical_mask(g, res, mask, mask_name, other_type, other_name, target_type, check_other=True):
    return _mask_bias(g, mask, res.dtype)


def _causal_bias(g, s, dt, size):
    """``(L, S)``: 0 on and below the diagonal, -inf above, shaped like the scores' last two dims
    (``size``, the traced ``(L, S)``, is fixed in the graph before opset 14, which has no Trilu)."""
    if g.opset < 14:
        return g.const(np.triu(np.full(size, -np.inf, dt.np), 1))
    shape = g.op('Slice', g.op('Shape', s), g.ints([-2]), g.ints([INT64_MAX]))
    full = g.op('ConstantOfShape', shape, value=numpy_helper.from_array(np.array([-np.inf], dt.np)))
    return g.op('Trilu', full, g.value(1), upper=1)


def _attend(g, q, k, v, nd, dt, scale, bias=None, causal=None, safe=True):
    """``softmax(q @ k^T * scale + bias) @ v`` on graph values of rank ``nd``; returns ``(out, p)``.
    ``causal``: None, or the traced ``(L, S)`` to hide the positions above the diagonal. With
    ``safe``, rows whose scores are all -inf give 0 (Ember's fused kernel), not nan."""
    perm = list(range(nd))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    s = g.op('Mul', g.op('MatMul', q, g.op('Transpose', k, perm=perm)), _k(g, scale, dt))
    if bias is not None:
        s = g.op('Add', s, bias)
    if causal:
        s = g.op('Add', s, _causal_bias(g, s, dt, causal))
    p = g.op('Softmax', s, axis=-1)
    if safe and bias is not None:
        empty = g.op('Equal', g.reduce('ReduceMax', s, [-1], True), _k(g, -np.inf, dt))
        p = g.op('Where', empty, _k(g, 0, dt), p)
    return g.op('MatMul', p, v), p


@_seq('scaled_dot_product_attention')
def _sdpa(g, res, query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    if dropout_p > 0:
        g.fail('scaled_dot_product_attention', 'dropout_p > 0; export in eval mode')
    if query.shape[:-2] != key.shape[:-2]:
        g.fail('scaled_dot_product_attention', 'grouped-query attention (enable_gqa)')
    dt = res.dtype
    s = 1 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    out, _ = _attend(g, g.value(query, dt), g.value(key, dt), g.value(value, dt), query.dim(), dt, s,
                     _mask_bias_sdpa(g, attn_mask, dt), (query.shape[-2], key.shape[-2]) if is_causal else None)
    return out


def _mask_bias_sdpa(g, mask, dt):
    """``scaled_dot_product_attention``'s convention: a bool mask marks the positions attended (True)."""
    if mask is None:
        return None
    if mask.dtype == _dtype.bool_:
        return g.op('Where', g.value(mask), _k(g, 0, dt), _k(g, -np.inf, dt))
    return g.value(mask, dt)


def _linear(g, x, w, b):
    y = g.op('MatMul', x, g.op('Transpose', w, perm=[1, 0]))
    return y if b is None else g.op('Add', y, b)


def _pad_last(g, m, rank):
    """Append one attended (0) position to a bias's last dimension."""
    return None if m is None else g.op('Pad', m, g.ints([0] * rank + [0] * (rank - 1) + [1]))


@_seq('multi_head_attention_forward')
def _mha(g, res, query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
         add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True, key_padding_mask=None,
         need_weights=True, attn_mask=None, use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
         v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True, is_causal=False):
    """Sequence-first ``(L, N, E)`` (or unbatched ``(L, E)``) in, as ``F.multi_head_attention_forward``."""
    if training and dropout_p > 0:
        g.fail('multi_head_attention_forward', 'dropout in training mode; export with training=TrainingMode.EVAL')
    out_t = res[0]
    dt = out_t.dtype
    E, H = query.shape[-1], int(num_heads)
    hd = E // H
    batched = query.dim() == 3

    def prep(t):
        v = g.value(t, dt)
        return v if batched else g.unsqueeze(v, [1])
    x = prep(query)
    mem_k = x if key is query else prep(key)
    mem_v = mem_k if value is key else x if value is query else prep(value)

    # projections: self-attention with the packed weight is one product, split into q, k, v
    b_all = None if in_proj_bias is None else g.value(in_proj_bias, dt)
    if not use_separate_proj_weight and query is key and key is value:
        q, k, v = g.split(_linear(g, x, g.value(in_proj_weight, dt), b_all), [E, E, E], 2)
    else:
        if use_separate_proj_weight:
            w_q, w_k, w_v = (g.value(w, dt) for w in (q_proj_weight, k_proj_weight, v_proj_weight))
        else:
            w_q, w_k, w_v = g.split(g.value(in_proj_weight, dt), [E, E, E], 0)
        b_q, b_k, b_v = (None,) * 3 if b_all is None else g.split(b_all, [E, E, E], 0)
        q, k, v = _linear(g, x, w_q, b_q), _linear(g, mem_k, w_k, b_k), _linear(g, mem_v, w_v, b_v)

    # masks as additive biases: attn_mask (L, S) or (N * H, L, S), key_padding_mask (N, S)
    causal = is_causal and key_padding_mask is None and not need_weights
    am = None if causal else _mask_bias(g, attn_mask, dt)
    kpm = _mask_bias(g, key_padding_mask, dt)
    if kpm is not None and not batched:
        kpm = g.unsqueeze(kpm, [0])
    if am is not None and attn_mask.dim() == 3:
        am = g.op('Reshape', am, g.ints([-1, H, attn_mask.shape[1], attn_mask.shape[2]]))

    if bias_k is not None and bias_v is not None:
        batch = g.op('Concat', g.ints([1]), _dim(g, k, 1), g.ints([1]), axis=0)
        k = g.op('Concat', k, g.op('Expand', g.value(bias_k, dt), batch), axis=0)
        v = g.op('Concat', v, g.op('Expand', g.value(bias_v, dt), batch), axis=0)
        am = _pad_last(g, am, 2 if attn_mask.dim() == 2 else 4) if am is not None else None
        kpm = _pad_last(g, kpm, 2)

    def heads(t, static):
        if static is not None:
            return g.op('Reshape', g.value(static, dt), g.ints([-1, H, static.shape[1], hd]))
        return g.op('Transpose', g.op('Reshape', t, g.ints([0, 0, H, hd])), perm=[1, 2, 0, 3])
    q, k, v = heads(q, None), heads(k, static_k), heads(v, static_v)  # (N, H, length, hd)
    if add_zero_attn:
        zeros = g.op('Expand', g.const(np.zeros((1, 1, 1, hd), dt.np)),
                     g.op('Concat', _dim(g, k, 0), g.ints([H, 1, 1]), axis=0))
        k = g.op('Concat', k, zeros, axis=2)
        v = g.op('Concat', v, zeros, axis=2)
        am = _pad_last(g, am, 2 if attn_mask.dim() == 2 else 4) if am is not None else None
        kpm = _pad_last(g, kpm, 2)

    if kpm is not None:
        kpm = g.unsqueeze(kpm, [1, 2])
    bias = kpm if am is None else am if kpm is None else g.op('Add', am, kpm)
    out, p = _attend(g, q, k, v, 4, dt, 1 / math.sqrt(hd), bias, (query.shape[0], key.shape[0]) if causal else None,
                     safe=not need_weights)
    out = g.op('Reshape', g.op('Transpose', out, perm=[2, 0, 1, 3]), g.ints([0, 0, E]))
    out = _linear(g, out, g.value(out_proj_weight, dt), None if out_proj_bias is None else
                  g.value(out_proj_bias, dt))
    if not batched:
        out = g.squeeze(out, [1])
    if not need_weights:
        return out
    if average_attn_weights:
        p = g.reduce('ReduceMean', p, [1], False)
    return [out, p if batched else g.squeeze(p, [0])]
