"""nn.Module semantics, containers and Linear, compared with PyTorch."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember


def build(lib):
    """The same model in either library; weights copied from a fixed RNG so both agree."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(6, 5)
            self.act = nn.Identity()
            self.blocks = nn.Sequential(OrderedDict([('lin', nn.Linear(5, 4)), ('flat', nn.Flatten())]))
            self.heads = nn.ModuleList([nn.Linear(4, 3), nn.Linear(4, 2, bias=False)])
            self.extra = nn.ModuleDict({'proj': nn.Linear(3, 3)})
            self.scale = nn.Parameter(lib.ones(1))
            self.register_buffer('running', lib.zeros(3))
            self.register_buffer('scratch', lib.zeros(2), persistent=False)

        def forward(self, x):
            h = self.blocks(self.act(self.fc1(x)))
            return self.extra['proj'](self.heads[0](h)) * self.scale + self.heads[1](h).sum(-1, keepdim=True)

    net = Net()
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for _, p in net.named_parameters():
            p.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    return net


def test_print_matches_torch():
    assert repr(build(ember)) == repr(build(torch))


def test_state_dict_keys_shapes_and_values_match():
    e, t = build(ember).state_dict(), build(torch).state_dict()
    assert list(e) == list(t)
    for k in t:
        assert tuple(e[k].shape) == tuple(t[k].shape)
        np.testing.assert_array_equal(e[k].numpy(), t[k].numpy())
    assert list(e._metadata) == list(t._metadata)


@pytest.mark.parametrize('method', ['named_parameters', 'named_buffers', 'named_modules', 'named_children'])
def test_traversal_names_match(method):
    e = [n for n, _ in getattr(build(ember), method)()]
    t = [n for n, _ in getattr(build(torch), method)()]
    assert e == t


def test_shared_parameters_are_listed_once_unless_asked():
    def make(lib):
        lin = lib.nn.Linear(2, 2)
        return lib.nn.Sequential(lin, lin)
    for remove in (True, False):
        e = [n for n, _ in make(ember).named_parameters(remove_duplicate=remove)]
        t = [n for n, _ in make(torch).named_parameters(remove_duplicate=remove)]
        assert e == t
    assert [n for n, _ in make(ember).named_parameters(prefix='m')] == ['m.0.weight', 'm.0.bias']


def test_forward_and_gradients_match():
    x = np.random.default_rng(1).standard_normal((7, 6)).astype(np.float32)
    e, t = build(ember), build(torch)
    ye, yt = e(ember.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    ye.sum().backward()
    yt.sum().backward()
    for (ne, pe), (nt, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert ne == nt
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=ne)


def test_load_state_dict_from_torch_and_errors():
    e, t = build(ember), build(torch)
    sd = {k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()}
    result = e.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == repr(t.load_state_dict(t.state_dict()))
    bad = dict(sd)
    bad['fc1.weight'] = ember.zeros(3, 6)
    bad['bogus'] = ember.zeros(1)
    del bad['fc1.bias']
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict(bad)
    tbad = {k: torch.tensor(v.numpy()) for k, v in bad.items()}
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict(tbad)
    assert str(ee.value).replace('ember.Size', 'torch.Size') == str(te.value)
    with pytest.raises(RuntimeError, match='size mismatch for fc1.weight'):
        e.load_state_dict(bad, strict=False)
    del bad['fc1.weight']
    res_e = e.load_state_dict(bad, strict=False)
    res_t = t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in bad.items()}, strict=False)
    assert res_e.missing_keys == res_t.missing_keys and res_e.unexpected_keys == res_t.unexpected_keys


def test_setattr_errors_match():
    for lib in (ember, torch):
        lin = lib.nn.Linear(2, 2)
        with pytest.raises(TypeError, match="cannot assign"):
            lin.weight = lib.zeros(2, 2)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        ember.nn.Linear(2, 2).nope


