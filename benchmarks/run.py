"""Run each workload in Ember and in PyTorch, alternating, and print median times and ratios.

    python benchmarks/run.py [--threads N|default] [--repeat 20] [--only W4,W7] [--json out.json]

Each workload is warmed up, then timed ``--repeat`` times per library, alternating Ember and
PyTorch so that machine noise hits both alike. The ratio is Ember's median over PyTorch's.
"peak MiB" is measured apart, in a fresh interpreter per library and workload: the peak resident
memory (Linux ``VmHWM``) of building the workload and running three steps, less the resident memory
right after ``import`` (model, data, activations, gradients and each library's caches).
"""
import argparse
import json
import sys
import time
from pathlib import Path


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', default='1',
                   help="threads for Ember (BLAS) and PyTorch: a number (default 1) or 'default' (each library's own)")
    p.add_argument('--repeat', type=int, default=20, help='timed repetitions per library (default 20)')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--only', default=None, help='comma-separated workload names')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    p.add_argument('--markdown', default=None, help='also write the table, with the machine described, to this file')
    p.add_argument('--no-memory', action='store_true', help='skip the peak-memory measurement')
    p.add_argument('--probe', nargs=2, metavar=('WORKLOAD', 'LIB'), help=argparse.SUPPRESS)
    return p.parse_args()


def _rss_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Workloads that time whole child processes: their memory is not this process's.
_NO_MEMORY = ('W6', 'W7')


def _status_mib(field):
    """``VmRSS``/``VmHWM`` of this process in MiB (None where /proc is missing)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None


def _probe(name, lib_name):
    """Child-process body: print the peak MiB that building workload ``name`` and three steps add."""
    import gc
    import importlib
    sys.path.insert(0, str(Path(__file__).parent))
    lib = importlib.import_module(lib_name)
    from workloads import WORKLOADS
    lib.set_num_threads(1)
    gc.collect()
    base = _status_mib('VmRSS')
    step = WORKLOADS[name][1](lib)
    for _ in range(3):
        step()
    hwm = _status_mib('VmHWM')
    print('n/a' if base is None or hwm is None else f'{hwm - base:.1f}')


def _peak_mib(name, lib_name):
    """Run ``_probe`` in a fresh interpreter; its figure as a string ('n/a' where not measurable)."""
    import subprocess
    r = subprocess.run([sys.executable, __file__, '--probe', name, lib_name], capture_output=True, text=True)
    return r.stdout.strip() or 'n/a' if r.returncode == 0 else 'failed'


def _machine():
    """One line describing this machine and the libraries measured."""
    import os
    import platform

    import numpy as np
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    load = ', '.join(f'{v:.1f}' for v in os.getloadavg()) if hasattr(os, 'getloadavg') else 'n/a'
    return (f'{cpu}, {os.cpu_count()} logical CPUs; Python {platform.python_version()}, NumPy {np.__version__}, '
            f'PyTorch {torch.__version__}; load average {load}')


def _write_markdown(path, results, threads, repeat, machine):
    lines = [f'Machine: {machine}. Threads: Ember {threads[0]}, PyTorch {threads[1]}; median of {repeat} '
             'alternating runs; peak MiB as described in `benchmarks/run.py`.', '',
             '| workload | Ember ms | PyTorch ms | ratio | Ember peak MiB | PyTorch peak MiB |',
             '|---|---:|---:|---:|---:|---:|']
    for r in results:
        lines.append(f'| {r["workload"]}: {r["description"]} | {r["ember_median_ms"]:.3f} | '
                     f'{r["torch_median_ms"]:.3f} | {r["ratio"]:.2f} | {r["ember_peak_mib"]} | {r["torch_peak_mib"]} |')
    Path(path).write_text('\n'.join(lines) + '\n')


def main():
    args = _parse()
    if args.probe:
        return _probe(*args.probe)
    sys.path.insert(0, str(Path(__file__).parent))
    import numpy as np
    import torch

    import ember
    from workloads import WORKLOADS

    if args.threads != 'default':
        torch.set_num_threads(int(args.threads))
        ember.set_num_threads(int(args.threads))
    names = args.only.split(',') if args.only else list(WORKLOADS)
    machine = _machine()
    results = []
    print(f'threads: torch {torch.get_num_threads()}, ember {ember.get_num_threads()}; repeat {args.repeat}')
    print(f'{"workload":9} {"ember ms (min-max)":>26} {"torch ms (min-max)":>26} {"ratio":>7} '
          f'{"ember peak MiB":>15} {"torch peak MiB":>15}')
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
        mem = ['-' if args.no_memory or name in _NO_MEMORY else _peak_mib(name, lib) for lib in ('ember', 'torch')]
        print(f'{name:9} {cells[0]:>26} {cells[1]:>26} {ratio:7.2f} {mem[0]:>15} {mem[1]:>15}')
        results.append({'workload': name, 'description': desc, 'ember_ms': times['ember'],
                        'torch_ms': times['torch'], 'ember_median_ms': med['ember'],
                        'torch_median_ms': med['torch'], 'ratio': ratio,
                        'ember_peak_mib': mem[0], 'torch_peak_mib': mem[1]})
    print(f'peak RSS of this process: {_rss_mib():.0f} MiB')
    for r in results:
        print(f'  {r["workload"]}: {r["description"]}')
    threads = (ember.get_num_threads(), torch.get_num_threads())
    if args.json:
        record = {'machine': machine, 'threads': {'ember': threads[0], 'torch': threads[1]}, 'results': results}
        Path(args.json).write_text(json.dumps(record, indent=1))
    if args.markdown:
        _write_markdown(args.markdown, results, threads, args.repeat, machine)


if __name__ == '__main__':
    main()
