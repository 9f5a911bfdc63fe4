"""RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and LBFGS: 50 steps on the same model,
data and initial weights end where PyTorch's do; state_dict layout, resuming (also from a PyTorch
state_dict) and hyper-parameter errors match."""
import importlib

import numpy as np
import pytest
import torch

import ember


def _params(lib, dtype=np.float32):
    rng = np.random.default_rng(0)
    shapes = [(8, 5), (8,), (1, 8), (3,)]  # the last one gets no gradient and must be left alone
    return [lib.nn.Parameter(lib.tensor(rng.uniform(-0.5, 0.5, s).astype(dtype))) for s in shapes]


def _loss(params, x, y):
    w1, b1, w2, _ = params
    h = (x @ w1.t() + b1).tanh()
    return ((h @ w2.t() - y) ** 2).mean()


def _data(lib, dtype=np.float32):
    rng = np.random.default_rng(1)
    return (lib.tensor(rng.standard_normal((16, 5)).astype(dtype)),
            lib.tensor(rng.standard_normal((16, 1)).astype(dtype)))


def _closure(opt, params, x, y):
    def fn():
        opt.zero_grad()
        loss = _loss(params, x, y)
        loss.backward()
        return loss
    return fn


def _run(opt, params, x, y, steps, lbfgs=False):
    losses = []
    for _ in range(steps):
        fn = _closure(opt, params, x, y)
        if lbfgs:
            losses.append(opt.step(fn).item())
        else:
            losses.append(fn().item())
            opt.step()
    return losses


def _train(lib, make, steps=50, lbfgs=False, dtype=np.float32):
    params = _params(lib, dtype)
    x, y = _data(lib, dtype)
    opt = make(lib, params)
    return params, _run(opt, params, x, y, steps, lbfgs), opt


def _groups(cls, **kw):
    return lambda lib, p: getattr(lib.optim, cls)([{'params': p[:2]}, {'params': p[2:], 'lr': 0.003}], **kw)


