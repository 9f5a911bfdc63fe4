"""ember.onnx for sequence models: recurrent layers and cells, attention, Transformer layers.

Every exported graph passes onnx.checker, and ONNX Runtime's outputs equal Ember's forward; with
dynamic axes the graph also runs on a second batch size and sequence length.
"""
import io
import itertools

import numpy as np
import pytest

import ember
import ember.onnx
from ember import nn
from ember.nn import functional as F
from ember.nn.utils.rnn import pack_padded_sequence

onnx = pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')


def _rand(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32))


def _flat(obj, out=None):
    out = [] if out is None else out
    if isinstance(obj, ember.Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _flat(o, out)
    return out


def check(model, args, names, dynamic_axes=None, others=(), rtol=1e-4, atol=1e-5):
    """Export ``model`` on ``args`` (inputs named ``names``); ONNX Runtime on ``args`` and on each
    argument tuple in ``others`` must give Ember's outputs. Returns the model proto."""
    buf = io.BytesIO()
    proto = ember.onnx.export(model, args, buf, input_names=names, dynamic_axes=dynamic_axes)
    onnx.checker.check_model(proto)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(buf.getvalue(), opts, providers=['CPUExecutionProvider'])
    if isinstance(model, nn.Module):
        model.eval()
    for a in (args,) + tuple(others):
        with ember.no_grad():
            expected = _flat(model(*a))
        got = sess.run(None, {n: t.numpy() for n, t in zip(names, _flat(a))})
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == tuple(e.shape) and g.dtype == e.numpy().dtype
            np.testing.assert_allclose(g, e.numpy(), rtol=rtol, atol=atol)
    return proto


class _Wrap(nn.Module):
    """``fn`` as a module that holds ``modules``: export then puts them in eval mode and names
    their parameters."""

    def __init__(self, fn, *modules):
        super().__init__()
        self.fn = fn
        self.parts = nn.ModuleList(modules)

    def forward(self, *args):
        return self.fn(*args)


# ---- recurrent layers ------------------------------------------------------------------------
RNNS = {'lstm': nn.LSTM, 'gru': nn.GRU, 'rnn': nn.RNN}
RECURRENT = list(itertools.product(RNNS, (1, 2), (False, True), (False, True), (False, True)))


def _states(kind, layers, batch, hidden, seed):
    h = _rand(layers, batch, hidden, seed=seed)
    return (h, _rand(layers, batch, hidden, seed=seed + 1)) if kind == 'lstm' else h


@pytest.mark.parametrize('kind,layers,bidirectional,batch_first,with_state', RECURRENT,
                         ids=['-'.join(map(str, c)) for c in RECURRENT])
def test_recurrent_layer(kind, layers, bidirectional, batch_first, with_state):
    ember.manual_seed(0)
    model = RNNS[kind](3, 5, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    dirs = 2 if bidirectional else 1

    def inputs(seq, batch, seed):
        x = _rand(batch, seq, 3, seed=seed) if batch_first else _rand(seq, batch, 3, seed=seed)
        return (x, _states(kind, layers * dirs, batch, 5, seed + 1)) if with_state else (x,)
    names = ['x'] + (['h0', 'c0'] if kind == 'lstm' else ['h0']) * with_state
    dyn = {'x': {0: 'batch', 1: 'seq'} if batch_first else {0: 'seq', 1: 'batch'}, 'h0': {1: 'batch'},
           'c0': {1: 'batch'}}
    proto = check(model, inputs(4, 2, 0), names, {n: dyn[n] for n in names}, others=[inputs(7, 3, 10)])
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count({'lstm': 'LSTM', 'gru': 'GRU', 'rnn': 'RNN'}[kind]) == layers
    assert {i.name for i in proto.graph.initializer} >= {k for k, _ in model.named_parameters()}


VARIANTS = [
    ('rnn_relu', lambda: nn.RNN(3, 4, nonlinearity='relu', num_layers=2, bidirectional=True), (5, 2, 3)),
    ('lstm_nobias', lambda: nn.LSTM(3, 4, bias=False, bidirectional=True), (5, 2, 3)),
    ('gru_nobias', lambda: nn.GRU(3, 4, bias=False, num_layers=2), (5, 2, 3)),
    ('rnn_nobias', lambda: nn.RNN(3, 4, bias=False), (5, 2, 3)),
    ('lstm_unbatched', lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True), (5, 3)),
    ('gru_unbatched_bf', lambda: nn.GRU(3, 4, batch_first=True), (5, 3)),
    ('lstm_eval_dropout', lambda: nn.LSTM(3, 4, num_layers=2, dropout=0.5), (5, 2, 3)),
    ('lstm_seq1', lambda: nn.LSTM(3, 4), (1, 2, 3)),
]


@pytest.mark.parametrize('make,shape', [v[1:] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_recurrent_variants(make, shape):
    ember.manual_seed(0)
    check(make(), (_rand(*shape),), ['x'])


def test_recurrent_unbatched_with_state():
    ember.manual_seed(0)
    check(nn.LSTM(3, 4, num_layers=2), (_rand(5, 3), (_rand(2, 4, seed=1), _rand(2, 4, seed=2))), ['x', 'h', 'c'])
    check(nn.GRU(3, 4, bidirectional=True), (_rand(5, 3), _rand(2, 4, seed=1)), ['x', 'h'])


def test_functional_lstm_op():
    ember.manual_seed(0)
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)

    def fn(x, h, c):
        return ember.lstm(x, (h, c), m._flat_weights, True, 2, 0.0, False, True, False)
    check(_Wrap(fn, m), (_rand(5, 2, 3), _rand(4, 2, 4, seed=1), _rand(4, 2, 4, seed=2)), ['x', 'h', 'c'])


CELLS = [
    ('lstm_cell', lambda: nn.LSTMCell(3, 4), lambda: (_rand(2, 3), (_rand(2, 4, seed=1), _rand(2, 4, seed=2)))),
    ('lstm_cell_nostate', lambda: nn.LSTMCell(3, 4, bias=False), lambda: (_rand(2, 3),)),
    ('gru_cell', lambda: nn.GRUCell(3, 4), lambda: (_rand(2, 3), _rand(2, 4, seed=1))),
    ('gru_cell_unbatched', lambda: nn.GRUCell(3, 4), lambda: (_rand(3),)),
    ('rnn_cell_tanh', lambda: nn.RNNCell(3, 4), lambda: (_rand(2, 3), _rand(2, 4, seed=1))),
    ('rnn_cell_relu', lambda: nn.RNNCell(3, 4, nonlinearity='relu', bias=False), lambda: (_rand(2, 3),)),
]


@pytest.mark.parametrize('make,args', [c[1:] for c in CELLS], ids=[c[0] for c in CELLS])
def test_cells(make, args):
    ember.manual_seed(0)
    a = args()
    check(make(), a, [f'in{i}' for i in range(len(_flat(a)))])


class _LanguageModel(nn.Module):
    def __init__(self, vocab=20, emb=6, hidden=8):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return F.log_softmax(self.decoder(out), -1)


def test_lstm_language_model_dynamic_batch_and_length():
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    tokens = [ember.tensor(rng.integers(0, 20, shape)) for shape in ((2, 5), (3, 9), (1, 1))]
    model = _LanguageModel()
    proto = check(model, (tokens[0],), ['tokens'], {'tokens': {0: 'batch', 1: 'seq'}},
                  others=[(t,) for t in tokens[1:]])
    assert sorted(i.name for i in proto.graph.initializer) == sorted(model.state_dict())
    fresh = _LanguageModel()
    ember.onnx.load_weights(fresh, proto)
    for (k, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert ember.equal(a, b), k


@pytest.mark.parametrize('make,args,match', [
    (lambda: nn.LSTM(3, 4, proj_size=2), lambda: (_rand(5, 2, 3),), 'proj_size'),
    (lambda: nn.GRU(3, 4), lambda: (pack_padded_sequence(_rand(5, 2, 3), [5, 3]),), 'PackedSequence'),
], ids=['proj_size', 'packed'])
def test_recurrent_unsupported_raise_naming_the_argument(make, args, match):
    ember.manual_seed(0)
    with pytest.raises(ember.onnx.errors.SymbolicValueError, match=r"module '<root>' \((LSTM|GRU)\): .*" + match):
        ember.onnx.export(make(), args(), io.BytesIO())


def test_recurrent_dropout_in_training_raises():
    model = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    with pytest.raises(ember.onnx.errors.SymbolicValueError, match='dropout between layers'):
        ember.onnx.export(model, (_rand(5, 2, 3),), io.BytesIO(), training=ember.onnx.TrainingMode.TRAINING)


# ---- attention -------------------------------------------------------------------------------
def _bool(rows, seed=0, p=0.3):
    m = np.random.default_rng(seed).uniform(size=rows) < p
    m[..., 0] = False  # every row attends to something
    return ember.tensor(m)


class _SelfAttention(nn.Module):
    """One tensor as query, key and value (the packed projection is one product)."""

    def __init__(self, **kw):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, **kw)

    def forward(self, x, *masks):
        kw = dict(zip(('key_padding_mask', 'attn_mask'), masks))
        return self.attn(x, x, x, **kw)


# (id, constructor kwargs, forward kwargs given as tensors, other forward kwargs); query (L=4, N=3, E=8),
# key/value length S=5 (sequence-first; transposed for batch_first)
MHA = [
    ('plain', {}, {}, {}),
    ('batch_first', {'batch_first': True}, {}, {}),
    ('no_weights', {}, {}, {'need_weights': False}),
    ('per_head_weights', {}, {}, {'average_attn_weights': False}),
    ('kpm_bool', {}, {'key_padding_mask': _bool((3, 5))}, {}),
    ('kpm_bool_no_weights', {'batch_first': True}, {'key_padding_mask': _bool((3, 5))}, {'need_weights': False}),
    ('kpm_float', {}, {'key_padding_mask': _rand(3, 5, seed=7)}, {}),
    ('attn_mask_bool', {}, {'attn_mask': _bool((4, 5), 1)}, {}),
    ('attn_mask_float3d', {}, {'attn_mask': _rand(6, 4, 5, seed=8)}, {'need_weights': False}),
    ('both_masks', {}, {'key_padding_mask': _bool((3, 5), 2), 'attn_mask': _bool((4, 5), 9)}, {}),
    ('both_masks_float', {}, {'key_padding_mask': _rand(3, 5, seed=2), 'attn_mask': _rand(4, 5, seed=9)}, {}),
    ('kdim_vdim', {'kdim': 6, 'vdim': 7}, {}, {}),
    ('bias_kv', {'add_bias_kv': True}, {'attn_mask': _bool((4, 5), 3)}, {}),
    ('zero_attn', {'add_zero_attn': True}, {'key_padding_mask': _bool((3, 5), 4)}, {'need_weights': False}),
    ('no_bias', {'bias': False}, {}, {}),
    ('eval_dropout', {'dropout': 0.5}, {}, {}),
]


@pytest.mark.parametrize('ctor,masks,kw', [m[1:] for m in MHA], ids=[m[0] for m in MHA])
def test_multihead_attention(ctor, masks, kw):
    ember.manual_seed(0)
    model = nn.MultiheadAttention(8, 2, **ctor)
    q, k, v = _rand(4, 3, 8), _rand(5, 3, ctor.get('kdim', 8), seed=1), _rand(5, 3, ctor.get('vdim', 8), seed=2)
    if ctor.get('batch_first'):
        q, k, v = (t.transpose(0, 1).contiguous() for t in (q, k, v))

    def fn(q, k, v, *m):
        return model(q, k, v, **dict(zip(masks, m)), **kw)
    check(_Wrap(fn, model), (q, k, v) + tuple(masks.values()), ['q', 'k', 'v'] + list(masks))


def test_multihead_attention_unbatched_and_fully_masked_row():
    ember.manual_seed(0)
    model = nn.MultiheadAttention(8, 2)
    kpm = ember.tensor([False, True, False, True, False])
    check(_Wrap(lambda q, k, v, m: model(q, k, v, key_padding_mask=m), model), (_rand(4, 8), _rand(5, 8, seed=1),
                                                                  _rand(5, 8, seed=2), kpm), ['q', 'k', 'v', 'm'])
    # a batch element with every key padded: 0 without weights, as Ember's fused kernel gives
    kpm = ember.tensor([[False] * 4, [True] * 4])
    check(_Wrap(lambda q, m: model(q, q, q, key_padding_mask=m, need_weights=False), model), (_rand(4, 2, 8), kpm),
          ['q', 'm'])


@pytest.mark.parametrize('masks', [(), (_bool((3, 6)),)], ids=['none', 'kpm'])
def test_self_attention_one_projection_dynamic_axes(masks):
    ember.manual_seed(0)
    model = _SelfAttention()
    names = ['x'] + ['kpm'] * len(masks)
    proto = check(model, (_rand(6, 3, 8),) + masks, names, {'x': {0: 'seq', 1: 'batch'}, 'kpm': {0: 'batch', 1: 'seq'}},
                  others=[(_rand(9, 2, 8, seed=5),) + tuple(_bool((2, 9), 6) for _ in masks)])
    assert [n.op_type for n in proto.graph.node].count('MatMul') == 4  # qkv, scores, values, output


def test_causal_attention_hint_and_dynamic_length():
    ember.manual_seed(0)
    model = nn.MultiheadAttention(8, 2, batch_first=True)

    def fn(x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return model(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)[0]
    check(_Wrap(fn, model), (_rand(2, 5, 8),), ['x'], {'x': {0: 'batch', 1: 'seq'}}, others=[(_rand(3, 8, 8, seed=1),)])


@pytest.mark.parametrize('case', ['causal', 'bool_row_masked', 'float_broadcast'])
def test_scaled_dot_product_attention_dynamic_and_masked_rows(case):
    q, k, v = _rand(2, 3, 4, 8), _rand(2, 3, 4, 8, seed=1), _rand(2, 3, 4, 8, seed=2)
    if case == 'causal':
        check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v), ['q', 'k', 'v'],
              {n: {0: 'batch', 2: 'seq'} for n in 'qkv'}, others=[(_rand(1, 3, 6, 8, seed=3), _rand(1, 3, 6, 8, seed=4),
                                                                     _rand(1, 3, 6, 8, seed=5))])
    elif case == 'bool_row_masked':
        mask = ember.tensor(np.array([[True] * 4, [False] * 4, [True, False, True, False], [False, True] * 2]))
        check(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), (q, k, v, mask),
              ['q', 'k', 'v', 'm'])
    else:
        check(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.2),
              (q, k, v, _rand(1, 4, 4, seed=6)), ['q', 'k', 'v', 'm'])


