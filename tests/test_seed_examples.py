"""Every runnable code block of the seed notes (the PyTorch notes Ember is built to run) runs on Ember.

Blocks are read from the notes' markdown fences and named by (note, index, first line); ``BLOCKS`` says for
each what it needs (earlier blocks, a setup line standing in for the prose around it) and what to check, or
why it is skipped. Imports are rewritten torch -> ember, torchvision -> ember.vision (timm -> ember.hub);
downloads become local stand-ins (FakeData for CIFAR10, image files written in the test's folder). Where a
block is deterministic, the same block also runs on real PyTorch and the printed output must be identical.
"""
import contextlib
import glob
import io
import os
import re
import sys
import types

import pytest

import ember

# The notes sit in shared/seeds beside the repository's checkout.
SEEDS = os.environ.get('EMBER_SEEDS_DIR', os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'seeds'))
if not glob.glob(os.path.join(SEEDS, '*')):
    pytest.skip(f'seed notes not found in {SEEDS} (set EMBER_SEEDS_DIR)', allow_module_level=True)


def _blocks():
    out = {}
    for path in sorted(glob.glob(os.path.join(SEEDS, '*.md')) + glob.glob(os.path.join(SEEDS, '*.txt'))):
        text = open(path, encoding='utf-8').read()
        for i, m in enumerate(re.finditer(r'^```(\w*)\n(.*?)^```', text, re.S | re.M)):
            out[(os.path.basename(path)[:3], i)] = (m.group(1), m.group(2))
    return out


_IMPORTS = [
    (r'^(\s*)import torch\.(\S+) as (\w+)', r'\1import ember.\2 as \3'),
    (r'^(\s*)import torch\.(\S+)\s*$', r'\1import ember as torch; import ember.\2'),
    (r'^(\s*)import torch\s*$', r'\1import ember as torch'),
    (r'^(\s*)from torch(\.\S+)? import', r'\1from ember\2 import'),
    (r'^(\s*)import torchvision\.(\S+)\s*$', r'\1import ember.vision as torchvision; import ember.vision.\2'),
    (r'^(\s*)import torchvision\s*$', r'\1import ember.vision as torchvision'),
    (r'^(\s*)from torchvision(\.\S+)? import', r'\1from ember.vision\2 import'),
    (r'^(\s*)import timm\s*$', r'\1import ember.hub as timm'),
]


def to_ember(code):
    """The block with its torch / torchvision / timm imports pointing at Ember."""
    for pattern, repl in _IMPORTS:
        code = re.sub(pattern, repl, code, flags=re.M)
    return code


# Prose around the blocks defines these names; each setup runs before its block (``lib`` is ember or torch).
_PRELUDE = "import os\nfrom collections import OrderedDict\nnn = lib.nn\nF = lib.nn.functional\noptim = lib.optim\n"
_BOOK_DATA = ("t_c = torch.tensor([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0])\n"
              "t_u = torch.tensor([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])\n")

skip = types.SimpleNamespace


def run(first, ctx=(), setup='', torch_too=False, check=None, raises=None):
    return dict(first=first, ctx=ctx, setup=setup, torch_too=torch_too, check=check, raises=raises)


def _check_rand(ns, out, blocks):
    shown = blocks[('001', 2)][1].splitlines()[:3]
    assert out.splitlines()[:3] == [s.replace('torch.', 'ember.') for s in shown]


def _check_state_dict_table(ns, out, blocks):
    def norm(text):
        return [' '.join(line.split()).replace('ember.', 'torch.') for line in text.splitlines() if line.strip()]
    printed, shown = norm(out), norm(blocks[('002', 4)][1])
    # The note's tables line for line; only the parameter ids of param_groups differ (PyTorch now prints 0..9).
    assert printed[:13] == shown[:13]
    head = shown[13].split(" 'params': [")[0]
    assert printed[13].startswith(head) and printed[13].endswith("'params': [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}]")


def _check_conv(ns, out, blocks):
    import torch
    got = ns['output']
    x = torch.tensor(ns['input'].numpy())
    k = torch.tensor(ns['kernel'].numpy())
    assert got.tolist() == torch.nn.functional.conv2d(x, k, stride=1, padding=1).tolist()
    assert got.tolist()[0][0][0] == [1, 3, 4, 10, 8]  # the note's figure: first row with padding 1
    for stride, padding in ((1, 0), (2, 0), (2, 1)):
        want = torch.nn.functional.conv2d(x, k, stride=stride, padding=padding)
        have = ember.nn.functional.conv2d(ns['input'], ns['kernel'], stride=stride, padding=padding)
        assert have.tolist() == want.tolist() and have.dtype == ember.int64


