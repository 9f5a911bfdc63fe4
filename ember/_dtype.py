"""dtypes as objects, PyTorch's default dtype and PyTorch's type promotion.

Every tensor's array holds one of the NumPy dtypes listed here; ``dtype_of``
maps it back to the Ember object in one dict lookup.
"""
import numpy as np


class dtype:
    """A tensor element type (``ember.float32``, ``ember.int64``, ...)."""

    __slots__ = ('name', 'np', 'is_floating_point', 'is_signed', 'itemsize', '_category', '__weakref__')

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype)
        self._category = category  # 0 bool, 1 integer, 2 floating
        self.is_floating_point = category == 2
        self.is_signed = self.np.kind in 'if'
        self.itemsize = self.np.itemsize

    @property
    def is_complex(self):
        return False

    def to_real(self):
        """The real counterpart: the dtype itself (Ember has no complex dtypes)."""
        return self

    def to_complex(self):
        """PyTorch's complex counterpart; Ember has no complex dtypes, so this raises."""
        if not self.is_floating_point:
            raise RuntimeError(f'Unknown Complex ScalarType for {_LEGACY_SCALAR_NAMES[self.name]}')
        raise NotImplementedError(f'{self!r}.to_complex(): complex dtypes are not supported by Ember')

    def __repr__(self):
        return 'ember.' + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


bool_ = dtype('bool', np.bool_, 0)
uint8 = dtype('uint8', np.uint8, 1)
int8 = dtype('int8', np.int8, 1)
int16 = dtype('int16', np.int16, 1)
int32 = dtype('int32', np.int32, 1)
int64 = dtype('int64', np.int64, 1)
float16 = dtype('float16', np.float16, 2)
float32 = dtype('float32', np.float32, 2)
float64 = dtype('float64', np.float64, 2)

_ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(float=float32, double=float64, half=float16, long=int64, int=int32, short=int16)
_BY_PY = {float: float32, int: int64, bool: bool_}

_default = [float32]


def _dtype_by_name(name):
    return _BY_NAME[name]


def get_default_dtype():
    """The dtype given to Python floats (float32 unless changed)."""
    return _default[0]


def set_default_dtype(d):
    """Set the floating dtype used for Python floats; must be float16/32/64."""
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f'only floating-point types are supported as the default type, got {d}')
    _default[0] = d


def dtype_of(array):
    """The Ember dtype of a NumPy array (TypeError for unsupported dtypes)."""
    try:
        return _BY_NP[array.dtype]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type numpy.{array.dtype}. The only supported types are: "
                        'float64, float32, float16, int64, int32, int16, int8, uint8, and bool.') from None


def to_dtype(d):
    """Accept an Ember dtype, a NumPy dtype, a Python type or a name and return the Ember dtype."""
    if type(d) is dtype:
        return d
    if d is complex or (isinstance(d, str) and 'complex' in d):
        raise TypeError('complex dtypes are not supported by Ember')
    if d in _BY_PY:
        return _BY_PY[d] if d is not float else _default[0]
    if isinstance(d, str):
        name = d[6:] if d.startswith('torch.') or d.startswith('ember.') else d
        if name in _BY_NAME:
            return _BY_NAME[name]
        raise TypeError(f'invalid dtype name {d!r}')
    try:
        return _BY_NP[np.dtype(d)]
    except (TypeError, KeyError):
        raise TypeError(f'{d!r} is not a supported ember dtype') from None


def promote_types(a, b):
    """PyTorch's ``promote_types``: the smallest dtype both ``a`` and ``b`` convert to safely.

    Differs from NumPy where an integer meets a float: the float wins whatever its size
    (int64 + float16 -> float16).
    """
    key = (a, b)
    r = _promote_cache.get(key)
    if r is None:
        if a._category != b._category and 2 in (a._category, b._category):
            r = a if a._category == 2 else b
        else:
            r = _BY_NP[np.promote_types(a.np, b.np)]
        _promote_cache[key] = r
    return r


_promote_cache = {}

# Category of a Python scalar: bool 0, int 1, float 2.
_SCALAR_CATEGORY = {bool: 0, int: 1, float: 2}


def scalar_result_dtype(tensor_dtype, scalar):
    """Result dtype of ``tensor op python_scalar`` under PyTorch's rules.

    A scalar only changes the dtype when it is of a higher category than the tensor: then the
    result is that category's default (int64 for ints, the default dtype for floats).
    """
    cat = _SCALAR_CATEGORY.get(type(scalar))
    if cat is None:
        cat = 2 if isinstance(scalar, (float, np.floating)) else 1 if isinstance(scalar, (int, np.integer)) else 0
    if cat <= tensor_dtype._category:
        return tensor_dtype
    return _default[0] if cat == 2 else int64


