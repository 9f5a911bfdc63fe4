"""Run each workload in Ember and in PyTorch, alternating, and print median times and ratios.

    python benchmarks/run.py [--threads N] [--repeat 20] [--only W4,W7] [--json out.json]

Each workload is warmed up, then timed ``--repeat`` times per library, alternating Ember and
PyTorch so that machine noise hits both alike. The ratio is Ember's median over PyTorch's.
"""
import argparse
import json
import sys
import time
from pathlib import Path


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', type=int, default=None, help='threads for Ember (BLAS) and PyTorch (default 1)')
    p.add_argument('--repeat', type=int, default=20, help='timed repetitions per library (default 20)')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--only', default=None, help='comma-separated workload names')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    return p.parse_args()


def _rss_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024




def main():
    args = _parse()
    sys.path.insert(0, str(Path(__file__).parent))
    import numpy as np
    import torch

    import ember
    from workloads import WORKLOADS

    threads = args.threads if args.threads is not None else 1
    torch.set_num_threads(threads)
    ember.set_num_threads(threads)
    names = args.only.split(',') if args.only else list(WORKLOADS)
    results = []
    print(f'threads: torch {torch.get_num_threads()}, ember {ember.get_num_threads()}; repeat {args.repeat}')
    print(f'{"workload":9} {"ember ms (min-max)":>26} {"torch ms (min-max)":>26} {"ratio":>7}')
    for name in names:
        desc, setup = WORKLOADS[name]
        steps = {'ember': setup(ember), 'torch': setup(torch)}
        times = {'ember': [], 'torch': []}
        for lib in steps:
            for _ in range(args.warmup):
                steps[lib]()
        for _ in range(args.repeat):
            for lib in ('ember', 'torch'):
                t = time.perf_counter()
                steps[lib]()
                times[lib].append((time.perf_counter() - t) * 1e3)
        med = {lib: float(np.median(v)) for lib, v in times.items()}
        ratio = med['ember'] / med['torch']
        cells = [f'{med[lib]:9.3f} ({min(times[lib]):.3f}-{max(times[lib]):.3f})' for lib in ('ember', 'torch')]
        print(f'{name:9} {cells[0]:>26} {cells[1]:>26} {ratio:7.2f}')
        results.append({'workload': name, 'description': desc, 'ember_ms': times['ember'],
                        'torch_ms': times['torch'], 'ember_median_ms': med['ember'],
                        'torch_median_ms': med['torch'], 'ratio': ratio})
    print(f'peak RSS of this process: {_rss_mib():.0f} MiB')
    for r in results:
        print(f'  {r["workload"]}: {r["description"]}')
    if args.json:
        Path(args.json).write_text(json.dumps({'threads': args.threads, 'results': results}, indent=1))


if __name__ == '__main__':
    main()