def test_train_eval_requires_grad_zero_grad_apply():
    m = build(ember)
    m.eval()
    assert all(not mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    m(ember.ones(2, 6)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == 'Net' and seen[0] == 'Linear'


def test_to_double_casts_floating_parameters():
    m = build(ember).double()
    assert all(p.dtype == ember.float64 for p in m.parameters())
    assert isinstance(m.fc1.weight, ember.nn.Parameter)
    assert m.to(ember.float32).fc1.weight.dtype == ember.float32


def test_get_submodule_and_parameter():
    for lib in (ember, torch):
        m = build(lib)
        assert m.get_submodule('blocks.lin') is m.blocks.lin
        assert m.get_parameter('heads.0.bias') is m.heads[0].bias
        with pytest.raises(AttributeError):
            m.get_submodule('blocks.nope')


def test_forward_hooks_run_in_order_and_can_replace_output():
    calls = {}
    for lib in (ember, torch):
        log = []
        lin = lib.nn.Linear(3, 2)
        h1 = lin.register_forward_pre_hook(lambda m, args: log.append('pre'))
        lin.register_forward_hook(lambda m, args, out: log.append('post'))
        lin.register_forward_hook(lambda m, args, out: out * 0)
        lin.register_forward_pre_hook(lambda m, args: log.append('first'), prepend=True)
        out = lin(lib.ones(1, 3))
        assert float(out.abs().sum()) == 0
        h1.remove()
        lin(lib.ones(1, 3))
        calls[lib.__name__] = log
    assert calls['ember'] == calls['torch']


def test_full_backward_hook_sees_the_same_gradients():
    got = {}
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    for lib in (ember, torch):
        lin = build(lib).heads[0]
        seen = []
        lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi[0].numpy().copy(), go[0].numpy().copy())))
        xin = lib.tensor(x, requires_grad=True)
        (lin(xin) ** 2).sum().backward()
        got[lib.__name__] = (seen, xin.grad.numpy().copy())
    (se, ge), (st, gt) = got['ember'], got['torch']
    assert len(se) == len(st) == 1
    np.testing.assert_allclose(se[0][0], st[0][0], rtol=1e-5)
    np.testing.assert_allclose(se[0][1], st[0][1], rtol=1e-5)
    np.testing.assert_allclose(ge, gt, rtol=1e-5)


def test_sequential_and_module_list_operations():
    for lib in (ember, torch):
        nn = lib.nn
        seq = nn.Sequential(nn.Linear(2, 2), nn.Identity(), nn.Flatten())
        assert isinstance(seq[-1], nn.Flatten)
        assert len(seq[1:]) == 2 and isinstance(seq[1:], nn.Sequential)
        seq.append(nn.Identity())
        del seq[0]
        assert [n for n, _ in seq.named_children()] == ['0', '1', '2']
        ml = nn.ModuleList([nn.Identity()])
        ml.append(nn.Linear(1, 1))
        ml.insert(0, nn.Flatten())
        assert [type(m).__name__ for m in ml] == ['Flatten', 'Identity', 'Linear']
    assert repr(ember.nn.ModuleList()) == repr(torch.nn.ModuleList())


def test_parameter_containers_print_like_torch():
    for lib in (ember, torch):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.nn.Parameter(lib.ones(4))])
        assert len(list(pl.parameters())) == 2
    for make in (lambda lib: lib.nn.ParameterDict({'a': lib.nn.Parameter(lib.ones(2))}),
                 lambda lib: lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.ones(1)]),
                 lambda lib: lib.nn.Sequential(lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3))]))):
        assert repr(make(ember)).replace('ember.', 'torch.') == repr(make(torch))


def test_parameter_is_a_leaf_tensor_sharing_memory():
    data = ember.ones(3)
    p = ember.nn.Parameter(data)
    assert p.requires_grad and p.is_leaf
    data[0] = 5
    assert float(p[0]) == 5
    assert repr(p).startswith('Parameter containing:\ntensor([5., 1., 1.], requires_grad=True)')


def test_bilinear_unflatten_identity_match_torch():
    from oracle import check
    for lib in (ember, torch):
        lib.manual_seed(4)
    e, t = ember.nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5)
    assert repr(e) == repr(t)
    np.testing.assert_array_equal(e.weight.detach().numpy(), t.weight.detach().numpy())
    check(lambda lib, a, b: (e if lib is ember else t)(a, b), (2, 6, 3), (2, 6, 4))
    check(lambda lib, x: lib.nn.Unflatten(1, (2, 3))(x), (4, 6, 5))
    assert repr(ember.nn.Unflatten(1, (2, 3))) == repr(torch.nn.Unflatten(1, (2, 3)))
    assert repr(ember.nn.Identity(54, unused='x')) == repr(torch.nn.Identity(54, unused='x'))
