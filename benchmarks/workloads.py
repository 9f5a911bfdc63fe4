"""Benchmark workloads, each written once against the PyTorch API and run with ``lib`` set to
``ember`` or ``torch``. A workload's ``setup(lib)`` returns a zero-argument callable: one timed step."""
import subprocess
import sys

WORKLOADS = {}


def workload(name, description):
    def register(fn):
        WORKLOADS[name] = (description, fn)
        return fn
    return register


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
