"""Named tuples returned by ops with several outputs, as ``torch.return_types``.

``ember.max(x, 1)`` returns ``ember.return_types.max(values=..., indices=...)``: a tuple
(indexable, unpackable, picklable) whose fields are also attributes, printed as PyTorch
prints its structseqs.
"""
import sys


class _ReturnType(tuple):
    """Base of the named tuples below; subclasses set ``_fields``."""

    __slots__ = ()
    _fields = ()

    def __new__(cls, seq):
        seq = tuple(seq)
        if len(seq) != len(cls._fields):
            raise TypeError(f'{__name__}.{cls.__name__} takes a {len(cls._fields)}-sequence '
                            f'({len(seq)}-sequence given)')
        return tuple.__new__(cls, seq)

    def __repr__(self):
        body = ',\n'.join(f'{name}={value!r}' for name, value in zip(self._fields, self))
        return f'{__name__}.{type(self).__name__}(\n{body})'

    __str__ = __repr__

    def __reduce__(self):
        return type(self), (tuple(self),)


def _field(i):
    return property(lambda self: tuple.__getitem__(self, i))


def _make(name, fields):
    attrs = {'__slots__': (), '_fields': fields, '__module__': __name__, '__qualname__': name,
             'n_fields': len(fields), 'n_sequence_fields': len(fields), 'n_unnamed_fields': 0}
    attrs.update({f: _field(i) for i, f in enumerate(fields)})
    return type(name, (_ReturnType,), attrs)


_VALUES_INDICES = ('values', 'indices')

_TABLE = {
    'max': _VALUES_INDICES, 'min': _VALUES_INDICES, 'sort': _VALUES_INDICES, 'topk': _VALUES_INDICES,
    'kthvalue': _VALUES_INDICES, 'median': _VALUES_INDICES, 'nanmedian': _VALUES_INDICES,
    'mode': _VALUES_INDICES, 'cummax': _VALUES_INDICES, 'cummin': _VALUES_INDICES,
    'aminmax': ('min', 'max'),
    'frexp': ('mantissa', 'exponent'),
    'histogram': ('hist', 'bin_edges'), 'histogramdd': ('hist', 'bin_edges'),
    'geqrf': ('a', 'tau'),
    'qr': ('Q', 'R'), 'linalg_qr': ('Q', 'R'),
    'svd': ('U', 'S', 'V'), 'linalg_svd': ('U', 'S', 'Vh'),
    'slogdet': ('sign', 'logabsdet'), 'linalg_slogdet': ('sign', 'logabsdet'),
    'linalg_eig': ('eigenvalues', 'eigenvectors'), 'linalg_eigh': ('eigenvalues', 'eigenvectors'),
    'linalg_cholesky_ex': ('L', 'info'), 'linalg_inv_ex': ('inverse', 'info'),
    'linalg_solve_ex': ('result', 'info'),
    'linalg_lstsq': ('solution', 'residuals', 'rank', 'singular_values'),
    'linalg_lu': ('P', 'L', 'U'), 'lu_unpack': ('P', 'L', 'U'),
    'linalg_lu_factor': ('LU', 'pivots'), 'linalg_lu_factor_ex': ('LU', 'pivots', 'info'),
    'linalg_ldl_factor': ('LD', 'pivots'), 'linalg_ldl_factor_ex': ('LD', 'pivots', 'info'),
    'triangular_solve': ('solution', 'cloned_coefficient'),
}

_module = sys.modules[__name__]
for _name, _fields in _TABLE.items():
    setattr(_module, _name, _make(_name, _fields))
    # PyTorch also names the type returned by the ``out=`` overload.
    setattr(_module, _name + '_out', _make(_name + '_out', _fields))

__all__ = sorted(n for name in _TABLE for n in (name, name + '_out'))
