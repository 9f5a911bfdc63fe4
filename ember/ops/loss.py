"""Loss functions (``nn.functional`` signatures) with PyTorch's formulas and reductions.

``nll_loss`` is a fused op (its gradient is a constant scatter pattern times the incoming
gradient, so it is cheap and double-differentiable); ``cross_entropy`` is ``log_softmax``
followed by it. The other losses are short compositions of differentiable ops, written the way
PyTorch defines them so values, gradients and edge cases (ignored targets, clamped logs,
thresholds) agree.
"""
import math
import warnings

import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import _grad_enabled, no_grad
from ..autograd.graph import Node, grad_edge
from ._node import reduce_grad
from .reduce import _TYPE_NAMES

_REDUCTIONS = ('none', 'mean', 'sum')


def legacy_reduction(size_average, reduce, reduction):
    """Map the deprecated ``size_average``/``reduce`` flags to a ``reduction`` string, as PyTorch does."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='mean' instead.",
                  stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return 'mean'
    if reduce:
        return 'sum'
    return 'none'


def _reduce(loss, reduction):
    if reduction == 'none':
        return loss
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    raise ValueError(f'{reduction} is not a valid value for reduction')


def _check_same_size(input, target, name):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f'Using a target size ({target.shape}) that is different to the input size ({input.shape}). '
                      'This will likely lead to incorrect results due to broadcasting. Please ensure they have the '
                      'same size.', stacklevel=3)


# ---- negative log likelihood and cross entropy -----------------------------------------------------

class NllLossBackward0(Node):
    """``d loss / d input``: zero except ``scale * g`` at each row's target, where ``scale = -w[t] / denominator``
    (0 on ignored rows, as PyTorch skips them)."""

    __slots__ = ('index', 'scale', 'shape', 'unbatched')

    def backward(self, g):
        scale = self.scale
        if _grad_enabled():
            coef = np.zeros(self.shape, scale.dtype, like=scale)
            np.put_along_axis(coef, self.index, scale[:, None], 1)
            r = _wrap(coef) * (g.unsqueeze(1) if g.dim() else g)
            return (r.reshape(self.shape[1:]) if self.unbatched else r,)
        gd = g._data
        out = np.zeros(self.shape, scale.dtype, like=scale)
        np.put_along_axis(out, self.index, (scale * gd).astype(scale.dtype, copy=False)[:, None], 1)
        return (_wrap(out[0] if self.unbatched else out),)


def _class_targets(x, t, weight, ignore_index):
    """Check class-index targets ``t`` against input ``x`` ``(N, C, d1, ...)`` or ``(C,)`` as PyTorch does.

    Returns ``(x, t, valid, safe_t, wt, w, unbatched)``: unbatched input gains a batch axis, ``safe_t`` has
    ignored targets replaced by 0, ``wt`` is each target's class weight (0 where ignored) and ``w`` the weight
    array in ``x``'s dtype (None without weights).
    """
    if t.dtype != np.int64 and t.dtype != np.uint8:
        raise RuntimeError(f'expected target dtype to be Long or Byte, but got {_TYPE_NAMES[t.dtype.name]}')
    if x.ndim < 1:
        raise ValueError(f'Expected 1 or more dimensions (got {x.ndim})')
    unbatched = x.ndim == 1
    if unbatched:
        if t.ndim != 0:
            raise ValueError(f'Expected input batch_size (1) to match target batch_size ({t.shape[0]}).')
        x = x[None]
        t = t[None]
    if t.ndim == 0 or t.shape[0] != x.shape[0]:
        raise ValueError(f'Expected input batch_size ({x.shape[0]}) to match target batch_size '
                         f'({t.shape[0] if t.ndim else 0}).')
    if t.shape != x.shape[:1] + x.shape[2:]:
        raise RuntimeError(f'Expected target size {list(x.shape[:1] + x.shape[2:])}, got {list(t.shape)}')
    n_classes = x.shape[1]
    valid = t != ignore_index
    safe_t = np.where(valid, t, 0)
    if safe_t.size and valid.any():
        lo, hi = safe_t.min(), safe_t.max()
        if lo < 0 or hi >= n_classes:
            raise IndexError(f'Target {int(hi if hi >= n_classes else lo)} is out of bounds.')
    w = None
    if weight is not None:
        w = weight._data.astype(x.dtype, copy=False)
        if w.shape != (n_classes,):
            raise RuntimeError(f'weight tensor should be defined either for all {n_classes} classes or no classes '
                               f'but got weight tensor of shape: {list(w.shape)}')
        wt = np.where(valid, w[safe_t], 0).astype(x.dtype, copy=False)
    else:
        wt = valid.astype(x.dtype)
    return x, t, valid, safe_t, wt, w, unbatched


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'):
    """Negative log likelihood of class-index ``target`` under log-probabilities ``input``.

    ``input`` ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; ``target`` ``(N)``, ``(N, d1, ...)`` or ``()``
    with values in ``[0, C)`` or ``ignore_index``; ``weight`` ``(C,)``. 'mean' divides by the summed
    weights of the non-ignored targets.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in _REDUCTIONS:
        raise ValueError(f'{reduction} is not a valid value for reduction')
    x, _, valid, safe_t, wt, _, unbatched = _class_targets(input._data, target._data, weight, ignore_index)
    index = np.expand_dims(safe_t, 1)
    losses = np.where(valid, -np.take_along_axis(x, index, 1).squeeze(1) * wt, 0).astype(x.dtype, copy=False)
    with np.errstate(invalid='ignore', divide='ignore'):  # every target ignored: 0 / 0 is nan, as in PyTorch
        if reduction == 'none':
            out = losses[0] if unbatched else losses
            scale = -wt
        elif reduction == 'sum':
            out = losses.sum(dtype=x.dtype)
            scale = -wt
        else:
            denom = wt.sum(dtype=x.dtype)
            out = (losses.sum(dtype=x.dtype) / denom).astype(x.dtype)
            scale = np.where(valid, -wt / denom, 0).astype(x.dtype, copy=False)
    r = _wrap(np.asarray(out, x.dtype, like=x))
    if _grad_enabled() and input._requires_grad:
        node = NllLossBackward0((grad_edge(input),))
        node.index = index
        node.scale = scale
        node.shape = x.shape
        node.unbatched = unbatched
        r.grad_fn = node
        r._requires_grad = True
    return r


