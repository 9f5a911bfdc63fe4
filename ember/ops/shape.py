"""Shape ops. Views (``view``, ``transpose``, ``expand``, ...) share memory with their input
exactly as PyTorch documents and are made with ``make_view``; the rest copy.
"""
import numpy as np

from .._tensor import _wrap, _wrap_dim
from .._size import Size
from ..autograd.grad_mode import _enabled
from ..autograd.graph import Node, grad_edge
from ._views import make_view


def parse_shape(args):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)`` and return a tuple of ints."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        args = args[0]
    try:
        return tuple(int(a) for a in args)
    except TypeError:
        raise TypeError(f'shape must be a sequence of ints, got {args!r}') from None


def infer_size(shape, numel):
    """Resolve one ``-1`` in ``shape`` for ``numel`` elements, with PyTorch's errors."""
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError('only one dimension can be inferred')
    for s in shape:
        if s < -1:
            raise RuntimeError(f'invalid shape dimension {s}')
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg[0]] + (numel // known,) + shape[neg[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _record(out, node_cls, input, **fields):
    node = node_cls((grad_edge(input),))
    for k, v in fields.items():
        setattr(node, k, v)
    out.grad_fn = node
    out._requires_grad = True
    return out


class ViewBackward0(Node):
    __slots__ = ('shape',)

    def backward(self, g):
        return (g.reshape(self.shape),)


class UnsafeViewBackward0(ViewBackward0):
    __slots__ = ()


def view(input, *shape):
    """A view with a new shape; raises PyTorch's RuntimeError when the strides don't allow it."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, Size)):
        from .convert import view_dtype
        return view_dtype(input, shape[0])
    x = input._data
    shape = infer_size(parse_shape(shape), x.size)
    try:
        arr = np.reshape(x, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           'dimension spans across two contiguous subspaces). Use .reshape(...) instead.') from None
    out = make_view(input, arr, 'view', (shape,))
    if _enabled[0] and input._requires_grad:
        _record(out, ViewBackward0, input, shape=x.shape)
    return out


def reshape(input, *shape):
    """``view`` when the layout allows it, otherwise a contiguous copy."""
    x = input._data
    shape = infer_size(parse_shape(shape), x.size)
    try:
        arr = np.reshape(x, shape, copy=False)
    except ValueError:
        out = _wrap(np.reshape(x, shape))
        if _enabled[0] and input._requires_grad:
            _record(out, UnsafeViewBackward0, input, shape=x.shape)
        return out
    out = make_view(input, arr, 'view', (shape,))
    if _enabled[0] and input._requires_grad:
        _record(out, ViewBackward0, input, shape=x.shape)
    return out


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


class ExpandBackward0(Node):
    __slots__ = ('shape',)

    def backward(self, g):
        return (g.sum_to_size(self.shape),)


def expand(input, *sizes):
    """A broadcast view: size-1 dims repeated without copying (``-1`` keeps a dim); read-only."""
    sizes = parse_shape(sizes)
    x = input._data
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f'expand({input.type()}{{{list(x.shape)}}}, size={list(sizes)}): the number of sizes '
                           f'provided ({len(sizes)}) must be greater or equal to the number of dimensions in the '
                           f'tensor ({x.ndim})')
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f'The expanded size of the tensor ({s}) isn\'t allowed in a leading, '
                                   'non-existing dimension 0')
            target.append(s)
            continue
        cur = x.shape[i - lead]
        if s == -1:
            s = cur
        elif cur != s and cur != 1:
            raise RuntimeError(f'The expanded size of the tensor ({s}) must match the existing size ({cur}) at '
                               f'non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: '
                               f'{list(x.shape)}')
        target.append(s)
    target = tuple(target)
    if target == x.shape:
        arr = x.view()
    else:
        arr = np.broadcast_to(x, target)
    out = make_view(input, arr, 'expand', (target,))
    if _enabled[0] and input._requires_grad:
        _record(out, ExpandBackward0, input, shape=x.shape)
    return out


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, size):
    return expand(input, size)


class TransposeBackward0(Node):
    __slots__ = ('dims',)

    def backward(self, g):
        return (g.transpose(*self.dims),)


def transpose(input, dim0, dim1):
    """A view with dimensions ``dim0`` and ``dim1`` swapped."""
    x = input._data
    n = x.ndim
    d0, d1 = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    arr = np.swapaxes(x, d0, d1) if n else x.view()
    out = make_view(input, arr, 'transpose', (d0, d1))
    if _enabled[0] and input._requires_grad:
        _record(out, TransposeBackward0, input, dims=(d0, d1))
    return out


swapaxes = swapdims = transpose


def t(input):
    """Transpose of a tensor with at most 2 dimensions."""
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f't() expects a tensor with <= 2 dimensions, but self is {n}D')
    if n < 2:
        return transpose(input, 0, 0) if n else view(input, ())
    return transpose(input, 0, 1)


class PermuteBackward0(Node):
    __slots__ = ('inverse',)

    def backward(self, g):
        return (g.permute(self.inverse),)


def permute(input, *dims):
    """A view with dimensions reordered as ``dims``."""
    x = input._data
    dims = parse_shape(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(f'permute(sparse_coo): number of dimensions in the tensor input does not match the '
                           f'length of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not '
                           f'equal to len(dims) = {len(dims)}')
    dims = tuple(_wrap_dim(d, x.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError('permute(): duplicate dims are not allowed.')
    out = make_view(input, np.transpose(x, dims), 'permute', (dims,))
    if _enabled[0] and input._requires_grad:
        _record(out, PermuteBackward0, input, inverse=tuple(np.argsort(dims).tolist()))
    return out


class UnsqueezeBackward0(Node):
    __slots__ = ('dim',)

    def backward(self, g):
        return (g.squeeze(self.dim),)


def unsqueeze(input, dim):
    """A view with a size-1 dimension inserted at ``dim``."""
    x = input._data
    d = _wrap_dim(dim, x.ndim + 1)
    out = make_view(input, np.expand_dims(x, d), 'unsqueeze', (d,))
    if _enabled[0] and input._requires_grad:
        _record(out, UnsqueezeBackward0, input, dim=d)
    return out


class SqueezeBackward0(Node):
    __slots__ = ('shape',)

    def backward(self, g):
        return (g.reshape(self.shape),)


def squeeze(input, dim=None):
    """A view without size-1 dimensions (only those in ``dim`` when given; others are left alone)."""
    x = input._data
    if dim is None:
        axes = tuple(i for i, s in enumerate(x.shape) if s == 1)
    else:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        axes = tuple(sorted({_wrap_dim(d, x.ndim) for d in dims if x.ndim}))
        axes = tuple(a for a in axes if x.shape[a] == 1)
    out = make_view(input, np.squeeze(x, axes) if axes else x.view(), 'squeeze', (dim,))
    if _enabled[0] and input._requires_grad:
        _record(out, SqueezeBackward0, input, shape=x.shape)
    return out


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` into one (a view when possible)."""
    x = input._data
    if x.ndim == 0:
        return reshape(input, (1,))
    s = _wrap_dim(start_dim, x.ndim)
    e = _wrap_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError('flatten() has invalid args: start_dim cannot come after end_dim')
    if s == e:
        return view(input, x.shape) if x.flags.c_contiguous else reshape(input, x.shape)
    n = 1
    for v in x.shape[s:e + 1]:
        n *= v
    return reshape(input, x.shape[:s] + (n,) + x.shape[e + 1:])


def unbind(input, dim=0):
    """The slices of ``input`` along ``dim`` as a tuple of views."""
    d = _wrap_dim(dim, input._data.ndim)
    idx = (slice(None),) * d
    return tuple(input[idx + (i,)] for i in range(input._data.shape[d]))


__all__ = ['unbind', 'reshape', 'expand_copy', 'broadcast_to', 'transpose', 'swapaxes', 'swapdims', 't', 'permute',
           'unsqueeze', 'squeeze', 'flatten']


def expand_copy(input, *sizes):
    return expand(input, *sizes).clone()


METHODS = {name: globals()[name] for name in __all__ if name != 'expand_copy'}
METHODS.update(view=view, view_as=view_as, reshape_as=reshape_as, expand=expand, expand_as=expand_as)
