"""``embedding``: row lookup in a weight matrix, with PyTorch's ``padding_idx``, ``max_norm`` and
``scale_grad_by_freq``."""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge


class EmbeddingBackward0(Node):
    """Gradient w.r.t. the weight: rows of ``g`` summed into the looked-up indices."""

    __slots__ = ('indices', 'num_weights', 'padding_idx', 'scale_grad_by_freq')

    def backward(self, g):
        idx = self.indices.reshape(-1)
        gd = g._data.reshape(idx.size, -1)
        if self.scale_grad_by_freq:
            counts = np.bincount(idx, minlength=self.num_weights)
            gd = gd / counts[idx][:, None].astype(gd.dtype)
        if self.padding_idx is not None:
            keep = idx != self.padding_idx
            idx, gd = idx[keep], gd[keep]
        out = np.zeros((self.num_weights, gd.shape[1]), g._data.dtype, like=g._data)
        order = np.argsort(idx, kind='stable')
        sidx = idx[order]
        starts = np.flatnonzero(np.r_[True, sidx[1:] != sidx[:-1]]) if sidx.size else np.zeros(0, np.int64, like=idx)
        if sidx.size:
            out[sidx[starts]] = np.add.reduceat(gd[order], starts, axis=0)
        return (_wrap(out),)


def _renorm_(weight, indices, max_norm, norm_type):
    rows = np.unique(indices.reshape(-1))
    w = weight._data
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = (w[rows] * scale[:, None]).astype(w.dtype)
    weight._vc[0] += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """``weight[input]``: int64 indices ``(*)`` into ``weight`` ``(num_embeddings, dim)`` -> ``(*, dim)``.

    ``max_norm`` renormalises the looked-up rows of ``weight`` in place first; the row ``padding_idx``
    receives no gradient.
    """
    if sparse:
        raise NotImplementedError('embedding: sparse=True is not supported (Ember has no sparse tensors); '
                                  'use sparse=False')
    idx = input._data
    if idx.dtype.kind not in 'iu':
        raise RuntimeError(f'Expected tensor for argument #1 \'indices\' to have one of the following scalar types: '
                           f'Long, Int; but got {input.type()} instead (while checking arguments for embedding)')
    n = weight.shape[0]
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += n
        if not 0 <= padding_idx < n:
            raise AssertionError('Padding_idx must be within num_embeddings')
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError('index out of range in self')
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    out = _wrap(weight._data[idx])
    if _grad_enabled() and weight._requires_grad:
        node = EmbeddingBackward0((grad_edge(weight),))
        node.indices = idx.astype(np.int64, copy=False)
        node.num_weights = n
        node.padding_idx = padding_idx
        node.scale_grad_by_freq = scale_grad_by_freq
        out.grad_fn = node
        out._requires_grad = True
    return out


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode='mean',
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums/means/maxes of bags of embeddings: 2-D ``input`` (fixed bags) or 1-D ``input`` with ``offsets``."""
    if mode not in ('sum', 'mean', 'max'):
        raise ValueError(f'mode has to be one of sum, mean or max, got {mode}')
    if per_sample_weights is not None and mode != 'sum':
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                                  "on GitHub.")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError('if input is 2D, then offsets has to be None, as input is treated is a mini-batch of '
                             'fixed length sequences.')
        bags = [input[i] for i in range(input.shape[0])]
        psw = [per_sample_weights[i] for i in range(input.shape[0])] if per_sample_weights is not None else None
    else:
        if offsets is None:
            raise ValueError('offsets has to be a 1D Tensor but got None')
        offs = [int(o) for o in offsets.tolist()]
        ends = offs[1:] + ([input.shape[0]] if not include_last_offset else [])
        if include_last_offset:
            offs = offs[:-1]
        bags = [input[s:e] for s, e in zip(offs, ends)]
        psw = [per_sample_weights[s:e] for s, e in zip(offs, ends)] if per_sample_weights is not None else None
    from .join import stack
    rows = []
    for i, bag in enumerate(bags):
        if padding_idx is not None:
            bag = bag[bag != padding_idx]
        if bag.numel() == 0:
            rows.append(weight.new_zeros(weight.shape[1]))
            continue
        e = embedding(bag, weight, None, max_norm, norm_type, scale_grad_by_freq)
        if psw is not None:
            e = e * psw[i].unsqueeze(-1)
        rows.append(e.sum(0) if mode == 'sum' else e.mean(0) if mode == 'mean' else e.amax(0))
    return stack(rows)


__all__ = []
METHODS = {}
