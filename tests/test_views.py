"""View semantics against PyTorch: memory sharing, writes through views, in-place ops on views
and on bases, version counters, and gradients through ``CopySlices``/``AsStridedBackward0``.

The property tests build a random program of view ops, slicing, copies and in-place writes,
run it step by step on Ember and on PyTorch, and after every step compare every tensor made so
far (values, shapes, strides, offsets, versions, which tensor is whose view). A step PyTorch
rejects must be rejected by Ember with the same exception type. At the end a weighted sum of
all tensors is backpropagated in both and the gradients of the leaves compared (or the same
error expected), and optionally a second-order gradient.
"""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

import ember
from oracle import check, check_raises

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---- the program's steps ---------------------------------------------------------------------------
# Each maker draws its parameters from the PyTorch tensor's shape and returns ``(label, fn)`` with
# ``fn(lib, t, w)`` (``w`` a 0-d leaf requiring grad) or None when the op does not apply.

def _dim(data, n):
    return data.draw(st.integers(-n, n - 1)) if n else None


def view_step(data, t):
    s, n = tuple(t.shape), t.dim()
    kind = data.draw(st.sampled_from([
        'transpose', 'permute', 'unsqueeze', 'squeeze', 'select', 'narrow', 'slice', 'index', 'diagonal', 'view',
        'reshape', 'flatten', 'unflatten', 't', 'T', 'mT', 'movedim', 'expand', 'unfold', 'as_strided', 'unbind',
        'split', 'chunk', 'tensor_split', 'alias', 'detach', 'view_as', 'swapaxes']))
    if kind == 'transpose' and n:
        a, b = _dim(data, n), _dim(data, n)
        return f'transpose({a},{b})', lambda lib, x, w: x.transpose(a, b)
    if kind == 'swapaxes' and n:
        a, b = _dim(data, n), _dim(data, n)
        return f'swapaxes({a},{b})', lambda lib, x, w: lib.swapaxes(x, a, b)
    if kind == 'permute':
        p = tuple(data.draw(st.permutations(range(n))))
        return f'permute{p}', lambda lib, x, w: x.permute(p)
    if kind == 'unsqueeze' and n < 5:
        d = data.draw(st.integers(-n - 1, n))
        return f'unsqueeze({d})', lambda lib, x, w: x.unsqueeze(d)
    if kind == 'squeeze':
        d = data.draw(st.one_of(st.none(), st.integers(-n, n - 1) if n else st.none()))
        return f'squeeze({d})', lambda lib, x, w: x.squeeze(d) if d is not None else x.squeeze()
    if kind == 'select' and n:
        d = _dim(data, n)
        if s[d] == 0:
            return None
        i = data.draw(st.integers(-s[d], s[d] - 1))
        return f'select({d},{i})', lambda lib, x, w: x.select(d, i)
    if kind == 'narrow' and n:
        d = _dim(data, n)
        start = data.draw(st.integers(0, s[d]))
        length = data.draw(st.integers(0, s[d] - start))
        return f'narrow({d},{start},{length})', lambda lib, x, w: x.narrow(d, start, length)
    if kind == 'slice' and n:
        key = tuple(slice(data.draw(st.one_of(st.none(), st.integers(-4, 4))),
                          data.draw(st.one_of(st.none(), st.integers(-4, 4))),
                          data.draw(st.one_of(st.none(), st.integers(1, 3)))) for _ in range(data.draw(
                              st.integers(1, n))))
        return f'[{key}]', lambda lib, x, w: x[key]
    if kind == 'index' and n:
        key = []
        d = 0
        for _ in range(data.draw(st.integers(1, 3))):
            c = data.draw(st.sampled_from(['int', 'none', 'ellipsis', 'slice']))
            if c == 'none':
                key.append(None)
            elif c == 'ellipsis' and Ellipsis not in key:
                key.append(Ellipsis)
                d = n
            elif d < n and c == 'int' and s[d]:
                key.append(data.draw(st.integers(-s[d], s[d] - 1)))
                d += 1
            elif d < n:
                key.append(slice(data.draw(st.integers(0, 2)), None))
                d += 1
        key = tuple(key)
        return f'[{key}]', lambda lib, x, w: x[key]
    if kind == 'diagonal' and n >= 2:
        a = data.draw(st.integers(0, n - 1))
        b = data.draw(st.integers(0, n - 1).filter(lambda v: v != a))
        off = data.draw(st.integers(-2, 2))
        return f'diagonal({off},{a},{b})', lambda lib, x, w: x.diagonal(off, a, b)
    if kind == 'view':
        shape = (-1,) if data.draw(st.booleans()) else tuple(reversed(s))
        return f'view{shape}', lambda lib, x, w: x.view(shape)
    if kind == 'reshape':
        shape = (-1,) if data.draw(st.booleans()) else tuple(reversed(s))
        return f'reshape{shape}', lambda lib, x, w: x.reshape(shape)
    if kind == 'view_as':
        return 'view_as', lambda lib, x, w: x.view_as(x)
    if kind == 'flatten' and n:
        a = data.draw(st.integers(0, n - 1))
        b = data.draw(st.integers(a, n - 1))
        return f'flatten({a},{b})', lambda lib, x, w: x.flatten(a, b)
    if kind == 'unflatten' and n and s[0] % 2 == 0 and s[0]:
        return 'unflatten(0,(2,-1))', lambda lib, x, w: x.unflatten(0, (2, -1))
    if kind == 't' and n <= 2:
        return 't()', lambda lib, x, w: x.t()
    if kind == 'T' and n == 2:
        return 'T', lambda lib, x, w: x.T
    if kind == 'mT' and n >= 2:
        return 'mT', lambda lib, x, w: x.mT
    if kind == 'movedim' and n:
        a, b = _dim(data, n), _dim(data, n)
        return f'movedim({a},{b})', lambda lib, x, w: x.movedim(a, b)
    if kind == 'expand' and n < 5:
        shape = tuple(3 if v == 1 and data.draw(st.booleans()) else v for v in s)
        if data.draw(st.booleans()):
            shape = (2,) + shape
        return f'expand{shape}', lambda lib, x, w: x.expand(shape)
    if kind == 'unfold' and n:
        d = _dim(data, n)
        if s[d] == 0:
            return None
        size = data.draw(st.integers(1, s[d]))
        step = data.draw(st.integers(1, 2))
        return f'unfold({d},{size},{step})', lambda lib, x, w: x.unfold(d, size, step)
    if kind == 'as_strided':
        storage = t.untyped_storage().nbytes() // t.element_size()
        k = data.draw(st.integers(0, 3))
        size = tuple(data.draw(st.integers(1, 3)) for _ in range(k))
        stride = tuple(data.draw(st.integers(0, 4)) for _ in range(k))
        extent = sum((a - 1) * b for a, b in zip(size, stride)) + 1
        if extent > storage:
            return None
        off = data.draw(st.one_of(st.none(), st.integers(0, storage - extent)))
        if off is None and t.storage_offset() + extent > storage:
            return None
        return (f'as_strided({size},{stride},{off})',
                lambda lib, x, w: x.as_strided(size, stride) if off is None else x.as_strided(size, stride, off))
    if kind == 'unbind' and n and s[0]:
        i = data.draw(st.integers(0, s[0] - 1))
        return f'unbind()[{i}]', lambda lib, x, w: x.unbind()[i]
    if kind == 'split' and n and s[-1]:
        return 'split(2,-1)[0]', lambda lib, x, w: x.split(2, -1)[0]
    if kind == 'chunk' and n and s[0]:
        return 'chunk(2)[-1]', lambda lib, x, w: x.chunk(2)[-1]
    if kind == 'tensor_split' and n:
        return 'tensor_split(2)[1]', lambda lib, x, w: x.tensor_split(2)[1]
    if kind == 'alias':
        return '[...]', lambda lib, x, w: x[...]
    if kind == 'detach':
        return 'detach()', lambda lib, x, w: x.detach()
    return None