CASES = {
    'rmsprop': lambda lib, p: lib.optim.RMSprop(p),
    'rmsprop_alpha_eps': lambda lib, p: lib.optim.RMSprop(p, lr=0.005, alpha=0.9, eps=1e-4),
    'rmsprop_wd': lambda lib, p: lib.optim.RMSprop(p, lr=0.005, weight_decay=0.1),
    'rmsprop_momentum': lambda lib, p: lib.optim.RMSprop(p, lr=0.002, momentum=0.9),
    'rmsprop_centered': lambda lib, p: lib.optim.RMSprop(p, lr=0.002, centered=True),
    'rmsprop_centered_momentum': lambda lib, p: lib.optim.RMSprop(p, lr=0.002, centered=True, momentum=0.5,
                                                                  weight_decay=0.01),
    'rmsprop_maximize': lambda lib, p: lib.optim.RMSprop(p, lr=0.001, maximize=True, momentum=0.3),
    'rmsprop_groups': _groups('RMSprop', lr=0.01, momentum=0.5),
    'adagrad': lambda lib, p: lib.optim.Adagrad(p, lr=0.1),
    'adagrad_lr_decay': lambda lib, p: lib.optim.Adagrad(p, lr=0.1, lr_decay=0.05),
    'adagrad_wd_init': lambda lib, p: lib.optim.Adagrad(p, lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5),
    'adagrad_eps_maximize': lambda lib, p: lib.optim.Adagrad(p, lr=0.01, eps=1e-3, maximize=True),
    'adagrad_groups': _groups('Adagrad', lr=0.1, lr_decay=0.01),
    'adagrad_fused': lambda lib, p: lib.optim.Adagrad(p, lr=0.1, fused=True),
    'adadelta': lambda lib, p: lib.optim.Adadelta(p),
    'adadelta_rho_eps': lambda lib, p: lib.optim.Adadelta(p, lr=0.5, rho=0.5, eps=1e-4),
    'adadelta_wd': lambda lib, p: lib.optim.Adadelta(p, weight_decay=0.1),
    'adadelta_maximize': lambda lib, p: lib.optim.Adadelta(p, lr=0.1, maximize=True),
    'adadelta_groups': _groups('Adadelta', lr=1.0),
    'adamax': lambda lib, p: lib.optim.Adamax(p, lr=0.01),
    'adamax_betas_eps': lambda lib, p: lib.optim.Adamax(p, lr=0.01, betas=(0.5, 0.9), eps=1e-3),
    'adamax_wd': lambda lib, p: lib.optim.Adamax(p, lr=0.01, weight_decay=0.1),
    'adamax_maximize': lambda lib, p: lib.optim.Adamax(p, lr=0.001, maximize=True),
    'adamax_groups': _groups('Adamax', lr=0.02),
    'nadam': lambda lib, p: lib.optim.NAdam(p, lr=0.01),
    'nadam_momentum_decay': lambda lib, p: lib.optim.NAdam(p, lr=0.01, momentum_decay=0.1, betas=(0.8, 0.99)),
    'nadam_wd': lambda lib, p: lib.optim.NAdam(p, lr=0.01, weight_decay=0.1),
    'nadam_decoupled_wd': lambda lib, p: lib.optim.NAdam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    'nadam_maximize': lambda lib, p: lib.optim.NAdam(p, lr=0.001, maximize=True, eps=1e-4),
    'nadam_groups': _groups('NAdam', lr=0.01),
    'radam': lambda lib, p: lib.optim.RAdam(p, lr=0.01),
    'radam_betas': lambda lib, p: lib.optim.RAdam(p, lr=0.01, betas=(0.8, 0.9), eps=1e-5),
    'radam_wd': lambda lib, p: lib.optim.RAdam(p, lr=0.01, weight_decay=0.1),
    'radam_decoupled_wd': lambda lib, p: lib.optim.RAdam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    'radam_maximize': lambda lib, p: lib.optim.RAdam(p, lr=0.001, maximize=True),
    'radam_groups': _groups('RAdam', lr=0.01),
    'asgd': lambda lib, p: lib.optim.ASGD(p, lr=0.05),
    'asgd_averaging': lambda lib, p: lib.optim.ASGD(p, lr=0.05, lambd=1e-2, alpha=0.5, t0=10),
    'asgd_wd': lambda lib, p: lib.optim.ASGD(p, lr=0.05, weight_decay=0.1, t0=0),
    'asgd_maximize': lambda lib, p: lib.optim.ASGD(p, lr=0.01, maximize=True, t0=5),
    'asgd_groups': _groups('ASGD', lr=0.05, t0=20),
    'rprop': lambda lib, p: lib.optim.Rprop(p),
    'rprop_etas': lambda lib, p: lib.optim.Rprop(p, lr=0.001, etas=(0.3, 1.5)),
    'rprop_step_sizes': lambda lib, p: lib.optim.Rprop(p, lr=0.01, step_sizes=(1e-3, 0.02)),
    'rprop_maximize': lambda lib, p: lib.optim.Rprop(p, lr=0.001, maximize=True, step_sizes=(1e-6, 0.005)),
    'rprop_groups': _groups('Rprop', lr=0.01),
    'adafactor': lambda lib, p: lib.optim.Adafactor(p),
    'adafactor_lr_wd': lambda lib, p: lib.optim.Adafactor(p, lr=0.02, weight_decay=0.1, beta2_decay=-0.5),
    'adafactor_eps_d': lambda lib, p: lib.optim.Adafactor(p, eps=(1e-3, 1e-2), d=2.0),
    'adafactor_maximize': lambda lib, p: lib.optim.Adafactor(p, lr=0.003, maximize=True),
    'adafactor_groups': _groups('Adafactor', lr=0.02),
}

LBFGS_CASES = {
    'lbfgs': lambda lib, p: lib.optim.LBFGS(p, lr=0.5, max_iter=5),
    'lbfgs_history': lambda lib, p: lib.optim.LBFGS(p, lr=0.5, max_iter=4, history_size=3),
    'lbfgs_max_eval': lambda lib, p: lib.optim.LBFGS(p, lr=0.2, max_iter=10, max_eval=6),
    'lbfgs_tolerance': lambda lib, p: lib.optim.LBFGS(p, lr=1, max_iter=20, tolerance_grad=1e-3,
                                                      tolerance_change=1e-4),
    'lbfgs_strong_wolfe': lambda lib, p: lib.optim.LBFGS(p, max_iter=5, line_search_fn='strong_wolfe'),
    'lbfgs_strong_wolfe_history': lambda lib, p: lib.optim.LBFGS(p, max_iter=3, history_size=2,
                                                                 line_search_fn='strong_wolfe'),
}


def _numpy(v):
    return v.detach().numpy() if hasattr(v, 'detach') else np.asarray(v)


def _assert_state_close(se, st, rtol, atol):
    assert list(se) == list(st)
    for k in st:
        assert list(se[k]) == list(st[k])
        for key, v in st[k].items():
            w = se[k][key]
            if isinstance(v, torch.Tensor):
                assert str(v.dtype).split('.')[-1] == w.dtype.name and tuple(v.shape) == tuple(w.shape), key
                np.testing.assert_allclose(_numpy(w), v.numpy(), rtol=rtol, atol=atol, err_msg=key)
            elif isinstance(v, list):
                assert len(v) == len(w)
                for a, b in zip(w, v):
                    assert type(a).__name__ == type(b).__name__, key
                    if b is not None:
                        np.testing.assert_allclose(_numpy(a), b.numpy(), rtol=rtol, atol=atol, err_msg=key)
            else:
                assert type(w) is type(v), key
                np.testing.assert_allclose(w, v, rtol=rtol, atol=atol, err_msg=key)