def test_attention_dropout_in_training_raises():
    model = _SelfAttention(dropout=0.5)
    with pytest.raises(ember.onnx.errors.SymbolicValueError, match='dropout in training mode'):
        ember.onnx.export(model, (_rand(4, 2, 8),), io.BytesIO(), training=ember.onnx.TrainingMode.TRAINING)


# ---- Transformer layers ----------------------------------------------------------------------
ENCODER = [
    ('post_relu', {}, False),
    ('pre_gelu', {'norm_first': True, 'activation': 'gelu'}, False),
    ('batch_first_kpm', {'batch_first': True}, True),
    ('pre_gelu_fn_kpm', {'norm_first': True, 'activation': F.gelu}, True),
    ('no_bias', {'bias': False}, False),
]


@pytest.mark.parametrize('kw,with_mask', [e[1:] for e in ENCODER], ids=[e[0] for e in ENCODER])
def test_transformer_encoder_layer(kw, with_mask):
    ember.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, **kw)
    bf = kw.get('batch_first', False)
    x = _rand(3, 5, 8) if bf else _rand(5, 3, 8)
    args = (x, _bool((3, 5))) if with_mask else (x,)
    fn = _Wrap(lambda s, m: layer(s, src_key_padding_mask=m), layer) if with_mask else layer
    check(fn, args, ['src', 'mask'][:len(args)])


