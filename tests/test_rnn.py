"""RNN, LSTM, GRU and their cells against PyTorch: values, states, gradients, packing, errors."""
import itertools
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check, check_gradcheck, check_raises

KINDS = {  # name -> (class name, constructor kwargs)
    'rnn_tanh': ('RNN', {}),
    'rnn_relu': ('RNN', {'nonlinearity': 'relu'}),
    'lstm': ('LSTM', {}),
    'lstm_proj': ('LSTM', {'proj_size': 3}),
    'gru': ('GRU', {}),
}
I, H = 5, 6


def _pair(kind, seed=0, **kw):
    """The same module in both libraries: torch's seeded weights loaded into Ember's."""
    name, extra = KINDS[kind]
    torch.manual_seed(seed)
    t = getattr(torch.nn, name)(I, H, **extra, **kw)
    e = getattr(ember.nn, name)(I, H, **extra, **kw)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return e, t


def _state_shapes(mod, batch):
    dirs = 2 if mod.bidirectional else 1
    out = mod.proj_size if getattr(mod, 'proj_size', 0) else mod.hidden_size
    shapes = [(mod.num_layers * dirs, batch, out)]
    if isinstance(mod, torch.nn.LSTM):
        shapes.append((mod.num_layers * dirs, batch, mod.hidden_size))
    return shapes


def _tensors(lib, arrays):
    return [lib.tensor(a.copy(), requires_grad=True) for a in arrays]


def _flat(o):
    if isinstance(o, (tuple, list)):
        return [y for z in o for y in _flat(z)]
    return [o]


