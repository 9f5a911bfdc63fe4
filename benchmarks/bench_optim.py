"""Optimizer step time on a 10M-parameter model, Ember vs PyTorch (its default single-tensor path on CPU).

    python benchmarks/bench_optim.py [--threads N] [--repeat 10] [--only sgd_momentum,adam,rmsprop]

The model is eight tensors shaped like a small MLP's weights and biases (9.97M float32 values) with
fixed random gradients; each timed call is one ``optimizer.step()``. Ember and PyTorch alternate so that
machine noise hits both alike; the table shows median ms and the ratio Ember / PyTorch.
"""
import argparse
import os
import time

SHAPES = [(2048, 2048), (2048,), (2048, 1024), (1024,), (1024, 2048), (1024,), (512, 1024), (1024, 1024)]

OPTIMIZERS = {
    'sgd_momentum': lambda lib, p: lib.optim.SGD(p, lr=0.01, momentum=0.9),
    'adam': lambda lib, p: lib.optim.Adam(p, lr=1e-3),
    'adamw': lambda lib, p: lib.optim.AdamW(p, lr=1e-3),
    'rmsprop': lambda lib, p: lib.optim.RMSprop(p, lr=1e-3),
    'adagrad': lambda lib, p: lib.optim.Adagrad(p, lr=1e-2),
    'adadelta': lambda lib, p: lib.optim.Adadelta(p),
    'adamax': lambda lib, p: lib.optim.Adamax(p),
    'nadam': lambda lib, p: lib.optim.NAdam(p),
    'radam': lambda lib, p: lib.optim.RAdam(p),
    'asgd': lambda lib, p: lib.optim.ASGD(p),
    'rprop': lambda lib, p: lib.optim.Rprop(p),
}


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', type=int, default=None, help='threads for PyTorch and BLAS (default: theirs)')
    p.add_argument('--repeat', type=int, default=10, help='timed steps per library (default 10)')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--only', default='sgd_momentum,adam', help=f'comma-separated, from: {", ".join(OPTIMIZERS)}')
    return p.parse_args()


def _setup(lib, make):
    import numpy as np
    rng = np.random.default_rng(0)
    params = []
    for shape in SHAPES:
        p = lib.nn.Parameter(lib.tensor(rng.standard_normal(shape, dtype=np.float32)))
        p.grad = lib.tensor(rng.standard_normal(shape, dtype=np.float32))
        params.append(p)
    return make(lib, params)


def main():
    args = _parse()
    if args.threads is not None:
        for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
            os.environ[var] = str(args.threads)
    import numpy as np
    import torch

    import ember

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    numel = sum(int(np.prod(s)) for s in SHAPES)
    print(f'{numel / 1e6:.2f}M parameters in {len(SHAPES)} tensors; torch threads {torch.get_num_threads()}; '
          f'repeat {args.repeat}')
    print(f'{"optimizer":13} {"ember ms (min-max)":>26} {"torch ms (min-max)":>26} {"ratio":>7}')
    for name in args.only.split(','):
        opts = {lib.__name__: _setup(lib, OPTIMIZERS[name]) for lib in (ember, torch)}
        times = {k: [] for k in opts}
        for opt in opts.values():
            for _ in range(args.warmup):
                opt.step()
        for _ in range(args.repeat):
            for lib, opt in opts.items():
                t = time.perf_counter()
                opt.step()
                times[lib].append((time.perf_counter() - t) * 1e3)
        med = {k: float(np.median(v)) for k, v in times.items()}
        cells = [f'{med[k]:9.2f} ({min(times[k]):.2f}-{max(times[k]):.2f})' for k in ('ember', 'torch')]
        print(f'{name:13} {cells[0]:>26} {cells[1]:>26} {med["ember"] / med["torch"]:7.2f}')
        del opts


if __name__ == '__main__':
    main()
