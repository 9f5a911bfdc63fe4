"""Learning-rate schedulers: 100 steps of learning rates (and momenta) identical to PyTorch's, with several
parameter groups; state_dict layout, resuming, step(epoch) closed forms, warnings and errors."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember


def _opt(lib, kind='sgd'):
    ps = [lib.nn.Parameter(lib.zeros(2)) for _ in range(3)]
    groups = [{'params': ps[:1]}, {'params': ps[1:2], 'lr': 0.5}, {'params': ps[2:], 'lr': 0.02}]
    if kind == 'adam':
        return lib.optim.Adam(groups, lr=0.1, betas=(0.9, 0.99))
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def _lrs(opt):
    return [(g['lr'], g.get('momentum'), g.get('betas')) for g in opt.param_groups]


def _sched(lib):
    return lib.optim.lr_scheduler


def _run(lib, make, steps=100, kind='sgd', metrics=None):
    opt = _opt(lib, kind)
    sched = make(_sched(lib), opt)
    seen = [_lrs(opt)]
    last = [sched.get_last_lr()]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        seen.append(_lrs(opt))
        last.append(list(sched.get_last_lr()))
    return seen, last, sched, opt


def _double(e):
    return 2 * e if e < 7 else 0.5


class _Scale:
    """A callable object: its ``__dict__`` goes into the state_dict."""

    def __init__(self, gamma):
        self.gamma = gamma

    def __call__(self, e):
        return self.gamma ** e


CASES = {
    'lambda': lambda L, o: L.LambdaLR(o, lambda e: 0.95 ** e),
    'lambda_per_group': lambda L, o: L.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 / (e + 1), _Scale(0.97)]),
    'multiplicative': lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97),
    'multiplicative_per_group': lambda L, o: L.MultiplicativeLR(o, [lambda e: 0.9, _double, _Scale(0.99)]),
    'step': lambda L, o: L.StepLR(o, step_size=7),
    'step_gamma': lambda L, o: L.StepLR(o, step_size=3, gamma=0.7),
    'multistep': lambda L, o: L.MultiStepLR(o, milestones=[10, 25, 25, 60], gamma=0.5),
    'constant': lambda L, o: L.ConstantLR(o),
    'constant_factor': lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=30),
    'linear': lambda L, o: L.LinearLR(o),
    'linear_decay': lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=40),
    'linear_zero_end': lambda L, o: L.LinearLR(o, start_factor=0.5, end_factor=0.0, total_iters=20),
    'exponential': lambda L, o: L.ExponentialLR(o, gamma=0.96),
    'cosine': lambda L, o: L.CosineAnnealingLR(o, T_max=30),
    'cosine_eta_min': lambda L, o: L.CosineAnnealingLR(o, T_max=17, eta_min=0.001),
    'warm_restarts': lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=10),
    'warm_restarts_mult': lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3),
    'cyclic': lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=7),
    'cyclic_triangular2': lambda L, o: L.CyclicLR(o, base_lr=[0.01, 0.02, 0.001], max_lr=0.2, step_size_up=5,
                                                  step_size_down=11, mode='triangular2'),
    'cyclic_exp_range': lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=6, mode='exp_range', gamma=0.98,
                                                base_momentum=0.7, max_momentum=[0.9, 0.95, 0.99]),
    'cyclic_scale_fn_cycle': lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4, scale_fn=lambda x: 1 / x,
                                                     cycle_momentum=False),
    'cyclic_scale_fn_iterations': lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4, scale_fn=_Scale(0.99),
                                                          scale_mode='iterations'),
    'onecycle': lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=100),
    'onecycle_linear': lambda L, o: L.OneCycleLR(o, max_lr=[0.1, 0.2, 0.05], epochs=10, steps_per_epoch=10,
                                                 anneal_strategy='linear', pct_start=0.25),
    'onecycle_three_phase': lambda L, o: L.OneCycleLR(o, 0.1, total_steps=101, three_phase=True, div_factor=10.0,
                                                      final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9),
    'onecycle_no_momentum': lambda L, o: L.OneCycleLR(o, 0.1, total_steps=100, cycle_momentum=False),
    'polynomial': lambda L, o: L.PolynomialLR(o),
    'polynomial_power': lambda L, o: L.PolynomialLR(o, total_iters=60, power=2.0),
    'sequential': lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=10),
                                                  L.CosineAnnealingLR(o, T_max=50)], milestones=[10]),
    'sequential_three': lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, 0.5, total_iters=4), L.ExponentialLR(o, 0.9),
                                                        L.StepLR(o, 5, 0.5)], milestones=[5, 30]),
    'chained': lambda L, o: L.ChainedScheduler([L.ConstantLR(o, 0.1, total_iters=4), L.ExponentialLR(o, 0.9)]),
    'chained_nested': lambda L, o: L.ChainedScheduler(
        [L.SequentialLR(o, [L.LinearLR(o, 0.2, total_iters=5), L.ExponentialLR(o, 0.95)], [5]),
         L.MultiStepLR(o, [30, 60])], optimizer=o),
}

ADAM_CASES = ['cyclic', 'cyclic_exp_range', 'onecycle', 'onecycle_three_phase']


def _compare(case, kind='sgd', steps=100, metrics=None):
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no call-order or get_lr warnings in normal use
        se, le, sched_e, _ = _run(ember, case, steps, kind, metrics)
        st, lt, sched_t, _ = _run(torch, case, steps, kind, metrics)
    assert se == st
    assert le == lt
    return sched_e, sched_t


def _plain(state):
    """A state_dict with callables dropped (they are not comparable across libraries)."""
    if isinstance(state, dict):
        return {k: _plain(v) for k, v in state.items() if not callable(v) or isinstance(v, dict)}
    if isinstance(state, list):
        return [_plain(v) for v in state]
    return state


@pytest.mark.parametrize('name', list(CASES))
def test_schedule_matches_torch(name):
    sched_e, sched_t = _compare(CASES[name])
    se, st = sched_e.state_dict(), sched_t.state_dict()
    assert list(se) == list(st)
    assert _plain(se) == _plain(st)


@pytest.mark.parametrize('name', ADAM_CASES)
def test_momentum_cycles_betas_of_adam(name):
    _compare(CASES[name], kind='adam')


PLATEAU = {
    'default': dict(),
    'patience_factor': dict(patience=2, factor=0.5),
    'max_abs': dict(mode='max', threshold=0.05, threshold_mode='abs', patience=1),
    'max_rel_cooldown': dict(mode='max', patience=0, cooldown=3, factor=0.7),
    'min_abs_min_lr_list': dict(threshold_mode='abs', threshold=0.01, patience=1, min_lr=[0.05, 0.01, 0.0]),
    'min_lr_eps': dict(patience=0, factor=0.5, min_lr=1e-3, eps=1e-3),
}


@pytest.mark.parametrize('name', list(PLATEAU))
def test_reduce_lr_on_plateau_matches_torch(name):
    rng = np.random.default_rng(3)
    # noisy plateaus: improvements come in bursts
    metrics = list(np.repeat(rng.uniform(0, 1, 25).cumsum()[::-1], 4) + rng.uniform(0, 0.1, 100))
    if PLATEAU[name].get('mode') == 'max':
        metrics = [-m for m in metrics]
    sched_e, sched_t = _compare(lambda L, o: L.ReduceLROnPlateau(o, **PLATEAU[name]), metrics=metrics)
    assert sched_e.state_dict() == sched_t.state_dict()
    assert list(sched_e.state_dict()) == list(sched_t.state_dict())


def test_reduce_lr_on_plateau_accepts_tensor_metric_and_errors():
    for lib in (ember, torch):
        o = _opt(lib)
        s = lib.optim.lr_scheduler.ReduceLROnPlateau(o, patience=0)
        s.step(lib.tensor(1.0))
        s.step(lib.tensor(2.0))
        assert s.get_last_lr() == [0.010000000000000002, 0.05, 0.002]
        with pytest.raises(ValueError, match='Factor should be < 1.0.'):
            lib.optim.lr_scheduler.ReduceLROnPlateau(o, factor=1.0)
        with pytest.raises(ValueError, match='mode avg is unknown!'):
            lib.optim.lr_scheduler.ReduceLROnPlateau(o, mode='avg')
        with pytest.raises(ValueError, match='threshold mode x is unknown!'):
            lib.optim.lr_scheduler.ReduceLROnPlateau(o, threshold_mode='x')
        with pytest.raises(ValueError, match='expected 3 min_lrs, got 2'):
            lib.optim.lr_scheduler.ReduceLROnPlateau(o, min_lr=[0, 0])


CLOSED = ['step_gamma', 'multistep', 'constant_factor', 'linear_decay', 'exponential', 'cosine_eta_min',
          'polynomial_power', 'warm_restarts_mult', 'lambda', 'cyclic']


@pytest.mark.parametrize('name', CLOSED)
def test_step_with_epoch_uses_closed_forms(name):
    epochs = [3, 4, 10, 7, 25, 26, 0, 33, 50, 12]
    if name == 'warm_restarts_mult':
        epochs += [2.5, 20.25, 45.0]
    out = []
    for lib in (ember, torch):
        opt = _opt(lib)
        sched = CASES[name](_sched(lib), opt)
        seq = []
        for e in epochs:
            opt.step()
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter('always')
                sched.step(e)
            seq.append((_lrs(opt), [str(x.message)[:60] for x in w]))
        out.append(seq)
    assert out[0] == out[1]
    if name != 'warm_restarts_mult':
        assert 'The epoch parameter in `scheduler.step()` was not necessary' in out[0][0][1][0]


@pytest.mark.parametrize('name', ['step', 'multiplicative_per_group', 'cyclic_scale_fn_iterations', 'onecycle',
                                  'sequential', 'chained_nested', 'warm_restarts_mult', 'lambda_per_group'])
def test_resume_from_state_dict(name):
    full, _, _, _ = _run(ember, CASES[name], 60)
    opt = _opt(ember)
    sched = CASES[name](ember.optim.lr_scheduler, opt)
    for _ in range(25):
        opt.step()
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    opt = _opt(ember)
    sched = CASES[name](ember.optim.lr_scheduler, opt)
    opt.load_state_dict(opt_state)
    sched.load_state_dict(sched_state)
    seen = [_lrs(opt)]
    for _ in range(35):
        opt.step()
        sched.step()
        seen.append(_lrs(opt))
    assert seen == full[25:]


def test_resume_with_last_epoch_needs_initial_lr():
    for lib in (ember, torch):
        with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
            lib.optim.lr_scheduler.StepLR(_opt(lib), 3, last_epoch=5)
    seqs = []
    for lib in (ember, torch):
        opt = _opt(lib)
        for g in opt.param_groups:
            g['initial_lr'] = g['lr'] * 2
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20, last_epoch=7)
        seq = [sched.get_last_lr()]
        for _ in range(10):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr())
        seqs.append(seq)
    assert seqs[0] == seqs[1]


def test_base_attributes_and_warnings():
    opt = _opt(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, 2)
    assert sched.base_lrs == [0.1, 0.5, 0.02] and sched.last_epoch == 0
    assert [g['initial_lr'] for g in opt.param_groups] == [0.1, 0.5, 0.02]
    assert isinstance(sched, ember.optim.lr_scheduler.LRScheduler)
    assert ember.optim.lr_scheduler._LRScheduler is ember.optim.lr_scheduler.LRScheduler
    with pytest.warns(UserWarning, match='Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`'):
        sched.step()
    with pytest.warns(UserWarning, match='please use `get_last_lr\\(\\)`'):
        sched.get_lr()
    opt2 = _opt(ember)
    sched2 = ember.optim.lr_scheduler.ExponentialLR(opt2, 0.5)
    opt2.step = lambda closure=None: None
    with pytest.warns(UserWarning, match='has been overridden after learning rate scheduler initialization'):
        sched2.step()


def test_tensor_learning_rate_is_updated_in_place():
    out = []
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.zeros(2))
        lr = lib.tensor(0.1)
        opt = lib.optim.Adam([p], lr=lr)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        opt.step()
        sched.step()
        assert opt.param_groups[0]['lr'] is lr
        out.append(float(lr))
    assert out[0] == out[1] == np.float32(0.05)


@pytest.mark.parametrize('make, exc', [
    (lambda L, o: L.StepLR(None, 3), TypeError),
    (lambda L, o: L.LambdaLR(o, [lambda e: 1.0]), ValueError),
    (lambda L, o: L.MultiplicativeLR(o, [1, 2, 3]), TypeError),
    (lambda L, o: L.ConstantLR(o, factor=1.5), ValueError),
    (lambda L, o: L.LinearLR(o, start_factor=0), ValueError),
    (lambda L, o: L.LinearLR(o, end_factor=1.5), ValueError),
    (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0), ValueError),
    (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=1.5), ValueError),
    (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, eta_min='0'), ValueError),
    (lambda L, o: L.CyclicLR(o, 0.01, 0.1, mode='sine'), ValueError),
    (lambda L, o: L.CyclicLR(o, [0.01, 0.1], 0.1), ValueError),
    (lambda L, o: L.CyclicLR(o, 0.01, 0.1, base_momentum=[0.1]), ValueError),
    (lambda L, o: L.OneCycleLR(o, 0.1), ValueError),
    (lambda L, o: L.OneCycleLR(o, 0.1, total_steps=0), ValueError),
    (lambda L, o: L.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3), ValueError),
    (lambda L, o: L.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=1.5), ValueError),
    (lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=1), ValueError),
    (lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy='exp'), ValueError),
    (lambda L, o: L.SequentialLR(o, [], []), ValueError),
    (lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2)], [3]), ValueError),
    (lambda L, o: L.SequentialLR(o, [L.ReduceLROnPlateau(o)], []), ValueError),
    (lambda L, o: L.SequentialLR(o, [L.StepLR(_opt_like(o), 2)], []), ValueError),
    (lambda L, o: L.SequentialLR(o, [object()], []), TypeError),
    (lambda L, o: L.ChainedScheduler([]), ValueError),
    (lambda L, o: L.ChainedScheduler([L.ReduceLROnPlateau(o)]), ValueError),
])
def test_errors_match_torch(make, exc):
    messages = []
    for lib in (ember, torch):
        with pytest.raises(exc) as info:
            make(_sched(lib), _opt(lib))
        messages.append(str(info.value).replace('torch.optim', 'ember.optim'))
    if 'which is different from' in messages[0]:
        messages = [m.split(' has ')[0] for m in messages]
    assert messages[0] == messages[1]


def _opt_like(o):
    lib = torch if isinstance(o, torch.optim.Optimizer) else ember
    return _opt(lib)


def test_cyclic_momentum_needs_momentum_and_onecycle_overrun():
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.zeros(2))
        with pytest.raises(ValueError, match='optimizer must support momentum or beta1'):
            lib.optim.lr_scheduler.CyclicLR(lib.optim.Adagrad([p]), 0.01, 0.1)
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match='Tried to step 4 times. The specified number of total steps is 3'):
            sched.step()


def test_warm_restarts_fractional_epochs():
    for e in [0.5, 1.5, 2.999, 3.0, 9.5, 20.0, 21.7]:
        vals = []
        for lib in (ember, torch):
            opt = _opt(lib)
            sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
            sched.step(e)
            vals.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
        assert vals[0] == vals[1]
    opt = _opt(ember)
    with pytest.raises(ValueError, match='Expected non-negative epoch, but got -1'):
        ember.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3).step(-1)
    assert math.isclose(ember.optim.lr_scheduler.CyclicLR._triangular2_scale_fn(3), 0.25)


SWALR = {
    'cos': lambda sw, o: sw.SWALR(o, swa_lr=0.05),
    'linear': lambda sw, o: sw.SWALR(o, swa_lr=[0.01, 0.2, 0.05], anneal_epochs=7, anneal_strategy='linear'),
    'no_anneal': lambda sw, o: sw.SWALR(o, swa_lr=0.03, anneal_epochs=0),
}


@pytest.mark.parametrize('name', list(SWALR))
def test_swalr_matches_torch(name):
    sched_e, sched_t = _compare(lambda L, o: SWALR[name](_swa(o), o), steps=30)
    assert list(sched_e.state_dict()) == list(sched_t.state_dict())
    assert _plain(sched_e.state_dict()) == _plain(sched_t.state_dict())


def _swa(opt):
    return (torch if isinstance(opt, torch.optim.Optimizer) else ember).optim.swa_utils


def test_swalr_after_cosine_and_resume():
    seqs = []
    for lib in (ember, torch):
        opt = _opt(lib)
        cos = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        seq = []
        for _ in range(5):
            opt.step()
            cos.step()
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=4, anneal_strategy='linear')
        state = swa.state_dict()
        for _ in range(8):
            opt.step()
            swa.step()
            seq.append(_lrs(opt))
        swa.load_state_dict(state)
        assert swa.anneal_func(0.5) == 0.5
        seqs.append(seq)
    assert seqs[0] == seqs[1]
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"):
            lib.optim.swa_utils.SWALR(_opt(lib), 0.1, anneal_strategy='exp')
        with pytest.raises(ValueError, match='anneal_epochs must be equal or greater than 0, got -1'):
            lib.optim.swa_utils.SWALR(_opt(lib), 0.1, anneal_epochs=-1)
