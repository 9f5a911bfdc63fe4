"""Kernels make new arrays with the array type of their inputs (``like=``), so that another array
library implementing NumPy's ``__array_function__`` protocol (CuPy) can back a device later.

Checked on the source: every NumPy creation call in ember/ops passes ``like=``, except in the
host-side helpers below, which build index or layout metadata for NumPy memory and never data.
"""
import ast
from pathlib import Path

CREATION = {'zeros', 'empty', 'ones', 'full', 'arange', 'eye', 'array', 'asarray', 'ascontiguousarray',
            'linspace', 'identity', 'tri', 'indices', 'frombuffer', 'fromiter'}

HOST_SIDE = {
    ('_im2col.py', 'scratch'): 'a pool of NumPy memory; other array types get np.empty(like=...)',
    ('_views.py', 'strided_view'): 'a view over NumPy memory by address',
    ('_views.py', 'positions'): 'element positions of a NumPy storage, for view bookkeeping',
    ('indexing.py', '_index_array'): 'index keys given as Python lists',
    ('indexing.py', 'parse_key'): 'an empty index for a False mask',
    ('indexing.py', 'scalar_to'): 'a Python number cast to a dtype, as a 0-d value',
    ('linalg.py', '_diag_index'): 'row/column indices of a diagonal',
}

OPS = Path(__file__).resolve().parent.parent / 'ember' / 'ops'


class _Calls(ast.NodeVisitor):
    """(function, line) of each creation call without ``like=``, under its innermost function."""

    def __init__(self):
        self.stack, self.found = ['<module>'], []

    def visit_FunctionDef(self, node):
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    def visit_Call(self, node):
        f = node.func
        if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == 'np'
                and f.attr in CREATION and not any(k.arg == 'like' for k in node.keywords)):
            self.found.append((self.stack[-1], node.lineno))
        self.generic_visit(node)


def creation_calls_without_like():
    found = []
    for path in sorted(OPS.glob('*.py')):
        calls = _Calls()
        calls.visit(ast.parse(path.read_text()))
        found += [(path.name, func, line) for func, line in calls.found]
    return found


def test_kernels_create_arrays_like_their_inputs():
    offenders = [f'ember/ops/{name}:{line} in {func}()' for name, func, line in creation_calls_without_like()
                 if (name, func) not in HOST_SIDE]
    assert not offenders, ('NumPy creation calls without like=<an input array>: ' + ', '.join(offenders))


def test_host_side_list_is_current():
    used = {(name, func) for name, func, _ in creation_calls_without_like()}
    assert set(HOST_SIDE) <= used, f'no longer needed: {sorted(set(HOST_SIDE) - used)}'
