"""View bookkeeping: which tensor owns a view's memory, and how autograd follows writes
through views.

A view op (``view``, ``transpose``, slicing, ...) returns a tensor whose array is a NumPy
view of its input's array, made with ``make_view``. The view records its ``_base`` (the
tensor owning the memory; never itself a view) and ``_view_replay``, a list
``[steps, version, creation]``: ``steps`` is a tuple of ``(method_name, args)`` that
rebuilds the view from any tensor laid out like the base, ``version`` the value of the
shared version counter when the view's ``grad_fn`` was last valid, and ``creation`` says
how the view was made (normally, under no_grad, or as one output of ``unbind``/``split``;
PyTorch forbids differentiable in-place writes to the last two kinds).

A view requires grad exactly when its base does. Views made while their base did not
require grad are remembered by the base (weakly), so that when an in-place op gives the
base a history they start requiring grad too.

An in-place op on a view changes its base. ``rebase_history`` gives the base a
``CopySlices`` node: the base's new value is its old value with the view's region
replaced by the op's result ``r``. Its backward sends the incoming gradient, with the
region zeroed, to the base's old history, and the region itself to ``r``'s node, from
which it reaches the view's old value and the op's other inputs. (The op ran on the view's
old value read from the base's history by an ``AsStridedBackward0``, so that gradient
lands back in the base's old history exactly.) The view itself, and later any other view
of the same base whose version is stale (``refresh_view_grad_fn``, called from
``grad_edge``), gets an ``AsStridedBackward0`` reading its region out of the base's
gradient.

Regions are located by replaying the view's steps on an int64 "positions" array laid out
exactly like the base (for ``as_strided``, mirroring the base's whole memory block): the
result holds, for every element of the view, its flat index in the base. Gathers and
scatter-adds over those indices are written with Ember ops, so double backward works and
overlapping views (``expand``, ``unfold``, ``as_strided``) sum their gradients. A base
whose own layout was changed in place (``t_``, ``unsqueeze_``, ...) keeps its first layout
as the "frame" its views' steps start from.
"""
import weakref

import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge

# How a view was created (the third item of ``_view_replay``).
DEFAULT, NO_GRAD, MULTI_OUTPUT = 0, 1, 2


def make_view(src, arr, method, args, multi_output=False):
    """Wrap ``arr`` (a NumPy view of ``src._data``) as a view tensor of ``src``.

    ``method(*args)`` called on ``src`` must rebuild the view; ``multi_output`` marks the
    outputs of ops returning several views (``unbind``, ``split``, ``chunk``).
    """
    out = _wrap(arr)
    vc = out._vc = src._vc
    creation = (MULTI_OUTPUT if multi_output else DEFAULT) if _grad_enabled() else NO_GRAD
    base = src._base
    if base is not None:
        prev = src._view_replay
        if creation == DEFAULT:
            creation = prev[2]
        out._view_replay = [prev[0] + ((method, args),), vc[0], creation]
    else:
        base = src
        steps = ((method, args),)
        if src.__dict__ and '_frame' in src.__dict__:
            steps = (('as_strided', geometry(src._data)),) + steps
        out._view_replay = [steps, vc[0], creation]
    out._base = base
    if base._requires_grad:
        out._requires_grad = True
    elif arr.dtype.kind == 'f':
        _remember_view(base, out)
    return out


def _remember_view(base, view):
    """Keep a weak reference to ``view`` on ``base`` (see ``base_requires_grad_now``); dead
    references are pruned whenever the list doubles."""
    d = base.__dict__
    refs = d.get('_views')
    if refs is None:
        refs = d['_views'] = [0, []]
    lst = refs[1]
    lst.append(weakref.ref(view))
    if len(lst) > refs[0]:
        lst[:] = [r for r in lst if r() is not None]
        refs[0] = max(2 * len(lst), 16)


def replay(steps, t):
    """Apply recorded view steps to tensor ``t`` (laid out like the base)."""
    for method, args in steps:
        t = getattr(t, method)(*args)
    return t


