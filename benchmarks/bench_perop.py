"""Per-op overhead (workload W4): what one small elementwise op costs, forward and backward.

    python benchmarks/bench_perop.py [--repeat 200] [--ops 1000] [--size 64]

Times ``y = y * 1.0001 + 0.001`` repeated ``--ops`` times on a ``--size``-element float32 tensor,
in Ember and PyTorch alternately (so that a busy machine slows both alike), split into:

- ``fwd grad``: the forward loop on a tensor that requires grad (builds the graph),
- ``bwd``: ``backward()`` alone through that graph (``y.sum()`` is built before the timer),
- ``fwd no_grad``: the same loop on a tensor that does not require grad,

and the same loop on bare NumPy arrays, the floor under any NumPy-based framework. Prints the
median microseconds per op (two ops per iteration) and Ember/PyTorch ratios. Times are the
thread's CPU time (``--wall`` for wall-clock time), both libraries running on one thread.
"""
import argparse
import statistics
import time

import numpy as np

# CPU time of this thread by default: on a shared machine it leaves out the time the process
# waits for a core, which wall-clock time would charge to whichever library was running.
_clock = time.thread_time


def _forward(lib, n, size, grad):
    x = lib.ones(size, requires_grad=grad)
    y = x
    t0 = _clock()
    for _ in range(n):
        y = y * 1.0001 + 0.001
    return _clock() - t0, y


def _backward(lib, n, size):
    _, y = _forward(lib, n, size, True)
    s = y.sum()
    t0 = _clock()
    s.backward()
    return _clock() - t0


def _numpy(n, size):
    y = np.ones(size, np.float32)
    t0 = _clock()
    for _ in range(n):
        y = y * 1.0001 + 0.001
    return _clock() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--repeat', type=int, default=200, help='timed repetitions per measurement (default 200)')
    p.add_argument('--ops', type=int, default=1000, help='loop iterations, two ops each (default 1000)')
    p.add_argument('--size', type=int, default=64, help='tensor elements (default 64)')
    p.add_argument('--wall', action='store_true', help='time with the wall clock instead of thread CPU time')
    args = p.parse_args()
    if args.wall:
        global _clock
        _clock = time.perf_counter

    import torch

    import ember
    torch.set_num_threads(1)
    ember.set_num_threads(1)
    libs = {'ember': ember, 'torch': torch}
    cases = {
        'fwd grad': lambda lib: _forward(lib, args.ops, args.size, True)[0],
        'bwd': lambda lib: _backward(lib, args.ops, args.size),
        'fwd no_grad': lambda lib: _forward(lib, args.ops, args.size, False)[0],
    }
    times = {(c, name): [] for c in cases for name in libs}
    times[('numpy', 'numpy')] = []
    for case in cases.values():  # warm-up
        for lib in libs.values():
            case(lib)
    # The cycle collector stays on, as in a real program: its passes over a growing graph are part
    # of the cost of keeping Python objects per op.
    for _ in range(args.repeat):
        for c, case in cases.items():
            for name, lib in libs.items():
                times[(c, name)].append(case(lib))
        times[('numpy', 'numpy')].append(_numpy(args.ops, args.size))

    per_op = {k: statistics.median(v) / (2 * args.ops) * 1e6 for k, v in times.items()}
    print(f'{2 * args.ops} ops on {args.size} float32 elements, median of {args.repeat} runs (us per op)')
    print(f'{"case":<14}{"ember":>9}{"torch":>9}{"ratio":>8}')
    for c in cases:
        e, t = per_op[(c, 'ember')], per_op[(c, 'torch')]
        print(f'{c:<14}{e:9.3f}{t:9.3f}{e / t:8.2f}')
    fe = per_op[('fwd grad', 'ember')] + per_op[('bwd', 'ember')]
    ft = per_op[('fwd grad', 'torch')] + per_op[('bwd', 'torch')]
    print(f'{"fwd+bwd":<14}{fe:9.3f}{ft:9.3f}{fe / ft:8.2f}')
    print(f'{"numpy only":<14}{per_op[("numpy", "numpy")]:9.3f}')


if __name__ == '__main__':
    main()