BLOCKS = {
    ('001', 0): run('import torch'),
    ('001', 1): run("tensor=torch.rand(3,4)", torch_too=True, check=_check_rand),
    ('001', 2): skip(first='Shape of tensor', reason='printed output of block 1 (checked there)'),
    ('001', 3): run('import torch', torch_too=True),
    ('001', 4): run('# 查看timm', check=lambda ns, out, b: 'resnet18' in ns['avail_pretrained_models']),
    ('001', 5): run('all_desnet_models', ctx=(4,),
                    check=lambda ns, out, b: {'densenet121', 'densenet169'} <= set(ns['all_desnet_models'])),
    ('001', 6): skip(first="['densenet121',", reason="printed output of block 5 (timm's own model list)"),
    ('001', 7): skip(first="model=timm.create_model('resnet34',num_class=10",
                     reason='downloads ImageNet weights (network)'),
    ('001', 8): skip(first="{'url':", reason='printed output of block 7'),
    ('001', 9): skip(first="model=timm.create_model('resnet34',pretrained=True)",
                     reason='downloads ImageNet weights (network)'),
    ('001', 10): skip(first='model = timm.create_model', reason='downloads ImageNet weights (network)'),
    ('001', 11): run('torch.save(model.state_dict()', setup="model = torch.nn.Linear(3, 2)"),
    ('001', 12): run('v = torch.tensor', torch_too=True,
                     setup="x = torch.randn(3, requires_grad=True)\ny = x * 2\nwhile y.data.norm() < 1000:\n"
                           "    y = y * 2\n"),
    ('001', 13): run('with torch.no_grad():', torch_too=True, setup="x = torch.randn(3, requires_grad=True)\n"),
    ('001', 14): skip(first='# 写在文件开始', reason='mixes a shell command line into Python (prose fragment)'),
    ('001', 15): skip(first='# 批次的大小', reason="fragment with a typo: lr=le-4 names an undefined le"),
    ('001', 16): run('# 方案一', check=lambda ns, out, b: str(ns['device']) == 'cpu'),
    ('001', 17): run('import torch', setup="train_path, val_path = 'imgs/train', 'imgs/val'\nfrom torchvision "
                                           "import transforms\ndata_transform = transforms.ToTensor()\n",
                     check=lambda ns, out, b: len(ns['train_data']) == 4 and ns['train_data'].classes == ['a', 'b']),
    ('001', 18): skip(first='class MyDataset(Dataset):',
                      reason='reads its CSV with pandas (not a dependency); examples/csv_dataset.py runs the pattern'),
    ('001', 19): run('from torch.utils.data import DataLoader', ctx=(17,), setup='batch_size = batch_siz = 2\n'),
    ('001', 20): run('import matplotlib', ctx=(17, 19), raises=TypeError),  # transpose(1,2,0): PyTorch raises too
    ('002', 0): skip(first='class Rescale(object):',
                     reason='needs scikit-image and the downloaded faces dataset (FaceLandmarksDataset is not shown)'),
    ('002', 1): run('import torch', check=lambda ns, out, b: tuple(next(iter(ns['dataset_loader']))[0].shape)
                    == (4, 3, 224, 224)),
    ('002', 2): run('# -*- coding', check=lambda ns, out, b: len(out.splitlines()) == 500
                    and float(out.splitlines()[-1].split()[1]) < float(out.splitlines()[0].split()[1])),
    ('002', 3): run('# Define model', torch_too=True, check=_check_state_dict_table),
    ('002', 4): skip(first="Model's state_dict:", reason='printed output of block 3 (checked there)'),
    ('002', 5): run('torch.save(model.state_dict(), PATH)', ctx=(3,), setup="PATH = 'model.pt'\n"),
    ('002', 6): run('model = TheModelClass', ctx=(3, 5), setup='args, kwargs = (), {}\n',
                    check=lambda ns, out, b: not ns['model'].training),
    ('002', 7): skip(first='torch.save({', reason="a dict with '...' standing for more entries (not Python)"),
    ('002', 8): run('model = TheModelClass', ctx=(3,),
                    setup="args, kwargs = (), {}\nPATH = 'ckpt.pt'\n"
                          "TheOptimizerClass = lambda: optim.SGD(TheModelClass().parameters(), lr=0.001,"
                          " momentum=0.9)\n"
                          "torch.save({'epoch': 3, 'model_state_dict': model.state_dict(), 'optimizer_state_dict': "
                          "optimizer.state_dict(), 'loss': 0.5}, PATH)\n",
                    check=lambda ns, out, b: ns['epoch'] == 3 and ns['model'].training),
    ('002', 9): run('# 使用tensorboard可视化', setup="args = types.SimpleNamespace(use_tfboard=True)\n",
                    check=lambda ns, out, b: os.path.isdir('logs')),
    ('002', 10): run('# 有两个', setup="model = nn.Module()\nmodel.base = nn.Linear(2, 2)\n"
                                        "model.classifier = nn.Linear(2, 1)\n"),
    ('002', 11): run('DataLoader(dataset', setup="from torch.utils.data import DataLoader, TensorDataset, "
                                                 "default_collate\ndataset = TensorDataset(torch.arange(6.))\n"),
    ('003', 0): run('from torchvision import models',
                    check=lambda ns, out, b: type(ns['alexnet']).__name__ == 'AlexNet'),
    ('003', 1): skip(first='resnet = models.resnet101(pretrained=True)', reason='downloads ImageNet weights (network)'),
    ('003', 2): skip(first='img_t = preprocess(img)',
                     reason="needs block 1's pretrained ResNet-101, a photo and labels"),
    ('003', 3): skip(first='import torch', reason='torch.hub.load from GitHub (network)'),
    ('003', 4): skip(first='points_gpu = torch.tensor', reason='needs CUDA (Ember is CPU only)'),
    ('003', 5): skip(first='points_gpu = points.cuda()', reason='needs CUDA (Ember is CPU only)'),
    ('003', 6): run('points_np = points.numpy()', torch_too=True,
                    setup="points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])\n",
                    check=lambda ns, out, b: ns['points'].tolist() == [[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]]),
    ('003', 7): run('def model(t_u, w, b):'),
    ('003', 8): run('params = torch.tensor', ctx=(7,), setup=_BOOK_DATA, torch_too=True,
                    check=lambda ns, out, b: [round(v, 2) for v in ns['params'].grad.tolist()] == [4517.3, 82.6]),
    ('003', 9): run('def training_loop', ctx=(7,), setup=_BOOK_DATA, torch_too=True),
    ('003', 10): run('import torch.optim as optim', ctx=(7, 8), setup=_BOOK_DATA + 'learning_rate = 1e-2\n'),
    ('003', 11): run('optimizer.zero_grad()', ctx=(7, 8, 10),
                     setup=_BOOK_DATA + 'learning_rate = 1e-2\nloss = loss_fn(model(t_u, *params), t_c)\n',
                     check=lambda ns, out, b: ns['params'].tolist() != [1.0, 0.0]),
    ('003', 12): run('shuffled_indices', setup='n_samples, n_val = 11, 2\n', torch_too=True),
    ('003', 13): run('with torch.no_grad():', ctx=(7,),
                     setup=_BOOK_DATA + "params = torch.tensor([1.0, 0.0], requires_grad=True)\n"
                                        "t_u_val, t_c_val = t_u[:2], t_c[:2]\n"),
    # nn.Linear on a 1-D input prints grad_fn=<AddBackward0> in Ember, <ViewBackward0> in PyTorch.
    ('003', 14): run('import torch.nn as nn', torch_too='values'),
    ('003', 15): run('seq_model = nn.Sequential('),
    ('003', 16): run('[param.shape', ctx=(15,), torch_too=True),
    ('003', 17): run('from torchvision import datasets', check=lambda ns, out, b: len(ns['cifar10_val']) > 0),
    ('003', 18): run('from torchvision import transforms', ctx=(17,),
                     check=lambda ns, out, b: tuple(ns['tensor_cifar10'][0][0].shape) == (3, 32, 32)),
    ('003', 19): run('transformed_ciifar10', ctx=(17, 18),
                     check=lambda ns, out, b: ns['transformed_ciifar10'][0][0].dtype == ember.float32),
    ('004', 0): run('from torch.utils.data import'),
    ('004', 1): run('import os', check=lambda ns, out, b: (len(ns['MyDataset']('imgs/train', 'a')), ns['MyDataset'](
        'imgs/train', 'a')[0][1]) == (2, 'a')),
    ('004', 2): run('import torchvision', check=lambda ns, out, b: os.path.isdir('logs')),
    ('004', 3): run('from torch.utils.tensorboard import SummaryWriter'),
    ('004', 4): skip(first='tensorboard --logdir', reason='shell: starts the TensorBoard server'),
    ('004', 5): skip(first='netstat', reason='shell (Windows): finds the process holding a port'),
    ('004', 6): skip(first='tasklist', reason='shell (Windows): lists processes'),
    ('004', 7): run('from torchvision import transforms'),
    ('004', 8): run('from torchvision import transforms',
                    check=lambda ns, out, b: tuple(ns['img_tensor'].shape) == (3, 6, 5)),
    ('004', 9): run('import torchvision.datasets'),
    ('004', 10): run('import torch', torch_too=True,
                     check=lambda ns, out, b: out.rstrip().endswith('ember.Size([64, 10])')),
    ('004', 11): run('import torch', setup='__import__("sys").path.insert(0, os.getcwd())\n',
                     check=lambda ns, out, b: len(out.splitlines()) == 20),
    ('004', 12): run('import torch.nn'),
    ('004', 13): run('import torch', check=lambda ns, out, b: os.path.isdir('logs')),
    ('004', 14): run('model = nn.Sequential(',
                     check=lambda ns, out, b: list(ns['model'].state_dict())[0] == 'conv1.weight'),
    ('004', 15): run('import torch', check=_check_conv),
    ('004', 16): run('class MyModel(nn.Module):',
                     check=lambda ns, out, b: tuple(ns['MyModel']()(ember.ones(1, 3, 8, 8)).shape) == (1, 6, 6, 6)),
    ('004', 17): run('class MyModel(nn.Module):',
                     check=lambda ns, out, b: tuple(ns['MyModel']()(ember.ones(1, 1, 5, 5)).shape) == (1, 1, 2, 2)),
    ('004', 18): run('m = nn.ReLU()', torch_too=True, check=lambda ns, out, b: bool(
        (ns['output'] == ns['input'].clamp(min=0)).all())),
    ('004', 19): run('m = nn.Sigmoid()', check=lambda ns, out, b: bool((ns['output'] > 0).all())),
    ('004', 20): run('class MyModel(nn.Module):',
                     check=lambda ns, out, b: float(ns['MyModel']()(ember.zeros(1))) == 0.5),
    ('004', 21): run('m = nn.BatchNorm2d(100)',
                     check=lambda ns, out, b: tuple(ns['output'].shape) == (20, 100, 35, 45)),
    ('004', 22): run('class MyModel(nn.Module):',
                     check=lambda ns, out, b: tuple(ns['MyModel']()(ember.ones(196608)).shape) == (10,)),
    ('004', 23): run('# 将多维数组展开为一维', setup='img = torch.ones(3, 4, 5)\n',
                     check=lambda ns, out, b: tuple(ns['img'].shape) == (60,)),
    ('004', 24): run('loss = nn.L1Loss()', torch_too=True),
    # MSELoss's result prints grad_fn=<MeanBackward0> in Ember, <MseLossBackward0> in PyTorch.
    ('004', 25): run('loss = nn.MSELoss()', torch_too='values'),
    # The input does not require grad, so backward raises, in PyTorch as in Ember.
    ('004', 26): run('input = torch.tensor([0.1, 0.2, 0.3])', torch_too=True, raises=RuntimeError),
    ('004', 27): skip(first='result_loss.backward()',
                      reason="repeats block 26's last line: a second backward through a freed graph raises in PyTorch"),
    ('004', 28): run('img, target = data', ctx=(10,),
                     setup="data = (torch.ones(2, 3, 32, 32), torch.tensor([1, 2]))\nmodel = MyModel()\n"
                           "loss = nn.CrossEntropyLoss()\noptim = torch.optim.SGD(model.parameters(), lr=0.01)\n"
                           "sum_loss = 0\n", check=lambda ns, out, b: ns['sum_loss'] > 0),
}

