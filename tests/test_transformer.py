"""Transformer layers, stacks and nn.Transformer against PyTorch: seeded init, outputs, gradients."""
import copy
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check_raises
from test_attention import _inputs, _pair, compare_module

D, NH, FF = 8, 2, 16
S, T, N = 5, 4, 3
KPM = np.zeros((N, S), bool)
KPM[0, 3:] = KPM[2, 4:] = True  # padding at the ends: left-aligned sequences


def _act(name):
    if name == 'callable':
        return lambda lib: (lambda x: lib.tanh(x) * 2)
    if name == 'module':
        return lambda lib: lib.nn.GELU()
    return lambda lib: name


def enc_layer(act='relu', **kw):
    return lambda lib: lib.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0, activation=_act(act)(lib), **kw)


def dec_layer(act='relu', **kw):
    return lambda lib: lib.nn.TransformerDecoderLayer(D, NH, FF, dropout=0.0, activation=_act(act)(lib), **kw)


def _t(lib, a):
    return None if a is None else lib.tensor(a)


@pytest.mark.parametrize('norm_first', [False, True])
@pytest.mark.parametrize('act', ['relu', 'gelu', 'callable', 'module'])
def test_encoder_layer(norm_first, act):
    em, tm = _pair(enc_layer(act, norm_first=norm_first))
    compare_module(em, tm, lambda lib, m, x: m(x, src_key_padding_mask=_t(lib, KPM)), _inputs([(S, N, D)]))


@pytest.mark.parametrize('kw', [{'batch_first': True}, {'bias': False}, {'layer_norm_eps': 1e-3}])
def test_encoder_layer_options(kw):
    em, tm = _pair(enc_layer(**kw))
    shape = (N, S, D) if kw.get('batch_first') else (S, N, D)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(S).numpy()
    compare_module(em, tm, lambda lib, m, x: m(x, src_mask=lib.tensor(mask), is_causal=True), _inputs([shape]))


def test_encoder_layer_unbatched_and_bool_mask():
    em, tm = _pair(enc_layer(norm_first=True))
    mask = np.triu(np.ones((S, S), bool), 1)
    compare_module(em, tm, lambda lib, m, x: m(x, src_mask=lib.tensor(mask)), _inputs([(S, D)]))


@pytest.mark.parametrize('norm_first', [False, True])
@pytest.mark.parametrize('act', ['relu', 'gelu', 'callable'])
def test_decoder_layer(norm_first, act):
    em, tm = _pair(dec_layer(act, norm_first=norm_first))
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(T).numpy()

    def call(lib, m, tgt, mem):
        return m(tgt, mem, tgt_mask=lib.tensor(tgt_mask), memory_key_padding_mask=_t(lib, KPM), tgt_is_causal=True)
    compare_module(em, tm, call, _inputs([(T, N, D), (S, N, D)]))


def test_decoder_layer_batch_first_memory_mask():
    em, tm = _pair(dec_layer(batch_first=True))
    memory_mask = np.random.default_rng(3).uniform(-1, 1, (T, S)).astype(np.float32)
    tgt_kpm = np.zeros((N, T), bool)
    tgt_kpm[1, 3:] = True

    def call(lib, m, tgt, mem):
        return m(tgt, mem, memory_mask=lib.tensor(memory_mask), tgt_key_padding_mask=lib.tensor(tgt_kpm))
    compare_module(em, tm, call, _inputs([(N, T, D), (N, S, D)]))


def encoder(norm=True, layers=2, **kw):
    def make(lib):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return lib.nn.TransformerEncoder(enc_layer(**kw)(lib), layers, lib.nn.LayerNorm(D) if norm else None)
    return make


def decoder(norm=True, layers=2, **kw):
    return lambda lib: lib.nn.TransformerDecoder(dec_layer(**kw)(lib), layers, lib.nn.LayerNorm(D) if norm else None)


@pytest.mark.parametrize('kw', [{}, {'norm': False, 'norm_first': True}, {'batch_first': True}])
def test_encoder_stack(kw):
    em, tm = _pair(encoder(**kw))
    shape = (N, S, D) if kw.get('batch_first') else (S, N, D)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(S).numpy()  # detected as causal
    compare_module(em, tm, lambda lib, m, x: m(x, mask=lib.tensor(mask), src_key_padding_mask=_t(lib, KPM)),
                   _inputs([shape]))


def test_encoder_stack_layers_are_copies():
    em, _ = _pair(encoder())
    assert em.layers[0].linear1.weight is not em.layers[1].linear1.weight
    assert [n for n, _ in em.named_parameters()][:2] == ['layers.0.self_attn.in_proj_weight',
                                                        'layers.0.self_attn.in_proj_bias']


