"""Random sampling and seeded model construction timed in Ember and PyTorch in one run.

    python benchmarks/bench_random.py [--threads 1] [--repeat 7] [--sizes 65536,1048576,4194304]
                                      [--models vgg11,resnet50] [--clock wall|cpu]

Samplers (float32, contiguous): ``rand``, ``randn``, ``normal_(0.1, 2)``, ``uniform_(-0.3, 0.7)``
at each size, and ``kaiming_normal_`` on a 4096x1024 weight. Models: building torchvision's
``vgg11``/``resnet50`` (their initialisers draw from the generator) once per library, after the
same seed. Ember and PyTorch alternate so machine noise hits both alike; the table shows median
ms and the ratio Ember / PyTorch. Both produce the same numbers bit for bit (the tests check it).
``--clock cpu`` times the process's CPU time: with ``--threads 1`` the measurement least disturbed
by other work on the machine.
"""
import argparse
import os
import sys
import time
from pathlib import Path


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', type=int, default=1, help='threads for PyTorch (default 1)')
    p.add_argument('--repeat', type=int, default=7, help='timed repetitions per sampler (default 7)')
    p.add_argument('--sizes', default='65536,1048576,4194304', help='comma-separated element counts')
    p.add_argument('--models', default='vgg11,resnet50', help="comma-separated models to build ('' for none)")
    p.add_argument('--clock', choices=('wall', 'cpu'), default='wall', help='wall time or process CPU time')
    return p.parse_args()


def _samplers(lib, n):
    return {
        'rand': lambda: lib.rand(n),
        'randn': lambda: lib.randn(n),
        'normal_(0.1, 2)': lambda: lib.empty(n).normal_(0.1, 2.0),
        'uniform_(-0.3, 0.7)': lambda: lib.empty(n).uniform_(-0.3, 0.7),
    }


def _time(fns, repeat, clock):
    """Median ms of each function, calls interleaved across the functions."""
    import numpy as np
    times = {k: [] for k in fns}
    for f in fns.values():
        f()  # warm-up
    for _ in range(repeat):
        for k, f in fns.items():
            t = clock()
            f()
            times[k].append((clock() - t) * 1e3)
    return {k: float(np.median(v)) for k, v in times.items()}


def main():
    args = _parse()
    for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = str(args.threads)
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    sys.path.insert(0, str(root / 'tests'))
    import torch

    import ember
    torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == 'cpu' else time.perf_counter
    print(f'torch threads {torch.get_num_threads()}; repeat {args.repeat}; median {args.clock} ms')
    print(f'{"sampler":34} {"ember":>10} {"torch":>10} {"ratio":>6}')
    for n in (int(s) for s in args.sizes.split(',') if s):
        e, t = _samplers(ember, n), _samplers(torch, n)
        m = _time({**{('e', k): f for k, f in e.items()}, **{('t', k): f for k, f in t.items()}}, args.repeat, clock)
        for k in e:
            print(f'{k + f" n={n}":34} {m["e", k]:10.2f} {m["t", k]:10.2f} {m["e", k] / m["t", k]:6.2f}')
    m = _time({lib.__name__: (lambda lib=lib: lib.nn.init.kaiming_normal_(lib.empty(4096, 1024), nonlinearity='relu'))
               for lib in (ember, torch)}, args.repeat, clock)
    print(f'{"kaiming_normal_ 4096x1024":34} {m["ember"]:10.2f} {m["torch"]:10.2f} {m["ember"] / m["torch"]:6.2f}')
    for name in (s for s in args.models.split(',') if s):
        from tv import models

        from ember.vision import models as emodels
        res = {}
        for key, build in (('torch', getattr(models, name)), ('ember', getattr(emodels, name))):
            (torch if key == 'torch' else ember).manual_seed(0)
            t = clock()
            build()
            res[key] = (clock() - t) * 1e3
        print(f'{"build " + name:34} {res["ember"]:10.2f} {res["torch"]:10.2f} {res["ember"] / res["torch"]:6.2f}')


if __name__ == '__main__':
    main()