@pytest.mark.parametrize('name', list(CASES))
def test_matches_torch_after_50_steps(name):
    pe, le, oe = _train(ember, CASES[name])
    pt, lt, ot = _train(torch, CASES[name])
    np.testing.assert_allclose(le, lt, rtol=1e-4, atol=1e-6)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
    _assert_state_close(oe.state_dict()['state'], ot.state_dict()['state'], rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize('name', list(LBFGS_CASES))
@pytest.mark.parametrize('dtype, steps, rtol', [(np.float64, 8, 1e-8), (np.float32, 1, 1e-3)])
def test_lbfgs_matches_torch(name, dtype, steps, rtol):
    # quasi-Newton steps amplify float32 round-off over many iterations; float64 shows the algorithm agrees
    pe, le, oe = _train(ember, LBFGS_CASES[name], steps, True, dtype)
    pt, lt, ot = _train(torch, LBFGS_CASES[name], steps, True, dtype)
    np.testing.assert_allclose(le, lt, rtol=rtol, atol=1e-7)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=rtol)
    se, st = oe.state_dict()['state'][0], ot.state_dict()['state'][0]
    assert se['func_evals'] == st['func_evals'] and se['n_iter'] == st['n_iter']
    _assert_state_close({0: se}, {0: st}, rtol=rtol * 10, atol=rtol)


def test_lbfgs_requires_closure_and_one_group():
    for lib in (ember, torch):
        p = _params(lib)
        with pytest.raises(TypeError):
            lib.optim.LBFGS(p).step()
        with pytest.raises(ValueError, match='parameter groups'):
            lib.optim.LBFGS([{'params': p[:1]}, {'params': p[1:]}])


def test_lbfgs_stops_at_optimum():
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.zeros(3))
        opt = lib.optim.LBFGS([p])
        calls = []

        def closure():
            calls.append(1)
            opt.zero_grad()
            loss = (p ** 2).sum()
            loss.backward()
            return loss
        assert opt.step(closure).item() == 0.0
        assert len(calls) == 1 and opt.state[p]['n_iter'] == 0


FIRST = {
    'RMSprop': dict(lr=0.01, momentum=0.5, centered=True), 'Adagrad': dict(lr=0.1), 'Adadelta': dict(),
    'Adamax': dict(), 'NAdam': dict(), 'RAdam': dict(), 'ASGD': dict(t0=1), 'Rprop': dict(), 'Adafactor': dict(),
}


@pytest.mark.parametrize('cls', list(FIRST))
def test_state_dict_layout_matches_torch(cls):
    make = _groups(cls, **FIRST[cls])
    _, _, oe = _train(ember, make, steps=3)
    _, _, ot = _train(torch, make, steps=3)
    se, st = oe.state_dict(), ot.state_dict()
    assert se['param_groups'] == st['param_groups']
    for ge, gt in zip(se['param_groups'], st['param_groups']):
        assert list(ge) == list(gt)
    _assert_state_close(se['state'], st['state'], rtol=1e-4, atol=1e-4)
    assert repr(oe) == repr(ot)


def _to_ember(v):
    if isinstance(v, torch.Tensor):
        return ember.tensor(v.numpy())
    if isinstance(v, dict):
        return {k: _to_ember(e) for k, e in v.items()}
    if isinstance(v, list):
        return [_to_ember(e) for e in v]
    return v