def compute_step(data, t):
    made = _compute_step(data, t)
    if made is None:
        return None
    label, fn = made
    # Non-view results are made contiguous: their layout is the computing op's business, not the view machinery's.
    return label, lambda lib, x, w: fn(lib, x, w).contiguous()


def _compute_step(data, t):
    kind = data.draw(st.sampled_from(['mul', 'exp', 'clone', 'sum', 'square', 'contiguous', 'flip', 'cat']))
    if kind == 'mul':
        return '*w', lambda lib, x, w: x * w
    if kind == 'exp':
        return 'exp()', lambda lib, x, w: x.exp()
    if kind == 'clone':
        return 'clone()', lambda lib, x, w: x.clone()
    if kind == 'sum' and t.dim():
        return 'sum(0,keepdim)', lambda lib, x, w: x.sum(0, keepdim=True)
    if kind == 'square':
        return 'x*x', lambda lib, x, w: x * x
    if kind == 'contiguous':
        return 'contiguous()', lambda lib, x, w: x.contiguous()
    if kind == 'flip' and t.dim():
        return 'flip(0)', lambda lib, x, w: x.flip(0)
    if kind == 'cat' and t.dim():
        return 'cat([x,x])', lambda lib, x, w: lib.cat([x, x * w])
    return None


def _overlapping(t):
    """True when distinct elements of ``t`` share memory without a zero stride (``unfold``,
    ``as_strided``): PyTorch's in-place results there depend on its loop order, so they are not compared."""
    if any(st == 0 and n > 1 for st, n in zip(t.stride(), t.shape)):
        return False
    offsets = np.zeros((), np.int64)
    for n, stride in zip(t.shape, t.stride()):
        offsets = offsets[..., None] + np.arange(n) * stride
    return len(np.unique(offsets)) != offsets.size


