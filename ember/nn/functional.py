"""``ember.nn.functional``: the functional form of every layer, activation and loss.

Layers call these functions; these call the ops, so each computation is written once.
"""

def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: input ``(*, in)``, weight ``(out, in)``, bias ``(out,)`` -> ``(*, out)``."""
    if weight.dim() == 2 and input.dim() > 0 and input.shape[-1] != weight.shape[1]:
        rows = input.numel() // input.shape[-1] if input.shape[-1] else 0
        raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and '
                           f'{weight.shape[1]}x{weight.shape[0]})')
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