# Blocks whose results the torch_too comparison prints (the blocks themselves print nothing).
_SHOW = {('001', 12): 'print(x.grad)', ('003', 8): 'print(params.grad)', ('003', 12): 'print(shuffled_indices)',
         ('004', 18): 'print(output)', ('004', 24): 'print(result_loss, input.grad)',
         ('004', 25): 'print(result_loss, input.grad)', ('004', 26): 'print(result_loss, input.grad)',
         ('003', 9): '', ('003', 16): '', ('003', 6): 'print(points)'}

ALL = _blocks()


def test_the_table_names_every_block():
    assert sorted(BLOCKS) == sorted(ALL)
    for key, spec in BLOCKS.items():
        first = spec.first if isinstance(spec, types.SimpleNamespace) else spec['first']
        code = ALL[key][1].lstrip('\n')
        assert code.startswith(first), (key, code.splitlines()[0])


def _fake_cifar10(root, train=True, transform=None, target_transform=None, download=False):
    """CIFAR10's stand-in: 16 random 3x32x32 images (the real one is a 170 MB download)."""
    return ember.vision.datasets.FakeData(16, (3, 32, 32), 10, transform=transform,
                                          target_transform=target_transform, random_offset=0 if train else 16)


def _images(root):
    from PIL import Image
    for rel, size in (('imgs/train/a/0.png', (10, 12)), ('imgs/train/a/1.png', (10, 12)), ('imgs/train/b/0.png',
                      (10, 12)), ('imgs/train/b/1.png', (10, 12)), ('imgs/val/a/0.png', (10, 12)),
                      ('imgs/val/b/0.png', (10, 12)), ('data/train/ants/0013031.jpg', (5, 6))):
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        Image.new('RGB', size, (120, 30, 200)).save(os.path.join(root, rel))
    for cls in ('ants', 'bees'):
        os.makedirs(os.path.join(root, 'hymenoptera_data', 'train', cls), exist_ok=True)
        for i in range(2):
            Image.new('RGB', (300, 260), (10 * i, 80, 160)).save(
                os.path.join(root, 'hymenoptera_data', 'train', cls, f'{i}.jpg'))