def inplace_step(data, t):
    if _overlapping(t):
        return None
    s, n = tuple(t.shape), t.dim()
    kind = data.draw(st.sampled_from(['add_', 'mul_', 'sub_w', 'mul_w', 'div_', 'self_mul', 'copy_', 'zero_',
                                      'fill_w', 'setitem', 'setitem_adv', 'masked_fill_', 'exp_', 'relu_',
                                      'index_add_', 'nograd_mul', 'transpose_', 'unsqueeze_', 'squeeze_', 't_',
                                      'scatter_', 'index_fill_', 'put_', 'tril_', 'masked_scatter_', 'index_put_acc']))
    if kind == 'add_':
        c = data.draw(st.sampled_from([1.0, -2.5]))
        return f'add_({c})', lambda lib, x, w: x.add_(c)
    if kind == 'mul_':
        return 'mul_(3)', lambda lib, x, w: x.mul_(3.0)
    if kind == 'sub_w':
        return 'sub_(w)', lambda lib, x, w: x.sub_(w)
    if kind == 'mul_w':
        return 'mul_(w)', lambda lib, x, w: x.mul_(w)
    if kind == 'div_':
        return 'div_(2)', lambda lib, x, w: x.div_(2.0)
    if kind == 'self_mul':
        return 'mul_(x)', lambda lib, x, w: x.mul_(x)
    if kind == 'copy_':
        return 'copy_(x*0.5+w)', lambda lib, x, w: x.copy_(x.detach() * 0.5 + w)
    if kind == 'zero_':
        return 'zero_()', lambda lib, x, w: x.zero_()
    if kind == 'fill_w':
        return 'fill_(w)', lambda lib, x, w: x.fill_(w)
    if kind == 'setitem' and n and s[0]:
        i = data.draw(st.integers(0, s[0] - 1))
        return f'[{i}]=w*3', lambda lib, x, w: (x.__setitem__(i, w * 3), x)[1]
    if kind == 'setitem_adv' and n and s[0]:
        idx = data.draw(st.lists(st.integers(0, s[0] - 1), min_size=1, max_size=3, unique=True))
        return f'[{idx}]=w', lambda lib, x, w: (x.__setitem__(lib.tensor(idx), w), x)[1]
    if kind == 'masked_fill_':
        return 'masked_fill_(x>0,w)', lambda lib, x, w: x.masked_fill_(x.detach() > 0, w)
    if kind == 'exp_':
        return 'exp_()', lambda lib, x, w: x.exp_()
    if kind == 'relu_':
        return 'relu_()', lambda lib, x, w: x.relu_()
    if kind == 'index_add_' and n and s[0]:
        return 'index_add_', lambda lib, x, w: x.index_add_(0, lib.tensor([0]), (x[:1].detach() + 1) * w)
    if kind == 'scatter_' and n and t.numel():
        def scatter(lib, x, w):
            return x.scatter_(0, lib.zeros([1] * n, dtype=lib.int64), (w * 2).expand([1] * n).contiguous())
        return 'scatter_(0,zeros,w*2)', scatter
    if kind == 'index_fill_' and n and s[0]:
        return 'index_fill_(0,[0],w)', lambda lib, x, w: x.index_fill_(0, lib.tensor([0]), w)
    if kind == 'put_' and t.numel():
        return 'put_([0,-1],w)', lambda lib, x, w: x.put_(lib.tensor([0, -1]), lib.stack([w, w * 3]))
    if kind == 'tril_' and n >= 2:
        return 'tril_()', lambda lib, x, w: x.tril_()
    if kind == 'masked_scatter_':
        return 'masked_scatter_(x>0,...)', lambda lib, x, w: x.masked_scatter_(
            x.detach() > 0, (lib.ones(x.shape, dtype=lib.float64) * w).contiguous())
    if kind == 'index_put_acc' and n and s[0]:
        return 'index_put_acc', lambda lib, x, w: x.index_put_((lib.tensor([0, 0]),), w * 2, accumulate=True)
    if kind == 'transpose_' and n:
        a, b = _dim(data, n), _dim(data, n)
        return f'transpose_({a},{b})', lambda lib, x, w: x.transpose_(a, b)
    if kind == 'unsqueeze_' and n < 5:
        d = data.draw(st.integers(-n - 1, n))
        return f'unsqueeze_({d})', lambda lib, x, w: x.unsqueeze_(d)
    if kind == 'squeeze_':
        return 'squeeze_()', lambda lib, x, w: x.squeeze_()
    if kind == 't_' and n <= 2:
        return 't_()', lambda lib, x, w: x.t_()
    if kind == 'nograd_mul':
        def f(lib, x, w):
            with lib.no_grad():
                return x.mul_(2.0)
        return 'no_grad: mul_(2)', f
    return None


