"""The Tensor: a NumPy array plus autograd metadata.

``_data`` holds the array (possibly a NumPy view of another tensor's array). ``_vc`` is a
one-element list, the version counter, shared by a tensor and all its views and bumped by
every in-place op. A view made by a view op records ``_base`` (the tensor that owns the
memory) and ``_view_replay`` (how to rebuild the view from an array shaped like the base),
which in-place ops on views use to rewrite the base's history (see ``ops/inplace.py``).

Operator methods and most named methods are attached by ``ember.ops`` from the op modules,
so each op is defined once and shared by ``ember.op``, ``Tensor.op`` and ``nn.functional``.
"""
import sys

import numpy as np

from . import _dtype
from ._device import cpu as _cpu
from ._size import Size
from .autograd.grad_mode import _grad_enabled

_ndarray = np.ndarray
_getrefcount = sys.getrefcount
_new_size = tuple.__new__  # shapes of arrays are already tuples of ints: skip Size's checks


class Tensor:
    """A multi-dimensional array with autograd support, mirroring ``torch.Tensor``."""

    __slots__ = ('_data', '_requires_grad', 'grad_fn', '_output_nr', '_grad', '_vc', '_base', '_view_replay',
                 '_hooks', '_grad_acc', '_retains_grad', '__dict__', '__weakref__')

    def __new__(cls, *args, device=None):
        """Legacy constructor: ``Tensor(2, 3)`` or ``Tensor(Size)`` (uninitialised, default dtype),
        ``Tensor(data)`` (a sequence or ndarray, converted to the default dtype), ``Tensor(tensor)``
        (that tensor itself)."""
        from ._creation import tensor, empty
        if len(args) == 1 and not isinstance(args[0], (int, Size)):
            data = args[0]
            if isinstance(data, Tensor):
                return data
            if not isinstance(data, (list, tuple, range, np.ndarray)):
                raise TypeError(f'new(): data must be a sequence (got {type(data).__name__})')
            t = tensor(data, dtype=_dtype.get_default_dtype(), device=device)
        else:
            t = empty(*args, dtype=_dtype.get_default_dtype(), device=device) if args else \
                empty(0, dtype=_dtype.get_default_dtype(), device=device)
        if cls is not Tensor:
            t = t.as_subclass(cls)
        return t

    # ---- construction helpers -------------------------------------------------------------
    def as_subclass(self, cls):
        """A tensor of type ``cls`` sharing data and version counter with this one (no grad history)."""
        t = object.__new__(cls)
        _init(t, self._data, self._requires_grad and self.grad_fn is None)
        t._vc = self._vc
        return t

    # ---- metadata -------------------------------------------------------------------------
    @property
    def shape(self):
        return _new_size(Size, self._data.shape)

    def size(self, dim=None):
        """``Size`` of the tensor, or the length of dimension ``dim``."""
        if dim is None:
            return _new_size(Size, self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return _dtype._BY_NP[self._data.dtype]

    @property
    def device(self):
        return _cpu

    @property
    def is_cuda(self):
        return False

    @property
    def is_cpu(self):
        return True

    @property
    def layout(self):
        return _dtype.strided

    def get_device(self):
        """The device ordinal: -1 for CPU tensors."""
        return -1

    @property
    def nbytes(self):
        """Bytes taken by the elements (``numel() * element_size()``)."""
        return self._data.size * self._data.itemsize

    @property
    def itemsize(self):
        """Bytes per element."""
        return self._data.itemsize

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    def is_floating_point(self):
        return self._data.dtype.kind == 'f'

    def is_complex(self):
        return False

    def is_signed(self):
        return self._data.dtype.kind in 'if'

    def stride(self, dim=None):
        """Strides in elements, as PyTorch reports them."""
        item = self._data.itemsize
        strides = tuple(s // item for s in self._data.strides)
        if dim is None:
            return strides
        return strides[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self):
        """Offset in elements of this tensor's first element from the start of its memory block."""
        arr = self._data
        root = arr
        while isinstance(root.base, _ndarray):
            root = root.base
        if root is arr:
            return 0
        return (arr.__array_interface__['data'][0] - root.__array_interface__['data'][0]) // arr.itemsize

    def data_ptr(self):
        return self._data.__array_interface__['data'][0]

    def untyped_storage(self):
        from ._storage import UntypedStorage
        return UntypedStorage._of(self)

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def is_shared(self):
        return False

    def is_pinned(self):
        return False

    @property
    def _version(self):
        return self._vc[0]

    # ---- autograd metadata ------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Set whether autograd records operations on this leaf tensor; returns ``self``."""
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError('you can only change requires_grad flags of leaf variables. If you want to use a '
                               'computed variable in a subgraph that doesn\'t require differentiation use '
                               'var_no_grad = var.detach().')
        if requires_grad and self._data.dtype.kind not in 'fc':
            raise RuntimeError('only Tensors of floating point dtype can require gradients')
        self._requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        """The gradient accumulated by backward (leaves, and non-leaves after ``retain_grad()``)."""
        g = self._grad
        if g is None and self.grad_fn is not None and not self._retains_grad:
            import warnings
            warnings.warn('The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad '
                          "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                          'field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. '
                          'If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor '
                          'instead.', stacklevel=2)
        return g

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f'assigned grad expected to be a Tensor or None but got grad of type '
                                f'{type(value).__name__}')
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f'assigned grad has data of a different type: expected {self.dtype}, '
                                   f'got {value.dtype}')
            if value._data.shape != self._data.shape:
                raise RuntimeError(f'assigned grad has data of a different size: expected {list(self.shape)}, '
                                   f'got {list(value.shape)}')
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def output_nr(self):
        return self._output_nr

    def is_inference(self):
        """False: Ember makes no inference tensors (``inference_mode`` results are plain tensors)."""
        return False

    def retain_grad(self):
        """Populate ``.grad`` of this non-leaf tensor during backward (a no-op for leaves).

        Implemented as a pre-hook on ``grad_fn`` for this tensor's output that holds the
        tensor weakly; it runs after the tensor's own hooks.
        """
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._base is not None:
            from .autograd.graph import grad_edge
            grad_edge(self)  # a view whose base changed in place gets its current grad_fn first
        fn = self.grad_fn
        if fn is None or self._retains_grad:
            return
        from .autograd.graph import retain_grad_hook
        fn._hook_table().retains[self._output_nr] = retain_grad_hook(self)
        self._retains_grad = True

    @property
    def retains_grad(self):
        """True for a non-leaf tensor on which ``retain_grad()`` was called."""
        return self._retains_grad

    def register_hook(self, hook):
        """``hook(grad) -> Tensor or None`` runs each time this tensor's gradient is computed;
        a returned tensor replaces the gradient. Leaf hooks run before ``.grad`` is accumulated.

        Returns a handle with ``remove()``.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.graph import _add_hook, grad_edge, register_tensor_hooks, tensor_hooks_registered
        if self._base is not None:
            grad_edge(self)  # a view whose base changed in place gets its current grad_fn first
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = {}
        elif self._hooks is None or not tensor_hooks_registered(self):
            self._hooks = {}
            register_tensor_hooks(self, self._hooks)
        return _add_hook(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor)`` runs after the gradient has been accumulated into this leaf's ``.grad``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError('post accumulate grad hooks cannot be registered on non-leaf tensors')
        from .autograd.graph import _add_hook
        hooks = self.__dict__.setdefault('_post_acc_hooks', {})
        return _add_hook(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``ember.autograd.backward``)."""
        from .autograd.engine import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A tensor sharing data and version counter with this one, outside the graph."""
        t = _wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self):
        """Detach this tensor from the graph in place: it becomes a leaf that does not require grad."""
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    @property
    def data(self):
        """A tensor sharing this one's memory but not its history nor its version counter."""
        return _wrap(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f'Variable data has to be a tensor, but got {type(value).__name__}')
        self._data = value._data

    # ---- conversion ---------------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f'a Tensor with {self._data.size} elements cannot be converted to Scalar')
        return self._data.reshape(()).item()

    def tolist(self):
        """The values as nested Python lists (a Python number for a 0-d tensor)."""
        return self._data.tolist()

    def numpy(self, *, force=False):
        """The underlying array (shares memory); raises if the tensor requires grad unless ``force``."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               'instead.')
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self._data
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    # As torch.Tensor: NumPy scalars and arrays on the left of an operator defer to the tensor's
    # reflected operator (``np.float64(2) * t`` is a tensor), and NumPy ufuncs applied to tensors
    # return tensors, bool results as uint8.
    __array_priority__ = 1000

    def __array_wrap__(self, array, context=None, return_scalar=False):
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        from ._creation import from_numpy
        return from_numpy(np.asarray(array))

    def __float__(self):
        return float(self._scalar('float'))

    def __int__(self):
        return int(self._scalar('int'))

    def __bool__(self):
        if self._data.size != 1:
            what = 'no values' if self._data.size == 0 else 'more than one value'
            raise RuntimeError(f'Boolean value of Tensor with {what} is ambiguous')
        return bool(self._data.reshape(()))

    def __index__(self):
        if self._data.dtype.kind not in 'iub' or self._data.size != 1:
            raise TypeError('only integer tensors of a single element can be converted to an index')
        return int(self._data.reshape(()))

    def __complex__(self):
        return complex(self._scalar('complex'))

    def _scalar(self, what):
        if self._data.size != 1:
            raise ValueError('only one element tensors can be converted to Python scalars')
        return self._data.reshape(())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError('len() of a 0-d tensor')
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError('iteration over a 0-d tensor')
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __reversed__(self):
        return iter(self.flip(0).unbind(0))

    def __contains__(self, element):
        if not isinstance(element, (Tensor, bool, int, float, np.generic)):
            raise RuntimeError(f'Tensor.__contains__ only supports Tensor or scalar, but you passed in a '
                               f'{type(element)}.')
        return bool((self == element).any())

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return self.item().__format__(spec)
        if spec:
            raise TypeError('unsupported format string passed to Tensor.__format__')
        return str(self)

    def __repr__(self, *, tensor_contents=None):
        from ._printing import tensor_repr
        return tensor_repr(self, tensor_contents)

    def __reduce_ex__(self, protocol):
        from .serialization import _rebuild_tensor_for_pickle
        args = (self.detach()._data, self._requires_grad)
        return _rebuild_tensor_for_pickle, args if type(self) is Tensor else args + (type(self),)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError('Only Tensors created explicitly by the user (graph leaves) support the deepcopy '
                               'protocol at the moment.')
        if id(self) in memo:
            return memo[id(self)]
        t = _wrap(self._data.copy(), requires_grad=self._requires_grad)
        if type(self) is not Tensor:
            t = t.as_subclass(type(self))
            t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        t.__dict__.update({k: v for k, v in self.__dict__.items() if not k.startswith('_post_acc')})
        memo[id(self)] = t
        return t

    # ---- device and dtype moves ---------------------------------------------------------------
    def cpu(self, memory_format=None):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        from .cuda import _lazy_init
        _lazy_init()

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """With no argument, the legacy type name (``'torch.FloatTensor'``); with a dtype or a legacy
        name (``'torch.DoubleTensor'``), a cast."""
        if dtype is None:
            return _LEGACY_NAMES[self._data.dtype]
        if isinstance(dtype, str):
            if dtype not in _LEGACY_BY_NAME:
                if '.cuda.' in dtype:
                    raise RuntimeError(f"type '{dtype}' needs CUDA, and Ember has no CUDA backend")
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = _LEGACY_BY_NAME[dtype]
        return self.to(dtype)


def _wrap_dim(dim, ndim):
    """Normalise a possibly negative dimension index, raising PyTorch's IndexError when out of range."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f'Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})')
    return dim + n if dim < 0 else dim