def _compare_run(e, t, e_in, t_in, e_out, t_out, rtol=1e-4, atol=1e-5):
    """Compare outputs, then gradients of inputs and parameters after the same weighted-sum backward."""
    ef, tf = _flat(e_out), _flat(t_out)
    assert len(ef) == len(tf)
    rng = np.random.default_rng(7)
    e_loss, t_loss = 0, 0
    for k, (a, b) in enumerate(zip(ef, tf)):
        assert_close(a, b, rtol, atol, what=f'output {k}')
        w = rng.uniform(-1, 1, tuple(b.shape)).astype(np.float32)
        e_loss = e_loss + (a * ember.tensor(w)).sum()
        t_loss = t_loss + (b * torch.tensor(w)).sum()
    e_loss.backward()
    t_loss.backward()
    for k, (a, b) in enumerate(zip(e_in, t_in)):
        assert_close(a.grad, b.grad, rtol, atol, what=f'grad of input {k}')
    for (name, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert_close(pe.grad, pt.grad, rtol, atol, what=f'grad of {name}')


CONFIGS = list(itertools.product(KINDS, (1, 2), (False, True), (False, True), (False, True)))


@pytest.mark.parametrize('kind,num_layers,bidirectional,batch_first,bias', CONFIGS)
def test_layer_matches_torch(kind, num_layers, bidirectional, batch_first, bias):
    e, t = _pair(kind, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    seq, batch = 4, 3
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (batch, seq, I) if batch_first else (seq, batch, I)).astype(np.float32)
    states = [rng.uniform(-1, 1, s).astype(np.float32) for s in _state_shapes(t, batch)]
    e_in, t_in = _tensors(ember, [x] + states), _tensors(torch, [x] + states)
    if kind.startswith('lstm'):
        e_out, t_out = e(e_in[0], tuple(e_in[1:])), t(t_in[0], tuple(t_in[1:]))
    else:
        e_out, t_out = e(e_in[0], e_in[1]), t(t_in[0], t_in[1])
    _compare_run(e, t, e_in, t_in, e_out, t_out)


@pytest.mark.parametrize('kind', list(KINDS))
def test_default_initial_state_and_noncontiguous_input(kind):
    e, t = _pair(kind, num_layers=2, bidirectional=True)
    x = np.random.default_rng(2).uniform(-1, 1, (3, 5, 2 * I)).astype(np.float32)
    e_in, t_in = _tensors(ember, [x]), _tensors(torch, [x])
    # a strided view: every other feature of a time-major batch
    _compare_run(e, t, e_in, t_in, e(e_in[0][:, :, ::2]), t(t_in[0][:, :, ::2]))


@pytest.mark.parametrize('kind', list(KINDS))
@pytest.mark.parametrize('with_state', [False, True])
def test_unbatched_input(kind, with_state):
    e, t = _pair(kind, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (4, I)).astype(np.float32)
    states = [rng.uniform(-1, 1, s[:1] + s[2:]).astype(np.float32) for s in _state_shapes(t, 1)]
    arrays = [x] + (states if with_state else [])
    e_in, t_in = _tensors(ember, arrays), _tensors(torch, arrays)

    def run(m, ins):
        if not with_state:
            return m(ins[0])
        return m(ins[0], tuple(ins[1:]) if kind.startswith('lstm') else ins[1])
    e_out, t_out = run(e, e_in), run(t, t_in)
    assert tuple(e_out[0].shape) == tuple(t_out[0].shape) == (4, 2 * (3 if kind == 'lstm_proj' else H))
    _compare_run(e, t, e_in, t_in, e_out, t_out)


@pytest.mark.parametrize('kind', list(KINDS))
@pytest.mark.parametrize('batch_first', [False, True])
def test_packed_sequence_with_unsorted_lengths(kind, batch_first):
    e, t = _pair(kind, num_layers=2, bidirectional=True, batch_first=batch_first)
    lengths = [3, 5, 1, 5, 2]
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (5, 5, I)).astype(np.float32)  # (T, B, I) or (B, T, I): square on purpose
    states = [rng.uniform(-1, 1, s).astype(np.float32) for s in _state_shapes(t, 5)]
    e_in, t_in = _tensors(ember, [x] + states), _tensors(torch, [x] + states)
    outs = []
    for lib, m, ins in ((ember, e, e_in), (torch, t, t_in)):
        rnn = lib.nn.utils.rnn
        packed = rnn.pack_padded_sequence(ins[0], lengths, batch_first=batch_first, enforce_sorted=False)
        hx = tuple(ins[1:]) if kind.startswith('lstm') else ins[1]
        out, hidden = m(packed, hx)
        assert isinstance(out, rnn.PackedSequence)
        assert out.sorted_indices.tolist() == packed.sorted_indices.tolist()
        padded, lens = rnn.pad_packed_sequence(out, batch_first=batch_first, padding_value=-1.0)
        assert lens.tolist() == lengths
        outs.append((padded, hidden, out.data))
    _compare_run(e, t, e_in, t_in, outs[0], outs[1])


def test_packed_sequence_without_initial_state_and_sorted():
    e, t = _pair('lstm', num_layers=2)
    x = np.random.default_rng(5).uniform(-1, 1, (4, 3, I)).astype(np.float32)
    e_in, t_in = _tensors(ember, [x]), _tensors(torch, [x])
    e_out = e(ember.nn.utils.rnn.pack_padded_sequence(e_in[0], [4, 2, 2]))
    t_out = t(torch.nn.utils.rnn.pack_padded_sequence(t_in[0], [4, 2, 2]))
    assert e_out[0].sorted_indices is None and e_out[0].batch_sizes.tolist() == [3, 3, 1, 1]
    _compare_run(e, t, e_in, t_in, (e_out[0].data, e_out[1]), (t_out[0].data, t_out[1]))


@pytest.mark.parametrize('kind', ['lstm', 'gru', 'rnn_tanh'])
def test_dropout_between_layers_matches_torch_under_the_same_seed(kind):
    e, t = _pair(kind, num_layers=3, dropout=0.5, bidirectional=True)
    x = np.random.default_rng(6).uniform(-1, 1, (4, 3, I)).astype(np.float32)
    e_in, t_in = _tensors(ember, [x]), _tensors(torch, [x])
    ember.manual_seed(11)
    torch.manual_seed(11)
    e_out, t_out = e(e_in[0]), t(t_in[0])
    _compare_run(e, t, e_in, t_in, e_out, t_out)
    # evaluation mode: no dropout, deterministic
    e.eval()
    first = e(e_in[0])[0].detach().numpy()
    np.testing.assert_array_equal(first, e(e_in[0])[0].detach().numpy())


