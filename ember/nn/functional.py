"""``ember.nn.functional``: the functional form of every layer, activation and loss.

Layers call these functions; these are the ops themselves (re-exported from ``ember.ops``) or
thin wrappers that give them ``nn.functional``'s signature, so each computation is written once.
"""
import warnings

from ..ops.attention import (_canonical_mask, _in_projection, _in_projection_packed, _mha_shape_check,  # noqa: F401
                             _none_or_dtype, multi_head_attention_forward, scaled_dot_product_attention)
from ..ops.activation import (celu, elu, gelu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, leaky_relu,
                              logsigmoid, mish, prelu, relu, relu6, rrelu, selu, silu, softplus, softshrink,
                              softsign, tanhshrink, threshold)
from ..ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, fold,
                        unfold)
from ..ops.dropout import (alpha_dropout, dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout)
from ..ops.elementwise import sigmoid, tanh
from ..ops.embedding import embedding, embedding_bag
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss,
                        cosine_similarity, cross_entropy, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div,
                        l1_loss, margin_ranking_loss, mse_loss, multilabel_soft_margin_loss, nll_loss, normalize,
                        one_hot, pairwise_distance, poisson_nll_loss, smooth_l1_loss, soft_margin_loss,
                        triplet_margin_loss)
from ..ops.normalization import (batch_norm, group_norm, instance_norm, layer_norm, local_response_norm,
                                  rms_norm)
from ..ops.pad import pad
from ..ops.resample import (interpolate, pixel_shuffle, pixel_unshuffle, upsample, upsample_bilinear,
                            upsample_nearest)
from ..ops.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d,
                        adaptive_max_pool1d_with_indices, adaptive_max_pool2d, adaptive_max_pool2d_with_indices,
                        adaptive_max_pool3d, adaptive_max_pool3d_with_indices, avg_pool1d, avg_pool2d, avg_pool3d,
                        lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d, max_pool1d_with_indices, max_pool2d,
                        max_pool2d_with_indices, max_pool3d, max_pool3d_with_indices, max_unpool1d, max_unpool2d,
                        max_unpool3d)
from ..ops import softmax as _softmax_ops


def _implicit_dim(name, ndim, stacklevel):
    warnings.warn(f'Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X '
                  'as an argument.', stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``; ``dtype`` casts the input first."""
    if dim is None:
        dim = _implicit_dim('softmax', input.dim(), _stacklevel)
    return _softmax_ops.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably."""
    if dim is None:
        dim = _implicit_dim('log_softmax', input.dim(), _stacklevel)
    return _softmax_ops.log_softmax(input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        dim = _implicit_dim('softmin', input.dim(), _stacklevel)
    return _softmax_ops.softmax(-input, dim, dtype=dtype)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: input ``(*, in)``, weight ``(out, in)``, bias ``(out,)`` -> ``(*, out)``."""
    if weight.dim() == 2 and input.dim() > 0 and input.shape[-1] != weight.shape[1]:
        rows = input.numel() // input.shape[-1] if input.shape[-1] else 0
        raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and '
                           f'{weight.shape[1]}x{weight.shape[0]})')
    if bias is not None and weight.dim() == 2 and input.dim() >= 1 and bias.dim() == 1 and input.is_contiguous():
        # As PyTorch: fold leading dims into rows and add the bias into the product in place (addmm).
        from ..ops.linalg import addmm
        if input.dim() == 2:
            return addmm(bias, input, weight.t())
        out = addmm(bias, input.reshape(-1, input.shape[-1]), weight.t())
        return out.reshape(tuple(input.shape[:-1]) + (weight.shape[0],))
    out = input.matmul(weight.t())
    if bias is not None:
        out = out + bias
    return out


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1^T A_k x2 + b_k`` over leading dims: ``(*, in1)``, ``(*, in2)`` -> ``(*, out)``."""
    from ..ops.linalg import einsum
    out = einsum('...i,kij,...j->...k', input1, weight, input2)
    if bias is not None:
        out = out + bias
    return out


def relu_(input):
    return input.relu_()


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold_value, value):
    return threshold(input, threshold_value, value, inplace=True)