# Cross entropy over class indices is one fused op for (N, C) and (C,) float32/float64 logits. The forward
# exponentiates the shifted logits once, in place, and (when recording) keeps them with their row sums S, so
# that p = exp / S is the softmax. The gradient of row i is ``r_i * (a_i p - b_i onehot(t_i) - s_i w)`` (w the
# class weights, 1 without) with r_i the incoming gradient over the mean's denominator and, for label
# smoothing e over C classes, ``a = (1 - e) w[t] + e sum(w) / C``, ``b = (1 - e) w[t]``, ``s = e / C``. It is
# written into the kept exponentials (one pass scales them by r a / S), so a large vocabulary costs no extra
# (N, C) array and no normalising pass. A second backward (retain_graph) recomputes the exponentials; under
# create_graph the composite (log_softmax then nll_loss) is differentiated instead.

class CrossEntropyLossBackward0(Node):
    """Gradient of the fused cross entropy (see above); edge: ``input``."""

    __slots__ = ('probs', 'args', 'index', 'valid', 'coefs', 'denom', 'unbatched')

    def backward(self, g):
        target, weight, ignore_index, reduction, ls = self.args
        unbatched = self.unbatched
        kept = self.probs
        self.probs = None
        if kept is None or _grad_enabled():
            # Only these paths read the logits again, so only they check that they are unchanged.
            (input,) = self.saved()
            if _grad_enabled():
                from .. import autograd
                loss = _cross_entropy_composite(input, target, weight, ignore_index, reduction, ls)
                return (autograd.grad(loss, input, g, create_graph=True)[0],)
            x = input._data
            kept = _exp_rows(x[None] if unbatched else x)
        p, sums = kept
        gd = g._data
        valid = self.valid
        pa, tb, sw = self.coefs
        with np.errstate(invalid='ignore', divide='ignore'):
            rg = gd / self.denom if self.denom is not None else gd
            rg = np.broadcast_to(rg, valid.shape)
            p *= (rg * pa / sums).astype(p.dtype, copy=False)[:, None]
            p[np.arange(p.shape[0], like=p), self.index] -= (rg * tb).astype(p.dtype, copy=False)
            if sw is not None:
                w = 1 if weight is None else weight._data.astype(p.dtype, copy=False)
                p -= (rg * sw).astype(p.dtype, copy=False)[:, None] * w
        if not valid.all():
            p[~valid] = 0
        return (_wrap(p[0] if unbatched else p),)

    def _release_extra(self):
        self.probs = None


