"""``set_num_threads``/``get_num_threads``: the number of threads BLAS (NumPy's OpenBLAS) uses.

Ember starts BLAS with one thread unless ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` says
otherwise. Multi-threaded OpenBLAS busy-waits, and on a small machine shared with another busy
process (``pytest -n 2``, DataLoader workers) a 16x400 @ 400x120 product was measured to go from
0.03 ms to 80 ms. Call ``ember.set_num_threads(n)`` to use more cores for large GEMMs.
"""
import ctypes
import glob
import os

_SETTERS = ('scipy_openblas_set_num_threads64_', 'scipy_openblas_set_num_threads', 'openblas_set_num_threads64_',
            'openblas_set_num_threads')
_GETTERS = ('scipy_openblas_get_num_threads64_', 'scipy_openblas_get_num_threads', 'openblas_get_num_threads64_',
            'openblas_get_num_threads')
_state = {'lib': None, 'searched': False, 'threads': None, 'interop': 1}


def _blas():
    if not _state['searched']:
        _state['searched'] = True
        import numpy
        root = os.path.dirname(os.path.dirname(numpy.__file__))
        patterns = ('numpy.libs/*openblas*', 'numpy/.dylibs/*openblas*', 'numpy/.libs/*openblas*')
        for pattern in patterns:
            for path in glob.glob(os.path.join(root, pattern)):
                try:
                    lib = ctypes.CDLL(path)
                except OSError:
                    continue
                setter = next((getattr(lib, n) for n in _SETTERS if hasattr(lib, n)), None)
                getter = next((getattr(lib, n) for n in _GETTERS if hasattr(lib, n)), None)
                if setter is not None and getter is not None:
                    _state['lib'] = (setter, getter)
                    return _state['lib']
    return _state['lib']


def set_num_threads(n):
    """Use ``n`` threads for BLAS-backed ops (matmul, conv)."""
    n = int(n)
    if n < 1:
        raise RuntimeError(f'set_num_threads expects a positive integer, got {n}')
    blas = _blas()
    if blas is not None:
        blas[0](n)
    _state['threads'] = n


def get_num_threads():
    """The number of threads BLAS-backed ops use."""
    blas = _blas()
    if blas is not None:
        return int(blas[1]())
    return _state['threads'] or os.cpu_count() or 1


def set_num_interop_threads(n):
    """Accepted for compatibility: Ember runs ops one after another on the calling thread."""
    _state['interop'] = int(n)


def get_num_interop_threads():
    return _state['interop']


def _default_threads():
    if not any(v in os.environ for v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS')):
        set_num_threads(1)
