"""``pad``: widen (or, with negative amounts, crop) the last dimensions of a tensor.

``pad`` lists ``(left, right)`` amounts starting from the last dimension:
``(l_last, r_last, l_second_last, r_second_last, ...)``. Modes:

- ``constant``: new elements are ``value`` (any number of dimensions);
- ``reflect``: mirrored about the edge element (``[1, 2, 3]`` -> ``[3, 2, 1, 2, 3, 2, 1]``);
- ``replicate``: the edge element repeated;
- ``circular``: wrapped around from the other side.

The last three pad the last 1, 2 or 3 dimensions of a tensor with one or two more
(batch, channel) dimensions, as PyTorch's ``ReflectionPad1d``..``CircularPad3d``. Each of
them reads, along every padded dimension, input position ``index[j]`` for output position
``j``; the backward sums the gradient back with ``index_add`` along the same dimensions.
"""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge

_MODES = ('constant', 'reflect', 'replicate', 'circular')


class ConstantPadNdBackward0(Node):
    """The gradient is ``g`` cropped back (negative padding of ``g``); cropped-away input gets zero."""

    __slots__ = ('pad',)

    def backward(self, g):
        return (pad(g, tuple(-p for p in self.pad)),)


class _IndexPadBackward(Node):
    """Gathers along padded dims in forward; ``index_add`` along the same dims in backward."""

    __slots__ = ('indices', 'sizes')

    def backward(self, g):
        for d, idx in reversed(self.indices):
            shape = list(g._data.shape)
            shape[d] = self.sizes[d]
            g = _wrap(np.zeros(shape, g._data.dtype, like=g._data)).index_add(d, _wrap(idx), g)
        return (g,)


_NODES = {}


def _node_class(mode, k):
    name = {'reflect': 'ReflectionPad', 'replicate': 'ReplicationPad', 'circular': 'CircularPad'}[mode]
    key = f'{name}{k}DBackward0'
    cls = _NODES.get(key)
    if cls is None:
        cls = _NODES[key] = type(key, (_IndexPadBackward,), {'__slots__': ()})
    return cls


def pad(input, pad, mode='constant', value=None):
    """Pad the last ``len(pad) // 2`` dimensions of ``input`` by ``pad`` (see the module docs)."""
    pad = tuple(int(p) for p in pad)
    x = input._data
    if len(pad) % 2:
        raise RuntimeError('Padding length must be divisible by 2')
    if len(pad) // 2 > x.ndim:
        raise RuntimeError(f'Padding length should be less than or equal to two times the input dimension but got '
                           f'padding length {len(pad)} and input of dimension {x.ndim}')
    if mode not in _MODES:
        raise NotImplementedError(f'Unrecognised padding mode {mode}')
    if mode == 'constant':
        return _constant_pad(input, pad, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    return _index_pad(input, pad, mode)


def _pairs(pad, ndim):
    """``[(dim, left, right), ...]`` for the padded dims, last dim first."""
    return [(ndim - 1 - i, pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]


def _constant_pad(input, pad, value):
    x = input._data
    shape = list(x.shape)
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    for d, left, right in _pairs(pad, x.ndim):
        n = shape[d] + left + right
        if n < 0:
            raise RuntimeError('narrow(): length must be non-negative.')
        src[d] = slice(max(-left, 0), shape[d] - max(-right, 0))
        dst[d] = slice(max(left, 0), n - max(right, 0))
        shape[d] = n
    out = np.full(shape, value, x.dtype, like=x)
    out[tuple(dst)] = x[tuple(src)]
    r = _wrap(out)
    if input._requires_grad and _grad_enabled():
        node = ConstantPadNdBackward0((grad_edge(input),))
        node.pad = pad
        r.grad_fn = node
        r._requires_grad = True
    return r


def _pad_index(n, left, right, mode, like):
    """Input position read by each output position along one padded dimension (an array of ``like``'s kind)."""
    if mode == 'circular':
        # PyTorch crops first (negative amounts), then wraps around the part that is left.
        start = max(-left, 0)
        kept = n - start - max(-right, 0)
        return start + (np.arange(n + left + right, dtype=np.int64, like=like) - max(left, 0)) % kept
    c = np.arange(-left, n + right, dtype=np.int64, like=like)
    if mode == 'reflect':
        c = np.abs(c)
        return np.where(c >= n, 2 * (n - 1) - c, c)
    return np.clip(c, 0, n - 1)


def _index_pad(input, pad, mode):
    x = input._data
    k = len(pad) // 2
    if x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f'Padding size {len(pad)} is not supported for {x.ndim}D input tensor.\nSupported combinations for '
            'non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)\n  - 3D or 4D input: '
            'padding size = 4 (pads last 2 dimensions)\n  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)')
    if any(s == 0 for s in x.shape[1:]) or (x.ndim == k + 1 and x.shape[0] == 0):
        raise RuntimeError(f'Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other '
                           f'non-zero dimensions for input, but got: {list(x.shape)}')
    if x.dtype == np.bool_ and mode != 'circular':
        name = 'reflection' if mode == 'reflect' else 'replication'
        raise NotImplementedError(f'"{name}_pad{k}d" not implemented for \'Bool\'')
    indices = []
    out = x
    for i, (d, left, right) in enumerate(_pairs(pad, x.ndim)):
        n = x.shape[d]
        if mode == 'reflect' and (left >= n or right >= n):
            raise RuntimeError(f'Argument #{4 + 2 * i}: Padding size should be less than the corresponding input '
                               f'dimension, but got: padding ({left}, {right}) at dimension {d} of input '
                               f'{list(x.shape)}')
        if mode == 'circular' and (left > n or right > n):
            raise RuntimeError('Padding value causes wrapping around more than once.')
        if n + left + right < 0:
            raise RuntimeError(f'Negative padding size {n + left + right} at dimension {d}')
        idx = _pad_index(n, left, right, mode, x)
        out = np.take(out, idx, axis=d)
        indices.append((d, idx))
    r = _wrap(np.ascontiguousarray(out, like=out))
    if input._requires_grad and _grad_enabled():
        node = _node_class(mode, k)((grad_edge(input),))
        node.indices = tuple(indices)
        node.sizes = x.shape
        r.grad_fn = node
        r._requires_grad = True
    return r


__all__ = []
METHODS = {}
