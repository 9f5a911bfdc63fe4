"""Variable-length batches for recurrent layers: ``PackedSequence`` and the functions that pack,
pad and unpad sequences, with ``torch.nn.utils.rnn``'s semantics.

A packed batch stores the sequences sorted by decreasing length, time-major: the rows of step
``t`` are the ``batch_sizes[t]`` sequences still running at ``t``. Packing and padding are single
``index_select`` gathers, so gradients flow back to the padded (or packed) tensor.

Sorting by length (``enforce_sorted=False``) is stable. PyTorch's default sort orders equal
lengths as its unstable algorithm leaves them for more than 16 sequences, so ``sorted_indices``
and ``data`` may list equal-length sequences in another order there; padded results are the same.
"""
from collections import namedtuple
from collections.abc import Iterable

import numpy as np

from ... import _dtype
from ..._creation import full, tensor
from ..._tensor import Tensor, _wrap
from ...ops.join import cat

__all__ = ['PackedSequence', 'invert_permutation', 'pack_padded_sequence', 'pad_packed_sequence', 'pad_sequence',
           'unpad_sequence', 'pack_sequence', 'unpack_sequence']


class PackedSequence(namedtuple('PackedSequence_', ['data', 'batch_sizes', 'sorted_indices', 'unsorted_indices'])):
    """A packed batch of variable-length sequences.

    ``data`` ``(sum(lengths), *)``: the rows of every time step, longest sequences first;
    ``batch_sizes`` (int64, CPU): how many sequences run at each step; ``sorted_indices``: the batch
    order used for packing (None when the input was sorted); ``unsorted_indices``: its inverse.
    Built by ``pack_padded_sequence``/``pack_sequence``, never by hand.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError('Expected data to be a list or tuple of length 2')
            data, batch_sizes = data
        elif batch_sizes.device.type != 'cpu':
            raise ValueError('batch_sizes should always be on CPU. Instances of PackedSequence should never be '
                             'created manually. They should be instantiated by functions like pack_sequence and '
                             'pack_padded_sequences in nn.utils.rnn.')
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data.to(*args, **kwargs)``; the indices follow ``data``'s device, ``batch_sizes`` stays."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        kwargs['device'] = 'cuda'
        return self.to(*args, **kwargs)

    def cpu(self, *args, **kwargs):
        kwargs['device'] = 'cpu'
        return self.to(*args, **kwargs)

    def pin_memory(self):
        raise RuntimeError('Cannot access accelerator device when none is available.')

    def double(self):
        return self.to(dtype=_dtype.float64)

    def float(self):
        return self.to(dtype=_dtype.float32)

    def half(self):
        return self.to(dtype=_dtype.float16)

    def long(self):
        return self.to(dtype=_dtype.int64)

    def int(self):
        return self.to(dtype=_dtype.int32)

    def short(self):
        return self.to(dtype=_dtype.int16)

    def char(self):
        return self.to(dtype=_dtype.int8)

    def byte(self):
        return self.to(dtype=_dtype.uint8)

    @property
    def is_cuda(self):
        """True when ``data`` is on a CUDA device (never, in Ember)."""
        return self.data.is_cuda

    def is_pinned(self):
        """True when ``data`` is in pinned memory (never, in Ember)."""
        return False


def invert_permutation(permutation):
    """The inverse of a 1-D index permutation (None for None)."""
    if permutation is None:
        return None
    p = permutation._data
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=p.dtype)
    return _wrap(inv)


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        return [int(v) for v in lengths._data.reshape(-1).tolist()]
    return [int(v) for v in lengths]


def _batch_sizes(lengths):
    """Per step, how many of the (decreasingly sorted) ``lengths`` are still running."""
    ls = np.asarray(lengths, dtype=np.int64)
    steps = np.arange(int(ls[0]) if ls.size else 0)
    return (ls[None, :] > steps[:, None]).sum(1).astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences with the given
    ``lengths`` (a list or 1-D tensor). With ``enforce_sorted`` the lengths must be decreasing; otherwise
    the batch is sorted here and the permutation kept in the result."""
    ls = _lengths_list(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-np.asarray(ls, dtype=np.int64), kind='stable')
        ls = [ls[i] for i in order]
        sorted_indices = _wrap(order.astype(np.int64))
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    elif any(a < b for a, b in zip(ls, ls[1:])):
        raise RuntimeError('`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You '
                           'can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to '
                           'sidestep this requirement if you do not need ONNX exportability.')
    if batch_first:
        input = input.transpose(0, 1)
    t, b = input.shape[0], input.shape[1]
    if len(ls) != b:
        raise RuntimeError(f'Expected `len(lengths)` to be equal to batch_size, but got {len(ls)} '
                           f'(batch_size={b})')
    if ls and ls[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           'that is <= 0')
    if ls and ls[0] > t:
        raise RuntimeError(f'Expected sequence length to be larger than or equal to max length {ls[0]}, but '
                           f'got {t}')
    bs = _batch_sizes(ls)
    rows = np.concatenate([np.arange(k, dtype=np.int64) + i * b for i, k in enumerate(bs.tolist())] or
                          [np.zeros(0, np.int64)])
    data = input.reshape((t * b,) + tuple(input.shape[2:])).index_select(0, _wrap(rows))
    return PackedSequence(data, _wrap(bs), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of ``pack_padded_sequence``: ``(padded (T, B, *), lengths int64 (B,))``, the batch back in
    its original order; ``T`` is the longest length, or ``total_length``."""
    bs = sequence.batch_sizes._data.tolist()
    max_len = len(bs)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError('Expected total_length to be at least the length of the longest sequence in input, '
                             f'but got total_length={total_length} and max sequence length being {max_len}')
        max_len = total_length
    data = sequence.data
    b = bs[0] if bs else 0
    n = data.shape[0]
    # Gather every padded cell from the packed rows plus one extra padding row at index n.
    idx = np.full((max_len, b), n, dtype=np.int64)
    off = 0
    for t, k in enumerate(bs):
        idx[t, :k] = np.arange(off, off + k)
        off += k
    pad_row = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    ext = cat([data, pad_row], 0)
    padded = ext.index_select(0, _wrap(idx.reshape(-1))).reshape((max_len, b) + tuple(data.shape[1:]))
    lengths = (np.asarray(bs, dtype=np.int64)[None, :] > np.arange(b)[:, None]).sum(1).astype(np.int64)
    if batch_first:
        padded = padded.transpose(0, 1)
    lengths = _wrap(lengths)
    if sequence.unsorted_indices is not None:
        un = sequence.unsorted_indices
        padded = padded.index_select(0 if batch_first else 1, un)
        lengths = _wrap(lengths._data[un._data])
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side='right'):
    """Stack sequences ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with ``batch_first``), padding
    each with ``padding_value`` on its ``padding_side`` ('right' or 'left')."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f'pad_sequence: Expected iterable for input sequences, but got arg of type: '
                           f'{type(sequences)}')
    seqs = list(sequences.unbind(0)) if isinstance(sequences, Tensor) else list(sequences)
    if not seqs:
        raise RuntimeError('received an empty list of sequences')
    if padding_side not in ('left', 'right'):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    trailing = tuple(seqs[0].shape[1:])
    lens = [s.shape[0] for s in seqs]
    max_len = max(lens)
    n = sum(lens)
    idx = np.full((len(seqs), max_len), n, dtype=np.int64)
    off = 0
    for i, k in enumerate(lens):
        start = 0 if padding_side == 'right' else max_len - k
        idx[i, start:start + k] = np.arange(off, off + k)
        off += k
    flat = cat([s.reshape((lens[i],) + trailing) for i, s in enumerate(seqs)] +
               [full((1,) + trailing, padding_value, dtype=seqs[0].dtype)], 0)
    if not batch_first:
        idx = idx.T
    return flat.index_select(0, _wrap(np.ascontiguousarray(idx).reshape(-1))).reshape(idx.shape + trailing)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of ``(L_i, *)`` tensors.

    As in PyTorch, a time-major ``padded_sequences`` is transposed in place (``transpose_(0, 1)``)."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    ls = _lengths_list(lengths)
    if len(ls) != padded_sequences.shape[0]:
        raise ValueError(f'zip() argument 2 is {"shorter" if len(ls) < padded_sequences.shape[0] else "longer"} '
                         'than argument 1')
    return [padded_sequences[i, :k] for i, k in enumerate(ls)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of ``(L_i, *)`` tensors (decreasing lengths unless ``enforce_sorted=False``)."""
    lengths = tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of ``(L_i, *)`` tensors a ``PackedSequence`` holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
