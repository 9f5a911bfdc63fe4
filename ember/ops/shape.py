"""Shape ops.

Views (``view``, ``transpose``, ``expand``, ``select``, ``diagonal``, ``as_strided``, ...)
share memory with their input exactly as PyTorch documents and are made with
``make_view``; each records how to rebuild it (``_views.py``). The rest (``flip``, ``roll``,
``repeat``, ``tril``, ...) return new memory. Every backward formula is written with Ember
ops, so gradients of gradients work.
"""
import builtins
import warnings

import numpy as np

from .._size import Size
from .._tensor import Tensor, _wrap, _wrap_dim
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge
from ._inplace import inplace_variant
from ._views import (AsStridedBackward0, _IndexNode, _Layout, make_view, scatter_into_zeros, storage_offset,
                     storage_size, strided_view)

_INTS = (int, np.integer)


def parse_shape(args):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)`` and return a tuple of ints."""
    if len(args) == 1 and not isinstance(args[0], _INTS):
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


def _dims(dims, ndim):
    """A dim or sequence of dims (``f(0, 1)`` or ``f((0, 1))``) as a tuple of wrapped dims."""
    if len(dims) == 1 and not isinstance(dims[0], _INTS):
        dims = dims[0]
    if isinstance(dims, _INTS):
        dims = (dims,)
    return tuple(_wrap_dim(int(d), ndim) for d in dims)


def _record(out, node_cls, input, **fields):
    """Attach a ``node_cls`` with ``fields`` to ``out`` when autograd records ``input``."""
    if input._requires_grad and _grad_enabled():
        node = node_cls((grad_edge(input),))
        for k, v in fields.items():
            setattr(node, k, v)
        out.grad_fn = node
        out._requires_grad = True
    return out


def _type_name(d):
    return {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int', 'int64': 'Long',
            'float16': 'Half', 'float32': 'Float', 'float64': 'Double'}[np.dtype(d).name]


# ---- view, reshape ----------------------------------------------------------------------------

class ViewBackward0(Node):
    __slots__ = ('shape',)

    def backward(self, g):
        return (g.reshape(self.shape),)


class UnsafeViewBackward0(ViewBackward0):
    __slots__ = ()


def view(input, *shape):
    """A view with a new shape (one ``-1`` is inferred), or ``view(dtype)``: the same bytes
    reinterpreted. Raises PyTorch's RuntimeError when the strides don't allow the shape."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, Size)):
        return _view_dtype(input, shape[0])
    x = input._data
    shape = infer_size(parse_shape(shape), x.size)
    try:
        arr = np.reshape(x, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           'dimension spans across two contiguous subspaces). Use .reshape(...) instead.') from None
    return _record(make_view(input, arr, 'view', (shape,)), ViewBackward0, input, shape=x.shape)


