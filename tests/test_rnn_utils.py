"""ember.nn.utils.rnn against torch.nn.utils.rnn: packing, padding, unpadding, PackedSequence."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check, check_raises


def _seqs(lib, lengths, trailing=(2,), seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [lib.tensor(rng.uniform(-1, 1, (n,) + trailing).astype(dtype), requires_grad=dtype != np.int64)
            for n in lengths]


def _backward_same(e_out, t_out, e_leaves, t_leaves):
    w = np.random.default_rng(1).uniform(-1, 1, tuple(t_out.shape)).astype(np.float32)
    (e_out * ember.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    for a, b in zip(e_leaves, t_leaves):
        assert_close(a.grad, b.grad, what='gradient')


@pytest.mark.parametrize('lengths', [[3, 1, 4], [2], [5, 5, 2, 1]])
@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('padding_side', ['right', 'left'])
@pytest.mark.parametrize('trailing', [(2,), (), (2, 3)])
def test_pad_sequence(lengths, batch_first, padding_side, trailing):
    es, ts = _seqs(ember, lengths, trailing), _seqs(torch, lengths, trailing)
    e = ember.nn.utils.rnn.pad_sequence(es, batch_first, -2.5, padding_side)
    t = torch.nn.utils.rnn.pad_sequence(ts, batch_first, -2.5, padding_side)
    assert_close(e, t)
    _backward_same(e, t, es, ts)


def test_pad_sequence_integer_tuple_and_tensor_input():
    es, ts = _seqs(ember, [2, 3], (), dtype=np.int64), _seqs(torch, [2, 3], (), dtype=np.int64)
    es = [s * 0 + 7 for s in es]
    ts = [s * 0 + 7 for s in ts]
    assert_close(ember.nn.utils.rnn.pad_sequence(tuple(es), padding_value=1),
                 torch.nn.utils.rnn.pad_sequence(tuple(ts), padding_value=1))
    check(lambda lib, x: lib.nn.utils.rnn.pad_sequence(x), (3, 4, 2))
    check(lambda lib, x: lib.nn.utils.rnn.pad_sequence([x[:, 0], x[:2, 1]], batch_first=True), (3, 4))


def test_pad_sequence_errors():
    check_raises(lambda lib: lib.nn.utils.rnn.pad_sequence([]))
    check_raises(lambda lib: lib.nn.utils.rnn.pad_sequence(5))
    check_raises(lambda lib, x: lib.nn.utils.rnn.pad_sequence([x], padding_side='middle'), (2, 3))
    check_raises(lambda lib, x, y: lib.nn.utils.rnn.pad_sequence([x, y]), (2, 3), (2, 4))


@pytest.mark.parametrize('lengths,enforce_sorted', [([4, 3, 1], True), ([1, 4, 3, 4], False), ([2, 2], False),
                                                    ([3], True), ([2, 5, 1, 3, 4], False)])
@pytest.mark.parametrize('batch_first', [False, True])
def test_pack_padded_and_pad_packed_round_trip(lengths, enforce_sorted, batch_first):
    b, t_max = len(lengths), max(lengths) + 1
    shape = (b, t_max, 3) if batch_first else (t_max, b, 3)
    x = np.random.default_rng(2).uniform(-1, 1, shape).astype(np.float32)
    results = {}
    for lib in (ember, torch):
        rnn = lib.nn.utils.rnn
        xt = lib.tensor(x, requires_grad=True)
        lens = lengths if lib is ember else torch.tensor(lengths)
        p = rnn.pack_padded_sequence(xt, lens, batch_first=batch_first, enforce_sorted=enforce_sorted)
        padded, out_lens = rnn.pad_packed_sequence(p, batch_first=batch_first, padding_value=9.0,
                                                   total_length=t_max + 1)
        results[lib] = (xt, p, padded, out_lens)
    (ex, ep, epad, elen), (tx, tp, tpad, tlen) = results[ember], results[torch]
    assert isinstance(ep, tuple) and ep._fields == tp._fields
    assert_close(ep.data, tp.data)
    assert_close(ep.batch_sizes, tp.batch_sizes)
    for a, b_ in ((ep.sorted_indices, tp.sorted_indices), (ep.unsorted_indices, tp.unsorted_indices)):
        assert (a is None) == (b_ is None)
        if a is not None:
            assert_close(a, b_)
    assert_close(epad, tpad)
    assert_close(elen, tlen)
    _backward_same(epad, tpad, [ex], [tx])


def test_pack_sequence_unpack_and_unpad():
    for enforce_sorted, lengths in ((True, [4, 2, 1]), (False, [1, 3, 2])):
        es, ts = _seqs(ember, lengths), _seqs(torch, lengths)
        ep = ember.nn.utils.rnn.pack_sequence(es, enforce_sorted=enforce_sorted)
        tp = torch.nn.utils.rnn.pack_sequence(ts, enforce_sorted=enforce_sorted)
        assert_close(ep.data, tp.data)
        assert_close(ep.batch_sizes, tp.batch_sizes)
        eu, tu = ember.nn.utils.rnn.unpack_sequence(ep), torch.nn.utils.rnn.unpack_sequence(tp)
        assert len(eu) == len(tu) == len(lengths)
        for a, b in zip(eu, tu):
            assert_close(a, b)
        _backward_same(ember.cat(eu), torch.cat(tu), es, ts)


@pytest.mark.parametrize('batch_first', [False, True])
def test_unpad_sequence(batch_first):
    x = np.random.default_rng(3).uniform(-1, 1, (3, 4, 2)).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    lens = [3, 1, 2, 2] if not batch_first else [4, 1, 2]
    eu = ember.nn.utils.rnn.unpad_sequence(e, ember.tensor(lens) if batch_first else lens, batch_first)
    tu = torch.nn.utils.rnn.unpad_sequence(t, torch.tensor(lens), batch_first)
    assert len(eu) == len(tu)
    for a, b in zip(eu, tu):
        assert_close(a, b)
    assert tuple(e.shape) == tuple(t.shape)  # both transposed their argument in place when time-major


def test_packing_errors():
    x = (4, 3, 2)
    check_raises(lambda lib, x: lib.nn.utils.rnn.pack_padded_sequence(x, [1, 3, 2]), x,
                 match='must be sorted in decreasing order')
    check_raises(lambda lib, x: lib.nn.utils.rnn.pack_padded_sequence(x, [3, 2, 0]), x, match='greater than 0')
    check_raises(lambda lib, x: lib.nn.utils.rnn.pack_padded_sequence(x, [3, 2]), x, match='batch_size')
    check_raises(lambda lib, x: lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_padded_sequence(x, [4, 2, 1]), total_length=2), x, match='total_length=2')


def test_packed_sequence_methods():
    p = ember.nn.utils.rnn.pack_sequence(_seqs(ember, [1, 3, 2]), enforce_sorted=False)
    tp = torch.nn.utils.rnn.pack_sequence(_seqs(torch, [1, 3, 2]), enforce_sorted=False)
    assert p.is_cuda is False and p.is_pinned() is False
    d = p.double()
    assert isinstance(d, ember.nn.utils.rnn.PackedSequence) and d.data.dtype == ember.float64
    assert d.batch_sizes is p.batch_sizes and d.sorted_indices.tolist() == tp.sorted_indices.tolist()
    assert p.to(ember.float32) is p
    assert p.cpu() is p
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert unsorted_indices.tolist() == tp.unsorted_indices.tolist()
    q = ember.nn.utils.rnn.PackedSequence(data, batch_sizes, sorted_indices)
    assert q.unsorted_indices.tolist() == tp.unsorted_indices.tolist()
    r = ember.nn.utils.rnn.PackedSequence((data, batch_sizes))
    assert r.sorted_indices is None and r.unsorted_indices is None
    assert p.long().data.dtype == ember.int64 and p.half().data.dtype == ember.float16
    perm = ember.tensor([2, 0, 3, 1])
    assert ember.nn.utils.rnn.invert_permutation(perm).tolist() == \
        torch.nn.utils.rnn.invert_permutation(torch.tensor([2, 0, 3, 1])).tolist()
    assert ember.nn.utils.rnn.invert_permutation(None) is None