def _exp_rows(x):
    """``(exp(x - max), its row sums)`` for ``(N, C)`` ``x``: the softmax before normalising."""
    with np.errstate(invalid='ignore', over='ignore'):
        e = x - x.max(1, keepdims=True)
        np.exp(e, out=e)
    return e, np.add.reduce(e, axis=1)


def _cross_entropy_fused(input, target, weight, ignore_index, reduction, ls):
    x2, _, valid, safe_t, wt, w, unbatched = _class_targets(input._data, target._data, weight, ignore_index)
    n, c = x2.shape
    dt = x2.dtype
    record = _grad_enabled() and input._requires_grad
    with np.errstate(invalid='ignore', divide='ignore', over='ignore'):  # -inf logits: nan rows, as in PyTorch
        z = x2 - x2.max(1, keepdims=True)
        picked = z[np.arange(n, like=z), safe_t]
        raw = None
        if ls:
            raw = np.add.reduce(z, axis=1) if w is None else z @ w
        np.exp(z, out=z)
        s = np.add.reduce(z, axis=1)
        lse = np.log(s)
        loss = np.where(valid, (lse - picked) * wt, 0).astype(dt, copy=False)
        wsum = None
        if ls:
            wsum = c if w is None else w.sum()
            loss = loss * (1 - ls) + np.where(valid, lse * wsum - raw, 0).astype(dt, copy=False) * (ls / c)
        denom = None
        if reduction == 'none':
            out = loss[0] if unbatched else loss
        elif reduction == 'sum':
            out = loss.sum(dtype=dt)
        else:
            denom = wt.sum(dtype=dt)
            out = (loss.sum(dtype=dt) / denom).astype(dt)
    r = _wrap(np.asarray(out, dt, like=x2))
    if record:
        node = CrossEntropyLossBackward0((grad_edge(input),))
        node.save(input)
        node.probs = (z, s)
        node.args = (target, weight, ignore_index, reduction, ls)
        node.index = safe_t
        node.valid = valid
        pa = wt * (1 - ls) + wsum * (ls / c) if ls else wt
        node.coefs = (pa, wt * (1 - ls) if ls else wt, ls / c if ls else None)
        node.denom = denom
        node.unbatched = unbatched
        r.grad_fn = node
        r._requires_grad = True
    return r


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean',
                  label_smoothing=0.0):
    """Cross entropy between logits ``input`` ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` and class indices
    ``target`` ``(N)``/``(N, d1, ...)``/``()`` or class probabilities (``input``'s shape).

    ``weight`` ``(C,)`` rescales classes; ``ignore_index`` targets contribute nothing; ``label_smoothing``
    ``e`` mixes the target with the uniform distribution: ``(1 - e) nll + e / C * sum_c w_c (-log p_c)``.
    'mean' over class indices divides by the summed weights of the non-ignored targets.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f'label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}')
    if reduction not in _REDUCTIONS:
        raise ValueError(f'{reduction} is not a valid value for reduction')
    x = input._data
    if (not target.is_floating_point() and x.ndim in (1, 2) and x.shape[-1] > 0
            and x.dtype in (np.float32, np.float64)):
        return _cross_entropy_fused(input, target, weight, ignore_index, reduction, float(label_smoothing))
    return _cross_entropy_composite(input, target, weight, ignore_index, reduction, label_smoothing)


def _cross_entropy_composite(input, target, weight, ignore_index, reduction, label_smoothing):
    """``cross_entropy`` written with differentiable ops (any layout and dtype; double backward)."""
    class_dim = 0 if input.dim() == 1 else 1
    logp = input.log_softmax(class_dim)
    n_classes = input.shape[class_dim]
    if target.is_floating_point():
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(f'Expected target size {list(input.shape)}, got {list(target.shape)}')
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        prod = logp * target
        if weight is not None:
            prod = prod * _class_view(weight, input.dim(), class_dim)
        loss = -prod.sum(class_dim)
        if reduction == 'mean':
            return loss.sum() / (input.numel() // n_classes) if input.dim() > 1 else loss
        return _reduce(loss, reduction)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing == 0:
        return nll
    ignore = target == ignore_index
    w = _class_view(weight, input.dim(), class_dim) if weight is not None else None
    smooth = -(logp * w).sum(class_dim) if w is not None else -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == 'mean':
        if weight is not None:
            kept = target[~ignore]
            smooth = smooth.sum() / weight[kept].sum()
        else:
            smooth = smooth.sum() / (~ignore).sum()
    elif reduction == 'sum':
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _class_view(weight, ndim, class_dim):
    shape = [1] * ndim
    shape[class_dim] = -1
    return weight.reshape(shape)


# ---- regression and pointwise losses ---------------------------------------------------------------

def _weighted(loss, weight, input, reduction, mean_over_weights):
    """PyTorch's element-weighted reduction: 'mean' is ``sum(w l) / sum(w)`` for the MSE and L1 losses
    (``mean_over_weights``) and the plain mean of ``w l`` for the Huber loss."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError('Weights and input must have the same size.')
    loss = loss * weight
    if reduction == 'mean' and mean_over_weights:
        return loss.sum() / weight.sum()
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """Mean absolute error (``weight``: per-element weights shaped like ``input``)."""
    _check_same_size(input, target, 'l1_loss')
    reduction = legacy_reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted((input - target).abs(), weight, input, reduction, True)
    return _reduce((input - target).abs(), reduction)