def nograd_view_step(data, t):
    made = view_step(data, t)
    if made is None:
        return None
    label, fn = made

    def f(lib, x, w):
        with lib.no_grad():
            return fn(lib, x, w)
    return 'no_grad: ' + label, f


def _run(lib, fn, x, w):
    try:
        return fn(lib, x, w), None
    except Exception as exc:  # compared with the other library's outcome below
        return None, exc


def _describe(lib, ts):
    """What must agree between the libraries about every tensor of the program."""
    out = []
    for t in ts:
        base = next((j for j, u in enumerate(ts) if t._base is u), None)
        # ``is_leaf``/``grad_fn`` are not compared: PyTorch regenerates a view's grad_fn when they are read.
        # The stride of a size-1 dim, or of any dim of an empty tensor, is arbitrary.
        strides = tuple(st for st, n in zip(t.stride(), t.shape) if n > 1) if t.numel() else ()
        # An empty tensor's offset is arbitrary too (it depends on strides of size-1 dims).
        offset = t.storage_offset() if t.numel() else None
        out.append((tuple(t.shape), strides, offset, t._version, t.requires_grad, base, t.dtype is lib.float64))
    return out


def _compare_values(e_ts, t_ts):
    for i, (e, t) in enumerate(zip(e_ts, t_ts)):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-10,
                                   err_msg=f'tensor {i}')