def result_type(a_dtype, a_ndim, b_dtype, b_ndim):
    """Result dtype of a binary op between two tensors (0-d tensors rank below dimensioned ones)."""
    if (a_ndim == 0) == (b_ndim == 0):
        return promote_types(a_dtype, b_dtype)
    if a_ndim == 0:
        a_dtype, b_dtype = b_dtype, a_dtype
    # a_dtype is the dimensioned operand, b_dtype the 0-d one.
    if b_dtype._category > a_dtype._category:
        return b_dtype
    return a_dtype


# PyTorch's ScalarType names (used in its error messages).
_LEGACY_SCALAR_NAMES = {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int',
                        'int64': 'Long', 'float16': 'Half', 'float32': 'Float', 'float64': 'Double'}


def _combine_categories(higher, lower):
    # PyTorch's rule for merging a higher-priority result (dimensioned tensors) with a lower one
    # (0-d tensors, then Python scalars): the lower one only counts when of a higher category.
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def tensor_result_type(tensor1, tensor2):
    """``ember.result_type``: the dtype of an arithmetic op on ``tensor1`` and ``tensor2`` (tensors or
    Python numbers), by PyTorch's promotion rules."""
    groups = [None, None, None]  # dimensioned tensors, 0-d tensors, Python scalars
    for x in (tensor1, tensor2):
        arr = getattr(x, '_data', None)
        if arr is not None:
            d, g = _BY_NP[arr.dtype], 0 if arr.ndim else 1
        elif isinstance(x, (bool, np.bool_)):
            d, g = bool_, 2
        elif isinstance(x, (int, np.integer)):
            d, g = int64, 2
        elif isinstance(x, (float, np.floating)):
            d, g = _default[0], 2
        elif isinstance(x, complex):
            raise TypeError('complex numbers are not supported by Ember')
        else:
            raise TypeError(f'result_type(): argument must be a Tensor or a Number, not {type(x).__name__}')
        groups[g] = d if groups[g] is None else promote_types(groups[g], d)
    return _combine_categories(groups[0], _combine_categories(groups[1], groups[2]))


def can_cast(from_, to):
    """Whether PyTorch's casting rules allow ``from_`` -> ``to`` in an in-place op: not float to
    integer, and nothing but bool to bool."""
    from_, to = to_dtype(from_), to_dtype(to)
    if from_.is_floating_point and not to.is_floating_point and to is not bool_:
        return False
    return not (from_ is not bool_ and to is bool_)


class finfo:
    """Machine limits of a floating dtype (``ember.finfo(ember.float32).eps``), as ``torch.finfo``."""

    def __init__(self, type=None):
        d = _default[0] if type is None else to_dtype(type)
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        fi = np.finfo(d.np)
        self.bits = fi.bits
        self.eps = float(fi.eps)
        self.max = float(fi.max)
        self.min = float(fi.min)
        self.tiny = self.smallest_normal = float(fi.smallest_normal)
        self.resolution = 10.0 ** -fi.precision
        self.dtype = d.name

    def __repr__(self):
        return (f'finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, '
                f'smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})')


class iinfo:
    """Limits of an integer dtype (``ember.iinfo(ember.int32).max``), as ``torch.iinfo``."""

    def __init__(self, type):
        d = to_dtype(type)
        if d is bool_:
            raise TypeError(f'{d!r} is not supported by torch.iinfo')
        if d.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'")
        ii = np.iinfo(d.np)
        self.bits = ii.bits
        self.min = int(ii.min)
        self.max = int(ii.max)
        self.dtype = d.name

    def __repr__(self):
        return f'iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})'


class layout:
    """A tensor memory layout; Ember tensors are always ``ember.strided``."""

    __slots__ = ('name',)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'ember.' + self.name

    def __reduce__(self):
        return self.name


strided = layout('strided')
sparse_coo = layout('sparse_coo')


class memory_format:
    """A requested memory format (``ember.contiguous_format``, ``ember.preserve_format``, ...)."""

    __slots__ = ('name',)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'ember.' + self.name

    def __reduce__(self):
        return self.name


contiguous_format = memory_format('contiguous_format')
preserve_format = memory_format('preserve_format')
channels_last = memory_format('channels_last')
channels_last_3d = memory_format('channels_last_3d')


def check_layout(value):
    """Validate a ``layout=`` argument: only strided tensors exist in Ember."""
    if value is None or value is strided or value == 'strided':
        return
    raise NotImplementedError(f'layout={value!r} is not supported: Ember tensors are always strided')