def _view_dtype(input, dtype):
    """``view(dtype)``: shares memory and version counter, but (as in PyTorch) is not a
    differentiable view; the last dimension scales when element sizes differ."""
    from .._dtype import to_dtype
    d = to_dtype(dtype)
    x = input._data
    new, old = d.itemsize, x.itemsize
    if new != old:
        what = f'to view {_type_name(x.dtype)} as {_type_name(d.np)} (different element sizes)'
        if x.ndim == 0:
            raise RuntimeError(f'self.dim() cannot be 0 {what}')
        if x.shape[-1] != 1 and x.strides[-1] != old:
            raise RuntimeError(f'self.stride(-1) must be 1 {what}, but got {x.strides[-1] // old}')
        if new > old:
            ratio = new // old
            if x.shape[-1] % ratio:
                raise RuntimeError(f'self.size(-1) must be divisible by {ratio} {what}, but got {x.shape[-1]}')
            for i in range(x.ndim - 1):
                if (x.strides[i] // old) % ratio:
                    raise RuntimeError(f'self.stride({i}) must be divisible by {ratio} {what}, but got '
                                       f'{x.strides[i] // old}')
            if storage_offset(x) % ratio:
                raise RuntimeError(f'self.storage_offset() must be divisible by {ratio} {what}, but got '
                                   f'{storage_offset(x)}')
        size = x.shape[-1] * old // new
        strides = [(st // old) * old // new for st in x.strides[:-1]]
        arr = strided_view(x, x.shape[:-1] + (size,), strides + [1], storage_offset(x) * old // new, d.np)
    else:
        arr = x.view(d.np)
    out = _wrap(arr)
    out._vc = input._vc
    return out


def reshape(input, *shape):
    """``view`` when the layout allows it, otherwise a contiguous copy."""
    x = input._data
    shape = infer_size(parse_shape(shape), x.size)
    try:
        arr = np.reshape(x, shape, copy=False)
    except ValueError:
        return _record(_wrap(np.reshape(x, shape)), UnsafeViewBackward0, input, shape=x.shape)
    return _record(make_view(input, arr, 'view', (shape,)), ViewBackward0, input, shape=x.shape)


def view_as(input, other):
    """``input.view(other.shape)``."""
    return view(input, other._data.shape)


def reshape_as(input, other):
    """``input.reshape(other.shape)``."""
    return reshape(input, other._data.shape)


def ravel(input):
    """The elements as a 1-D tensor (a view when the layout allows it)."""
    return reshape(input, (-1,))


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` into one (a view when possible; ``input`` itself
    when nothing changes)."""
    x = input._data
    if x.ndim == 0:
        return reshape(input, (1,))
    s = _wrap_dim(start_dim, x.ndim)
    e = _wrap_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError('flatten() has invalid args: start_dim cannot come after end_dim')
    if s == e:
        return input
    n = 1
    for v in x.shape[s:e + 1]:
        n *= v
    return reshape(input, x.shape[:s] + (n,) + x.shape[e + 1:])


def unflatten(input, dim, sizes):
    """Split dimension ``dim`` into ``sizes`` (one may be -1): a view."""
    x = input._data
    d = _wrap_dim(dim, x.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError('unflatten: sizes must be non-empty')
    if -1 in sizes:
        inferred = infer_size(sizes, x.shape[d]) if x.shape[d] or sizes.count(-1) == 1 else sizes
        sizes = inferred
    else:
        n = 1
        for s in sizes:
            n *= s
        if n != x.shape[d]:
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
                               f'({x.shape[d]}) in the input tensor')
    return view(input, x.shape[:d] + sizes + x.shape[d + 1:])


# ---- expand -----------------------------------------------------------------------------------

class ExpandBackward0(Node):
    __slots__ = ('shape',)

    def backward(self, g):
        return (g.sum_to_size(self.shape),)


def _expand_shape(input, sizes):
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
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   f'non-existing dimension {i}')
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
    return tuple(target)


def expand(input, *sizes):
    """A broadcast view: size-1 dims repeated with stride 0 (``-1`` keeps a dim); new dims lead."""
    x = input._data
    target = _expand_shape(input, parse_shape(sizes))
    if target == x.shape:
        arr = x.view()
    else:
        item = x.itemsize
        lead = len(target) - x.ndim
        strides = [0] * lead + [0 if (n == 1 and t != 1) else st // item
                                for n, t, st in zip(x.shape, target[lead:], x.strides)]
        arr = strided_view(x, target, strides, storage_offset(x))
    return _record(make_view(input, arr, 'expand', (target,)), ExpandBackward0, input, shape=x.shape)


def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return expand(input, other._data.shape)


def broadcast_to(input, size):
    """``input.expand(size)``."""
    return expand(input, size)


def expand_copy(input, *sizes):
    """``expand`` followed by ``clone``."""
    return expand(input, *sizes).clone()


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to (PyTorch's RuntimeError if none)."""
    shapes = [(s,) if isinstance(s, _INTS) else tuple(int(v) for v in s) for s in shapes]
    n = max((len(s) for s in shapes), default=0)
    result = [1] * n
    for idx, s in enumerate(shapes):
        for i in range(1, len(s) + 1):
            v = s[-i]
            if v < 0:
                raise RuntimeError(f'Trying to create tensor with negative dimension {v}: {list(s)}')
            if result[-i] == 1:
                result[-i] = v
            elif v != 1 and v != result[-i]:
                raise RuntimeError(f'Attempting to broadcast a dimension of length {v} at -{i}! Mismatching argument '
                                   f'at index {idx} had {s}; but expected shape should be broadcastable to '
                                   f'{result}')
    return Size(result)


def broadcast_tensors(*tensors):
    """The tensors expanded (as views) to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = ()
    for t in tensors:
        s = t._data.shape
        try:
            shape = np.broadcast_shapes(shape, s)
        except ValueError:
            n = builtins.max(len(shape), len(s))
            a = (1,) * (n - len(shape)) + tuple(shape)
            b = (1,) * (n - len(s)) + tuple(s)
            i = next(i for i in range(n) if a[i] != b[i] and a[i] != 1 and b[i] != 1)
            raise RuntimeError(f'The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at '
                               f'non-singleton dimension {i}') from None
    return tuple(expand(t, shape) for t in tensors)


# ---- transposes and permutations ----------------------------------------------------------------

class TransposeBackward0(Node):
    __slots__ = ('dims',)

    def backward(self, g):
        return (g.transpose(*self.dims),)


class TBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return (g.t(),)


def transpose(input, dim0, dim1):
    """A view with dimensions ``dim0`` and ``dim1`` swapped."""
    x = input._data
    n = x.ndim
    d0, d1 = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    arr = np.swapaxes(x, d0, d1) if n else x.view()
    return _record(make_view(input, arr, 'transpose', (d0, d1)), TransposeBackward0, input, dims=(d0, d1))


swapaxes = swapdims = transpose


def t(input):
    """Transpose of a tensor with at most 2 dimensions (0-d and 1-d are returned as views)."""
    x = input._data
    n = x.ndim
    if n > 2:
        raise RuntimeError(f't() expects a tensor with <= 2 dimensions, but self is {n}D')
    arr = x.T if n == 2 else x.view()
    return _record(make_view(input, arr, 'transpose', (0, 1) if n == 2 else (0, 0)), TBackward0, input)


def _T(input):
    n = input._data.ndim
    if n != 2 and n != 0:
        warnings.warn('The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated '
                      'and it will throw an error in a future release. Consider `x.mT` to transpose batches of '
                      'matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a '
                      'tensor.', UserWarning, stacklevel=2)
    return permute(input, tuple(range(n - 1, -1, -1)))


def _mT(input, name='tensor.mT'):
    n = input._data.ndim
    if n < 2:
        if n == 0 and name != 'tensor.adjoint()':
            return input
        raise RuntimeError(f'{name} is only supported on matrices or batches of matrices. Got {n}-D tensor.')
    return transpose(input, -2, -1)


def _H(input):
    n = input._data.ndim
    if n != 2 and n != 0:
        extra = ' For batches of matrices, consider using tensor.mH' if n > 2 else ''
        raise RuntimeError(f'tensor.H is only supported on matrices (2-D tensors). Got {n}-D tensor.{extra}')
    return transpose(input, 0, 1) if n == 2 else input


def adjoint(input):
    """Conjugate transpose of the last two dimensions (a view; real tensors are not conjugated)."""
    return _mT(input, 'tensor.adjoint()')


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
    return _record(out, PermuteBackward0, input, inverse=tuple(np.argsort(dims).tolist()))


def movedim(input, source, destination):
    """Move dimensions ``source`` to positions ``destination`` (ints or sequences); the others keep
    their order. A view."""
    n = input._data.ndim
    src = (source,) if isinstance(source, _INTS) else tuple(source)
    dst = (destination,) if isinstance(destination, _INTS) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f'movedim: Invalid source or destination dims: source ({list(src)} dims) should contain '
                           f'the same number of dims as destination ({list(dst)} dims)')
    src = tuple(_wrap_dim(int(d), n) for d in src)
    dst = tuple(_wrap_dim(int(d), n) for d in dst)
    if len(set(src)) != len(src):
        raise RuntimeError(f'movedim: repeated dim in `source` ({list(source)})')
    if len(set(dst)) != len(dst):
        raise RuntimeError(f'movedim: repeated dim in `destination` ({list(destination)})')
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, tuple(order))


moveaxis = movedim


# ---- squeeze, unsqueeze ---------------------------------------------------------------------------

class UnsqueezeBackward0(Node):
    __slots__ = ('dim',)

    def backward(self, g):
        return (g.squeeze(self.dim),)


def unsqueeze(input, dim):
    """A view with a size-1 dimension inserted at ``dim``."""
    x = input._data
    d = _wrap_dim(dim, x.ndim + 1)
    arr = np.expand_dims(x, d)
    # PyTorch gives the new dim the stride it would have if it were the next dim's outer neighbour.
    item = x.itemsize
    want = x.shape[d] * x.strides[d] if d < x.ndim else item
    if arr.strides[d] != want:
        arr = strided_view(x, arr.shape, [st // item for st in arr.strides[:d]] + [want // item] +
                           [st // item for st in arr.strides[d + 1:]], storage_offset(x))
    return _record(make_view(input, arr, 'unsqueeze', (d,)), UnsqueezeBackward0, input, dim=d)


class SqueezeBackward0(Node):
    __slots__ = ('shape',)

    def backward(self, g):
        return (g.reshape(self.shape),)


class SqueezeBackward1(SqueezeBackward0):
    __slots__ = ()


class SqueezeBackward2(SqueezeBackward0):
    __slots__ = ()


def squeeze(input, dim=None):
    """A view without size-1 dimensions (only those among ``dim``, an int or tuple, when given)."""
    x = input._data
    if dim is None:
        axes = tuple(i for i, s in enumerate(x.shape) if s == 1)
        cls = SqueezeBackward0
    else:
        cls = SqueezeBackward1 if isinstance(dim, _INTS) else SqueezeBackward2
        dims = (dim,) if isinstance(dim, _INTS) else tuple(dim)
        axes = tuple(sorted({_wrap_dim(int(d), x.ndim) for d in dims}))
        axes = tuple(a for a in axes if x.ndim and x.shape[a] == 1)
    out = make_view(input, np.squeeze(x, axes) if axes else x.view(), 'squeeze', (dim,))
    return _record(out, cls, input, shape=x.shape)


def atleast_1d(*tensors):
    """Each tensor with at least one dimension (0-d become shape (1,)); a tuple for several."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions (new dims lead)."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Each tensor with at least three dimensions: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _atleast(tensors, 3)


def _atleast(tensors, k):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for x in tensors:
        n = x._data.ndim
        if n >= k:
            out.append(x)
        elif k == 1 or n == 0:
            out.append(reshape(x, (1,) * k))
        elif k == 2:
            out.append(unsqueeze(x, 0))
        else:
            out.append(unsqueeze(unsqueeze(x, 0), -1) if n == 1 else unsqueeze(x, -1))
    return out[0] if single else tuple(out)


# ---- narrow, select, unbind, split ------------------------------------------------------------------

class SliceBackward0(Node):
    """Backward of a slicing view: the gradient is written into zeros at the view's place."""

    __slots__ = ('shape', 'dtype', 'apply')

    def backward(self, g):
        return (scatter_into_zeros(g, self.shape, self.dtype, self.apply),)


class SelectBackward0(SliceBackward0):
    __slots__ = ()


class DiagonalBackward0(SliceBackward0):
    __slots__ = ()


class _Narrow:
    """``t.narrow(dim, start, length)`` as a callable (for backward nodes)."""

    __slots__ = ('dim', 'start', 'length')

    def __init__(self, dim, start, length):
        self.dim, self.start, self.length = dim, start, length

    def __call__(self, t):
        return narrow(t, self.dim, self.start, self.length)


class _Select:
    __slots__ = ('dim', 'index')

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def __call__(self, t):
        return select(t, self.dim, self.index)


class _Diagonal:
    __slots__ = ('offset', 'dim1', 'dim2')

    def __init__(self, offset, dim1, dim2):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def __call__(self, t):
        return diagonal(t, self.offset, self.dim1, self.dim2)


def _record_slice(out, cls, input, apply):
    if input._requires_grad and _grad_enabled():
        node = cls((grad_edge(input),))
        node.shape = input._data.shape
        node.dtype = input._data.dtype
        node.apply = apply
        out.grad_fn = node
        out._requires_grad = True
    return out


def narrow(input, dim, start, length):
    """A view of ``length`` elements of dimension ``dim`` from ``start`` (may be negative or a 0-d tensor)."""
    x = input._data
    if x.ndim == 0:
        raise RuntimeError('narrow() cannot be applied to a 0-dim tensor.')
    d = _wrap_dim(dim, x.ndim)
    start, length = int(start), int(length)
    if length < 0:
        raise RuntimeError('narrow(): length must be non-negative.')
    size = x.shape[d]
    if not -size <= start <= size:
        raise IndexError(f'start out of range (expected to be in range of [{-size}, {size}], but got {start})')
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f'start ({start}) + length ({length}) exceeds dimension size ({size}).')
    arr = x[(slice(None),) * d + (slice(start, start + length),)]
    if not arr.size:  # NumPy keeps an empty slice at the input's start; PyTorch moves to ``start``
        arr = strided_view(x, arr.shape, [st // x.itemsize for st in arr.strides],
                           storage_offset(x) + start * x.strides[d] // x.itemsize)
    out = make_view(input, arr, 'narrow', (d, start, length))
    return _record_slice(out, SliceBackward0, input, _Narrow(d, start, length))


def select(input, dim, index):
    """The slice at ``index`` along ``dim`` (that dimension removed): a view."""
    x = input._data
    if x.ndim == 0:
        raise IndexError('select() cannot be applied to a 0-dim tensor.')
    d = _wrap_dim(dim, x.ndim)
    index = int(index)
    size = x.shape[d]
    if not -size <= index < size:
        raise IndexError(f'select(): index {index} out of range for tensor of size {list(x.shape)} at dimension {d}')
    if index < 0:
        index += size
    arr = x[(slice(None),) * d + (index, Ellipsis)]
    out = make_view(input, arr, 'select', (d, index))
    return _record_slice(out, SelectBackward0, input, _Select(d, index))


class UnbindBackward0(Node):
    """Stacks the outputs' gradients (zeros for outputs that got none)."""

    __slots__ = ('dim', 'shape', 'dtype')

    def backward(self, grads):
        from .join import stack
        if type(grads) is not tuple:  # a single output is passed on its own
            grads = (grads,)
        shape = self.shape[:self.dim] + self.shape[self.dim + 1:]
        ref = next(g._data for g in grads if g is not None)
        gs = [g if g is not None else _wrap(np.zeros(shape, self.dtype, like=ref)) for g in grads]
        return (stack(gs, self.dim),)


class SplitBackward0(Node):
    """Concatenates the outputs' gradients (zeros for outputs that got none)."""

    __slots__ = ('dim', 'shape', 'dtype', 'sizes')

    def backward(self, grads):
        from .join import cat
        if type(grads) is not tuple:
            grads = (grads,)
        gs = []
        ref = next(g._data for g in grads if g is not None)
        for g, n in zip(grads, self.sizes):
            if g is None:
                shape = self.shape[:self.dim] + (n,) + self.shape[self.dim + 1:]
                g = _wrap(np.zeros(shape, self.dtype, like=ref))
            gs.append(g)
        return (cat(gs, self.dim),)


class SplitWithSizesBackward0(SplitBackward0):
    __slots__ = ()


def _multi_output(input, outs, node):
    if input._requires_grad and _grad_enabled():
        node.n_outputs = len(outs)
        for i, o in enumerate(outs):
            o.grad_fn = node
            o._output_nr = i
            o._requires_grad = True
    return tuple(outs)


def unbind(input, dim=0):
    """The slices of ``input`` along ``dim`` as a tuple of views."""
    x = input._data
    if x.ndim == 0:
        raise IndexError('Dimension specified as 0 but tensor has no dimensions')
    d = _wrap_dim(dim, x.ndim)
    pre = (slice(None),) * d
    outs = [make_view(input, x[pre + (i, Ellipsis)], 'select', (d, i), multi_output=True)
            for i in range(x.shape[d])]
    node = UnbindBackward0((grad_edge(input),)) if _grad_enabled() and input._requires_grad else None
    if node is not None:
        node.dim, node.shape, node.dtype = d, x.shape, x.dtype
    return _multi_output(input, outs, node)


def _split_views(input, d, sizes, cls):
    x = input._data
    pre = (slice(None),) * d
    outs = []
    start = 0
    for n in sizes:
        arr = x[pre + (slice(start, start + n),)]
        if not arr.size:
            arr = strided_view(x, arr.shape, [st // x.itemsize for st in arr.strides],
                               storage_offset(x) + start * x.strides[d] // x.itemsize)
        outs.append(make_view(input, arr, 'narrow', (d, start, n), multi_output=True))
        start += n
    node = cls((grad_edge(input),)) if _grad_enabled() and input._requires_grad else None
    if node is not None:
        node.dim, node.shape, node.dtype, node.sizes = d, x.shape, x.dtype, tuple(sizes)
    return _multi_output(input, outs, node)


def split(tensor, split_size_or_sections, dim=0):
    """Views of ``split_size_or_sections``-sized chunks along ``dim`` (an int: the last may be
    smaller; a list: exactly those sizes)."""
    x = tensor._data
    if x.ndim == 0:
        raise RuntimeError('split expects at least a 1-dimensional tensor')
    d = _wrap_dim(dim, x.ndim)
    size = x.shape[d]
    if isinstance(split_size_or_sections, _INTS):
        s = int(split_size_or_sections)
        if s < 0:
            raise RuntimeError(f'split expects split_size be non-negative, but got split_size={s}')
        if s == 0:
            if size != 0:
                raise RuntimeError(f'split_size can only be 0 if dimension size is 0, but got dimension size of {size}')
            return _split_views(tensor, d, [0], SplitBackward0)
        n = builtins.max((size + s - 1) // s, 1)
        sizes = [s] * (n - 1) + [size - s * (n - 1)]
        return _split_views(tensor, d, sizes, SplitBackward0)
    sizes = [int(s) for s in split_size_or_sections]
    if builtins.sum(sizes) != size or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                           f'dimension {d}), but got split_sizes={sizes}')
    return _split_views(tensor, d, sizes, SplitWithSizesBackward0)


def chunk(input, chunks, dim=0):
    """At most ``chunks`` views along ``dim``, each of size ``ceil(size / chunks)`` (the last smaller)."""
    x = input._data
    if x.ndim == 0:
        raise RuntimeError('chunk expects at least a 1-dimensional tensor')
    chunks = int(chunks)
    if chunks <= 0:
        raise RuntimeError(f'chunk expects `chunks` to be greater than 0, got: {chunks}')
    d = _wrap_dim(dim, x.ndim)
    size = x.shape[d]
    s = (size + chunks - 1) // chunks
    if s == 0 and size == 0:
        sizes = [0] * chunks
        return _split_views(input, d, sizes, SplitWithSizesBackward0)
    return split(input, s, d)


def tensor_split(input, indices_or_sections, dim=0):
    """Views split at ``indices_or_sections``: a number of near-equal sections (the first
    ``size % n`` one larger), or a list/tensor of split indices."""
    x = input._data
    if x.ndim == 0:
        raise RuntimeError('tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims')
    d = _wrap_dim(dim, x.ndim)
    size = x.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in 'iu':
            raise RuntimeError(f'tensor_split expected tensor_indices_or_sections to have integer dtype, but got '
                               f'{ios.dtype}')
        if ios._data.ndim > 1:
            raise RuntimeError('tensor_split expected tensor_indices_or_sections to be a zero-dimensional or '
                               f'one-dimensional tensor, but got a tensor with {ios._data.ndim} dims')
        ios = ios._data.item() if ios._data.ndim == 0 else ios._data.tolist()
    if isinstance(ios, _INTS):
        n = int(ios)
        if n <= 0:
            raise RuntimeError(f'number of sections must be larger than 0, got {n}')
        q, r = divmod(size, n)
        bounds = []
        start = 0
        for i in range(n):
            end = start + q + (1 if i < r else 0)
            bounds.append((start, end))
            start = end
    else:
        idx = [int(i) for i in ios]
        bounds = []
        start = 0
        for i in idx + [size]:
            i = i + size if i < 0 else i
            i = builtins.min(builtins.max(i, 0), size)
            bounds.append((start, builtins.max(i, start)))
            start = builtins.max(i, start)
    return tuple(narrow(input, d, s, e - s) for s, e in bounds)


def _dim_split(input, ios, dim, name, min_dims):
    n = input._data.ndim
    if n < min_dims:
        raise RuntimeError(f'torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor '
                           f'with {n} dimensions!')
    if isinstance(ios, _INTS) and input._data.shape[dim] % ios:
        raise RuntimeError(f'torch.{name} attempted to split along dimension {dim}, but the size of the dimension '
                           f'{input._data.shape[dim]} is not divisible by the split_size {ios}!')
    return tensor_split(input, ios, dim)


def hsplit(input, indices_or_sections):
    """``tensor_split`` along dimension 1 (0 for 1-D tensors); an int must divide the size."""
    return _dim_split(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, 'hsplit', 1)


def vsplit(input, indices_or_sections):
    """``tensor_split`` along dimension 0 of a tensor with at least 2 dimensions."""
    return _dim_split(input, indices_or_sections, 0, 'vsplit', 2)


def dsplit(input, indices_or_sections):
    """``tensor_split`` along dimension 2 of a tensor with at least 3 dimensions."""
    return _dim_split(input, indices_or_sections, 2, 'dsplit', 3)


# ---- diagonal, as_strided, unfold ------------------------------------------------------------------

def diagonal(input, offset=0, dim1=0, dim2=1):
    """A view of the diagonal of dims ``dim1``/``dim2`` (removed; the diagonal becomes the last dim).

    ``offset`` > 0 is above the main diagonal, < 0 below.
    """
    x = input._data
    n = x.ndim
    d1, d2 = _wrap_dim(dim1, n), _wrap_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f'diagonal dimensions cannot be identical {dim1}, {dim2}')
    offset = int(offset)
    item = x.itemsize
    st = [s // item for s in x.strides]
    start = storage_offset(x)
    if offset >= 0:
        length = builtins.max(builtins.min(x.shape[d1], x.shape[d2] - offset), 0)
        if length:
            start += offset * st[d2]
    else:
        length = builtins.max(builtins.min(x.shape[d1] + offset, x.shape[d2]), 0)
        if length:
            start -= offset * st[d1]
    keep = [i for i in range(n) if i not in (d1, d2)]
    shape = [x.shape[i] for i in keep] + [length]
    strides = [st[i] for i in keep] + [st[d1] + st[d2]]
    arr = strided_view(x, shape, strides, start)
    out = make_view(input, arr, 'diagonal', (offset, d1, d2))
    return _record_slice(out, DiagonalBackward0, input, _Diagonal(offset, d1, d2))


def as_strided(input, size, stride, storage_offset=None):
    """A view with explicit ``size``, ``stride`` and ``storage_offset`` (in elements, relative to the
    start of the memory block, as PyTorch's storage; default: ``input``'s own offset)."""
    from . import _views
    x = input._data
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError('mismatch in length of strides and shape')
    if any(s < 0 for s in stride):
        raise RuntimeError(f'as_strided: Negative strides are not supported at the moment, got strides: '
                           f'{list(stride)}')
    if any(s < 0 for s in size):
        raise RuntimeError(f'Trying to create tensor with negative dimension {builtins.min(size)}: {list(size)}')
    offset = _views.storage_offset(x) if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f'Tensor: invalid storage offset {offset}')
    need = 0 if 0 in size else offset + builtins.sum((n - 1) * s for n, s in zip(size, stride)) + 1
    have = storage_size(x)
    if need > have:
        raise RuntimeError(f'setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and '
                           f'itemsize {x.itemsize} requiring a storage size of {need * x.itemsize} are out of bounds '
                           f'for storage of size {have * x.itemsize}')
    arr = strided_view(x, size, stride, offset)
    out = make_view(input, arr, 'as_strided', (size, stride, offset))
    if input._requires_grad and _grad_enabled():
        node = AsStridedBackward0((grad_edge(input),))
        node.steps = (('as_strided', (size, stride, offset)),)
        node.layout = _Layout(x)
        out.grad_fn = node
        out._requires_grad = True
    return out


class UnfoldBackward0(_IndexNode):
    """Windows may overlap: their gradients are summed back into the input."""

    __slots__ = ()

    def backward(self, g):
        from ._views import scatter_add_view
        return (scatter_add_view(g, self.index(), self.layout.shape),)


def unfold(input, dimension, size, step):
    """A view of all ``size``-long windows, ``step`` apart, along ``dimension`` (the windows form a
    new last dimension)."""
    x = input._data
    n = x.ndim
    d = _wrap_dim(dimension, n)
    size, step = int(size), int(step)
    length = x.shape[d] if n else 1
    if size > length:
        raise RuntimeError(f'maximum size for tensor at dimension {d} is {length} but size is {size}')
    if step <= 0:
        raise RuntimeError(f'step is {step} but must be > 0')
    if size < 0:
        raise RuntimeError(f'size is {size} but must be >= 0')
    item = x.itemsize
    st = [s // item for s in x.strides]
    if n == 0:
        shape, strides = [size], [1]
    else:
        shape = list(x.shape)
        shape[d] = (length - size) // step + 1
        strides = list(st)
        strides[d] = st[d] * step
        shape.append(size)
        strides.append(st[d])
    arr = strided_view(x, shape, strides, storage_offset(x))
    out = make_view(input, arr, 'unfold', (d, size, step))
    if input._requires_grad and _grad_enabled():
        node = UnfoldBackward0((grad_edge(input),))
        node.steps = (('unfold', (d, size, step)),)
        node.layout = _Layout(x)
        out.grad_fn = node
        out._requires_grad = True
    return out


# ---- copies: flip, roll, rot90, repeat, tile, repeat_interleave, tril/triu -------------------------

class FlipBackward0(Node):
    __slots__ = ('dims',)

    def backward(self, g):
        return (flip(g, self.dims),)


def flip(input, *dims):
    """A copy with the order of elements reversed along ``dims``."""
    x = input._data
    dims = _dims(dims, x.ndim) if dims else ()
    if len(set(dims)) != len(dims):
        d = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f'dim {d} appears multiple times in the list of dims')
    arr = np.flip(x, dims).copy(order='K') if dims and x.ndim else x.copy(order='K')
    return _record(_wrap(arr), FlipBackward0, input, dims=dims)


def fliplr(input):
    """Flip dimension 1 (left/right); needs at least 2 dims."""
    if input._data.ndim < 2:
        raise RuntimeError('Input must be >= 2-d.')
    return flip(input, (1,))


def flipud(input):
    """Flip dimension 0 (up/down); needs at least 1 dim."""
    if input._data.ndim < 1:
        raise RuntimeError('Input must be >= 1-d.')
    return flip(input, (0,))


class RollBackward0(Node):
    __slots__ = ('shifts', 'dims')

    def backward(self, g):
        return (roll(g, tuple(-s for s in self.shifts), self.dims),)


def roll(input, shifts, dims=None):
    """Elements shifted cyclically by ``shifts`` along ``dims`` (the flattened tensor when None)."""
    x = input._data
    shifts = (int(shifts),) if isinstance(shifts, _INTS) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f'shifts and dimensions must align. shifts: {len(shifts)}, dims:0')
        arr = np.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
        out = _wrap(arr)
    else:
        dims = (dims,) if isinstance(dims, _INTS) else tuple(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f'shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}')
        dims = tuple(_wrap_dim(int(d), x.ndim) for d in dims)
        out = _wrap(np.ascontiguousarray(np.roll(x, shifts, dims), like=x))
    return _record(out, RollBackward0, input, shifts=shifts, dims=dims)


class Rot90Backward0(Node):
    __slots__ = ('k', 'dims')

    def backward(self, g):
        return (rot90(g, -self.k, self.dims),)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second)."""
    x = input._data
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f'expected total rotation dims == 2, but got dims = {len(dims)}')
    if x.ndim < 2:
        raise RuntimeError(f'expected total dims >= 2, but got total dims = {x.ndim}')
    d0, d1 = _wrap_dim(dims[0], x.ndim), _wrap_dim(dims[1], x.ndim)
    if d0 == d1:
        raise RuntimeError(f'expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}')
    k = int(k)
    out = _wrap(np.ascontiguousarray(np.rot90(x, k, (d0, d1)), like=x))
    return _record(out, Rot90Backward0, input, k=k, dims=(d0, d1))


class RepeatBackward0(Node):
    __slots__ = ('shape', 'repeats')

    def backward(self, g):
        lead = len(self.repeats) - len(self.shape)
        inner = (1,) * lead + tuple(self.shape)
        split = []
        for r, s in zip(self.repeats, inner):
            split += [r, s]
        g = g.reshape(split).sum(tuple(range(0, 2 * len(inner), 2)))
        return (g.reshape(self.shape),)


def repeat(input, *sizes):
    """A copy tiled ``sizes[i]`` times along each dimension (extra leading sizes add dimensions)."""
    x = input._data
    sizes = parse_shape(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError('Number of dimensions of repeat dims can not be smaller than number of dimensions of '
                           'tensor')
    if any(s < 0 for s in sizes):
        raise RuntimeError(f'Trying to create tensor with negative dimension {builtins.min(sizes)}: {list(sizes)}')
    src = x.reshape((1,) * (len(sizes) - x.ndim) + x.shape)
    out = _wrap(np.ascontiguousarray(np.tile(src, sizes), like=src))
    return _record(out, RepeatBackward0, input, shape=x.shape, repeats=sizes)


def tile(input, dims):
    """``repeat`` with ``dims`` padded with leading ones to the tensor's number of dimensions."""
    dims = (int(dims),) if isinstance(dims, _INTS) else tuple(int(d) for d in dims)
    n = input._data.ndim
    if len(dims) < n:
        dims = (1,) * (n - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated ``repeats`` times (an int, or a tensor with one count per element
    along ``dim``; the flattened tensor when ``dim`` is None). With only a tensor of counts,
    returns the indices repeated by those counts."""
    from .indexing import index_select
    if repeats is None:
        counts = input._data
        if counts.ndim > 1:
            raise RuntimeError('repeat_interleave only accept 1D vector as repeat')
        if counts.dtype.kind not in 'iu':
            raise RuntimeError('repeats has to be Long or Int tensor')
        if (counts < 0).any():
            raise RuntimeError('repeats can not be negative')
        return _wrap(np.repeat(np.arange(counts.size, dtype=counts.dtype, like=counts), counts.reshape(-1)))
    if dim is None:
        input = reshape(input, (-1,))
        d = 0
    else:
        d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.dtype.kind not in 'iu':
            raise RuntimeError('repeats has to be Long or Int tensor')
        if r.ndim > 1:
            raise RuntimeError('repeat_interleave only accept 1D vector as repeat')
        r = r.reshape(-1)
        if r.size == 1:
            r = np.repeat(r, n)
        elif r.size != n:
            raise RuntimeError(f'repeats must have the same size as input along dim, but got repeats.size(0) = '
                               f'{r.size} and input.size({d}) = {n}')
    else:
        r = np.full(n, int(repeats), np.int64, like=input._data)
    if (r < 0).any():
        raise RuntimeError('Repeats must be non-negative')
    idx = np.repeat(np.arange(n, dtype=np.int64, like=input._data), r)
    if output_size is not None and idx.size != output_size:
        raise RuntimeError('allocated size does not match required size')
    if input._data.ndim == 0:
        return index_select(reshape(input, (1,)), 0, _wrap(idx))
    return index_select(input, d, _wrap(idx))


def _tri_mask(x, diagonal, lower):
    rows, cols = x.shape[-2], x.shape[-1]
    i = np.arange(rows, like=x)[:, None]
    j = np.arange(cols, like=x)[None, :]
    return (j - i <= diagonal) if lower else (j - i >= diagonal)


class TrilBackward0(Node):
    __slots__ = ('diagonal',)

    def backward(self, g):
        return (tril(g, self.diagonal),)


class TriuBackward0(Node):
    __slots__ = ('diagonal',)

    def backward(self, g):
        return (triu(g, self.diagonal),)


def tril(input, diagonal=0, *, out=None):
    """Lower triangle of the last two dims (elements with ``j - i <= diagonal``); the rest zero."""
    return _tri(input, diagonal, True, TrilBackward0, 'tril', out)


def triu(input, diagonal=0, *, out=None):
    """Upper triangle of the last two dims (elements with ``j - i >= diagonal``); the rest zero."""
    return _tri(input, diagonal, False, TriuBackward0, 'triu', out)


def _tri(input, diagonal, lower, cls, name, out):
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f'{name}: input tensor must have at least 2 dimensions')
    diagonal = int(diagonal)
    r = _wrap(np.where(_tri_mask(x, diagonal, lower), x, x.dtype.type(0)))
    _record(r, cls, input, diagonal=diagonal)
    if out is not None:
        from ._operands import write_out
        return write_out(out, r)
    return r


tril_ = inplace_variant(tril, 'tril_', overlap_ok=True)
triu_ = inplace_variant(triu, 'triu_', overlap_ok=True)


# ---- in-place metadata changes: squeeze_, unsqueeze_, t_, transpose_, as_strided_ -----------------

class UnsqueezeBackward1(UnsqueezeBackward0):
    __slots__ = ()


class SqueezeBackward3(SqueezeBackward0):
    __slots__ = ()


class SqueezeBackward4(SqueezeBackward0):
    __slots__ = ()


class SqueezeBackward5(SqueezeBackward0):
    __slots__ = ()


class TBackward1(TBackward0):
    __slots__ = ()


class TransposeBackward1(TransposeBackward0):
    __slots__ = ()


class AsStridedBackward1(AsStridedBackward0):
    __slots__ = ()


def _metadata_inplace(self, r, node_cls):
    """Make ``self`` take the layout of ``r`` (a view of ``self``), bumping the shared version."""
    from ._views import set_frame
    if self._base is not None:
        self._view_replay = [r._view_replay[0], None, self._view_replay[2]]
    else:
        set_frame(self)
    self._data = r._data
    self._vc[0] += 1
    if self._base is not None:
        self._view_replay[1] = self._vc[0]
    fn = r.grad_fn
    if fn is not None:
        fn.__class__ = node_cls
        self.grad_fn = fn
        self._output_nr = 0
    return self


def _inplace_metadata_op(name, op, node_cls):
    def method(self, *args):
        from ._inplace import check_inplace
        check_inplace(self)
        cls = node_cls if isinstance(node_cls, type) else node_cls(args)
        return _metadata_inplace(self, op(self, *args), cls)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f'In-place ``{op.__name__}``: changes this tensor\'s shape/strides (its memory is unchanged).'
    return method


def _squeeze_node(args):
    if not args or args[0] is None:
        return SqueezeBackward3
    return SqueezeBackward4 if isinstance(args[0], _INTS) else SqueezeBackward5


squeeze_ = _inplace_metadata_op('squeeze_', squeeze, _squeeze_node)
unsqueeze_ = _inplace_metadata_op('unsqueeze_', unsqueeze, UnsqueezeBackward1)
t_ = _inplace_metadata_op('t_', t, TBackward1)
transpose_ = _inplace_metadata_op('transpose_', transpose, TransposeBackward1)
swapaxes_ = _inplace_metadata_op('swapaxes_', transpose, TransposeBackward1)
swapdims_ = _inplace_metadata_op('swapdims_', transpose, TransposeBackward1)
as_strided_ = _inplace_metadata_op('as_strided_', as_strided, AsStridedBackward1)


__all__ = ['reshape', 'ravel', 'flatten', 'unflatten', 'expand_copy', 'broadcast_to', 'broadcast_shapes',
           'broadcast_tensors', 'transpose', 'swapaxes', 'swapdims', 't', 'adjoint', 'permute', 'movedim', 'moveaxis',
           'unsqueeze', 'squeeze', 'atleast_1d', 'atleast_2d', 'atleast_3d', 'narrow', 'select', 'unbind', 'split',
           'chunk', 'tensor_split', 'hsplit', 'vsplit', 'dsplit', 'diagonal', 'as_strided', 'flip', 'fliplr',
           'flipud', 'roll', 'rot90', 'repeat_interleave', 'tile', 'tril', 'triu']

METHODS = {name: globals()[name] for name in __all__
           if name not in ('expand_copy', 'broadcast_shapes', 'broadcast_tensors', 'atleast_1d', 'atleast_2d',
                           'atleast_3d')}
METHODS.update(view=view, view_as=view_as, reshape_as=reshape_as, expand=expand, expand_as=expand_as, unfold=unfold,
               repeat=repeat, tril_=tril_, triu_=triu_, squeeze_=squeeze_, unsqueeze_=unsqueeze_, t_=t_,
               transpose_=transpose_, swapaxes_=swapaxes_, swapdims_=swapdims_, as_strided_=as_strided_,
               T=property(_T), mT=property(_mT), mH=property(_mT),
               H=property(_H))