def _init(t, arr, requires_grad=False, grad_fn=None):
    t._data = arr
    t._requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._output_nr = 0
    t._grad = None
    t._vc = [0]
    t._base = None
    t._view_replay = None
    t._hooks = None
    t._grad_acc = None
    t._retains_grad = False


def _wrap(arr, requires_grad=False, grad_fn=None):
    """Make a Tensor around ``arr`` (an ndarray or NumPy scalar) without copying."""
    if type(arr) is not _ndarray:
        arr = np.asarray(arr)
    t = object.__new__(Tensor)
    t._data = arr
    t._requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._output_nr = 0
    t._grad = None
    t._vc = [0]
    t._base = None
    t._view_replay = None
    t._hooks = None
    t._grad_acc = None
    t._retains_grad = False
    return t


def _sole_array(grad):
    """``grad``'s array if no other object can reach its memory, else None: a whole writable
    C-contiguous block that is its own array or a view of one held only by it (and by ``grad``'s
    view base, itself held only by ``grad``). Counts include this function's names and
    ``sys.getrefcount``'s argument."""
    arr = grad._data
    if type(arr) is not _ndarray or not (arr.flags.c_contiguous and arr.flags.writeable) or _getrefcount(arr) != 3:
        return None
    owner = arr.base
    if owner is None:
        return arr if arr.flags.owndata else None
    holders = 3  # arr.base, the name ``owner`` and getrefcount's argument
    view_base = grad._base
    if view_base is not None:
        if view_base._data is not owner or _getrefcount(view_base) != 3:
            return None
        holders = 4  # and view_base._data
    if type(owner) is not _ndarray or owner.base is not None or not owner.flags.owndata \
            or owner.nbytes != arr.nbytes or _getrefcount(owner) != holders:
        return None
    return arr


