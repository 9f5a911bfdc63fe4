"""``default_collate`` and ``default_convert``: turn fetched samples into batches of tensors.

``collate`` walks a batch by the type of its first element: a type found in ``collate_fn_map``
(exactly, then by ``isinstance`` in insertion order) uses that function; mappings, namedtuples
and sequences are collated field by field. ``default_collate_fn_map`` holds PyTorch's rules:

- tensors are stacked along a new dimension 0 (in a worker, straight into shared memory);
- NumPy arrays become tensors and are stacked; NumPy scalars become a tensor of their dtype;
- ``float`` -> float64 tensor, ``int`` -> int64 tensor (``bool`` -> bool tensor);
- ``str``/``bytes`` are kept as a list.

Extend it by adding entries to ``default_collate_fn_map`` or by calling ``collate`` with a map.
"""
import collections.abc
import copy
import re
from collections.abc import Callable

import numpy as np

from ... import _dtype
from ..._creation import as_tensor, tensor
from ..._tensor import Tensor
from ...ops.join import stack
from . import _shared
from ._worker import get_worker_info

__all__ = ['default_collate', 'default_convert', 'collate', 'default_collate_fn_map', 'collate_tensor_fn',
           'collate_numpy_array_fn', 'collate_numpy_scalar_fn', 'collate_float_fn', 'collate_int_fn',
           'collate_str_fn']

# NumPy dtypes that cannot become tensors: bytes, str and object arrays.
np_str_obj_array_pattern = re.compile(r'[SaUO]')

default_collate_err_msg_format = ('default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; '
                                  'found {}')


def default_convert(data):
    """Convert NumPy arrays and scalars in ``data`` (recursively through mappings, namedtuples and
    sequences) into tensors; everything else is returned unchanged. Tuples become lists, as in
    PyTorch. This is the DataLoader's ``collate_fn`` when automatic batching is off."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == 'numpy' and elem_type.__name__ not in ('str_', 'string_'):
        if elem_type.__name__ == 'ndarray' and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, '_fields'):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, values):
    """A mapping of ``like``'s type holding ``values`` (a plain dict when that type cannot be rebuilt)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, values):
    """A sequence of ``like``'s type holding ``values`` (a list when that type cannot be rebuilt)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(like)(values)
    except TypeError:
        return values


def collate(batch, *, collate_fn_map: dict[type | tuple[type, ...], Callable] | None = None):
    """Collate ``batch`` (a list of samples) by the type of its first element, using ``collate_fn_map``
    for leaf types; each function there is called as ``fn(batch, collate_fn_map=collate_fn_map)``."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for key, fn in collate_fn_map.items():
            if isinstance(elem, key):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                                       for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, '_fields'):
        return elem_type(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError('each element in list of batch should be of equal size')
        columns = [collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild_sequence(elem, columns)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """``stack(batch, 0)``; inside a DataLoader worker the result is written into shared memory."""
    if get_worker_info() is not None:
        out = _shared.stack_shared(batch)
        if out is not None:
            return out
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    dt = batch[0].dtype
    if np_str_obj_array_pattern.search(dt.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(dt))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=_dtype.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stack a list of samples into a batch, keeping the samples' structure.

    >>> default_collate([0, 1, 2])
    tensor([0, 1, 2])
    >>> default_collate([(0, 'a'), (1, 'b')])
    [tensor([0, 1]), ('a', 'b')]
    >>> default_collate([{'x': 0.5}, {'x': 1.5}])
    {'x': tensor([0.5000, 1.5000], dtype=ember.float64)}
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
