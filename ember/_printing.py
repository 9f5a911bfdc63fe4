"""``repr`` of tensors in PyTorch's layout."""
import numpy as np

_options = {'precision': 4, 'threshold': 1000, 'edgeitems': 3, 'linewidth': 80, 'sci_mode': None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Set how tensors print (PyTorch's arguments and profiles 'default', 'short', 'full')."""
    if profile == 'default':
        _options.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == 'short':
        _options.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == 'full':
        _options.update(precision=4, threshold=float('inf'), edgeitems=3, linewidth=80)
    for k, v in (('precision', precision), ('threshold', threshold), ('edgeitems', edgeitems),
                 ('linewidth', linewidth)):
        if v is not None:
            _options[k] = v
    _options['sci_mode'] = sci_mode


def tensor_repr(t):
    arr = t._data
    body = np.array2string(arr, separator=', ', precision=_options['precision'], prefix='tensor(')
    suffix = []
    if arr.dtype not in (np.float32, np.int64, np.bool_) or arr.size == 0:
        suffix.append(f'dtype={t.dtype}')
    if t.grad_fn is not None:
        suffix.append(f'grad_fn=<{t.grad_fn.name()}>')
    elif t._requires_grad:
        suffix.append('requires_grad=True')
    return 'tensor(' + body + ''.join(', ' + s for s in suffix) + ')'
