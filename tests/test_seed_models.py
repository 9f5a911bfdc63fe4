"""The models of the seed notes run on Ember as on PyTorch: same printout, same training curves, and
checkpoints that cross between the two."""
import io
import random

import numpy as np
import pytest
import torch

import ember


def the_model_class(lib):
    nn, F = lib.nn, lib.nn.functional

    class TheModelClass(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return TheModelClass()


def _printout(lib):
    model = the_model_class(lib)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    lines = []
    for param_tensor in model.state_dict():
        lines.append(f'{param_tensor}\t{model.state_dict()[param_tensor].size()}')
    for var_name, value in optimizer.state_dict().items():
        lines.append(f'{var_name}\t{value}')
    return '\n'.join(lines).replace(lib.__name__ + '.Size', 'Size')


def test_the_model_class_prints_the_same_state_dict_tables():
    assert _printout(ember) == _printout(torch)
    assert repr(the_model_class(ember)) == repr(the_model_class(torch))


def test_dynamic_net_trains_like_torch():
    def run(lib):
        class DynamicNet(lib.nn.Module):
            def __init__(self, D_in, H, D_out):
                super().__init__()
                self.input_linear = lib.nn.Linear(D_in, H)
                self.middle_linear = lib.nn.Linear(H, H)
                self.output_linear = lib.nn.Linear(H, D_out)

            def forward(self, x):
                h_relu = self.input_linear(x).clamp(min=0)
                for _ in range(random.randint(0, 3)):
                    h_relu = self.middle_linear(h_relu).clamp(min=0)
                return self.output_linear(h_relu)

        random.seed(0)
        lib.manual_seed(0)
        N, D_in, H, D_out = 64, 1000, 100, 10
        x = lib.randn(N, D_in)
        y = lib.randn(N, D_out)
        model = DynamicNet(D_in, H, D_out)
        criterion = lib.nn.MSELoss(reduction='sum')
        optimizer = lib.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
        losses = []
        for _ in range(60):
            loss = criterion(model(x), y)
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return losses

    le, lt = run(ember), run(torch)
    assert le[-1] < le[0] / 5
    np.testing.assert_allclose(le, lt, rtol=2e-4)


def _lenet_batches(steps, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((16, 3, 32, 32)).astype(np.float32), rng.integers(0, 10, 16)) for _ in range(steps)]


def _train(lib, model, batches, optimizer):
    criterion = lib.nn.CrossEntropyLoss()
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = criterion(model(lib.tensor(x)), lib.tensor(y))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.slow
def test_lenet_100_sgd_momentum_steps_match_torch_from_a_torch_checkpoint():
    torch.manual_seed(1)
    tmodel = the_model_class(torch)
    buf = io.BytesIO()
    torch.save(tmodel.state_dict(), buf)
    buf.seek(0)
    emodel = the_model_class(ember)
    emodel.load_state_dict(ember.load(buf))
    batches = _lenet_batches(100)
    lt = _train(torch, tmodel, batches, torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9))
    le = _train(ember, emodel, batches, ember.optim.SGD(emodel.parameters(), lr=0.01, momentum=0.9))
    np.testing.assert_allclose(le, lt, rtol=1e-4)


def test_seed_checkpoint_resume_is_bit_identical(tmp_path):
    batches = _lenet_batches(6, seed=3)
    ember.manual_seed(0)
    model = the_model_class(ember)
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    _train(ember, model, batches[:3], opt)
    path = tmp_path / 'ckpt.pt'
    ember.save({'epoch': 3, 'model_state_dict': model.state_dict(), 'optimizer_state_dict': opt.state_dict(),
                'loss': 0.5}, path)
    _train(ember, model, batches[3:], opt)

    checkpoint = ember.load(path)
    resumed = the_model_class(ember)
    resumed.load_state_dict(checkpoint['model_state_dict'])
    opt2 = ember.optim.SGD(resumed.parameters(), lr=0.01, momentum=0.9)
    opt2.load_state_dict(checkpoint['optimizer_state_dict'])
    assert checkpoint['epoch'] == 3 and checkpoint['loss'] == 0.5
    _train(ember, resumed, batches[3:], opt2)
    for (n, a), (_, b) in zip(model.state_dict().items(), resumed.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=n)
    tckpt = torch.load(path)
    tmodel = the_model_class(torch)
    tmodel.load_state_dict(tckpt['model_state_dict'])
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
    topt.load_state_dict(tckpt['optimizer_state_dict'])