@pytest.mark.parametrize('batch_first', [False, True])
def test_encoder_inference_zeroes_padding_like_nested_tensors(batch_first):
    em, tm = _pair(encoder(batch_first=batch_first, norm=False))
    em.eval()
    tm.eval()
    shape = (N, S, D) if batch_first else (S, N, D)
    with torch.no_grad(), ember.no_grad():
        compare_module(em, tm, lambda lib, m, x: m(x, src_key_padding_mask=_t(lib, KPM)), _inputs([shape]),
                       grad=False)


def test_decoder_stack():
    em, tm = _pair(decoder(norm_first=True))
    tgt_mask = np.triu(np.ones((T, T), bool), 1)
    compare_module(em, tm, lambda lib, m, tgt, mem: m(tgt, mem, tgt_mask=lib.tensor(tgt_mask)),
                   _inputs([(T, N, D), (S, N, D)]))


def transformer(**kw):
    def make(lib):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return lib.nn.Transformer(D, NH, 2, 1, FF, dropout=0.0, **kw)
    return make


@pytest.mark.parametrize('kw', [{}, {'batch_first': True, 'norm_first': True, 'activation': 'gelu'}])
def test_transformer(kw):
    em, tm = _pair(transformer(**kw))
    bf = kw.get('batch_first')
    shapes = [(N, S, D), (N, T, D)] if bf else [(S, N, D), (T, N, D)]

    def call(lib, m, src, tgt):
        tgt_mask = lib.nn.Transformer.generate_square_subsequent_mask(T)
        return m(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=_t(lib, KPM),
                 memory_key_padding_mask=_t(lib, KPM))
    compare_module(em, tm, call, _inputs(shapes))


def test_transformer_unbatched_eval():
    em, tm = _pair(transformer())
    em.eval()
    tm.eval()
    compare_module(em, tm, lambda lib, m, src, tgt: m(src, tgt), _inputs([(S, D), (T, D)]))


def test_transformer_custom_encoder_decoder():
    def make(lib):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return lib.nn.Transformer(D, NH, custom_encoder=encoder(layers=1)(lib),
                                      custom_decoder=decoder(layers=1)(lib))
    em, tm = _pair(make)
    compare_module(em, tm, lambda lib, m, src, tgt: m(src, tgt), _inputs([(S, N, D), (T, N, D)]))


def test_transformer_dropout_matches_seeded_stream():
    def make(lib):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return lib.nn.Transformer(D, NH, 1, 1, FF, dropout=0.2)
    em, tm = _pair(make)

    def call(lib, m, src, tgt):
        lib.manual_seed(21)
        return m(src, tgt)
    compare_module(em, tm, call, _inputs([(S, N, D), (T, N, D)]))


@pytest.mark.parametrize('sz,dtype', [(4, None), (1, 'float64'), (0, None)])
def test_generate_square_subsequent_mask(sz, dtype):
    e = ember.nn.Transformer.generate_square_subsequent_mask(sz, dtype=getattr(ember, dtype) if dtype else None)
    t = torch.nn.Transformer.generate_square_subsequent_mask(sz, dtype=getattr(torch, dtype) if dtype else None)
    assert_close(e, t)


def test_parameter_names_repr_and_deepcopy():
    em, tm = _pair(transformer())
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert repr(em) == repr(tm)
    assert repr(copy.deepcopy(em)) == repr(em)


def test_nested_tensor_warning_and_flags():
    for lib in (torch, ember):
        layer = lib.nn.TransformerEncoderLayer(D, NH, FF)
        with pytest.warns(UserWarning, match='self.use_nested_tensor is False because encoder_layer.self_attn.'
                                             'batch_first was not True'):
            enc = lib.nn.TransformerEncoder(layer, 1)
        assert enc.use_nested_tensor is False and enc.enable_nested_tensor is True
        assert lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(D, NH, FF, batch_first=True), 1,
                                         mask_check=False).use_nested_tensor is True
    assert ember.nn.TransformerEncoderLayer(D, NH, activation='gelu').activation_relu_or_gelu == 2


@pytest.mark.parametrize('call', [
    lambda lib, m, src, tgt: m(src, tgt[:, :2]),
    lambda lib, m, src, tgt: m(src[..., :4], tgt),
    lambda lib, m, src, tgt: m(src, tgt, src_key_padding_mask=lib.ones(N, S, dtype=lib.int32)),
])
def test_transformer_errors(call):
    em, tm = _pair(transformer())
    src, tgt = _inputs([(S, N, D), (T, N, D)])
    check_raises(lambda lib, s, t: call(lib, em if lib is ember else tm, s, t), src, tgt)


def test_bad_activation_raises():
    check_raises(lambda lib: lib.nn.TransformerEncoderLayer(D, NH, activation='tanh'), match='relu/gelu')