def storage_root(arr):
    """The array owning ``arr``'s memory block (the start of PyTorch's "storage")."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root


def _address(arr):
    return arr.__array_interface__['data'][0]


def strided_view(x, shape, strides, offset, dtype=None):
    """A view of ``x``'s memory block with element ``strides`` and ``offset`` (in elements of
    ``dtype``, default ``x``'s, from the block's start), writable when ``x`` is, keeping NumPy's
    ``base`` chain to the block's owner."""
    dtype = x.dtype if dtype is None else np.dtype(dtype)
    item = dtype.itemsize
    root = storage_root(x)
    buf = root
    if root.ndim and not (root.flags.c_contiguous or root.flags.f_contiguous):
        # A dense owner whose strides are a permutation: reordering its axes exposes a buffer.
        buf = root.transpose(np.argsort(root.strides)[::-1])
    shape = tuple(int(s) for s in shape)
    byte_strides = tuple(int(s) * item for s in strides)
    if buf.flags.c_contiguous or buf.flags.f_contiguous:
        start = int(offset) * item
        if 0 in shape:  # an empty view may start past the end of its memory block; NumPy caps it there
            start = min(start, root.nbytes)
        return np.ndarray(shape, dtype, buffer=buf, offset=start, strides=byte_strides)
    iface = {'data': (_address(root) + int(offset) * item, not x.flags.writeable), 'shape': shape,
             'strides': byte_strides, 'typestr': dtype.str, 'version': 3}
    return np.asarray(_Block(iface, root))


class _Block:
    """Exposes a raw memory region to NumPy (the fallback of ``strided_view``); keeps its owner alive."""

    def __init__(self, iface, owner):
        self.__array_interface__ = iface
        self.base = owner