class Program:
    """The same tensors in both libraries, grown step by step."""

    def __init__(self, seed, shape):
        rng = np.random.default_rng(seed)
        a = rng.standard_normal(shape)
        w = float(rng.uniform(0.5, 1.5))
        self.leaves = {}
        self.ts = {}
        self.log = []
        for lib in (ember, torch):
            leaf = lib.tensor(a.copy(), requires_grad=True)
            wt = lib.tensor(w, dtype=lib.float64, requires_grad=True)
            self.leaves[lib] = (leaf, wt)
            self.ts[lib] = [leaf, leaf * 1]

    def step(self, label, fn, pick, adds):
        e_x, t_x = self.ts[ember][pick], self.ts[torch][pick]
        self.log.append(f't{pick}.{label}')
        t_r, t_exc = _run(torch, fn, t_x, self.leaves[torch][1])
        e_r, e_exc = _run(ember, fn, e_x, self.leaves[ember][1])
        if t_exc is not None:
            assert e_exc is not None, f'{self.log}: ember did not raise; torch raised {t_exc!r}'
            assert isinstance(e_exc, type(t_exc)), f'{self.log}: ember raised {e_exc!r}; torch raised {t_exc!r}'
            return
        assert e_exc is None, f'{self.log}: ember raised {e_exc!r}; torch returned'
        if adds:
            self.ts[ember].append(e_r)
            self.ts[torch].append(t_r)
        else:
            assert e_r is e_x and t_r is t_x
        self.verify()

    def verify(self):
        e_ts, t_ts = self.ts[ember], self.ts[torch]
        assert _describe(ember, e_ts) == _describe(torch, t_ts), self.log
        _compare_values(e_ts, t_ts)

    def backward(self, create_graph=False):
        """Backpropagate the same weighted sum in both; compare leaf gradients (or the errors)."""
        results = {}
        for lib in (torch, ember):
            rng = np.random.default_rng(7)
            leaves = self.leaves[lib]
            try:
                terms = [(t * lib.tensor(rng.uniform(-1, 1, tuple(t.shape)))).sum()
                         for t in self.ts[lib][1:] if t.requires_grad and t.dtype is lib.float64]
                if not terms:
                    raise LookupError('nothing to differentiate')
                grads = lib.autograd.grad(sum(terms), leaves, allow_unused=True, create_graph=create_graph)
                if create_graph:
                    second = sum((g * g).sum() for g in grads if g is not None and g.requires_grad)
                    if isinstance(second, lib.Tensor):
                        grads = grads + lib.autograd.grad(second, leaves, allow_unused=True)
                results[lib] = ([None if g is None else g.detach().numpy() for g in grads], None)
            except (RuntimeError, LookupError) as exc:
                results[lib] = (None, exc)
        (e_g, e_exc), (t_g, t_exc) = results[ember], results[torch]
        if t_exc is not None:
            assert e_exc is not None and type(e_exc) is type(t_exc), (self.log, e_exc, t_exc)
            return
        assert e_exc is None, (self.log, e_exc)
        for i, (a, b) in enumerate(zip(e_g, t_g)):
            # No gradient and a zero gradient are the same (graphs may differ in what they connect).
            if a is None or b is None:
                assert not np.any(a if a is not None else b), (self.log, i)
            else:
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=f'{self.log}: gradient {i}')


STEPS = [('view', view_step, True), ('view', view_step, True), ('compute', compute_step, True),
         ('inplace', inplace_step, False), ('inplace', inplace_step, False), ('nograd_view', nograd_view_step, True)]


def _play(data, max_steps, create_graph=False):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    prog = Program(data.draw(st.integers(0, 2 ** 16)), shape)
    for _ in range(data.draw(st.integers(1, max_steps))):
        _, maker, adds = data.draw(st.sampled_from(STEPS))
        pick = data.draw(st.integers(0, len(prog.ts[torch]) - 1))
        t = prog.ts[torch][pick]
        made = maker(data, t)
        if made is None:
            continue
        label, fn = made
        prog.step(label, fn, pick, adds)
    prog.backward(create_graph)


@settings(max_examples=90, **SETTINGS)
@given(st.data())
def test_random_view_programs(data):
    _play(data, 10)


@settings(max_examples=30, **SETTINGS)
@given(st.data())
def test_random_view_programs_double_backward(data):
    _play(data, 6, create_graph=True)


# ---- targeted view semantics ----------------------------------------------------------------------

def _both(fn):
    return fn(ember), fn(torch)


def test_write_through_view_changes_base_and_other_views():
    def f(lib):
        x = lib.zeros(3, 4)
        a, b, c = x[1], x[:, 2], x.t()
        a.fill_(1.0)
        b += 2
        c[0, 0] = 5.0
        d = x.view(-1)[3:7]
        d.mul_(10)
        return [t.numpy().copy() for t in (x, a, b, c, d)] + [x._version, a._version, d._version]
    e, t = _both(f)
    for u, v in zip(e, t):
        np.testing.assert_array_equal(u, v)


