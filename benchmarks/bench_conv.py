"""Convolution and pooling layers timed in Ember and PyTorch in one run.

    python benchmarks/bench_conv.py [--threads N] [--repeat 10] [--only cifar,resnet] [--clock wall|cpu]

Shapes: the seed CIFAR-10 CNN (batch 64: 3x32x32 -> conv5x5 pad 2 32ch -> maxpool 2 -> conv5x5
32ch -> maxpool 2 -> conv5x5 64ch -> maxpool 2) and the 3x3 convolutions (and 1x1 stride-2
shortcuts) of a CIFAR ResNet-18 at batch 32. For each layer: forward without grad, and forward +
backward (weight and bias gradients always; the input gradient except for a network's first
layer, whose input needs none). Ember and PyTorch alternate so machine noise hits both alike;
the table shows median ms and the ratio Ember / PyTorch. ``--clock cpu`` times the process's CPU
time instead of wall time: with ``--threads 1`` it is the measurement least disturbed by other
work running on the machine.
"""
import argparse
import os
import sys
import time
from pathlib import Path


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', type=int, default=None,
                   help="threads for Ember's BLAS and PyTorch (default: Ember's default)")
    p.add_argument('--repeat', type=int, default=10, help='timed repetitions per library (default 10)')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--only', default=None, help='comma-separated groups: cifar, resnet')
    p.add_argument('--clock', choices=('wall', 'cpu'), default='wall', help='wall time or process CPU time')
    return p.parse_args()


def _layers():
    """(group, name, kind, input shape, params, input needs grad)."""
    cifar = [
        ('conv1 3->32 5x5 p2 32x32', 'conv', (64, 3, 32, 32), dict(out=32, k=5, s=1, p=2), False),
        ('maxpool2 32ch 32x32', 'maxpool', (64, 32, 32, 32), dict(k=2), True),
        ('conv2 32->32 5x5 p2 16x16', 'conv', (64, 32, 16, 16), dict(out=32, k=5, s=1, p=2), True),
        ('maxpool2 32ch 16x16', 'maxpool', (64, 32, 16, 16), dict(k=2), True),
        ('conv3 32->64 5x5 p2 8x8', 'conv', (64, 32, 8, 8), dict(out=64, k=5, s=1, p=2), True),
        ('maxpool2 64ch 8x8', 'maxpool', (64, 64, 8, 8), dict(k=2), True),
    ]
    resnet = [
        ('stem 3->64 3x3 32x32', 'conv', (32, 3, 32, 32), dict(out=64, k=3, s=1, p=1), False),
        ('64->64 3x3 32x32', 'conv', (32, 64, 32, 32), dict(out=64, k=3, s=1, p=1), True),
        ('64->128 3x3 s2 32x32', 'conv', (32, 64, 32, 32), dict(out=128, k=3, s=2, p=1), True),
        ('64->128 1x1 s2 32x32', 'conv', (32, 64, 32, 32), dict(out=128, k=1, s=2, p=0), True),
        ('128->128 3x3 16x16', 'conv', (32, 128, 16, 16), dict(out=128, k=3, s=1, p=1), True),
        ('128->256 3x3 s2 16x16', 'conv', (32, 128, 16, 16), dict(out=256, k=3, s=2, p=1), True),
        ('256->256 3x3 8x8', 'conv', (32, 256, 8, 8), dict(out=256, k=3, s=1, p=1), True),
        ('256->512 3x3 s2 8x8', 'conv', (32, 256, 8, 8), dict(out=512, k=3, s=2, p=1), True),
        ('512->512 3x3 4x4', 'conv', (32, 512, 4, 4), dict(out=512, k=3, s=1, p=1), True),
        ('avgpool 512ch 4x4 -> 1', 'adaptive_avg', (32, 512, 4, 4), dict(), True),
    ]
    return {'cifar': cifar, 'resnet': resnet}


def _setup(lib, kind, shape, prm, input_grad, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32))
    F = lib.nn.functional if lib.__name__ == 'torch' else None
    if kind == 'conv':
        w = lib.tensor((rng.standard_normal((prm['out'], shape[1], prm['k'], prm['k'])) * 0.1).astype(np.float32))
        b = lib.tensor(np.zeros(prm['out'], np.float32))
        w.requires_grad_(True)
        b.requires_grad_(True)
        conv = F.conv2d if F else lib.conv2d

        def op(inp):
            return conv(inp, w, b, prm['s'], prm['p'])
        params = (w, b)
    elif kind == 'maxpool':
        pool = F.max_pool2d if F else lib.max_pool2d

        def op(inp):
            return pool(inp, prm['k'])
        params = ()
    else:
        from ember.ops.pool import adaptive_avg_pool2d as ember_aap
        pool = F.adaptive_avg_pool2d if F else ember_aap

        def op(inp):
            return pool(inp, 1)
        params = ()
    x.requires_grad_(input_grad)
    with lib.no_grad():
        gy = lib.tensor(rng.standard_normal(tuple(op(x).shape)).astype(np.float32))

    def fwd():
        with lib.no_grad():
            op(x)

    def fwd_bwd():
        for t in params + ((x,) if input_grad else ()):
            t.grad = None
        op(x).backward(gy)
    return fwd, fwd_bwd


def _time(fns, repeat, warmup, clock):
    import numpy as np
    for f in fns.values():
        for _ in range(warmup):
            f()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t = clock()
            f()
            times[k].append((clock() - t) * 1e3)
    return {k: float(np.median(v)) for k, v in times.items()}


def main():
    args = _parse()
    if args.threads is not None:
        for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
            os.environ[var] = str(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import torch

    import ember
    if args.threads is not None and hasattr(ember, 'set_num_threads'):
        ember.set_num_threads(args.threads)
    threads = ember.get_num_threads() if hasattr(ember, 'get_num_threads') else (args.threads or os.cpu_count())
    torch.set_num_threads(threads)
    groups = args.only.split(',') if args.only else ['cifar', 'resnet']
    clock = time.process_time if args.clock == 'cpu' else time.perf_counter
    print(f'threads: ember {threads}, torch {torch.get_num_threads()}; repeat {args.repeat}; median {args.clock} ms')
    print(f'{"layer":28} {"fwd ember":>10} {"torch":>8} {"ratio":>6}   {"f+b ember":>10} {"torch":>8} {"ratio":>6}')
    for group, layers in _layers().items():
        if group not in groups:
            continue
        print(f'-- {group}')
        tot = [0.0, 0.0, 0.0, 0.0]
        for name, kind, shape, prm, input_grad in layers:
            e_f, e_fb = _setup(ember, kind, shape, prm, input_grad)
            t_f, t_fb = _setup(torch, kind, shape, prm, input_grad)
            m = _time({'ef': e_f, 'tf': t_f, 'efb': e_fb, 'tfb': t_fb}, args.repeat, args.warmup, clock)
            print(f'{name:28} {m["ef"]:10.2f} {m["tf"]:8.2f} {m["ef"] / m["tf"]:6.2f}   '
                  f'{m["efb"]:10.2f} {m["tfb"]:8.2f} {m["efb"] / m["tfb"]:6.2f}')
            for i, key in enumerate(('ef', 'tf', 'efb', 'tfb')):
                tot[i] += m[key]
        print(f'{"total " + group:28} {tot[0]:10.2f} {tot[1]:8.2f} {tot[0] / tot[1]:6.2f}   '
              f'{tot[2]:10.2f} {tot[3]:8.2f} {tot[2] / tot[3]:6.2f}')


if __name__ == '__main__':
    main()