def geometry(arr):
    """``(size, stride, storage_offset)`` of ``arr`` in elements: its ``as_strided`` arguments."""
    item = arr.itemsize
    return arr.shape, tuple(st // item for st in arr.strides), storage_offset(arr)


def set_frame(base):
    """Before an in-place metadata change of ``base`` (``t_``, ``unsqueeze_``, ...): remember its
    first layout, the frame its views' steps refer to (new views start with an ``as_strided``
    from it to the new layout)."""
    if '_frame' not in base.__dict__:
        base.__dict__['_frame'] = geometry(base._data)


def storage_size(arr):
    """Size in elements of ``arr``'s dtype of the memory block ``arr`` lives in."""
    return storage_root(arr).nbytes // arr.itemsize


def storage_offset(arr):
    """Offset in elements of ``arr``'s first element from the start of its memory block."""
    return (_address(arr) - _address(storage_root(arr))) // arr.itemsize


# ---- locating a view's elements in its base ------------------------------------------------

class _Layout:
    """What backward needs to rebuild a base's memory layout: shape, strides, offset, block size."""

    __slots__ = ('shape', 'dtype', 'strides', 'offset', 'storage', 'simple', 'frame')

    def __init__(self, arr, frame=None):
        self.shape = arr.shape
        self.dtype = arr.dtype
        item = arr.itemsize
        self.strides = tuple(s // item for s in arr.strides)
        self.frame = frame
        self.simple = frame is None and arr.flags.c_contiguous and storage_root(arr) is arr
        if not self.simple:
            self.offset = storage_offset(arr)
            self.storage = storage_size(arr)

    def positions(self, mirror_storage):
        """int64 array shaped like the base (like its frame, if it has one) holding each element's
        flat (C-order) index in the base."""
        n = int(np.prod(self.shape, dtype=np.int64))
        flat = np.arange(n, dtype=np.int64).reshape(self.shape)
        if self.simple:
            return flat
        if mirror_storage or self.frame is not None:
            block = np.full(self.storage, -1, np.int64)
            pos = np.ndarray(self.shape, np.int64, buffer=block, offset=self.offset * 8,
                             strides=tuple(s * 8 for s in self.strides))
            if self.frame is not None:
                pos[...] = flat
                shape, strides, offset = self.frame
                return np.ndarray(shape, np.int64, buffer=block, offset=offset * 8,
                                  strides=tuple(s * 8 for s in strides))
        else:
            # Same axis order as the base, so that the view steps valid on it are valid here.
            order = np.argsort([-abs(s) for s in self.strides], kind='stable')
            pos = np.empty([self.shape[i] for i in order], np.int64).transpose(np.argsort(order))
        pos[...] = flat
        return pos


def view_index(steps, layout):
    """For the view ``steps`` make of a base with ``layout``: each view element's flat index in the base."""
    mirror = any(m == 'as_strided' for m, _ in steps)
    return replay(steps, _wrap(layout.positions(mirror)))._data


def _base_layout(base):
    return _Layout(base._data, base.__dict__.get('_frame') if base.__dict__ else None)


class _IndexNode(Node):
    """A node that locates a view in its input with ``view_index`` (computed once, on first use)."""

    __slots__ = ('steps', 'layout', '_index')

    def index(self):
        idx = getattr(self, '_index', None)
        if idx is None:
            idx = self._index = view_index(self.steps, self.layout)
        return idx


def gather_view(g, idx):
    """``g`` (shaped like a base) read at flat indices ``idx`` (shaped like a view), differentiably.

    A negative index marks memory outside the base (``as_strided`` beyond it): it reads zero.
    """
    flat = g.reshape(-1)
    outside = idx < 0
    if outside.any():
        if not flat._data.size:
            return _wrap(np.zeros(idx.shape, g._data.dtype, like=g._data))
        return flat[_wrap(np.where(outside, 0, idx))].masked_fill(_wrap(outside), 0)
    return flat[_wrap(idx)]


class IndexAddBackwardBackward(Node):
    """Backward of ``scatter_add_view``: the gradient is gathered back at the same indices."""

    __slots__ = ('idx',)

    def backward(self, gg):
        return (gather_view(gg, self.idx),)


def scatter_add_view(g, idx, shape):
    """Zeros of ``shape`` with ``g`` (shaped like ``idx``) added at flat indices ``idx``, differentiably."""
    out = np.zeros(int(np.prod(shape, dtype=np.int64)), g._data.dtype, like=g._data)
    flat, vals = idx.reshape(-1), g._data.reshape(-1)
    inside = flat >= 0
    if not inside.all():  # memory outside the base (``as_strided`` beyond it) gets no gradient
        flat, vals = flat[inside], vals[inside]
    np.add.at(out, flat, vals)
    r = _wrap(out.reshape(shape))
    if _grad_enabled() and g._requires_grad:
        node = IndexAddBackwardBackward((grad_edge(g),))
        node.idx = idx
        r.grad_fn = node
        r._requires_grad = True
    return r


class AsStridedBackward0(_IndexNode):
    """Gradient of a view read from its base: ``g`` scatter-added into zeros laid out like the base."""

    __slots__ = ()

    def backward(self, g):
        return (scatter_add_view(g, self.index(), self.layout.shape),)


class CopySlices(_IndexNode):
    """The base's history after an in-place op wrote its result ``r`` into a view of it.

    Edges: the base's old history, then ``r``'s node. The first gets the gradient with the
    view's region zeroed, the second the region.
    """

    __slots__ = ('overlapping',)

    def backward(self, g):
        if self.overlapping:  # PyTorch's copy of the gradient into the expanded view fails the same way
            raise RuntimeError('unsupported operation: more than one element of the written-to tensor refers to a '
                               'single memory location. Please clone() the tensor before performing the operation.')
        idx = self.index()
        region = gather_view(g, idx)
        old = None
        if self.next_functions[0][0] is not None:
            mask = np.zeros(g._data.size, np.bool_, like=g._data)
            mask[idx.reshape(-1)] = True
            old = g.masked_fill(_wrap(mask.reshape(g._data.shape)), 0)
        return old, region


def _name(node):
    name = node.name()
    i = name.find('Backward')
    return name[:i] if i > 0 else name


def check_view_creation(t, indirect=False):
    """PyTorch's errors for differentiable in-place writes to views made under no_grad or by
    multi-output ops; ``indirect`` when it was the base or another view that was written to."""
    creation = t._view_replay[2]
    if creation == DEFAULT:
        return
    fn = t.grad_fn
    if fn is not None:
        msg = f'Output {t._output_nr} of {_name(fn)} is a view'
    else:
        msg = 'A view was created in no_grad mode'
    modified = ' its base or another view of its base has been' if indirect else ' is being'
    if creation == MULTI_OUTPUT:
        mode = '' if fn is not None else ' with grad mode enabled'
        raise RuntimeError(f'{msg} and{modified} modified inplace{mode}. This view is the output of a function that '
                           'returns multiple views. Such functions do not allow the output views to be modified '
                           'inplace. You should replace the inplace operation by an out-of-place one.')
    if fn is not None:
        msg += ' of a view which was created in no_grad mode and'
    else:
        msg += ' and'
    raise RuntimeError(f'{msg}{modified} modified inplace with grad mode enabled. Given that this use case is '
                       'ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view '
                       "and the inplace either both inside the no_grad block (if you don't want the inplace to be "
                       'tracked) or both outside (if you want the inplace to be tracked).')


def refresh_view_grad_fn(t):
    """Regenerate the ``grad_fn`` of view ``t`` after its memory was modified in place (PyTorch
    refuses for views made under no_grad or by multi-output ops)."""
    replay_info = t._view_replay
    base = t._base
    if not base._requires_grad and t.grad_fn is None:
        replay_info[1] = t._vc[0]
        return
    check_view_creation(t, indirect=True)
    replay_info[1] = t._vc[0]
    t.grad_fn = view_from_base(t)
    t._output_nr = 0
    t._requires_grad = True


def view_from_base(t):
    """An ``AsStridedBackward0`` reading view ``t``'s region out of its base's current history."""
    node = AsStridedBackward0((grad_edge(t._base),))
    node.steps = t._view_replay[0]
    node.layout = _base_layout(t._base)
    return node


def base_requires_grad_now(base):
    """Called when ``base`` starts requiring grad through an in-place op: so do its views."""
    refs = base.__dict__.pop('_views', None)
    if refs:
        for r in refs[1]:
            v = r()
            if v is not None:
                v._requires_grad = True


def rebase_history(view, fn, output_nr=0):
    """After an in-place op wrote its result (``fn``'s output ``output_nr``) into ``view``, route
    the base's history through ``CopySlices``."""
    base = view._base
    node = CopySlices((grad_edge(base), (fn, output_nr)))
    node.steps = view._view_replay[0]
    node.layout = _base_layout(base)
    node.overlapping = view._data.size > 1 and any(st == 0 and n > 1 for st, n in zip(view._data.strides,
                                                                                      view._data.shape))
    was = base._requires_grad
    base.grad_fn = node
    base._output_nr = 0
    base._requires_grad = True
    if not was:
        base_requires_grad_now(base)
    refresh_view_grad_fn(view)


def scatter_into_zeros(g, shape, dtype, apply):
    """Zeros of ``shape`` with ``g`` written into the view ``apply(zeros)`` (non-overlapping views:
    slice, select, diagonal, ...). Differentiable: its gradient is ``apply`` of the incoming one."""
    z = np.zeros(shape, dtype, like=g._data)
    apply(_wrap(z))._data[...] = g._data
    r = _wrap(z)
    if _grad_enabled() and g._requires_grad:
        node = ViewScatterBackward((grad_edge(g),))
        node.apply = apply
        r.grad_fn = node
        r._requires_grad = True
    return r


class ViewScatterBackward(Node):
    __slots__ = ('apply',)

    def backward(self, gg):
        return (self.apply(gg),)