@pytest.mark.parametrize('name,kw', [('RNN', {}), ('RNN', {'nonlinearity': 'relu', 'num_layers': 2}),
                                     ('LSTM', {'num_layers': 2, 'bidirectional': True}),
                                     ('LSTM', {'proj_size': 2, 'bias': False}), ('GRU', {'bidirectional': True})])
def test_seeded_init_state_dict_and_metadata(name, kw):
    torch.manual_seed(3)
    t = getattr(torch.nn, name)(4, 5, **kw)
    ember.manual_seed(3)
    e = getattr(ember.nn, name)(4, 5, **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    for (k, a), b in zip(e.state_dict().items(), t.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    assert e._flat_weights_names == t._flat_weights_names
    assert [[tuple(p.shape) for p in ws] for ws in e.all_weights] == \
        [[tuple(p.shape) for p in ws] for ws in t.all_weights]
    assert repr(e) == repr(t)
    assert e.flatten_parameters() is None
    e.double()
    assert all(p.dtype == ember.float64 for p in e._flat_weights)


@pytest.mark.parametrize('name,extra', [('RNNCell', {}), ('RNNCell', {'nonlinearity': 'relu'}), ('LSTMCell', {}),
                                        ('GRUCell', {}), ('GRUCell', {'bias': False}), ('LSTMCell', {'bias': False})])
@pytest.mark.parametrize('batched', [True, False])
@pytest.mark.parametrize('with_state', [True, False])
def test_cells_match_torch(name, extra, batched, with_state):
    torch.manual_seed(5)
    t = getattr(torch.nn, name)(I, H, **extra)
    ember.manual_seed(5)
    e = getattr(ember.nn, name)(I, H, **extra)
    for pe, pt in zip(e.parameters(), t.parameters()):
        np.testing.assert_array_equal(pe.detach().numpy(), pt.detach().numpy())
    assert repr(e) == repr(t)
    rng = np.random.default_rng(8)
    lead = (3,) if batched else ()
    arrays = [rng.uniform(-1, 1, lead + (I,)).astype(np.float32)]
    if with_state:
        arrays += [rng.uniform(-1, 1, lead + (H,)).astype(np.float32) for _ in range(2 if name == 'LSTMCell' else 1)]
    e_in, t_in = _tensors(ember, arrays), _tensors(torch, arrays)

    def run(m, ins):
        if not with_state:
            return m(ins[0])
        return m(ins[0], tuple(ins[1:]) if name == 'LSTMCell' else ins[1])
    _compare_run(e, t, e_in, t_in, run(e, e_in), run(t, t_in))


CELL_FNS = [
    lambda lib, x, h, wi, wh, bi, bh: lib.rnn_tanh_cell(x, h, wi, wh, bi, bh),
    lambda lib, x, h, wi, wh, bi, bh: lib.rnn_relu_cell(x, h, wi, wh, bi, bh),
    lambda lib, x, h, wi, wh, bi, bh: lib.rnn_tanh_cell(x, h, wi, wh),
]


@pytest.mark.parametrize('fn', CELL_FNS)
def test_functional_cells(fn):
    check(fn, (3, 4), (3, 5), (5, 4), (5, 5), (5,), (5,))
    check_gradcheck(fn, (2, 3), (2, 4), (4, 3), (4, 4), (4,), (4,), low=-1, high=1)


def test_functional_gated_cells():
    check(lambda lib, x, h, c, wi, wh, bi, bh: lib.lstm_cell(x, (h, c), wi, wh, bi, bh),
          (3, 4), (3, 5), (3, 5), (20, 4), (20, 5), (20,), (20,))
    check(lambda lib, x, h, wi, wh, bi, bh: lib.gru_cell(x, h, wi, wh, bi, bh),
          (3, 4), (3, 5), (15, 4), (15, 5), (15,), (15,))
    check(lambda lib, x, h, c, wi, wh: lib.lstm_cell(x.t(), (h, c), wi, wh), (4, 3), (3, 5), (3, 5), (20, 4), (20, 5))


@pytest.mark.parametrize('which', ['b_ih', 'b_hh'])
def test_functional_cells_with_one_bias(which):
    def bias(b):
        return (b, None) if which == 'b_ih' else (None, b)
    check(lambda lib, x, h, c, wi, wh, b: lib.lstm_cell(x, (h, c), wi, wh, *bias(b)),
          (3, 4), (3, 5), (3, 5), (20, 4), (20, 5), (20,))
    check(lambda lib, x, h, wi, wh, b: lib.gru_cell(x, h, wi, wh, *bias(b)), (3, 4), (3, 5), (15, 4), (15, 5), (15,))
    check(lambda lib, x, h, wi, wh, b: lib.rnn_tanh_cell(x, h, wi, wh, *bias(b)), (3, 4), (3, 5), (5, 4), (5, 5), (5,))


@pytest.mark.parametrize('name', ['lstm', 'gru'])
def test_gated_cells_gradcheck_and_gradgradcheck(name):
    if name == 'lstm':
        check_gradcheck(lambda lib, x, h, c, wi, wh, bi, bh: lib.lstm_cell(x, (h, c), wi, wh, bi, bh),
                        (2, 3), (2, 2), (2, 2), (8, 3), (8, 2), (8,), (8,), low=-1, high=1)
    else:
        check_gradcheck(lambda lib, x, h, wi, wh, bi, bh: lib.gru_cell(x, h, wi, wh, bi, bh),
                        (2, 3), (2, 2), (6, 3), (6, 2), (6,), (6,), low=-1, high=1)


@pytest.mark.parametrize('mode', ['lstm', 'lstm_proj', 'gru', 'rnn_tanh', 'rnn_relu'])
def test_two_layer_gradcheck(mode):
    """Bidirectional 2-layer stack over packed rows (lengths 3 and 1), float64."""
    fn = getattr(ember, mode.replace('_proj', ''))
    dirs, hidden, inp = 2, 3, 2
    gates = {'lstm': 4, 'lstm_proj': 4, 'gru': 3}.get(mode, 1)
    out_size = 2 if mode == 'lstm_proj' else hidden
    shapes = []
    for layer in range(2):
        for _ in range(dirs):
            shapes += [(gates * hidden, inp if layer == 0 else dirs * out_size), (gates * hidden, out_size),
                       (gates * hidden,), (gates * hidden,)] + ([(out_size, hidden)] if mode == 'lstm_proj' else [])
    states = [(4, 2, out_size)] + ([(4, 2, hidden)] if mode.startswith('lstm') else [])
    batch_sizes = ember.tensor([2, 1, 1])

    def f(lib, x, *rest):
        hx = tuple(rest[:len(states)]) if mode.startswith('lstm') else rest[0]
        res = fn(x, batch_sizes, hx, list(rest[len(states):]), True, 2, 0.0, False, True)
        return tuple(res)
    low, high = (0.1, 1) if mode == 'rnn_relu' else (-1, 1)  # away from relu's kink
    check_gradcheck(f, (4, inp), *states, *shapes, low=low, high=high, gradgrad=False, fast_mode=True)
    # second order through the composed fallback, w.r.t. the input, the states and the first weights
    n_first = 2

    def f2(lib, x, *rest):
        fixed = [ember.tensor(np.random.default_rng(k).uniform(-1, 1, s)) for k, s in
                 enumerate(shapes[n_first:])]
        hx = tuple(rest[:len(states)]) if mode.startswith('lstm') else rest[0]
        return tuple(fn(x, batch_sizes, hx, list(rest[len(states):]) + fixed, True, 2, 0.0, False, True))
    check_gradcheck(f2, (4, inp), *states, *shapes[:n_first], low=low, high=high, fast_mode=True)


def test_double_backward_matches_torch():
    e, t = _pair('lstm', num_layers=2)
    x = np.random.default_rng(10).uniform(-1, 1, (3, 2, I)).astype(np.float32)
    e_in, t_in = _tensors(ember, [x]), _tensors(torch, [x])
    for lib, m, ins in ((ember, e, e_in), (torch, t, t_in)):
        out, _ = m(ins[0])
        (gx,) = lib.autograd.grad(out.pow(2).sum(), ins[0], create_graph=True)
        gx.pow(2).sum().backward()
    assert_close(e_in[0].grad, t_in[0].grad, 1e-4, 1e-5)
    for (name, pe), pt in zip(e.named_parameters(), t.parameters()):
        assert_close(pe.grad, pt.grad, 1e-4, 1e-5, what=name)


def test_long_sequence_backward():
    """1,000 steps: one node per layer (no deep recursion), gradients equal to torch's."""
    e, t = _pair('lstm', num_layers=2)
    x = np.random.default_rng(11).uniform(-1, 1, (1000, 2, I)).astype(np.float32)
    e_in, t_in = _tensors(ember, [x]), _tensors(torch, [x])
    e_out, t_out = e(e_in[0]), t(t_in[0])
    _compare_run(e, t, e_in, t_in, e_out, t_out, rtol=1e-3, atol=1e-5)


def test_no_graph_without_grad_and_saved_weight_modified():
    e, _ = _pair('gru')
    x = ember.ones(3, 2, I)
    with ember.no_grad():
        out, h = e(x)
    assert out.grad_fn is None and not out.requires_grad
    out, h = e(x)
    with ember.no_grad():
        e.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        out.sum().backward()


def test_only_final_state_used():
    e, t = _pair('lstm', num_layers=2, bidirectional=True)
    x = np.random.default_rng(12).uniform(-1, 1, (4, 2, I)).astype(np.float32)
    e_in, t_in = _tensors(ember, [x]), _tensors(torch, [x])
    _compare_run(e, t, e_in, t_in, e(e_in[0])[1][1], t(t_in[0])[1][1])


def test_functional_layers():
    rng = np.random.default_rng(13)
    arrays = [rng.uniform(-1, 1, s).astype(np.float32) for s in [(4, 2, 3), (2, 2, 5), (2, 2, 5), (20, 3), (20, 5),
                                                                  (20,), (20,), (20, 3), (20, 5), (20,), (20,)]]
    check(lambda lib, x, h, c, *w: lib.lstm(x, (h, c), list(w), True, 1, 0.0, False, True, False), *arrays)
    check(lambda lib, x, h, c, *w: lib.gru(x, h, [v[:15] for v in w], True, 1, 0.0, False, True, False),
          *arrays)


CTOR_ERRORS = [
    lambda nn: nn.GRU(3, 4, proj_size=2),
    lambda nn: nn.RNN(3, 4, proj_size=2),
    lambda nn: nn.RNN(3, 4, nonlinearity='sigmoid'),
    lambda nn: nn.LSTM(3, 4, proj_size=4),
    lambda nn: nn.LSTM(3, 4, proj_size=-1),
    lambda nn: nn.LSTM(3, 4, dropout=1.5),
    lambda nn: nn.LSTM(3, 4, dropout=True),
    lambda nn: nn.LSTM(3, 0),
    lambda nn: nn.LSTM(0, 4),
    lambda nn: nn.LSTM(3, 4, num_layers=0),
    lambda nn: nn.LSTM(3, 4, bias=1),
    lambda nn: nn.LSTM(3, 4, batch_first=None),
    lambda nn: nn.LSTM(3.0, 4),
]


@pytest.mark.parametrize('make', CTOR_ERRORS)
def test_constructor_errors(make):
    with pytest.raises(Exception) as te:
        make(torch.nn)
    with pytest.raises(type(te.value)) as ee:
        make(ember.nn)
    assert str(ee.value) == str(te.value)


def test_dropout_warning_with_one_layer():
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match='non-zero dropout expects num_layers greater than 1'):
            lib.nn.LSTM(3, 4, dropout=0.2)


def _module(lib, name, **kw):
    lib.manual_seed(0)
    return getattr(lib.nn, name)(3, 4, **kw)


FORWARD_ERRORS = [  # (module name, kwargs, forward call)
    ('LSTM', {}, lambda lib, m: m(lib.ones(2, 3, 3, 1))),
    ('GRU', {}, lambda lib, m: m(lib.ones(3))),
    ('RNN', {}, lambda lib, m: m(lib.ones(3))),
    ('LSTM', {}, lambda lib, m: m(lib.ones(2, 3, 5))),
    ('GRU', {}, lambda lib, m: m(lib.ones(2, 3, 3), lib.zeros(1, 2, 4))),
    ('GRU', {}, lambda lib, m: m(lib.ones(2, 3, 3), lib.zeros(2, 4))),
    ('RNN', {}, lambda lib, m: m(lib.ones(2, 3), lib.zeros(1, 1, 4))),
    ('LSTM', {}, lambda lib, m: m(lib.ones(2, 3, 3), (lib.zeros(1, 3, 4), lib.zeros(1, 3, 5)))),
    ('LSTM', {}, lambda lib, m: m(lib.ones(2, 3, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 3, 4)))),
    ('LSTM', {}, lambda lib, m: m(lib.ones(2, 3, 3), (lib.zeros(3, 4), lib.zeros(1, 3, 4)))),
    ('LSTM', {}, lambda lib, m: m(lib.ones(2, 3), (lib.zeros(1, 1, 4), lib.zeros(1, 4)))),
    ('LSTM', {'proj_size': 2}, lambda lib, m: m(lib.ones(2, 3, 3), (lib.zeros(1, 3, 4), lib.zeros(1, 3, 4)))),
    ('LSTM', {}, lambda lib, m: m(lib.ones(2, 3, 3, dtype=lib.float64))),
    ('LSTMCell', {}, lambda lib, m: m(lib.ones(2, 3, 3))),
    ('LSTMCell', {}, lambda lib, m: m(lib.ones(2, 3), (lib.zeros(2, 1, 4), lib.zeros(2, 4)))),
    ('GRUCell', {}, lambda lib, m: m(lib.ones(2, 3), lib.zeros(2, 1, 4))),
    ('RNNCell', {}, lambda lib, m: m(lib.ones(2, 2, 3))),
    ('RNNCell', {}, lambda lib, m: m(lib.ones(2, 5))),
    ('GRUCell', {}, lambda lib, m: m(lib.ones(2, 3), lib.zeros(3, 4))),
    ('LSTMCell', {}, lambda lib, m: m(lib.ones(2, 3), (lib.zeros(2, 5), lib.zeros(2, 4)))),
]