@pytest.mark.parametrize('cls', list(FIRST) + ['LBFGS'])
def test_resume_from_ember_and_torch_state_dicts(cls):
    lbfgs = cls == 'LBFGS'
    make = (lambda lib, p: lib.optim.LBFGS(p, lr=0.5, max_iter=3)) if lbfgs else _groups(cls, **FIRST[cls])
    ref_params, ref_losses, _ = _train(ember, make, steps=8, lbfgs=lbfgs)
    x, y = _data(ember)
    # from Ember's own state_dict
    params = _params(ember)
    opt = make(ember, params)
    losses = _run(opt, params, x, y, 4, lbfgs)
    saved = opt.state_dict()
    opt = make(ember, params)
    opt.load_state_dict(saved)
    losses += _run(opt, params, x, y, 4, lbfgs)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-6)
    for a, b in zip(params, ref_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    # from PyTorch's state_dict, with PyTorch's parameters after 4 steps
    tparams, tlosses, topt = _train(torch, make, steps=4, lbfgs=lbfgs)
    params = [ember.nn.Parameter(ember.tensor(p.detach().numpy())) for p in tparams]
    opt = make(ember, params)
    opt.load_state_dict(_to_ember(topt.state_dict()))
    tlosses += _run(topt, tparams, *_data(torch), 4, lbfgs)
    losses = _run(opt, params, x, y, 4, lbfgs)
    np.testing.assert_allclose(losses, tlosses[4:], rtol=1e-5)
    for a, b in zip(params, tparams):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_adagrad_state_is_created_eagerly():
    for lib in (ember, torch):
        p = _params(lib)
        opt = lib.optim.Adagrad(p, initial_accumulator_value=0.25)
        assert len(opt.state) == 4 and float(opt.state[p[3]]['sum'][0]) == 0.25
        assert float(opt.state[p[3]]['step']) == 0.0


@pytest.mark.parametrize('make', [
    lambda lib, p: lib.optim.RMSprop(p, lr=-1),
    lambda lib, p: lib.optim.RMSprop(p, eps=-1),
    lambda lib, p: lib.optim.RMSprop(p, momentum=-0.1),
    lambda lib, p: lib.optim.RMSprop(p, weight_decay=-1),
    lambda lib, p: lib.optim.RMSprop(p, alpha=-0.5),
    lambda lib, p: lib.optim.Adagrad(p, lr_decay=-1),
    lambda lib, p: lib.optim.Adagrad(p, initial_accumulator_value=-1),
    lambda lib, p: lib.optim.Adagrad(p, eps=-1),
    lambda lib, p: lib.optim.Adagrad(p, weight_decay=-1),
    lambda lib, p: lib.optim.Adadelta(p, rho=1.5),
    lambda lib, p: lib.optim.Adadelta(p, lr=-0.1),
    lambda lib, p: lib.optim.Adadelta(p, eps=-1),
    lambda lib, p: lib.optim.Adamax(p, betas=(0.9, 1.0)),
    lambda lib, p: lib.optim.Adamax(p, betas=(-0.1, 0.9)),
    lambda lib, p: lib.optim.Adamax(p, weight_decay=-1),
    lambda lib, p: lib.optim.NAdam(p, momentum_decay=-1),
    lambda lib, p: lib.optim.NAdam(p, eps=-1),
    lambda lib, p: lib.optim.RAdam(p, betas=(1.0, 0.9)),
    lambda lib, p: lib.optim.RAdam(p, weight_decay=-0.1),
    lambda lib, p: lib.optim.ASGD(p, lr=-1),
    lambda lib, p: lib.optim.ASGD(p, weight_decay=-1),
    lambda lib, p: lib.optim.Rprop(p, etas=(1.1, 1.2)),
    lambda lib, p: lib.optim.Rprop(p, etas=(0.5, 0.9)),
    lambda lib, p: lib.optim.Rprop(p, lr=-1),
    lambda lib, p: lib.optim.LBFGS(p, lr=-1),
    lambda lib, p: lib.optim.Adafactor(p, lr=-1),
    lambda lib, p: lib.optim.Adafactor(p, beta2_decay=0.5),
    lambda lib, p: lib.optim.Adafactor(p, eps=(-1, 1e-3)),
    lambda lib, p: lib.optim.Adafactor(p, eps=(None, -1)),
    lambda lib, p: lib.optim.Adafactor(p, d=0.5),
    lambda lib, p: lib.optim.Adafactor(p, weight_decay=-1),
    lambda lib, p: lib.optim.RMSprop(p, lr=lib.tensor([0.1, 0.2])),
])
def test_bad_hyper_parameters_raise_like_torch(make):
    messages = []
    for lib in (ember, torch):
        with pytest.raises(ValueError) as info:
            make(lib, _params(lib))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_unknown_line_search_raises():
    for lib in (ember, torch):
        p = _params(lib)
        x, y = _data(lib)
        opt = lib.optim.LBFGS(p, line_search_fn='backtracking')
        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(_closure(opt, p, x, y))


def test_tensor_lr_and_version_counter():
    p = _params(ember)
    x, y = _data(ember)
    opt = ember.optim.NAdam(p, lr=ember.tensor(0.01))
    v = p[0]._version
    _run(opt, p, x, y, 2)
    assert p[0]._version > v
    assert opt.state[p[3]] == {}


def _hook_trace(lib):
    p = _params(lib)
    x, y = _data(lib)
    opt = lib.optim.RMSprop(p, lr=0.01)
    log = []
    opt.register_step_pre_hook(lambda o, a, k: log.append(('pre', len(a), a[0] is o, sorted(k))))
    opt.register_step_post_hook(lambda o, a, k: log.append(('post', len(a), sorted(k))))
    module = importlib.import_module(f'{lib.__name__}.optim.optimizer')
    g_pre = module.register_optimizer_step_pre_hook(lambda o, a, k: log.append(('gpre',)))
    g_post = module.register_optimizer_step_post_hook(lambda o, a, k: log.append(('gpost',)))
    fn = _closure(opt, p, x, y)
    opt.step()
    opt.step(fn)
    opt.step(closure=fn)
    g_pre.remove()
    g_post.remove()
    # a pre-hook may replace the arguments: here it drops the closure
    h = opt.register_step_pre_hook(lambda o, a, k: ((o,), {}))
    log.append(('result', opt.step(fn)))
    h.remove()
    with pytest.raises(RuntimeError, match='must return None or a tuple of \\(new_args, new_kwargs\\)'):
        with opt.register_step_pre_hook(lambda o, a, k: 3):
            opt.step()
    opt.step()
    opt.register_state_dict_pre_hook(lambda o: log.append('sd_pre1'))
    opt.register_state_dict_pre_hook(lambda o: log.append('sd_pre0'), prepend=True)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, 'extra': 1})
    opt.register_state_dict_post_hook(lambda o, sd: log.append(('sd_post', sorted(sd))))
    sd = opt.state_dict()
    log.append(sorted(sd))
    opt.register_load_state_dict_pre_hook(lambda o, sd: log.append(('ld_pre', sorted(sd))))
    opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items() if k != 'extra'},
                                          prepend=True)
    opt.register_load_state_dict_post_hook(lambda o: log.append('ld_post'))
    opt.load_state_dict(sd)
    return log


