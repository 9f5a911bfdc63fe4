"""The book's linear model (seeds/003) runs on Ember and matches PyTorch's printed losses."""
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent.parent / 'examples' / 'linear_model.py'


def _run_with(module_name):
    src = EXAMPLE.read_text().replace('import ember as torch', f'import {module_name} as torch')
    out = subprocess.run([sys.executable, '-c', src], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def _numbers(lines):
    return [float(tok) for line in lines for tok in re.findall(r'-?\d+\.\d+', line)]


def test_linear_model_prints_the_same_numbers_as_torch():
    ember_lines = _run_with('ember')
    torch_lines = _run_with('torch')
    assert len(ember_lines) == len(torch_lines) == 11
    assert [l.split(',')[0] for l in ember_lines[:10]] == [l.split(',')[0] for l in torch_lines[:10]]
    assert _numbers(ember_lines) == pytest.approx(_numbers(torch_lines), rel=1e-5)


def test_example_is_importable():
    ns = runpy.run_path(str(EXAMPLE))
    assert 'training_loop' in ns