@pytest.mark.parametrize('name,kw,call', FORWARD_ERRORS)
def test_forward_errors(name, kw, call):
    with pytest.raises(Exception) as te:
        call(torch, _module(torch, name, **kw))
    with pytest.raises(type(te.value)) as ee:
        call(ember, _module(ember, name, **kw))
    if 'size' in str(te.value) or 'Expected' in str(te.value) or 'dtype' in str(te.value):
        assert str(ee.value).replace('ember', 'torch') == str(te.value), (ee.value, te.value)


def test_functional_cell_errors():
    check_raises(lambda lib, x, h, wi, wh: lib.rnn_tanh_cell(x, h, wi, wh), (2, 3), (2, 4), (4, 5), (4, 4))
    check_raises(lambda lib, x, h, wi, wh: lib.gru_cell(x, h, wi, wh), (2, 3), (3, 4), (12, 3), (12, 4))


def test_module_training_step_reduces_loss():
    ember.manual_seed(0)
    m = ember.nn.LSTM(3, 8, num_layers=2, batch_first=True)
    head = ember.nn.Linear(8, 1)
    opt = ember.optim.Adam(list(m.parameters()) + list(head.parameters()), lr=0.05)
    x = ember.randn(4, 6, 3)
    y = x.sum(1)[:, :1]
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        for _ in range(30):
            opt.zero_grad()
            out, _ = m(x)
            loss = ((head(out[:, -1]) - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
