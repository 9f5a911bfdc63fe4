"""Shape ops, joins and padding against PyTorch: values, dtypes, gradients, layouts of views,
PyTorch's errors, and float64 gradcheck/gradgradcheck."""
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import check, check_gradcheck, check_raises

# ---- views: values, gradients and layout ------------------------------------------------------

VIEWS = [
    ('view', lambda lib, x: x.view(4, 6), (2, 3, 4)),
    ('view_infer', lambda lib, x: x.view(-1, 3), (2, 3, 4)),
    ('view_size', lambda lib, x: x.view(lib.Size([6, 4])), (2, 3, 4)),
    ('view_0d', lambda lib, x: x.view(1, 1), ()),
    ('view_empty', lambda lib, x: x.view(3, 0), (0, 3)),
    ('view_noncontig_ok', lambda lib, x: x[:, ::2].view(2, 1, 2, 4), (2, 4, 4)),
    ('reshape_view', lambda lib, x: x.reshape(6, 4), (2, 3, 4)),
    ('reshape_copy', lambda lib, x: x.t().reshape(-1), (3, 4)),
    ('reshape_as', lambda lib, x: x.reshape_as(x.view(12)), (3, 4)),
    ('view_as', lambda lib, x: x.view_as(x.view(12)), (3, 4)),
    ('ravel', lambda lib, x: x.ravel(), (3, 4)),
    ('ravel_t', lambda lib, x: x.t().ravel(), (3, 4)),
    ('flatten', lambda lib, x: x.flatten(), (2, 3, 4)),
    ('flatten_mid', lambda lib, x: x.flatten(1, 2), (2, 3, 4)),
    ('flatten_0d', lambda lib, x: x.flatten(), ()),
    ('flatten_noop', lambda lib, x: x.flatten(1, 1), (2, 3)),
    ('unflatten', lambda lib, x: x.unflatten(1, (2, -1)), (3, 4)),
    ('unflatten_neg', lambda lib, x: x.unflatten(-1, (2, 2)), (3, 4)),
    ('transpose', lambda lib, x: x.transpose(0, 2), (2, 3, 4)),
    ('transpose_neg', lambda lib, x: x.transpose(-1, -2), (2, 3, 4)),
    ('transpose_0d', lambda lib, x: x.transpose(0, -1), ()),
    ('swapaxes', lambda lib, x: lib.swapaxes(x, 0, 1), (2, 3)),
    ('swapdims', lambda lib, x: x.swapdims(1, 0), (2, 3)),
    ('t', lambda lib, x: x.t(), (2, 3)),
    ('t_1d', lambda lib, x: x.t(), (3,)),
    ('t_0d', lambda lib, x: lib.t(x), ()),
    ('T', lambda lib, x: x.T, (2, 3)),
    ('mT', lambda lib, x: x.mT, (2, 3, 4)),
    ('mH', lambda lib, x: x.mH, (2, 3, 4)),
    ('H', lambda lib, x: x.H, (3, 4)),
    ('adjoint', lambda lib, x: x.adjoint(), (2, 3, 4)),
    ('permute', lambda lib, x: x.permute(2, 0, 1), (2, 3, 4)),
    ('permute_tuple', lambda lib, x: x.permute((1, -1, 0)), (2, 3, 4)),
    ('movedim', lambda lib, x: x.movedim(0, -1), (2, 3, 4)),
    ('movedim_tuple', lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), (2, 3, 4)),
    ('moveaxis', lambda lib, x: lib.moveaxis(x, -1, 0), (2, 3, 4)),
    ('expand', lambda lib, x: x.expand(2, 3, 4), (3, 1)),
    ('expand_neg', lambda lib, x: x.expand(-1, 5), (3, 1)),
    ('expand_0d', lambda lib, x: x.expand(2, 2), ()),
    ('expand_as', lambda lib, x: x.expand_as(lib.zeros(4, 3, 2)), (3, 1)),
    ('broadcast_to', lambda lib, x: lib.broadcast_to(x, (2, 3, 4)), (1, 4)),
    ('squeeze', lambda lib, x: x.squeeze(), (1, 3, 1, 2)),
    ('squeeze_dim', lambda lib, x: x.squeeze(2), (1, 3, 1, 2)),
    ('squeeze_dim_nonone', lambda lib, x: x.squeeze(1), (1, 3, 1, 2)),
    ('squeeze_tuple', lambda lib, x: x.squeeze((0, -2)), (1, 3, 1, 2)),
    ('squeeze_0d', lambda lib, x: x.squeeze(0), ()),
    ('unsqueeze', lambda lib, x: x.unsqueeze(1), (2, 3)),
    ('unsqueeze_neg', lambda lib, x: x.unsqueeze(-1), (2, 3)),
    ('unsqueeze_0d', lambda lib, x: x.unsqueeze(0), ()),
    ('narrow', lambda lib, x: x.narrow(1, 1, 2), (2, 4)),
    ('narrow_neg', lambda lib, x: x.narrow(-1, -3, 2), (2, 4)),
    ('narrow_tensor_start', lambda lib, x: x.narrow(0, lib.tensor(1), 1), (2, 4)),
    ('select', lambda lib, x: x.select(1, 2), (2, 4)),
    ('select_neg', lambda lib, x: x.select(0, -1), (2, 4)),
    ('diagonal', lambda lib, x: x.diagonal(), (3, 4)),
    ('diagonal_off', lambda lib, x: x.diagonal(1), (3, 4)),
    ('diagonal_neg_off', lambda lib, x: x.diagonal(-1), (3, 4)),
    ('diagonal_dims', lambda lib, x: x.diagonal(0, 2, 0), (3, 2, 4)),
    ('diagonal_empty', lambda lib, x: lib.diagonal(x, 5), (3, 4)),
    ('as_strided', lambda lib, x: x.as_strided((2, 2), (1, 2)), (3, 4)),
    ('as_strided_off', lambda lib, x: x.as_strided((3, 2), (4, 1), 1), (3, 4)),
    ('as_strided_overlap', lambda lib, x: lib.as_strided(x, (3, 3), (1, 1)), (3, 4)),
    ('as_strided_of_view', lambda lib, x: x[1:].as_strided((2,), (2,)), (3, 4)),
    ('unfold', lambda lib, x: x.unfold(1, 2, 1), (3, 4)),
    ('unfold_step', lambda lib, x: x.unfold(0, 2, 2), (5, 3)),
    ('unfold_0d', lambda lib, x: x.unfold(0, 1, 1), ()),
    ('atleast_1d', lambda lib, x: lib.atleast_1d(x), ()),
    ('atleast_2d', lambda lib, x: lib.atleast_2d(x), (3,)),
    ('atleast_3d_1d', lambda lib, x: lib.atleast_3d(x), (3,)),
    ('atleast_3d_2d', lambda lib, x: lib.atleast_3d(x), (2, 3)),
    ('atleast_3d_many', lambda lib, x: lib.atleast_3d(x, x[0], x[0, 0]), (2, 3)),
    ('atleast_2d_list', lambda lib, x: lib.atleast_2d([x, x[0]]), (2, 3)),
    ('unbind', lambda lib, x: x.unbind(1), (2, 3)),
    ('unbind_partial_grad', lambda lib, x: x.unbind(0)[1], (3, 2)),
    ('split', lambda lib, x: x.split(2), (5, 3)),
    ('split_sizes', lambda lib, x: x.split([1, 3, 1], 0), (5, 3)),
    ('split_dim', lambda lib, x: lib.split(x, 2, dim=-1), (2, 5)),
    ('split_one_output_used', lambda lib, x: x.split(2)[1], (5, 3)),
    ('chunk', lambda lib, x: x.chunk(3), (5, 3)),
    ('chunk_more_than_size', lambda lib, x: x.chunk(4, 1), (2, 3)),
    ('tensor_split', lambda lib, x: x.tensor_split(3), (7, 2)),
    ('tensor_split_idx', lambda lib, x: x.tensor_split([1, 5], 0), (7, 2)),
    ('tensor_split_tensor', lambda lib, x: x.tensor_split(lib.tensor([2, 3]), 1), (2, 7)),
    ('hsplit', lambda lib, x: lib.hsplit(x, 2), (3, 4)),
    ('vsplit', lambda lib, x: lib.vsplit(x, [1]), (3, 4)),
    ('dsplit', lambda lib, x: lib.dsplit(x, 2), (2, 3, 4)),
]