def test_step_and_state_dict_hooks_match_torch():
    assert _hook_trace(ember) == _hook_trace(torch)


def test_lbfgs_step_hooks_see_the_closure():
    logs = []
    for lib in (ember, torch):
        p = _params(lib)
        x, y = _data(lib)
        opt = lib.optim.LBFGS(p, max_iter=2)
        log = []
        opt.register_step_pre_hook(lambda o, a, k: log.append((len(a), sorted(k))))
        opt.step(_closure(opt, p, x, y))
        opt.step(closure=_closure(opt, p, x, y))
        logs.append(log)
    assert logs[0] == logs[1] == [(2, []), (1, ['closure'])]


def _bn_model(lib):
    rng = np.random.default_rng(5)
    m = lib.nn.Sequential(lib.nn.Linear(5, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 1))
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    return m


SWA = {
    'swa': lambda sw, m: sw.AveragedModel(m),
    'swa_buffers': lambda sw, m: sw.AveragedModel(m, use_buffers=True),
    'ema_multi': lambda sw, m: sw.AveragedModel(m, multi_avg_fn=sw.get_ema_multi_avg_fn(0.9)),
    'ema_multi_buffers': lambda sw, m: sw.AveragedModel(m, multi_avg_fn=sw.get_ema_multi_avg_fn(0.8),
                                                        use_buffers=True),
    'ema_avg_fn': lambda sw, m: sw.AveragedModel(m, avg_fn=sw.get_ema_avg_fn(0.95)),
    'swa_avg_fn': lambda sw, m: sw.AveragedModel(m, avg_fn=sw.get_swa_avg_fn()),
}


@pytest.mark.parametrize('name', list(SWA))
def test_averaged_model_matches_torch(name):
    out = []
    for lib in (ember, torch):
        m = _bn_model(lib)
        avg = SWA[name](lib.optim.swa_utils, m)
        opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.5)
        x, y = _data(lib)
        for _ in range(6):
            opt.zero_grad()
            ((m(x) - y) ** 2).mean().backward()
            opt.step()
            avg.update_parameters(m)
        sd = avg.state_dict()
        out.append((list(sd), {k: v.detach().numpy().copy() for k, v in sd.items()},
                    avg(x).detach().numpy(), str(avg)))
    assert out[0][0] == out[1][0] and out[0][3] == out[1][3]
    for k, v in out[1][1].items():
        assert out[0][1][k].dtype == v.dtype, k
        np.testing.assert_allclose(out[0][1][k], v, rtol=1e-5, atol=1e-6, err_msg=k)
    np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-5, atol=1e-6)


