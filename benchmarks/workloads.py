"""Benchmark workloads, each written once against the PyTorch API and run with ``lib`` set to
``ember`` or ``torch``. A workload's ``setup(lib)`` returns a zero-argument callable: one timed step."""
import subprocess
import sys

import numpy as np

WORKLOADS = {}


def workload(name, description):
    def register(fn):
        WORKLOADS[name] = (description, fn)
        return fn
    return register


def _seed_cnn(nn):
    return nn.Sequential(nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(2), nn.Conv2d(32, 32, 5, padding=2),
                         nn.MaxPool2d(2), nn.Conv2d(32, 64, 5, padding=2), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(1024, 64), nn.Linear(64, 10))


def _train_step(lib, model, optimizer, loss_fn, x, y):
    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return step


def _data(lib, shape, classes=None, seed=0):
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32))
    if classes is None:
        return x
    return x, lib.tensor(rng.integers(0, classes, shape[0]))


@workload('W1', 'seed CIFAR-10 CNN training step (batch 64, CrossEntropyLoss, SGD lr 0.01)')
def seed_cnn_train(lib):
    lib.manual_seed(0)
    model = _seed_cnn(lib.nn)
    x, y = _data(lib, (64, 3, 32, 32), 10)
    return _train_step(lib, model, lib.optim.SGD(model.parameters(), lr=0.01), lib.nn.CrossEntropyLoss(), x, y)


@workload('W2', 'MLP 1000-100-100-100-10 training step (batch 64, MSELoss(sum), SGD momentum 0.9)')
def mlp_train(lib):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(1000, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 100),
                          nn.ReLU(), nn.Linear(100, 10))
    x = _data(lib, (64, 1000))
    y = _data(lib, (64, 10), seed=1)
    opt = lib.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    return _train_step(lib, model, opt, nn.MSELoss(reduction='sum'), x, y)


@workload('W3', 'seed CIFAR-10 CNN forward under no_grad, batch 256')
def seed_cnn_inference(lib):
    lib.manual_seed(0)
    model = _seed_cnn(lib.nn).eval()
    x = _data(lib, (256, 3, 32, 32))

    def step():
        with lib.no_grad():
            model(x)
    return step


def _resnet18_cifar(nn):
    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn1(self.conv1(x)).relu()
            out = self.bn2(self.conv2(out))
            return (out + self.shortcut(x)).relu()

    layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
    return nn.Sequential(*layers)


@workload('W5', 'ResNet-18 (CIFAR variant) training step, batch 32, SGD momentum')
def resnet18_train(lib):
    lib.manual_seed(0)
    model = _resnet18_cifar(lib.nn)
    x, y = _data(lib, (32, 3, 32, 32), 10)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _train_step(lib, model, opt, lib.nn.CrossEntropyLoss(), x, y)


@workload('W8', 'ResNet-50 (torchvision architecture) inference, batch 8 of 3x224x224, eval, no_grad')
def resnet50_inference(lib):
    if lib.__name__ == 'ember':
        from ember.vision import models
    else:
        # torchvision beside the CPU build of torch, as the tests import it
        from pathlib import Path
        sys.path.insert(0, str(Path(__file__).parent.parent / 'tests'))
        from tv import models
    lib.manual_seed(0)
    model = models.resnet50().eval()
    x = _data(lib, (8, 3, 224, 224))

    def step():
        with lib.no_grad():
            model(x)
    return step


@workload('W4', 'per-op overhead: 64-element tensor with grad, 1,000 x (y * 1.0001 + 0.001), then backward')
def per_op_overhead(lib):
    def step():
        x = lib.ones(64, requires_grad=True)
        y = x
        for _ in range(1000):
            y = y * 1.0001 + 0.001
        y.sum().backward()
    return step


@workload('W4f', 'per-op overhead without grad: 64-element tensor, 1,000 x (y * 1.0001 + 0.001)')
def per_op_overhead_no_grad(lib):
    def step():
        y = lib.ones(64)
        for _ in range(1000):
            y = y * 1.0001 + 0.001
    return step


@workload('W6', "the book's linear model (examples/linear_model.py, 5,000 epochs), whole process incl. import")
def book_linear_model(lib):
    from pathlib import Path
    src = (Path(__file__).parent.parent / 'examples' / 'linear_model.py').read_text()
    src = src.replace('import ember as torch', f'import {lib.__name__} as torch')

    def step():
        subprocess.run([sys.executable, '-c', src], check=True, capture_output=True)
    return step


@workload('W7', 'import time of a fresh interpreter (python -c "import LIB")')
def import_time(lib):
    name = lib.__name__

    def step():
        subprocess.run([sys.executable, '-c', f'import {name}'], check=True)
    return step