def test_transformer_encoder_stack_causal_mask_dynamic_axes():
    ember.manual_seed(0)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=True), 2,
                                norm=nn.LayerNorm(8), enable_nested_tensor=False)

    def fn(src):
        return enc(src, mask=nn.Transformer.generate_square_subsequent_mask(src.shape[1]), is_causal=True)
    check(_Wrap(fn, enc), (_rand(2, 5, 8),), ['src'], {'src': {0: 'batch', 1: 'seq'}},
          others=[(_rand(3, 7, 8, seed=1),)])


def test_transformer_encoder_with_mask_inputs():
    ember.manual_seed(0)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    padding = ember.tensor(np.where(_bool((3, 5)).numpy(), -np.inf, 0).astype(np.float32))
    check(_Wrap(lambda s, m, p: enc(s, mask=m, src_key_padding_mask=p), enc), (_rand(5, 3, 8), mask, padding),
          ['src', 'mask', 'kpm'])


@pytest.mark.parametrize('norm_first', [False, True])
def test_transformer_decoder_layer(norm_first):
    ember.manual_seed(0)
    layer = nn.TransformerDecoderLayer(8, 2, 16, norm_first=norm_first, batch_first=True)

    def fn(tgt, memory, mkpm):
        mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        return layer(tgt, memory, tgt_mask=mask, tgt_is_causal=True, memory_key_padding_mask=mkpm)
    check(_Wrap(fn, layer), (_rand(2, 4, 8), _rand(2, 6, 8, seed=1), _bool((2, 6))), ['tgt', 'memory', 'mkpm'],
          {'tgt': {0: 'batch', 1: 'tgt_len'}, 'memory': {0: 'batch', 1: 'src_len'}, 'mkpm': {0: 'batch', 1: 'src_len'}},
          others=[(_rand(3, 2, 8, seed=2), _rand(3, 3, 8, seed=3), _bool((3, 3), 4))])