def test_views_share_memory_and_version_counter():
    for make in (lambda x: x.view(12), lambda x: x.t(), lambda x: x[1:, ::2], lambda x: x.expand(2, 3, 4),
                 lambda x: x.diagonal(), lambda x: x.unfold(1, 2, 1), lambda x: x.as_strided((2, 2), (1, 4)),
                 lambda x: x.unbind(1)[0], lambda x: x.split(2, 1)[1], lambda x: x.detach()):
        for lib in (ember, torch):
            x = lib.arange(12.).reshape(3, 4)
            v = make(x)
            assert v._version == 0
            x.add_(1)
            assert v._version == x._version == 1
            assert v.storage_offset() >= 0
            np.testing.assert_array_equal(v.numpy(), make(lib.arange(12.).reshape(3, 4) + 1).numpy())


def test_views_of_views_have_root_base():
    for lib in (ember, torch):
        x = lib.zeros(4, 4)
        v = x[1:].t()[0].unsqueeze(0)
        assert v._base is x
        assert x.t()._base is x and x._base is None


def test_inplace_on_view_gradients():
    def f(lib, a):
        b = a * 1
        v = b[1:, :2]
        v.mul_(2).add_(b[0, :2].detach())
        w = b.t()
        w[0] = w[1] * 3
        return b, v, w
    e, t = check(f, (3, 4))
    assert type(e[0].grad_fn).__name__ == type(t[0].grad_fn).__name__ == 'CopySlices'
    assert type(e[1].grad_fn).__name__ == 'AsStridedBackward0'


def test_inplace_on_base_regenerates_view_grad_fn():
    def f(lib, a):
        b = a * 1
        v = b[1]
        b.mul_(b.detach() + 1)
        return v * 2, b
    e, t = check(f, (3, 4))


def test_view_requires_grad_follows_base():
    for lib in (ember, torch):
        base = lib.zeros(4)
        v = base[:2]
        assert not v.requires_grad
        w = lib.ones(4, requires_grad=True)
        base.copy_(w * 2)
        assert v.requires_grad
        (v * 3).sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), [6, 6, 0, 0])


def test_setitem_on_plain_tensor_with_grad_value():
    def f(lib, w):
        x = lib.zeros(3, 4)
        x[1] = w[0]
        x[:, 0] = w[1, :3] * 2
        return x
    check(f, (2, 4))


def test_inplace_on_multi_output_view_raises():
    for k in ('unbind', 'split', 'chunk'):
        def f(lib, x, k=k):
            b = x.requires_grad_() * 1
            out = {'unbind': b.unbind, 'split': lambda: b.split(1), 'chunk': lambda: b.chunk(3)}[k]()
            out[1].mul_(2)
        e, t = check_raises(f, (3, 2))
        assert str(e) == str(t)
    # without grad, or on a tensor_split view (plain slices), it is allowed
    for lib in (ember, torch):
        x = lib.zeros(3, 2)
        x.unbind()[0].add_(1)
        y = lib.zeros(3, 2, requires_grad=True) * 1
        y.tensor_split(3)[0].add_(1)


def test_inplace_on_view_made_in_no_grad_raises():
    def direct(lib, x):
        b = x.requires_grad_() * 1
        with lib.no_grad():
            v = b[0]
        v.mul_(2)

    def nested(lib, x):
        b = x.requires_grad_() * 1
        with lib.no_grad():
            v = b[1:]
        v[0].mul_(2)
    for f in (direct, nested):
        e, t = check_raises(f, (3, 2))
        assert str(e) == str(t)


def test_inplace_on_view_of_leaf_raises():
    for f in (lambda lib, x: x.requires_grad_()[0].mul_(2), lambda lib, x: x.requires_grad_().t().zero_(),
              lambda lib, x: x.requires_grad_().__setitem__(0, 1.0),
              lambda lib, x: x.requires_grad_().mul_(2)):
        e, t = check_raises(f, (3, 2))
        assert str(e) == str(t)
    for lib in (ember, torch):
        x = lib.zeros(3, requires_grad=True)
        with lib.no_grad():
            x[0] = 1.0
            x.mul_(2)
        assert x._version == 2