def test_update_bn_matches_torch():
    out = []
    for lib in (ember, torch):
        m = _bn_model(lib)
        rng = np.random.default_rng(9)
        batches = [lib.tensor(rng.standard_normal((8, 5)).astype(np.float32)) for _ in range(3)]
        loader = [batches[0], (batches[1], 'label'), [batches[2]]]
        m.eval()
        m[1].momentum = 0.3
        lib.optim.swa_utils.update_bn(loader, m)
        bn = m[1]
        out.append((bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(), int(bn.num_batches_tracked),
                    m.training, bn.momentum))
        lib.optim.swa_utils.update_bn(loader, lib.nn.Linear(5, 1))  # no batch norm: nothing to do
    for a, b in zip(out[0], out[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_swa_errors():
    for lib in (ember, torch):
        sw = lib.optim.swa_utils
        with pytest.raises(ValueError, match='Invalid decay value 1.5 provided'):
            sw.get_ema_multi_avg_fn(1.5)
        with pytest.raises(ValueError, match='Invalid decay value -0.1 provided'):
            sw.get_ema_avg_fn(-0.1)
        with pytest.raises(AssertionError, match='Only one of avg_fn and multi_avg_fn should be provided'):
            sw.AveragedModel(_bn_model(lib), avg_fn=sw.get_swa_avg_fn(), multi_avg_fn=sw.get_swa_multi_avg_fn())


def _matrices(lib):
    rng = np.random.default_rng(0)
    return [lib.nn.Parameter(lib.tensor(rng.uniform(-0.5, 0.5, s).astype(np.float32))) for s in [(8, 5), (1, 8)]]


def _train_matrices(lib, make, steps):
    w1, w2 = params = _matrices(lib)
    x, y = _data(lib)
    opt = make(lib, params)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (((x @ w1.t()).tanh() @ w2.t() - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return params, losses, opt


MUON = {
    'muon': lambda lib, p: lib.optim.Muon(p, lr=0.02),
    'muon_plain_momentum': lambda lib, p: lib.optim.Muon(p, lr=0.02, nesterov=False, momentum=0.9, weight_decay=0),
    'muon_adjust_rms': lambda lib, p: lib.optim.Muon(p, lr=0.01, adjust_lr_fn='match_rms_adamw'),
    'muon_ns': lambda lib, p: lib.optim.Muon(p, lr=0.02, ns_steps=3, ns_coefficients=(2.0, -1.5, 0.5), eps=1e-5),
    'muon_groups': lambda lib, p: lib.optim.Muon([{'params': p[:1]}, {'params': p[1:], 'lr': 0.005}], lr=0.02),
}


@pytest.mark.parametrize('name', list(MUON))
def test_muon_matches_torch(name):
    # the Newton-Schulz iteration runs in bfloat16 (emulated by rounding in Ember): compare at its precision
    pe, le, oe = _train_matrices(ember, MUON[name], 20)
    pt, lt, ot = _train_matrices(torch, MUON[name], 20)
    np.testing.assert_allclose(le, lt, rtol=1e-3)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-3, atol=1e-4)
    se, st = oe.state_dict(), ot.state_dict()
    assert se['param_groups'] == st['param_groups'] and [list(g) for g in se['param_groups']] == [
        list(g) for g in st['param_groups']]
    _assert_state_close(se['state'], st['state'], rtol=1e-3, atol=1e-4)


def test_muon_orthogonalisation_is_bfloat16_exact():
    from ember.optim._muon import _zeropower_via_newtonschulz
    from torch.optim._muon import _zeropower_via_newtonschulz as torch_ns
    rng = np.random.default_rng(4)
    for shape in [(6, 9), (9, 6), (32, 20)]:
        g = rng.standard_normal(shape).astype(np.float32)
        mine = _zeropower_via_newtonschulz(g, (3.4445, -4.775, 2.0315), 5, 1e-7)
        theirs = torch_ns(torch.tensor(g), (3.4445, -4.775, 2.0315), 5, 1e-7).float().numpy()
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize('make', [
    lambda lib, p: lib.optim.Muon(p, lr=-1),
    lambda lib, p: lib.optim.Muon(p, momentum=-1),
    lambda lib, p: lib.optim.Muon(p, weight_decay=-1),
    lambda lib, p: lib.optim.Muon(p, adjust_lr_fn='sqrt'),
])
def test_muon_errors(make):
    messages = []
    for lib in (ember, torch):
        with pytest.raises(ValueError) as info:
            make(lib, _matrices(lib))
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    for lib in (ember, torch):
        with pytest.raises(ValueError, match='Muon only supports 2D parameters'):
            lib.optim.Muon([lib.nn.Parameter(lib.ones(3))])


@pytest.mark.parametrize('cls', ['RMSprop', 'Adadelta', 'Adamax', 'NAdam', 'RAdam', 'ASGD', 'Rprop', 'Adam', 'AdamW'])
def test_capturable_is_rejected_on_cpu_like_torch(cls):
    messages = []
    for lib in (ember, torch):
        p = _params(lib)
        x, y = _data(lib)
        opt = getattr(lib.optim, cls)(p, capturable=True)
        with pytest.raises(AssertionError) as info:
            _run(opt, p, x, y, 1)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize('cls', ['RMSprop', 'Adagrad', 'ASGD', 'NAdam', 'Adam'])
def test_old_checkpoints_with_number_steps_load_like_torch(cls):
    kinds = []
    for lib in (ember, torch):
        p = _params(lib)
        x, y = _data(lib)
        opt = getattr(lib.optim, cls)(p)
        _run(opt, p, x, y, 2)
        sd = opt.state_dict()
        for s in sd['state'].values():
            s['step'] = 2
            for key in ('eta', 'mu', 'mu_product'):
                if key in s:
                    s[key] = float(s[key])
        opt.load_state_dict(sd)
        kinds.append([(k, type(v).__name__, str(v.dtype).split('.')[-1] if hasattr(v, 'dtype') else None)
                      for k, v in opt.state[p[0]].items()])
        _run(opt, p, x, y, 1)
    assert [(k, d) for k, _, d in kinds[0]] == [(k, d) for k, _, d in kinds[1]]
    assert all(t == 'Tensor' for _, t, _ in kinds[0])


BLOCKED = {
    'sgd': lambda lib, p: lib.optim.SGD(p, lr=0.1),
    'sgd_momentum': lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9),
    'sgd_all': lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1, maximize=True),
    'sgd_nesterov_wd': lambda lib, p: lib.optim.SGD(p, lr=1, momentum=0.5, nesterov=True, weight_decay=0.01),
    'adam': lambda lib, p: lib.optim.Adam(p, lr=0.01),
    'adam_all': lambda lib, p: lib.optim.Adam(p, lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, amsgrad=True,
                                              maximize=True),
    'adamw_amsgrad': lambda lib, p: lib.optim.AdamW(p, lr=0.01, amsgrad=True),
    'rmsprop': lambda lib, p: lib.optim.RMSprop(p, weight_decay=0.1, maximize=True),
    'rmsprop_centered_momentum': lambda lib, p: lib.optim.RMSprop(p, centered=True, momentum=0.5),
    'rmsprop_momentum': lambda lib, p: lib.optim.RMSprop(p, momentum=0.5),
    'adagrad': lambda lib, p: lib.optim.Adagrad(p, lr_decay=0.1, weight_decay=0.1, maximize=True),
    'adadelta': lambda lib, p: lib.optim.Adadelta(p, weight_decay=0.1, maximize=True),
    'adamax': lambda lib, p: lib.optim.Adamax(p, weight_decay=0.1, maximize=True),
    'nadam': lambda lib, p: lib.optim.NAdam(p, weight_decay=0.1, maximize=True),
    'nadam_decoupled': lambda lib, p: lib.optim.NAdam(p, weight_decay=0.1, decoupled_weight_decay=True),
    'radam': lambda lib, p: lib.optim.RAdam(p, betas=(0.5, 0.6), weight_decay=0.1, maximize=True),
    'radam_decoupled': lambda lib, p: lib.optim.RAdam(p, weight_decay=0.1, decoupled_weight_decay=True),
    'asgd': lambda lib, p: lib.optim.ASGD(p, t0=2, weight_decay=0.1, maximize=True),
    'rprop': lambda lib, p: lib.optim.Rprop(p, maximize=True),
}


@pytest.mark.parametrize('name', list(BLOCKED))
def test_large_parameters_are_updated_blockwise_like_torch(name):
    # 70,000 elements (several blocks and a partial one), a contiguous and a transposed gradient
    out = []
    for lib in (ember, torch):
        rng = np.random.default_rng(2)
        params = [lib.nn.Parameter(lib.tensor(rng.standard_normal((350, 200)).astype(np.float32))) for _ in range(2)]
        opt = BLOCKED[name](lib, params)
        for _ in range(7):  # RAdam's rectified branch starts at step 6
            params[0].grad = lib.tensor(rng.standard_normal((350, 200)).astype(np.float32))
            params[1].grad = lib.tensor(rng.standard_normal((200, 350)).astype(np.float32)).t()
            opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_subclass_step_calling_super_runs_hooks_once():
    class Clipped(ember.optim.SGD):
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group['params']:
                    if p.grad is not None:
                        p.grad.clamp_(-0.01, 0.01)
            return super().step(closure)

    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.full((3,), 5.0)
    opt = Clipped([p], lr=1.0)
    calls = []
    opt.register_step_pre_hook(lambda o, a, k: calls.append('pre'))
    opt.register_step_post_hook(lambda o, a, k: calls.append('post'))
    opt.step()
    assert calls == ['pre', 'post']
    np.testing.assert_allclose(p.detach().numpy(), np.full(3, 0.99), rtol=1e-6)
    assert list(opt.state_dict()) == ['state', 'param_groups']


def test_sparse_adam_rejects_dense_gradients_like_torch():
    for lib in (ember, torch):
        p = _params(lib)
        x, y = _data(lib)
        opt = lib.optim.SparseAdam(p, lr=0.01)
        assert list(opt.param_groups[0]) == ['params', 'lr', 'betas', 'eps', 'maximize']
        assert opt.step() is None  # no gradients yet: nothing to do
        with pytest.raises(RuntimeError, match='SparseAdam does not support dense gradients, please consider Adam'):
            _run(opt, p, x, y, 1)
        for bad in (dict(lr=0.0), dict(eps=0.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1))):
            with pytest.raises(ValueError):
                lib.optim.SparseAdam(p, **bad)


