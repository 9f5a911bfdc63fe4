"""Padding layers: constant/zero, reflection, replication and circular, in 1, 2 and 3 dims."""
from .. import functional as F
from .module import Module
from .utils import _ntuple


class _PadNd(Module):
    _mode = 'constant'
    _n = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(2 * self._n)(padding)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f'{self.padding}'


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, 'constant', self.value)

    def extra_repr(self):
        return f'padding={self.padding}, value={self.value}'


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``: ``padding`` int or (left, right)."""

    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with ``value``: int or (left, right, top, bottom)."""

    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with ``value``."""

    _n = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


def _pad_class(name, mode, n, doc):
    return type(name, (_PadNd,), {'_mode': mode, '_n': n, '__doc__': doc})


ReflectionPad1d = _pad_class('ReflectionPad1d', 'reflect', 1, 'Pad the last dim by reflecting the input.')
ReflectionPad2d = _pad_class('ReflectionPad2d', 'reflect', 2, 'Pad the last 2 dims by reflection.')
ReflectionPad3d = _pad_class('ReflectionPad3d', 'reflect', 3, 'Pad the last 3 dims by reflection.')
ReplicationPad1d = _pad_class('ReplicationPad1d', 'replicate', 1, 'Pad the last dim by repeating the edge.')
ReplicationPad2d = _pad_class('ReplicationPad2d', 'replicate', 2, 'Pad the last 2 dims by repeating edges.')
ReplicationPad3d = _pad_class('ReplicationPad3d', 'replicate', 3, 'Pad the last 3 dims by repeating edges.')
CircularPad1d = _pad_class('CircularPad1d', 'circular', 1, 'Pad the last dim by wrapping around.')
CircularPad2d = _pad_class('CircularPad2d', 'circular', 2, 'Pad the last 2 dims by wrapping around.')
CircularPad3d = _pad_class('CircularPad3d', 'circular', 3, 'Pad the last 3 dims by wrapping around.')
