"""``ember.Size``: the tuple subclass returned by ``Tensor.shape`` and ``Tensor.size()``."""
from operator import index as _index


class Size(tuple):
    """Shape of a tensor; a tuple of ints that prints as ``ember.Size([2, 3])``.

    Slicing, ``+`` and ``*`` give ``Size`` objects, as in PyTorch.
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        try:
            return tuple.__new__(cls, map(_index, sizes))
        except TypeError:
            for i, s in enumerate(sizes):
                if not hasattr(s, '__index__'):
                    raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is "
                                    f"'{type(s).__name__}')") from None
            raise

    def __repr__(self):
        return f'ember.Size({list(self)})'

    __str__ = __repr__

    def numel(self):
        """The number of elements of a tensor of this shape."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, index):
        r = tuple.__getitem__(self, index)
        return Size(r) if isinstance(index, slice) else r

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))