def test_custom_optimizer_keeps_number_steps_on_load():
    class Counting(ember.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {'lr': 0.1})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group['params']:
                    self.state[p]['step'] = self.state[p].get('step', 0) + 1

    p = ember.nn.Parameter(ember.ones(2))
    opt = Counting([p])
    opt.step()
    opt.load_state_dict(opt.state_dict())
    assert opt.state[p]['step'] == 1 and isinstance(opt.state[p]['step'], int)


def test_swap_in_optimizer_params_and_state_matches_torch():
    out = []
    for lib in (ember, torch):
        p = _params(lib)
        x, y = _data(lib)
        opt = lib.optim.Adam([{'params': p[:2]}, {'params': p[2:], 'lr': 0.003}], lr=0.01)
        _run(opt, p, x, y, 2)
        other = _params(lib)
        saved = opt.state_dict()
        before = [t.detach().numpy().copy() for t in p]
        sd = {'state': {k: {n: (v.clone() if hasattr(v, 'clone') else v) for n, v in s.items()}
                        for k, s in saved['state'].items()},
              'param_groups': [dict(g, lr=0.5) for g in saved['param_groups']]}
        with lib.optim.swap_in_optimizer_params_and_state(opt, {str(i): t for i, t in enumerate(other)}, sd):
            assert opt.param_groups[0]['params'][0] is other[0] and opt.param_groups[1]['lr'] == 0.5
            _run(opt, other, x, y, 1)
        assert opt.param_groups[0]['params'][0] is p[0] and opt.param_groups[1]['lr'] == 0.003
        for a, b in zip(p, before):
            np.testing.assert_array_equal(a.detach().numpy(), b)
        assert float(opt.state[p[0]]['step']) == 2 and float(sd['state'][0]['step']) == 3
        out.append([t.detach().numpy().copy() for t in other])
        messages = []
        for bad in [{'state': [], 'param_groups': []}, {'state': {}, 'param_groups': [{}]},
                    {'state': {9: {}}, 'param_groups': saved['param_groups']},
                    {'state': {}, 'param_groups': [dict(g, extra=1) for g in saved['param_groups']]}]:
            with pytest.raises(RuntimeError) as info:
                with lib.optim.swap_in_optimizer_params_and_state(opt, {}, bad):
                    pass
            messages.append(str(info.value))
        out.append(messages)
    for a, b in zip(out[0], out[2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert out[1] == out[3]


@pytest.mark.parametrize('cls', ['RMSprop', 'NAdam', 'ASGD', 'Rprop'])
def test_checkpoint_files_cross_load_with_torch(cls, tmp_path):
    make = _groups(cls, **FIRST.get(cls, {}))
    runs = {}
    for src, dst in ((ember, torch), (torch, ember)):
        params, _, opt = _train(src, make, steps=3)
        sched = src.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7)
        src.save({'params': [p.detach() for p in params], 'opt': opt.state_dict(), 'sched': sched.state_dict()},
                 tmp_path / 'ckpt.pt')
        ckpt = dst.load(tmp_path / 'ckpt.pt')
        new_params = [dst.nn.Parameter(t) for t in ckpt['params']]
        new_opt = make(dst, new_params)
        new_opt.load_state_dict(ckpt['opt'])
        new_sched = dst.optim.lr_scheduler.CosineAnnealingLR(new_opt, T_max=7)
        new_sched.load_state_dict(ckpt['sched'])
        for lib, ps, o, s in ((src, params, opt, sched), (dst, new_params, new_opt, new_sched)):
            x, y = _data(lib)
            for _ in range(3):
                _run(o, ps, x, y, 1)
                s.step()
            runs[(src.__name__, lib.__name__)] = [p.detach().numpy().copy() for p in ps], s.get_last_lr()
    for src in ('ember', 'torch'):
        dst = 'torch' if src == 'ember' else 'ember'
        (a, lr_a), (b, lr_b) = runs[(src, src)], runs[(src, dst)]
        assert lr_a == lr_b
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('cls', ['SGD', 'Adam', 'RMSprop', 'Adagrad', 'Adadelta', 'Adamax', 'NAdam', 'RAdam', 'ASGD',
                                 'Rprop'])
def test_differentiable_is_not_implemented(cls):
    with pytest.raises(NotImplementedError, match='differentiable=True is not supported'):
        getattr(ember.optim, cls)(_params(ember), lr=0.1, differentiable=True)
    getattr(ember.optim, cls)(_params(ember), lr=0.1, differentiable=False)
