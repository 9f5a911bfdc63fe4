"""``ember.device``: where a tensor lives. Only 'cpu' has a backend today.

Device objects parse and print as ``torch.device`` does (``'cuda:1'``, ``device('cuda', 1)``) so
that programs written for PyTorch can name devices; asking for anything but the CPU raises.
"""

_KNOWN = ('cpu', 'cuda', 'ipu', 'xpu', 'mkldnn', 'opengl', 'opencl', 'ideep', 'hip', 've', 'fpga', 'maia', 'xla',
          'lazy', 'vulkan', 'mps', 'meta', 'hpu', 'mtia', 'privateuseone')


class device:
    """``device('cpu')``, ``device('cuda', 0)`` or ``device('cuda:0')``, as ``torch.device``.

    Like ``torch.device``, a device equals only another device (``device('cpu') == 'cpu'`` is
    False); compare ``.type`` with a string instead.
    """

    __slots__ = ('type', 'index')

    def __new__(cls, type=None, index=None):
        if isinstance(type, device):
            if index is not None:
                raise TypeError('device(): a device object takes no index')
            return type
        if isinstance(type, int) and not isinstance(type, bool):
            if type < 0:
                raise RuntimeError('Device index must not be negative')
            raise RuntimeError('Cannot access accelerator device when none is available.')
        if not isinstance(type, str):
            raise TypeError(f"device(): argument 'type' must be str, not {type.__class__.__name__}")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not {index.__class__.__name__}")
        kind, sep, idx = type.partition(':')
        if kind not in _KNOWN:
            raise RuntimeError(f'Expected one of {", ".join(_KNOWN)} device type at start of device string: {type}')
        if sep:
            if index is not None:
                raise RuntimeError(f'type (string) must not include an index because index was passed explicitly: '
                                   f'{type}')
            if not idx.isdigit() or (len(idx) > 1 and idx[0] == '0'):
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError('Device index must not be negative')
        self = object.__new__(cls)
        object.__setattr__(self, 'type', kind)
        object.__setattr__(self, 'index', index)
        return self

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.device' objects is not writable")

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f'{self.type}:{self.index}'

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        check_device(self)
        return self

    def __exit__(self, *exc):
        return False


cpu = device('cpu')


def check_device(d):
    """Validate a ``device=`` argument; every backend but 'cpu' raises a clear error."""
    if d is None or d is cpu:
        return cpu
    d = device(d)
    if d.type != 'cpu':
        if d.type == 'cuda':
            from .cuda import _lazy_init
            _lazy_init()
        raise RuntimeError(f"device '{d}' is not available: Ember has no {d.type} backend; keep tensors on the "
                           "CPU (device='cpu')")
    return d
