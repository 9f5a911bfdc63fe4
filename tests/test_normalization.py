"""Normalisation layers and functions against PyTorch: outputs, gradients, running statistics, printing."""
import numpy as np
import pytest
import torch

import ember
from oracle import check, check_gradcheck

MODULES = [
    (lambda nn: nn.BatchNorm1d(4), (6, 4)),
    (lambda nn: nn.BatchNorm1d(4, momentum=None), (6, 4, 3)),
    (lambda nn: nn.BatchNorm2d(3), (4, 3, 5, 5)),
    (lambda nn: nn.BatchNorm2d(3, affine=False), (4, 3, 5, 5)),
    (lambda nn: nn.BatchNorm2d(3, track_running_stats=False), (4, 3, 5, 5)),
    (lambda nn: nn.BatchNorm3d(2, eps=1e-3, momentum=0.3), (2, 2, 3, 3, 3)),
    (lambda nn: nn.BatchNorm2d(3, bias=False), (4, 3, 2, 2)),
    (lambda nn: nn.GroupNorm(2, 4, bias=False), (3, 4, 5)),
    (lambda nn: nn.InstanceNorm2d(3), (2, 3, 5, 5)),
    (lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 5, 5)),
    (lambda nn: nn.InstanceNorm1d(3), (3, 7)),
    (lambda nn: nn.LayerNorm(5), (3, 4, 5)),
    (lambda nn: nn.LayerNorm([4, 5], elementwise_affine=False), (3, 4, 5)),
    (lambda nn: nn.LayerNorm(5, bias=False), (2, 5)),
    (lambda nn: nn.GroupNorm(2, 4), (3, 4, 5, 5)),
    (lambda nn: nn.GroupNorm(4, 4, affine=False), (3, 4, 6)),
    (lambda nn: nn.RMSNorm(5), (3, 5)),
    (lambda nn: nn.LocalResponseNorm(3), (2, 5, 4, 4)),
    (lambda nn: nn.LocalResponseNorm(2), (2, 5, 7)),
]


@pytest.mark.parametrize('make,shape', MODULES)
def test_module_train_then_eval_matches_torch(make, shape):
    e, t = make(ember.nn), make(torch.nn)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.tensor(rng.uniform(0.5, 1.5, tuple(p.shape)).astype(np.float32)))
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    for _ in range(3):
        x = rng.standard_normal(shape).astype(np.float32) * 2 + 1
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ye, yt = e(xe), t(xt)
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
        w = rng.standard_normal(shape).astype(np.float32)
        (ye * ember.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)
    for (n, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=n)
    for (n, be), (_, bt) in zip(e.named_buffers(), t.named_buffers()):
        np.testing.assert_allclose(be.numpy(), bt.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
        assert be.dtype.name == str(bt.dtype).split('.')[-1]
    e.eval()
    t.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    check(lambda lib, xx: (e if lib is ember else t)(xx), x)


FUNCS = {
    'batch_norm_train': lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True),
    'batch_norm_eval': lambda lib, x, w, b: lib.nn.functional.batch_norm(
        x, lib.tensor([0.1, -0.2, 0.3], dtype=x.dtype), lib.tensor([0.5, 1.5, 2.0], dtype=x.dtype), w, b),
    'layer_norm': lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (3,), w, b),
    'group_norm': lambda lib, x, w, b: lib.nn.functional.group_norm(x.reshape(2, 3, 2, 2), 3, w, b),
    'instance_norm': lambda lib, x, w, b: lib.nn.functional.instance_norm(x.reshape(2, 3, 2, 2), weight=w, bias=b),
}


@pytest.mark.parametrize('name', list(FUNCS))
def test_functional_values_grads_and_gradcheck(name):
    shape = (2, 12) if name in ('group_norm', 'instance_norm') else (4, 3)
    check(FUNCS[name], shape, (3,), (3,))
    check_gradcheck(FUNCS[name], shape, (3,), (3,))


def test_batchnorm_errors_match_torch():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match='expected 4D input'):
            lib.nn.BatchNorm2d(3)(lib.ones(2, 3))
        with pytest.raises(ValueError, match='Expected more than 1 value per channel'):
            lib.nn.BatchNorm1d(3)(lib.ones(1, 3))
        with pytest.raises(ValueError):
            lib.nn.GroupNorm(3, 4)


def test_old_checkpoint_without_num_batches_tracked_loads():
    bn = ember.nn.BatchNorm2d(2)
    sd = bn.state_dict()
    del sd['num_batches_tracked']
    sd._metadata[''] = {'version': 1}
    bn.load_state_dict(sd)
    assert int(bn.num_batches_tracked) == 0