def _layout_matches(e, t):
    for ev, tv in zip(e if isinstance(e, tuple) else (e,), t if isinstance(t, tuple) else (t,)):
        assert ev.stride() == tv.stride(), f'stride {ev.stride()} != torch {tv.stride()}'
        assert ev.storage_offset() == tv.storage_offset(), \
            f'storage_offset {ev.storage_offset()} != torch {tv.storage_offset()}'
        assert ev.is_contiguous() == tv.is_contiguous()


@pytest.mark.parametrize('name,fn,shape', VIEWS, ids=[v[0] for v in VIEWS])
def test_view_ops(name, fn, shape):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        e, t = check(fn, shape)
    _layout_matches(e, t)


def _storage_ptr(t):
    if isinstance(t, torch.Tensor):
        return t.untyped_storage().data_ptr()
    from ember.ops._views import storage_root
    return storage_root(t._data).__array_interface__['data'][0]


@pytest.mark.parametrize('name,fn,shape', VIEWS, ids=[v[0] for v in VIEWS])
def test_view_ops_share_memory(name, fn, shape):
    """Every output is a view exactly when PyTorch's is, sharing the version counter."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        outs = []
        for lib in (ember, torch):
            x = lib.tensor(np.arange(float(np.prod(shape, dtype=int))).reshape(shape))
            r = fn(lib, x)
            rs = r if isinstance(r, tuple) else (r,)
            outs.append([(o is x, o._base is x, _storage_ptr(o) == _storage_ptr(x)) for o in rs if o.numel()])
            x.add_(1)
            assert all(o._version == x._version for o in rs if o._base is x)
    assert outs[0] == outs[1]


@pytest.mark.parametrize('name,fn,shape', [v for v in VIEWS if not v[0].endswith('0d')],
                         ids=[v[0] for v in VIEWS if not v[0].endswith('0d')])
def test_view_ops_noncontiguous_input(name, fn, shape):
    """The same ops on a transposed or strided input (``x`` is a view of a larger tensor)."""
    big = tuple(s * 2 for s in shape)

    def strided(lib, x):
        return fn(lib, (x * 1)[tuple(slice(None, None, 2) for _ in shape)])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        try:
            strided(torch, torch.zeros(big))
        except RuntimeError:  # invalid on this layout (``view``): Ember must agree
            check_raises(strided, big)
            return
        check(strided, big)


@pytest.mark.parametrize('name,fn,shape', VIEWS[:60], ids=[v[0] for v in VIEWS[:60]])
def test_view_ops_int(name, fn, shape):
    check(fn, np.asarray(np.arange(int(np.prod(shape, dtype=int)), dtype=np.int64).reshape(shape)), grad=False)


def test_view_transposed_layouts():
    for fn in (lambda lib, x: x.t().t(), lambda lib, x: x.t()[1:, ::2].unsqueeze(0),
               lambda lib, x: x.permute(1, 0).expand(2, 4, 3)[1], lambda lib, x: x.t().diagonal(),
               lambda lib, x: x.t().unfold(0, 2, 2), lambda lib, x: x[1:].t().as_strided((2, 2), (4, 1))):
        e, t = check(fn, (3, 4))
        _layout_matches(e, t)


# ---- view(dtype) -------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', ['int32', 'float32', 'int16', 'float64', 'uint8', 'bool', 'float16'])
def test_view_dtype(dtype):
    for lib in (ember, torch):
        x = lib.arange(24, dtype=lib.float32).reshape(2, 12) / 7
        if dtype in ('float64',):
            x = x[:, :8]
        v = x.view(getattr(lib, dtype))
        if lib is ember:
            ev, ex = v, x
        else:
            tv = v
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())
    assert ev.stride() == tv.stride() and ev.shape == tv.shape
    assert ev.data_ptr() == ex.data_ptr()
    assert ev._base is None and not ev.requires_grad
    ex[0, 0] = 5.0
    assert ev._version == ex._version == 1


@pytest.mark.parametrize('fn', [
    lambda lib, x: x.view(lib.float64),
    lambda lib, x: x.t().view(lib.float64),
    lambda lib, x: x[:, :2].view(lib.float64),
    lambda lib, x: x[0, 0].view(lib.float64),
    lambda lib, x: x.view(-1)[1:].view(lib.float64),
])
def test_view_dtype_errors(fn):
    check_raises(fn, (2, 3))


# ---- copies ------------------------------------------------------------------------------------

COPIES = [
    ('flip', lambda lib, x: x.flip(0), (3, 4)),
    ('flip_many', lambda lib, x: x.flip(0, 2), (2, 3, 4)),
    ('flip_list', lambda lib, x: lib.flip(x, [-1]), (2, 3, 4)),
    ('flip_0d', lambda lib, x: x.flip([]), ()),
    ('fliplr', lambda lib, x: lib.fliplr(x), (3, 4)),
    ('flipud', lambda lib, x: x.flipud(), (3, 4)),
    ('roll', lambda lib, x: x.roll(1), (3, 4)),
    ('roll_dim', lambda lib, x: x.roll(-1, 1), (3, 4)),
    ('roll_many', lambda lib, x: lib.roll(x, (1, 2), (0, 1)), (3, 4)),
    ('rot90', lambda lib, x: x.rot90(), (3, 4)),
    ('rot90_k', lambda lib, x: x.rot90(3, (1, 2)), (2, 3, 4)),
    ('rot90_neg', lambda lib, x: lib.rot90(x, -2, [0, 1]), (3, 4)),
    ('repeat', lambda lib, x: x.repeat(2, 3), (2, 3)),
    ('repeat_lead', lambda lib, x: x.repeat(2, 1, 3), (2, 3)),
    ('repeat_0d', lambda lib, x: x.repeat(3), ()),
    ('repeat_zero', lambda lib, x: x.repeat(0, 2), (2, 3)),
    ('tile', lambda lib, x: x.tile((2,)), (2, 3)),
    ('tile_more', lambda lib, x: lib.tile(x, (2, 1, 2)), (2, 3)),
    ('repeat_interleave', lambda lib, x: x.repeat_interleave(2), (2, 3)),
    ('repeat_interleave_dim', lambda lib, x: x.repeat_interleave(2, dim=1), (2, 3)),
    ('repeat_interleave_tensor', lambda lib, x: lib.repeat_interleave(x, lib.tensor([1, 0, 2]), dim=0), (3, 2)),
    ('repeat_interleave_1el', lambda lib, x: x.repeat_interleave(lib.tensor([2]), dim=0), (3, 2)),
    ('repeat_interleave_0d', lambda lib, x: x.repeat_interleave(3), ()),
    ('tril', lambda lib, x: x.tril(), (3, 4)),
    ('tril_diag', lambda lib, x: lib.tril(x, -1), (2, 3, 4)),
    ('triu', lambda lib, x: x.triu(1), (3, 4)),
    ('triu_neg', lambda lib, x: lib.triu(x, diagonal=-2), (4, 3)),
    ('tril_inplace', lambda lib, x: (x * 1).tril_(1), (3, 4)),
    ('triu_inplace', lambda lib, x: (x * 1).triu_(), (3, 4)),
    ('broadcast_tensors', lambda lib, x, y: lib.broadcast_tensors(x, y), (3, 1), (4,)),
    ('expand_copy', lambda lib, x: lib.expand_copy(x, (2, 3)), (3,)),
]
COPIES = [(c[0], c[1], list(c[2:])) for c in COPIES]


@pytest.mark.parametrize('name,fn,shapes', COPIES, ids=[c[0] for c in COPIES])
def test_copy_ops(name, fn, shapes):
    e, t = check(fn, *shapes)
    for ev in (e if isinstance(e, tuple) else (e,)):
        if name.startswith(('flip', 'roll', 'rot90', 'repeat', 'tile', 'tril', 'triu')):
            assert ev._base is None


@pytest.mark.parametrize('name,fn,shapes', COPIES, ids=[c[0] for c in COPIES])
def test_copy_ops_noncontiguous(name, fn, shapes):
    if any(len(s) < 2 for s in shapes):
        pytest.skip('needs a matrix to transpose')

    def on_t(lib, *xs):
        return fn(lib, *[x.transpose(-1, -2).contiguous().transpose(-1, -2) * 1 for x in xs])
    check(on_t, *shapes)


@pytest.mark.parametrize('name,fn,shapes', COPIES[:-2], ids=[c[0] for c in COPIES[:-2]])
def test_copy_ops_int(name, fn, shapes):
    shape = shapes[0]
    check(fn, np.asarray(np.arange(int(np.prod(shape, dtype=int)), dtype=np.int32).reshape(shape) - 3), grad=False)


def test_repeat_interleave_counts_only():
    check(lambda lib, r: lib.repeat_interleave(r), np.array([2, 0, 3]), grad=False)


def test_broadcast_shapes():
    for shapes in [((2, 1), (3,)), ((1,), ()), (5, (2, 1)), ((0, 1), (3,))]:
        assert tuple(ember.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    check_raises(lambda lib: lib.broadcast_shapes((2, 3), (4,)))


# ---- joins ---------------------------------------------------------------------------------------

JOINS = [
    ('cat', lambda lib, x, y: lib.cat([x, y]), (2, 3), (4, 3)),
    ('cat_dim', lambda lib, x, y: lib.cat((x, y), dim=-1), (2, 3), (2, 1)),
    ('cat_one', lambda lib, x, y: lib.cat([x]), (2, 3), (1,)),
    ('cat_legacy_empty', lambda lib, x, y: lib.cat([x, lib.zeros(0), y], 1), (2, 3), (2, 2)),
    ('cat_empty_rows', lambda lib, x, y: lib.cat([x, y]), (2, 3), (0, 3)),
    ('concat', lambda lib, x, y: lib.concat([x, y], 1), (2, 3), (2, 2)),
    ('concatenate', lambda lib, x, y: lib.concatenate([x, y], axis=0), (2, 3), (1, 3)),
    ('cat_noncontig', lambda lib, x, y: lib.cat([x.t(), y[:, ::2]]), (3, 2), (1, 6)),
    ('stack', lambda lib, x, y: lib.stack([x, y]), (2, 3), (2, 3)),
    ('stack_last', lambda lib, x, y: lib.stack([x, y, x], -1), (2, 3), (2, 3)),
    ('stack_0d', lambda lib, x, y: lib.stack([x, y]), (), ()),
    ('hstack', lambda lib, x, y: lib.hstack([x, y]), (2, 3), (2, 1)),
    ('hstack_1d', lambda lib, x, y: lib.hstack([x, y, x[0]]), (3,), (2,)),
    ('vstack', lambda lib, x, y: lib.vstack([x, y]), (3,), (2, 3)),
    ('row_stack', lambda lib, x, y: lib.row_stack((x, y)), (3,), (3,)),
    ('dstack', lambda lib, x, y: lib.dstack([x, y]), (2, 3), (2, 3, 2)),
    ('dstack_1d', lambda lib, x, y: lib.dstack([x, y]), (3,), (3,)),
    ('column_stack', lambda lib, x, y: lib.column_stack([x, y, x]), (3,), (3, 2)),
    ('column_stack_0d', lambda lib, x, y: lib.column_stack([x, y]), (), (1, 2)),
]


@pytest.mark.parametrize('name,fn,a,b', JOINS, ids=[j[0] for j in JOINS])
def test_joins(name, fn, a, b):
    check(fn, a, b)


def test_cat_out():
    def f(lib, x, y):
        out = lib.zeros(0)
        r = lib.cat([x, y], out=out)
        return r, out
    check(f, (2,), (3,), grad=False)


@pytest.mark.parametrize('dtypes', [('float32', 'int64'), ('int32', 'uint8'), ('bool', 'int8'), ('float16', 'float64'),
                                    ('int16', 'bool')])
def test_joins_promote(dtypes):
    a = np.arange(6).reshape(2, 3).astype(dtypes[0])
    b = (np.arange(6).reshape(2, 3) % 2).astype(dtypes[1])
    check(lambda lib, x, y: lib.cat([x, y]), a, b, grad=False)
    check(lambda lib, x, y: lib.stack([x, y], 1), a, b, grad=False)


def test_cat_grad_mixed_dtypes():
    check(lambda lib, x, y: lib.cat([x, y.to(lib.float64)]), (2, 2), (1, 2))


@pytest.mark.parametrize('fn', [
    lambda lib, x: lib.cat([]),
    lambda lib, x: lib.cat([x, lib.zeros(2, 4)]),
    lambda lib, x: lib.cat([x, lib.zeros(3)]),
    lambda lib, x: lib.cat([x[0, 0], x[0, 0]]),
    lambda lib, x: lib.cat([x, lib.zeros(3, 3)], 1),
    lambda lib, x: lib.cat([x], 2),
    lambda lib, x: lib.cat(x),
    lambda lib, x: lib.stack([]),
    lambda lib, x: lib.stack([x, lib.zeros(2, 4)]),
    lambda lib, x: lib.stack([x, x], 3),
    lambda lib, x: lib.column_stack([x[0, 0], lib.zeros(2, 1)]),
])
def test_join_errors(fn):
    check_raises(fn, (2, 3), match=r'.')


def test_join_error_messages():
    e, t = check_raises(lambda lib, x: lib.cat([x, lib.zeros(2, 4)]), (2, 3))
    assert str(e) == str(t)
    e, t = check_raises(lambda lib, x: lib.stack([x, lib.zeros(2, 4)]), (2, 3))
    assert str(e) == str(t)


# ---- pad -----------------------------------------------------------------------------------------

PADS = [
    ('const_1', lambda lib, x: lib.nn.functional.pad(x, (1, 2)), (2, 3)),
    ('const_value', lambda lib, x: lib.nn.functional.pad(x, (1, 2, 0, 1), value=3.5), (2, 3)),
    ('const_all_dims', lambda lib, x: lib.nn.functional.pad(x, (1, 1, 2, 0, 0, 1)), (2, 3, 2)),
    ('const_negative', lambda lib, x: lib.nn.functional.pad(x, (-1, 2, 1, -1)), (3, 4)),
    ('const_crop', lambda lib, x: lib.nn.functional.pad(x, (-1, -1)), (2, 4)),
    ('const_1d', lambda lib, x: lib.nn.functional.pad(x, (2, 0)), (3,)),
    ('const_5d', lambda lib, x: lib.nn.functional.pad(x, (1, 0, 0, 1, 1, 1, 1, 0)), (1, 2, 2, 2, 2)),
    ('reflect_1d', lambda lib, x: lib.nn.functional.pad(x, (2, 1), mode='reflect'), (2, 4)),
    ('reflect_1d_batch', lambda lib, x: lib.nn.functional.pad(x, (3, 3), mode='reflect'), (2, 3, 4)),
    ('reflect_2d', lambda lib, x: lib.nn.functional.pad(x, (1, 2, 2, 1), mode='reflect'), (2, 3, 4)),
    ('reflect_2d_batch', lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1), mode='reflect'), (2, 1, 3, 3)),
    ('reflect_3d', lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 0, 0, 1), mode='reflect'), (1, 2, 3, 3)),
    ('reflect_neg', lambda lib, x: lib.nn.functional.pad(x, (-1, 1), mode='reflect'), (2, 4)),
    ('replicate_1d', lambda lib, x: lib.nn.functional.pad(x, (3, 1), mode='replicate'), (2, 3)),
    ('replicate_2d', lambda lib, x: lib.nn.functional.pad(x, (2, 2, 1, 3), mode='replicate'), (1, 2, 3, 2)),
    ('replicate_3d', lambda lib, x: lib.nn.functional.pad(x, (1, 2, 1, 0, 2, 1), mode='replicate'), (2, 2, 2, 3)),
    ('circular_1d', lambda lib, x: lib.nn.functional.pad(x, (2, 3), mode='circular'), (2, 3)),
    ('circular_2d', lambda lib, x: lib.nn.functional.pad(x, (1, 2, 2, 1), mode='circular'), (1, 1, 3, 3)),
    ('circular_3d', lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1, 1, 1), mode='circular'), (1, 2, 2, 2, 2)),
    ('circular_neg', lambda lib, x: lib.nn.functional.pad(x, (-1, 1), mode='circular'), (2, 3)),
    ('circular_neg_right', lambda lib, x: lib.nn.functional.pad(x, (2, -1), mode='circular'), (2, 3)),
    ('circular_mixed_2d', lambda lib, x: lib.nn.functional.pad(x, (-1, 2, 1, -1), mode='circular'), (1, 3, 4)),
    ('replicate_neg', lambda lib, x: lib.nn.functional.pad(x, (-1, 2), mode='replicate'), (2, 3)),
    ('noncontig', lambda lib, x: lib.nn.functional.pad(x.transpose(-1, -2), (1, 1, 1, 1), mode='reflect'),
     (1, 3, 4)),
]


def _pad(lib):
    return lib.nn.functional.pad


@pytest.mark.parametrize('name,fn,shape', PADS, ids=[p[0] for p in PADS])
def test_pad(name, fn, shape):
    check(fn, shape)


def test_pad_int_and_bool():
    for dtype in (np.int64, np.uint8, np.int32, np.float16, np.bool_):
        a = (np.arange(6).reshape(2, 3) % 3).astype(dtype)
        check(lambda lib, x: _pad(lib)(x, (1, 2), value=1), a, grad=False)
        check(lambda lib, x: _pad(lib)(x, (1, 2), mode='circular'), a, grad=False)
        for mode in ('replicate', 'reflect'):
            if dtype is np.bool_:
                check_raises(lambda lib, x: _pad(lib)(x, (1, 1), mode=mode), a)
            else:
                check(lambda lib, x: _pad(lib)(x, (1, 1), mode=mode), a, grad=False)
    check(lambda lib, x: _pad(lib)(x, (1, 1), value=1.7), np.zeros((2, 2), np.int64), grad=False)


@pytest.mark.parametrize('args', [
    ((1,), 'constant'), ((1, 1, 1, 1, 1, 1, 1, 1), 'constant'), ((-2, -2), 'constant'), ((1, 1), 'foo'),
    ((3, 1), 'reflect'), ((4, 0), 'circular'), ((1, 1, 1, 1, 1, 1), 'reflect'), ((1, 1, 1, 1, 1, 1, 1, 1), 'circular'),
])
def test_pad_errors(args):
    pad, mode = args
    check_raises(lambda lib, x: _pad(lib)(x, pad, mode=mode), (1, 2, 3))


def test_pad_error_messages():
    for shape, pad, mode in [((2, 0), (1, 1), 'replicate'), ((1, 2, 3), (3, 1), 'reflect'),
                             ((1, 2, 3), (1, 1), 'value')]:
        if mode == 'value':
            e, t = check_raises(lambda lib, x: _pad(lib)(x, pad, mode='reflect', value=1.0), shape)
        else:
            e, t = check_raises(lambda lib, x: _pad(lib)(x, pad, mode=mode), shape)
        assert str(e) == str(t)


# ---- errors --------------------------------------------------------------------------------------

ERRORS = [
    lambda lib, x: x.view(5),
    lambda lib, x: x.view(-1, -1),
    lambda lib, x: x.t().view(6),
    lambda lib, x: x.view(2, -2),
    lambda lib, x: x.reshape(4, -1),
    lambda lib, x: x.expand(3),
    lambda lib, x: x.expand(3, 3),
    lambda lib, x: x.expand(-1, 2, 3),
    lambda lib, x: x.transpose(0, 2),
    lambda lib, x: x.permute(0, 0),
    lambda lib, x: x.permute(0),
    lambda lib, x: x.unsqueeze(3),
    lambda lib, x: x.squeeze(2),
    lambda lib, x: x.flatten(1, 0),
    lambda lib, x: x.unflatten(1, (2, 2)),
    lambda lib, x: x.unflatten(1, ()),
    lambda lib, x: x.narrow(0, 2, 2),
    lambda lib, x: x.narrow(0, -3, 1),
    lambda lib, x: x.narrow(0, 0, -1),
    lambda lib, x: x.select(0, 3),
    lambda lib, x: x.select(2, 0),
    lambda lib, x: x.diagonal(0, 0, 0),
    lambda lib, x: x.diagonal(0, 0, 2),
    lambda lib, x: x.as_strided((2,), (-1,)),
    lambda lib, x: x.as_strided((7,), (1,)),
    lambda lib, x: x.as_strided((2, 2), (1, 1), 5),
    lambda lib, x: x.unfold(0, 4, 1),
    lambda lib, x: x.unfold(0, 2, 0),
    lambda lib, x: x.split(0),
    lambda lib, x: x.split([1, 2]),
    lambda lib, x: x.chunk(0),
    lambda lib, x: x.tensor_split(0),
    lambda lib, x: lib.movedim(x, (0, 1), (1,)),
    lambda lib, x: lib.movedim(x, (0, 0), (0, 1)),
    lambda lib, x: lib.movedim(x, 2, 0),
    lambda lib, x: x.roll((1, 2), (0,)),
    lambda lib, x: x.rot90(1, (0,)),
    lambda lib, x: x.rot90(1, (0, 0)),
    lambda lib, x: x[0].rot90(),
    lambda lib, x: x.repeat(2),
    lambda lib, x: x[0].tril(),
    lambda lib, x: x.flip(0, 0),
    lambda lib, x: x.flip(2),
    lambda lib, x: x.repeat_interleave(-1),
    lambda lib, x: x.repeat_interleave(lib.tensor([1, 2, 3]), 0),
    lambda lib, x: x[0].mT,
    lambda lib, x: x[0].H,
    lambda lib, x: x.unsqueeze(0).H,
    lambda lib, x: x[0].adjoint(),
    lambda lib, x: x.t(),
    lambda lib, x: lib.broadcast_tensors(x, lib.zeros(4)),
    lambda lib, x: lib.vsplit(x[0], 1),
    lambda lib, x: lib.hsplit(x, 2),
]


@pytest.mark.parametrize('i', range(len(ERRORS)))
def test_errors(i):
    shape = (2, 3) if i != 49 else (2, 3, 1)
    check_raises(ERRORS[i], shape)


@pytest.mark.parametrize('i', [0, 2, 5, 6, 8, 16, 17, 18, 19, 21, 23, 24, 26, 27, 28, 29, 32, 35, 36, 37, 39, 41, 44,
                               45, 46])
def test_error_messages_match_torch(i):
    e, t = check_raises(ERRORS[i], (2, 3))
    assert str(e) == str(t)


def test_T_deprecation_warning():
    with pytest.warns(UserWarning, match='x.T'):
        ember.zeros(2, 3, 4).T


# ---- gradcheck (float64, with double backward) -----------------------------------------------------

GRADCHECK = [
    lambda lib, x: x.view(6, 2) * x.view(6, 2),
    lambda lib, x: x.t().reshape(-1) ** 2,
    lambda lib, x: x.expand(2, 3, 4) ** 2,
    lambda lib, x: x.permute(1, 0).unsqueeze(0).squeeze() ** 2,
    lambda lib, x: x.narrow(1, 1, 2) ** 2,
    lambda lib, x: x.select(0, 1) ** 3,
    lambda lib, x: x.diagonal(1) ** 2,
    lambda lib, x: x.as_strided((3, 3), (1, 1)) ** 2,
    lambda lib, x: x.unfold(1, 2, 1) ** 2,
    lambda lib, x: [u ** 2 for u in x.unbind(1)],
    lambda lib, x: [u ** 2 for u in x.split([1, 2])],
    lambda lib, x: [u ** 2 for u in x.chunk(2, 1)],
    lambda lib, x: x.flip(0, 1) ** 2,
    lambda lib, x: x.roll(1, 1) ** 2,
    lambda lib, x: x.rot90(1) ** 2,
    lambda lib, x: x.repeat(2, 1, 2) ** 2,
    lambda lib, x: x.repeat_interleave(2, 0) ** 2,
    lambda lib, x: x.tril() ** 2 + x.triu(1) ** 3,
    lambda lib, x: lib.cat([x, x ** 2], 1) ** 2,
    lambda lib, x: lib.stack([x, x ** 2]) ** 2,
    lambda lib, x: lib.movedim(x, 0, 1).mT ** 2,
]


@pytest.mark.parametrize('i', range(len(GRADCHECK)))
def test_gradcheck(i):
    shape = (3, 4) if i not in (2,) else (3, 1)
    check_gradcheck(GRADCHECK[i], shape)


@pytest.mark.parametrize('mode', ['constant', 'reflect', 'replicate', 'circular'])
def test_pad_gradcheck(mode):
    check_gradcheck(lambda lib, x: _pad(ember)(x, (2, 1, -1, 1) if mode != 'reflect' else (2, 1, 1, 1),
                                                mode=mode) ** 2, (1, 3, 4))