def test_small_vision_transformer():
    models = pytest.importorskip('ember.vision.models')
    ember.manual_seed(0)
    model = models.VisionTransformer(image_size=16, patch_size=8, num_layers=2, num_heads=2, hidden_dim=8,
                                     mlp_dim=16, num_classes=5)
    # the class token is expanded to the traced batch size: no dynamic batch here
    check(model, (_rand(2, 3, 16, 16),), ['images'], atol=1e-4)


def test_all_and_any():
    x = _rand(3, 4)
    check(lambda x: ((x > 0).all(1), (x > 0.5).any(), x.any(0, keepdim=True), x.all()), (x,), ['x'])


class _RecurrentAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 4, num_layers=2, bidirectional=True)
        self.attn = nn.MultiheadAttention(8, 2)

    def forward(self, x):
        y, h = self.gru(x)
        mask = nn.Transformer.generate_square_subsequent_mask(y.shape[0])
        return self.attn(y, y, y, attn_mask=mask, is_causal=True, need_weights=False)[0], h


@pytest.mark.parametrize('opset', [13, 21])
def test_opset_range(opset):
    ember.manual_seed(0)
    model, x = _RecurrentAttention().eval(), _rand(5, 2, 4)
    buf = io.BytesIO()
    proto = ember.onnx.export(model, (x,), buf, opset_version=opset)
    assert proto.opset_import[0].version == opset
    got = ort.InferenceSession(buf.getvalue(), providers=['CPUExecutionProvider']).run(None, {'x': x.numpy()})
    with ember.no_grad():
        expected = model(x)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-4, atol=1e-5)
