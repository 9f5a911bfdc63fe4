"""``repr`` of tensors, character for character as PyTorch prints them.

The layout follows PyTorch's ``_tensor_str``:

- One formatter serves the whole tensor (or, for a tensor with more than ``threshold``
  elements, its summary: the first and last ``edgeitems`` entries of every dimension). It
  looks at the finite non-zero values: if all are integers the floats print as ``1.``;
  scientific notation is used (unless ``sci_mode`` says otherwise) when the largest magnitude
  exceeds 1e8, the smallest is below 1e-4, or their ratio exceeds 1000. Every element is
  right-aligned to the widest one.
- A 1-D row holds as many elements as fit in ``linewidth`` minus the indent; continuation
  lines are indented past the opening brackets. Rows of a matrix are separated by ``,\\n``,
  and each further dimension adds a blank line. Summarised dimensions show ``...``.
- Suffixes follow the data: ``size=`` for empty tensors (other than shape (0,)) and when
  ``edgeitems`` is 0, ``dtype=`` unless the dtype is the default float, int64 or bool (for
  empty tensors: unless it is the default float), then ``grad_fn=<...>`` or
  ``requires_grad=True``. A suffix that would pass ``linewidth`` starts a new line.
"""
import contextlib
import math

import numpy as np

from . import _dtype

_DEFAULTS = {'precision': 4, 'threshold': 1000, 'edgeitems': 3, 'linewidth': 80}
_options = dict(_DEFAULTS, sci_mode=None)
_PROFILES = {
    'default': _DEFAULTS,
    'short': {'precision': 2, 'threshold': 1000, 'edgeitems': 2, 'linewidth': 80},
    'full': {'precision': 4, 'threshold': math.inf, 'edgeitems': 3, 'linewidth': 80},
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Set how tensors print.

    ``precision``: digits after the point (default 4); ``threshold``: element count above
    which tensors are summarised (1000); ``edgeitems``: entries kept at each end of a
    summarised dimension (3); ``linewidth``: characters per line (80); ``profile``: 'default',
    'short' or 'full' (applied first, then the other arguments); ``sci_mode``: True/False
    forces or forbids scientific notation, None chooses automatically. As in PyTorch,
    ``sci_mode`` is reset to None unless given.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"profile must be one of 'default', 'short' or 'full', got {profile!r}")
        _options.update(_PROFILES[profile])
    for key, value in (('precision', precision), ('threshold', threshold), ('edgeitems', edgeitems),
                       ('linewidth', linewidth)):
        if value is not None:
            _options[key] = value
    _options['sci_mode'] = sci_mode


def get_printoptions():
    """The current print options, as keyword arguments for ``set_printoptions``."""
    return dict(_options)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that applies ``set_printoptions(**kwargs)`` and restores the old options on exit."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses the number format and common width for the values of one tensor."""

    def __init__(self, arr):
        self.floating = arr.dtype.kind == 'f'
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        precision = _options['precision']
        flat = arr.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f'{v}'))
            return
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        mag = np.abs(vals).astype(np.float64)
        lo, hi = mag.min(), mag.max()
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        sci = _options['sci_mode']
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if sci is None else sci
        values = vals.tolist()
        if self.sci_mode:
            width = max(len(f'{v:.{precision}e}') for v in values)
        elif self.int_mode:
            width = max(len(f'{v:.0f}') for v in values) + 1  # room for the trailing '.'
        else:
            width = max(len(f'{v:.{precision}f}') for v in values)
        self.max_width = max(self.max_width, width)

    def format(self, value):
        if self.floating:
            precision = _options['precision']
            if self.sci_mode:
                s = f'{value:{self.max_width}.{precision}e}'
            elif self.int_mode:
                s = f'{value:.0f}'
                if not (math.isinf(value) or math.isnan(value)):
                    s += '.'
            else:
                s = f'{value:.{precision}f}'
        else:
            s = f'{value}'
        return ' ' * (self.max_width - len(s)) + s


def _summarized(arr, edge):
    """The entries a summarised print shows: ``edge`` at each end of every dimension."""
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        if arr.shape[0] > 2 * edge:
            # ``arr[-0:]`` is the whole array: with edgeitems 0 every value still sets the format.
            return np.concatenate((arr[:edge], arr[-edge:]))
        return arr
    if not edge:
        return arr[:0]
    n = arr.shape[0]
    rows = list(range(edge)) + list(range(n - edge, n)) if n > 2 * edge else range(n)
    return np.stack([_summarized(arr[i], edge) for i in rows])


def _vector_str(arr, indent, summarize, fmt):
    edge = _options['edgeitems']
    per_line = max(1, math.floor((_options['linewidth'] - indent) / (fmt.max_width + 2)))
    if summarize and not edge:
        data = ['...']
    elif summarize and arr.shape[0] > 2 * edge:
        data = [fmt.format(v) for v in arr[:edge].tolist()] + [' ...'] + \
               [fmt.format(v) for v in arr[-edge:].tolist()]
    else:
        data = [fmt.format(v) for v in arr.tolist()]
    lines = [', '.join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return '[' + (',\n' + ' ' * (indent + 1)).join(lines) + ']'


def _array_str(arr, indent, summarize, fmt):
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, fmt)
    edge = _options['edgeitems']
    n = arr.shape[0]
    if summarize and n > 2 * edge:
        parts = [_array_str(arr[i], indent + 1, summarize, fmt) for i in range(edge)] + ['...'] + \
                [_array_str(arr[i], indent + 1, summarize, fmt) for i in range(n - edge, n)]
    else:
        parts = [_array_str(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return '[' + (',' + '\n' * (arr.ndim - 1) + ' ' * (indent + 1)).join(parts) + ']'


def _tensor_str(arr, indent):
    if arr.size == 0:
        return '[]'
    summarize = arr.size > _options['threshold']
    fmt = _Formatter(_summarized(arr, _options['edgeitems']) if summarize else arr)
    return _array_str(arr, indent, summarize, fmt)


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_line = len(text) - text.rfind('\n') + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > _options['linewidth']:
            parts.append(',\n' + ' ' * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(', ' + suffix)
            last_line += len(suffix) + 2
    parts.append(')')
    return ''.join(parts)


def _prints_as_tensor(cls):
    # Plain tensors and parameters print as ``tensor(...)``; other subclasses under their own name.
    from ._tensor import Tensor
    return cls is Tensor or (cls.__name__ == 'Parameter' and cls.__module__.startswith('ember.'))


def tensor_repr(t, tensor_contents=None):
    """``repr(t)`` as PyTorch writes it (``tensor_contents`` replaces the printed values)."""
    cls = type(t)
    prefix = 'tensor(' if _prints_as_tensor(cls) else f'{cls.__name__}('
    indent = len(prefix)
    arr = t._data
    d = _dtype._BY_NP[arr.dtype]
    default = _dtype.get_default_dtype()
    suffixes = []
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f'size={tuple(arr.shape)}')
        if d is not default:
            suffixes.append(f'dtype={d!r}')
        body = '[]'
    else:
        if not _options['edgeitems']:
            suffixes.append(f'size={tuple(arr.shape)}')
        if d is not default and d is not _dtype.int64 and d is not _dtype.bool_:
            suffixes.append(f'dtype={d!r}')
        body = None if tensor_contents is not None else _tensor_str(arr, indent)
    if tensor_contents is not None:
        body = tensor_contents
    if t.grad_fn is not None:
        suffixes.append(f'grad_fn=<{t.grad_fn.name()}>')
    elif t._requires_grad:
        suffixes.append('requires_grad=True')
    return _add_suffixes(prefix + body, suffixes, indent)
