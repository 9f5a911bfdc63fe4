"""``ember.device``: where a tensor lives. Only 'cpu' has a backend today."""


class device:
    """``device('cpu')``, ``device('cuda', 0)`` or ``device('cuda:0')``, as ``torch.device``."""

    __slots__ = ('type', 'index')

    def __new__(cls, type_or_str, index=None):
        if isinstance(type_or_str, device):
            return type_or_str
        if isinstance(type_or_str, int):
            type_or_str, index = 'cuda', type_or_str
        kind = type_or_str
        if ':' in kind:
            kind, _, idx = kind.partition(':')
            if index is not None or not idx.isdigit():
                raise RuntimeError(f'Invalid device string: {type_or_str!r}')
            index = int(idx)
        if kind not in _KNOWN:
            raise RuntimeError(f'Expected one of {", ".join(sorted(_KNOWN))} device type at start of device '
                               f'string: {type_or_str}')
        self = object.__new__(cls)
        object.__setattr__(self, 'type', kind)
        object.__setattr__(self, 'index', index)
        return self

    def __setattr__(self, name, value):
        raise AttributeError('device objects are immutable')

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f'{self.type}:{self.index}'

    def __reduce__(self):
        return (device, (str(self),))


_KNOWN = {'cpu', 'cuda', 'mps', 'meta', 'xpu'}
cpu = device('cpu')


def check_device(d):
    """Validate a ``device=`` argument; every backend but 'cpu' raises a clear error."""
    if d is None:
        return cpu
    d = device(d)
    if d.type != 'cpu':
        if d.type == 'cuda':
            from .cuda import _lazy_init
            _lazy_init()
        raise RuntimeError(f"device '{d}' is not available: Ember has no {d.type} backend installed")
    return d