def _accumulate_into_leaf(t, grad, owned_refs=0):
    """``t.grad += grad`` as PyTorch's AccumulateGrad does it.

    Without create_graph the first gradient becomes ``.grad``: its array is taken over, as PyTorch
    steals an unshared gradient, when nothing else can reach it (``grad`` has at most ``owned_refs``
    references, the caller's count for an unshared gradient, and ``_sole_array`` finds its memory
    unshared), else copied; later ones are added in place. With create_graph the sum is recorded so
    that ``.grad`` keeps its own history.
    """
    record = _grad_enabled()
    if grad._data.dtype != t._data.dtype:
        grad = grad.to(t.dtype) if record else _wrap(grad._data.astype(t._data.dtype))
    if grad._data.shape != t._data.shape:
        grad = grad.sum_to_size(t._data.shape)
    if record:
        # create_graph: .grad gets its own differentiable copy (never an alias of a gradient
        # that other leaves may also receive) and later gradients are added out of place.
        t._grad = grad.clone() if t._grad is None else t._grad + grad
    elif t._grad is None:
        arr = _sole_array(grad) if owned_refs and _getrefcount(grad) <= owned_refs else None
        t._grad = _wrap(arr if arr is not None else np.array(grad._data, copy=True, order='C'))
    else:
        g = t._grad._data
        if g.flags.writeable:
            np.add(g, grad._data, out=g)
            t._grad._vc[0] += 1
        else:
            t._grad = _wrap(g + grad._data)
    hooks = t.__dict__.get('_post_acc_hooks') if t.__dict__ else None
    if hooks:
        for h in list(hooks.values()):
            h(t)


_LEGACY_NAMES = {np.dtype(k): 'torch.' + v for k, v in (
    ('float32', 'FloatTensor'), ('float64', 'DoubleTensor'), ('float16', 'HalfTensor'),
    ('int64', 'LongTensor'), ('int32', 'IntTensor'), ('int16', 'ShortTensor'), ('int8', 'CharTensor'),
    ('uint8', 'ByteTensor'), ('bool', 'BoolTensor'))}
_LEGACY_BY_NAME = {name: _dtype._BY_NP[k] for k, name in _LEGACY_NAMES.items()}
_LEGACY_BY_NAME.update({'ember.' + name[6:]: d for name, d in _LEGACY_BY_NAME.items()})