def test_modified_saved_tensor_raises_at_backward():
    def through_view(lib, x):
        b = x.requires_grad_() * 1
        y = b.sin()
        b[0].zero_()
        y.sum().backward()

    def saved_view(lib, x):
        b = x.requires_grad_() * 1
        v = b[1:]
        y = v * v
        b.add_(1)
        y.sum().backward()

    def saved_output(lib, x):
        b = x.requires_grad_() * 1
        b.exp_()
        b.add_(1)
        b.sum().backward()
    for f in (through_view, saved_view, saved_output):
        check_raises(f, (3, 2), match='modified by an inplace operation')


def test_partial_overlap_raises():
    for f in (lambda lib, x: x.add_(x.t()), lambda lib, x: x[1:].add_(x[:-1]),
              lambda lib, x: x.__setitem__(slice(1, None), x[:-1])):
        e, t = check_raises(f, (3, 3))
        assert str(e) == str(t)


def test_write_to_expanded_raises():
    for f in (lambda lib, x: x[:1].expand(3, 3).add_(1), lambda lib, x: x[:, :1].expand(3, 3).__setitem__(0, 1.0)):
        e, t = check_raises(f, (3, 3))
        assert str(e) == str(t)


def test_as_strided_is_relative_to_storage():
    def f(lib, x):
        y = x * 1
        v = y[1:]
        return v.as_strided((2, 2), (1, 3)), v.as_strided((2,), (4,), 0), v.as_strided((3,), (1,))
    e, t = check(f, (3, 4))
    for u, v in zip(e, t):
        assert u.storage_offset() == v.storage_offset()


def test_view_of_detached_and_data():
    for lib in (ember, torch):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        d = y.detach()
        d[0] = 5.0
        assert y._version == 1 and d._base is None
        y.data[1] = 7.0
        assert y._version == 1
        np.testing.assert_array_equal(y.detach().numpy(), [5, 7, 2])


def test_double_backward_through_copyslices():
    def f(lib, x, w):
        b = x * 1
        b[0] = (w * w).sum()
        b[1:, ::2].mul_(w[:2])
        g, = lib.autograd.grad((b ** 3).sum(), x, create_graph=True)
        return g
    check(f, (3, 4), (4,))


METADATA_INPLACE = [
    lambda lib, a: (lambda x: (x, x[0], x.t_(), x[0].mul_(2)))(a * 1),
    lambda lib, a: (lambda x, v: (x.t_(), v.mul_(2), x * 1, v))(*(lambda x: (x, x[0]))(a * 1)),
    lambda lib, a: (lambda x: (x.unsqueeze_(0), x[0, 1].add_(3), x.squeeze_(), x.transpose_(0, 1)))(a * 1),
    lambda lib, a: (lambda x, v: (v.unsqueeze_(0), v.mul_(2), x))(*(lambda x: (x, x[1:]))(a * 1)),
    lambda lib, a: (lambda x: (x.as_strided_((2, 2), (1, 4), 1), x[0].mul_(5), x))(a * 1),
    lambda lib, a: (lambda x, w: (x.t_(), w.__setitem__(0, 7.0), x, w))(*(lambda x: (x, x.t()))(a * 1)),
    lambda lib, a: (lambda x: (x.squeeze_(1), x.swapdims_(0, 1), x.swapaxes_(1, 0)))((a * 1).unsqueeze(1)),
]


@pytest.mark.parametrize('i', range(len(METADATA_INPLACE)))
def test_metadata_inplace(i):
    """squeeze_/unsqueeze_/t_/transpose_/as_strided_ change a tensor's layout in place; its views
    (made before or after) keep following its memory."""
    fn = METADATA_INPLACE[i]
    e, t = check(lambda lib, a: [u for u in fn(lib, a) if isinstance(u, lib.Tensor)], (3, 4))
    assert [type(u.grad_fn).__name__ for u in e] == [type(u.grad_fn).__name__ for u in t]
    assert [(u._version, u.stride(), u.storage_offset()) for u in e] == \
        [(u._version, u.stride(), u.storage_offset()) for u in t]


def test_metadata_inplace_on_leaf_raises():
    e, t = check_raises(lambda lib, x: x.requires_grad_().t_(), (3, 4))
    assert str(e) == str(t)