def _exec(lib, key, spec):
    """Run ``key``'s context blocks, setup and block with ``lib`` (ember or torch); returns (namespace, stdout)."""
    note, _ = key
    convert = to_ember if lib is ember else (lambda c: c)
    ns = {'__name__': '__main__', 'torch': lib, 'lib': lib, 'types': types}
    exec(_PRELUDE, ns)
    lib.manual_seed(0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for i in spec['ctx']:
            exec(convert(BLOCKS[(note, i)]['setup']), ns)
            code = convert(ALL[(note, i)][1])
            if (note, i) == ('004', 10):
                with open('nn_CIFAR10.py', 'w') as f:   # block 11 imports block 10 as a module
                    f.write(code)
            exec(code, ns)
        exec(convert(spec['setup']), ns)
        out.truncate(0)
        out.seek(0)
        code = convert(ALL[key][1])
        if key == ('004', 11):
            with open('nn_CIFAR10.py', 'w') as f:
                f.write(convert(ALL[('004', 10)][1]))
        if spec['raises'] is not None:
            with pytest.raises(spec['raises']):
                exec(code, ns)
        else:
            exec(code, ns)
            if key in _SHOW and _SHOW[key]:
                exec(_SHOW[key], ns)
    return ns, out.getvalue()


RUN = sorted(k for k, s in BLOCKS.items() if isinstance(s, dict))
SKIPPED = sorted(k for k, s in BLOCKS.items() if not isinstance(s, dict))


@pytest.mark.parametrize('key', RUN, ids=[f'{n}-{i:02d}' for n, i in RUN])
def test_block_runs(key, tmp_path, monkeypatch):
    spec = BLOCKS[key]
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(ember.vision.datasets, 'CIFAR10', _fake_cifar10)
    sys.modules.pop('nn_CIFAR10', None)
    import matplotlib
    matplotlib.use('Agg')
    _images(str(tmp_path))
    ns, out = _exec(ember, key, spec)
    if spec['check'] is not None:
        assert spec['check'](ns, out, ALL) is not False
    if spec['torch_too']:
        import torch
        _, want = _exec(torch, key, spec)
        got = out.replace('ember.', 'torch.')
        if spec['torch_too'] == 'values':
            got, want = (re.sub(r', grad_fn=<\w+>', '', s) for s in (got, want))
        assert got == want


def test_skipped_blocks_have_reasons():
    assert all(BLOCKS[k].reason for k in SKIPPED) and len(SKIPPED) < len(RUN)