class MseLossBackward0(Node):
    """``d loss / d input = norm * (input - target) * g`` with ``norm = 2 / numel`` for 'mean', else 2
    (PyTorch's ``mse_loss_backward``); the target gets the negation. Written with Ember ops, so it is
    itself differentiable."""

    __slots__ = ('reduction',)

    def backward(self, g):
        input, target = self.saved()
        d = input - target
        norm = 2.0 / d.numel() if self.reduction == 'mean' and d.numel() else 2.0
        gd = d * norm * g
        (ni, _), (nt, _) = self.next_functions
        gi = reduce_grad(gd, input._data.shape, input._data.dtype) if ni is not None else None
        gt = reduce_grad(-gd, target._data.shape, target._data.dtype) if nt is not None else None
        return gi, gt


def mse_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """Mean squared error (``weight``: per-element weights shaped like ``input``)."""
    _check_same_size(input, target, 'mse_loss')
    reduction = legacy_reduction(size_average, reduce, reduction)
    if weight is not None:
        d = input - target
        return _weighted(d * d, weight, input, reduction, True)
    if not (_grad_enabled() and (input.requires_grad or target.requires_grad)) or reduction not in _REDUCTIONS:
        d = input - target
        return _reduce(d * d, reduction)
    # One node for the whole loss, as PyTorch records it (``MseLossBackward0``).
    with no_grad():
        d = input - target
        loss = _reduce(d * d, reduction)
    node = MseLossBackward0((grad_edge(input), grad_edge(target)))
    node.save(input, target)
    node.reduction = reduction
    loss.grad_fn = node
    loss._requires_grad = True
    return loss


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction='mean', beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``."""
    _check_same_size(input, target, 'smooth_l1_loss')
    if beta < 0:
        raise RuntimeError('smooth_l1_loss does not support negative values for beta.')
    d = (input - target).abs()
    if beta == 0:
        loss = d
    else:
        loss = (d * d * (0.5 / beta)).where(d < beta, d - 0.5 * beta)
    return _reduce(loss, legacy_reduction(size_average, reduce, reduction))


def huber_loss(input, target, reduction='mean', delta=1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    _check_same_size(input, target, 'huber_loss')
    if delta <= 0:
        raise RuntimeError('huber_loss does not support non-positive values for delta.')
    d = (input - target).abs()
    loss = (d * d * 0.5).where(d < delta, (d - 0.5 * delta) * delta)
    if weight is not None:
        return _weighted(loss, weight, input, reduction, False)
    return _reduce(loss, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    """``-w (t log x + (1 - t) log(1 - x))`` with each log clamped at -100, as PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f'Using a target size ({target.shape}) that is different to the input size '
                         f'({input.shape}) is deprecated. Please ensure they have the same size.')
    xd = input._data
    if xd.size and (xd.min() < 0 or xd.max() > 1):
        raise RuntimeError('all elements of input should be between 0 and 1')
    loss = -(target * input.log().clamp(min=-100) + (1 - target) * (1 - input).log().clamp(min=-100))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction='mean', pos_weight=None):
    """Sigmoid + binary cross entropy in one numerically stable expression; ``pos_weight`` weighs positives."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f'Target size ({target.shape}) must be the same as input size ({input.shape})')
    softplus_neg = (-input.abs()).exp().log1p() + (-input).clamp(min=0)
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + log_weight * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction='mean', log_target=False):
    """``target * (log target - input)`` pointwise (``input`` is log-probabilities); 'batchmean' divides the
    sum by the batch size."""
    if reduction == 'mean':
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    if reduction == 'batchmean':
        return loss.sum() / (input.shape[0] if input.dim() else 1)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction='mean'):
    """Poisson negative log likelihood (``full`` adds the Stirling term where ``target > 1``)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target.detach()
        stirling = t * t.log() - t + 0.5 * (2 * math.pi * t).log()
        loss = loss + stirling.masked_fill(t <= 1, 0)
    if reduction not in _REDUCTIONS:
        raise ValueError(f'{reduction} is not a valid value for reduction')
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean'):
    """``0.5 (log var + (input - target)^2 / var)`` with ``var`` clamped below at ``eps`` (no gradient
    through the clamp), plus ``0.5 log(2 pi)`` if ``full``."""
    if isinstance(var, (int, float)):
        var = input.new_full(input.shape, float(var))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1:
            pass
        else:
            raise ValueError('var is of incorrect size')
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + ' is not valid')
    if (var._data < 0).any():
        raise ValueError('var has negative entry/entries')
    var = var.clone()
    from ..autograd.grad_mode import no_grad
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction='mean'):
    """``max(0, -target * (input1 - input2) + margin)``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction='mean'):
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    zeros = input * 0
    margin_clamp = (margin - input).clamp(min=0)
    loss = margin_clamp.where(target != 1, zeros) + input.where(target != -1, zeros)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """``log(1 + exp(-target * input))``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _reduce((-target * input).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    """Per-class logistic loss averaged over classes: input/target ``(N, C)``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    from .activation import logsigmoid
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(dim=input.dim() - 1) / input.shape[-1]
    return _reduce(loss, reduction)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / (max(|x1|, eps) * max(|x2|, eps))`` along ``dim`` (each vector normalised separately)."""
    n1 = (x1 * x1).sum(dim, keepdim=True).sqrt().clamp(min=eps)
    n2 = (x2 * x2).sum(dim, keepdim=True).sqrt().clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dimension."""
    d = x1 - x2 + eps
    if p == 2:
        return (d * d).sum(-1, keepdim=keepdim).sqrt()
    return d.norm(p, dim=-1, keepdim=keepdim)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction='mean'):
    """``1 - cos`` where ``target == 1``, ``max(0, cos - margin)`` where ``target == -1``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    eps = 1e-12
    prod = (input1 * input2).sum(-1)
    mag = ((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps)
    cos = prod / mag.sqrt()
    zeros = cos * 0
    pos = (1 - cos).where(target == 1, zeros)
    neg = (cos - margin).clamp(min=0).where(target == -1, zeros)
    return _reduce(pos + neg, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction='mean'):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the pairwise p-norm distance."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_pn = pairwise_distance(positive, negative, p, eps)
        d_an = d_an.minimum(d_pn)
    return _reduce((d_ap - d_an + margin).clamp(min=0), reduction)


def one_hot(tensor, num_classes=-1):
    """``(*,)`` int64 class indices -> ``(*, num_classes)`` int64 one-hot."""
    t = tensor._data
    if t.dtype != np.int64:
        raise RuntimeError('one_hot is only applicable to index tensor of type LongTensor.')
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError('Can not infer total number of classes from empty tensor.')
        num_classes = int(t.max()) + 1
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        raise RuntimeError('Class values must be smaller than num_classes.' if t.max() >= num_classes
                           else 'Class values must be non-negative.')
    out = np.zeros(t.shape + (num_classes,), np.int64, like=t)
    np.put_along_axis(out, t[..., None], 1, -1)
    return _wrap(out)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    norm = input.norm(p, dim, keepdim=True).clamp(min=eps)
    r = input / norm.expand_as(input)
    if out is not None:
        return out.copy_(r)
    return r


