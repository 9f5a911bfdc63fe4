"""Linear algebra: matrix products (``matmul`` and its family, ``einsum``, ``tensordot``),
``kron``, ``cross``, ``trace``, diagonals, norms, and the decompositions and solvers behind
``ember.linalg``.

Products reach BLAS through ``np.matmul`` on arrays whose last two dimensions are laid out
the way BLAS accepts (anything else is copied once first); a batch of matrices times one
matrix is folded into a single large matrix product, as PyTorch does. Decompositions call
``np.linalg``. Every backward formula is written with Ember ops (mostly these products), so
gradients of gradients work; the formulas are PyTorch's (``derivatives.yaml`` and
``FunctionsManual.cpp``), so gradients agree with PyTorch's wherever the forward result does.
"""
import collections
import math
import warnings

import numpy as np

from .. import _dtype, return_types
from .._tensor import Tensor, _wrap, _wrap_dim
from ..autograd.grad_mode import _enabled
from ..autograd.graph import Node, grad_edge
from ._inplace import inplace_variant
from ._node import CopyBackwards, SavedOutputNode, reduce_grad, sum_to_shape
from ._operands import write_out

# PyTorch names dtypes two ways in its messages: the scalar type name, and the C++ type name.
_TYPE_NAME = {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int', 'int64': 'Long',
              'float16': 'Half', 'float32': 'Float', 'float64': 'Double'}
_CPP_NAME = {'bool': 'bool', 'uint8': 'unsigned char', 'int8': 'signed char', 'int16': 'short int', 'int32': 'int',
             'int64': 'long int', 'float16': 'c10::Half', 'float32': 'float', 'float64': 'double'}


def _tn(arr):
    return _TYPE_NAME[arr.dtype.name]


def _check_tensor(x, fname, arg, pos):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _not_for_bool(arr, kernel):
    if arr.dtype == np.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _shape_str(shape):
    return 'x'.join(str(s) for s in shape)


def broadcast_shapes_strict(a, b):
    """The broadcast of shapes ``a`` and ``b``, with PyTorch's error naming the clashing dimension."""
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f'The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton '
                               f'dimension {i}')
        out.append(y if x == 1 else x)
    return tuple(out)


# ---- the matrix-product kernel -----------------------------------------------------------------

def _blas_ready(a):
    """``a`` itself if BLAS can read its matrices (unit stride along rows or columns), else a copy.

    NumPy's matmul silently falls back to a slow loop for other layouts (e.g. ``x[:, ::2]``).
    """
    if a.ndim < 2 or a.dtype.kind != 'f':
        return a
    item = a.itemsize
    s0, s1 = a.strides[-2:]
    n0, n1 = a.shape[-2:]
    if (s1 == item and s0 >= n1 * item) or (s0 == item and s1 >= n0 * item):
        return a
    return np.ascontiguousarray(a, like=a)


def _mm(x, y):
    """``np.matmul`` on BLAS-ready layouts; float16 accumulates in float32 like PyTorch's CPU kernels."""
    if x.dtype == np.float16:
        return np.matmul(x.astype(np.float32), y.astype(np.float32)).astype(np.float16)
    if x.ndim > 2 and y.ndim == 2:
        # A batch of matrices times one matrix is one big matrix product.
        lead = x.shape[:-1]
        r = np.matmul(_blas_ready(x.reshape(-1, x.shape[-1])), _blas_ready(y))
        return r.reshape(lead + (y.shape[-1],))
    return np.matmul(_blas_ready(x), _blas_ready(y))


def _transposed(arr):
    """Whether a matrix is laid out as the transpose of a contiguous one (a Linear layer's ``weight.t()``)."""
    return arr.ndim == 2 and arr.flags.f_contiguous and not arr.flags.c_contiguous


def _matmul_grads(g, a, b, sa, sb, need_a, need_b, b_transposed=False):
    """Gradients of ``a @ b`` (``torch.matmul`` semantics; shapes ``sa``, ``sb``) for output gradient ``g``.

    A 1-D operand is treated as a one-row (left) or one-column (right) matrix; batch dimensions
    that were broadcast are summed away. ``b_transposed``: ``b`` was a transposed view, and its
    gradient is made in that layout, as PyTorch's mm backward does, so that the gradient of the
    matrix it views comes out contiguous (a leaf then keeps it without a copy).
    """
    la, lb = len(sa), len(sb)
    if la == 1 and lb == 1:
        return (g * b if need_a else None), (g * a if need_b else None)
    if la == 1:
        g = g.unsqueeze(-2)
    if lb == 1:
        g = g.unsqueeze(-1)
    ga = gb = None
    if need_a:
        b2 = b.unsqueeze(-1) if lb == 1 else b
        ga = matmul(g, b2.transpose(-1, -2))
        ga = sum_to_shape(ga, (1,) + sa if la == 1 else sa)
        if la == 1:
            ga = ga.reshape(sa)
    if need_b:
        a2 = a.unsqueeze(0) if la == 1 else a
        if la > 2 and lb <= 2:
            # Fold the batch of ``a`` into rows: one matrix product instead of a product per batch then a sum.
            k = a2._data.shape[-1]
            gb = matmul(a2.reshape(-1, k).transpose(0, 1), g.reshape(-1, g._data.shape[-1]))
        elif b_transposed and la == 2:
            gb = matmul(g.transpose(0, 1), a2).transpose(0, 1)
        else:
            gb = sum_to_shape(matmul(a2.transpose(-1, -2), g), sb + (1,) if lb == 1 else sb)
        if lb == 1:
            gb = gb.reshape(sb)
    return ga, gb


class _ProductNode(Node):
    """Backward of a product ``a @ b``; subclasses only choose the name PyTorch gives the node."""

    __slots__ = ('shapes',)

    def backward(self, g):
        a, b = self.saved()
        (na, _), (nb, _) = self.next_functions
        sa, sb, bt = self.shapes
        return _matmul_grads(g, a, b, sa, sb, na is not None, nb is not None, bt)


def _product_node(name):
    return type(name, (_ProductNode,), {'__slots__': ()})


DotBackward0 = _product_node('DotBackward0')
VdotBackward0 = _product_node('VdotBackward0')
MmBackward0 = _product_node('MmBackward0')
MvBackward0 = _product_node('MvBackward0')
BmmBackward0 = _product_node('BmmBackward0')
# ``torch.matmul`` is a composite op: its result's grad_fn is the last op of PyTorch's decomposition
# (a squeeze, view or clone). These nodes carry those names so that results print as in PyTorch.
_MatmulSqueezeBackward = _product_node('SqueezeBackward4')
_MatmulViewBackward = _product_node('UnsafeViewBackward0')
_MatmulCloneBackward = _product_node('CloneBackward0')


def _finish_product(r, node_cls, a, b, out):
    r = _wrap(r)
    if _enabled[0] and (a._requires_grad or b._requires_grad):
        node = node_cls((grad_edge(a), grad_edge(b)))
        node.save(a if b._requires_grad else None, b if a._requires_grad else None)
        node.shapes = (a._data.shape, b._data.shape, _transposed(b._data))
        r.grad_fn = node
        r._requires_grad = True
    if out is not None:
        return write_out(out, r)
    return r


def _check_mm_dtypes(x, y):
    if x.dtype != y.dtype:
        raise RuntimeError(f'expected m1 and m2 to have the same dtype, but got: {_CPP_NAME[x.dtype.name]} != '
                           f'{_CPP_NAME[y.dtype.name]}')
    _not_for_bool(x, 'addmm_impl_cpu_')


def _check_mm_shapes(xs, ys):
    if xs[1] != ys[0]:
        raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({_shape_str(xs)} and {_shape_str(ys)})')


def _check_mv(mat, vec, n=None, k=None):
    """Checks of a matrix-vector product; ``n``, ``k`` give the matrix's shape when it is a folded batch."""
    if mat.dtype != vec.dtype:
        raise RuntimeError(f'addmv input tensors must have the same dtype, but got {_tn(vec)}, {_tn(mat)}, and '
                           f'{_tn(vec)}')
    _not_for_bool(mat, 'addmv_impl_cpu')
    if n is None:
        n, k = mat.shape
    if k != vec.shape[0]:
        raise RuntimeError(f'size mismatch, got input ({n}), mat ({n}x{k}), vec ({vec.shape[0]})')


def _check_dot(x, y):
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f'1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors')
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(f'inconsistent tensor size, expected tensor [{x.shape[0]}] and src [{y.shape[0]}] to have '
                           f'the same number of elements, but got {x.shape[0]} and {y.shape[0]} elements respectively')
    if x.dtype != y.dtype:
        raise RuntimeError(f'dot : expected both vectors to have same dtype, but found {_tn(x)} and {_tn(y)}')
    _not_for_bool(x, 'dot')


def _check_bmm(x, y, kernel='bmm'):
    if x.dtype != y.dtype:
        raise RuntimeError(f'expected scalar type {_tn(x)} but found {_tn(y)}')
    _not_for_bool(x, kernel)


def _dot_kernel(x, y):
    if x.dtype == np.float16:
        return np.asarray(np.dot(x.astype(np.float32), y.astype(np.float32)), np.float16, like=x)
    return np.asarray(np.dot(x, y), x.dtype, like=x)


def _should_fold(x, y, a_grad, b_grad, has_out):
    """PyTorch's choice between folding a batch into one matrix product and a batched product.

    The choice is invisible in the values but decides which checks (and error messages) apply and
    which node the result carries, so it is repeated here exactly.
    """
    larger = x.ndim >= y.ndim
    t1 = x if larger else np.swapaxes(y, -1, -2)
    if not (t1.ndim >= 3 and (y.ndim if larger else x.ndim) <= 2):
        return False
    if (b_grad if larger else a_grad) and not has_out:
        return True
    if x.ndim == 2:
        return False
    if t1.size == 0:
        return True
    st = [s // t1.itemsize for s in t1.strides]
    return all(st[i] == st[i + 1] * t1.shape[i + 1] for i in range(t1.ndim - 1))


def _matmul_checks(x, y, a_grad, b_grad, has_out):
    """Run PyTorch's checks for ``x @ y`` (its messages depend on how PyTorch computes the product)
    and return the node class the result carries."""
    dx, dy = x.ndim, y.ndim
    if dx == 0 or dy == 0:
        raise RuntimeError(f'both arguments to matmul need to be at least 1D, but they are {dx}D and {dy}D')
    if dx == 1 and dy == 1:
        _check_dot(x, y)
        return DotBackward0
    if dx == 2 and dy == 1:
        _check_mv(x, y)
        return MvBackward0
    if dx == 1 and dy == 2:
        _check_mm_dtypes(x, y)
        _check_mm_shapes((1, x.shape[0]), y.shape)
        return _MatmulSqueezeBackward
    if dx == 2 and dy == 2:
        _check_mm_dtypes(x, y)
        _check_mm_shapes(x.shape, y.shape)
        return MmBackward0
    if dx == 3 and dy == 3 and (x.shape[0] == 1 or y.shape[0] == 1):
        # A batch of one in a 3-D operand facing another 3-D operand is dropped first.
        node = _matmul_checks(x[0] if x.shape[0] == 1 else x, y[0] if y.shape[0] == 1 else y, a_grad, b_grad,
                              has_out)
        return _MatmulViewBackward if node is MmBackward0 else node
    if _should_fold(x, y, a_grad, b_grad, has_out):
        if dy == 1:
            _check_mv(x, y, math.prod(x.shape[:-1]), x.shape[-1])
        elif dy == 2:
            _check_mm_dtypes(x, y)
            _check_mm_shapes((math.prod(x.shape[:-1]), x.shape[-1]), y.shape)
        elif dx == 1:
            _check_mv(y, x, math.prod(y.shape[:-2]) * y.shape[-1], y.shape[-2])
        else:
            # (n, k) @ (..., k, m) is computed as (folded b^T) @ a^T, then transposed into place.
            _check_mm_dtypes(y, x)
            _check_mm_shapes((math.prod(y.shape[:-2]) * y.shape[-1], y.shape[-2]), x.shape[::-1])
            return _MatmulCloneBackward
        return _MatmulViewBackward
    # A batched product: vectors become one-row/one-column matrices and batch dimensions broadcast.
    xs = (1,) + x.shape if dx == 1 else x.shape
    ys = y.shape + (1,) if dy == 1 else y.shape
    batch = broadcast_shapes_strict(xs[:-2], ys[:-2])
    _check_bmm(x, y)
    if xs[-1] != ys[-2]:
        nb = math.prod(batch)
        raise RuntimeError(f'Expected size for first two dimensions of batch2 tensor to be: [{nb}, {xs[-1]}] but '
                           f'got: [{nb}, {ys[-2]}].')
    return _MatmulViewBackward


def matmul(input, other, *, out=None):
    """``torch.matmul``: the product of two tensors with at least one dimension each.

    1-D x 1-D is a dot product (0-d result); 2-D x 2-D a matrix product; a 1-D operand acts as
    a row (left) or column (right) vector that is removed from the result; with more dimensions
    the leading (batch) dimensions broadcast, e.g. ``(j, 1, n, k) @ (m, k, p) -> (j, m, n, p)``.
    Both operands must have the same dtype.
    """
    _check_tensor(input, 'matmul', 'input', 1)
    _check_tensor(other, 'matmul', 'other', 2)
    x, y = input._data, other._data
    node = _matmul_checks(x, y, input._requires_grad, other._requires_grad, out is not None)
    r = _dot_kernel(x, y) if node is DotBackward0 else _mm(x, y)
    return _finish_product(r, node, input, other, out)


def mm(input, mat2, *, out=None):
    """Matrix product of ``input`` (n, k) and ``mat2`` (k, m); no broadcasting."""
    _check_tensor(input, 'mm', 'input', 1)
    _check_tensor(mat2, 'mm', 'mat2', 2)
    x, y = input._data, mat2._data
    if x.ndim != 2:
        raise RuntimeError('self must be a matrix')
    if y.ndim != 2:
        raise RuntimeError('mat2 must be a matrix')
    _check_mm_dtypes(x, y)
    _check_mm_shapes(x.shape, y.shape)
    return _finish_product(_mm(x, y), MmBackward0, input, mat2, out)


def _check_bmm_shapes(x, y):
    if x.ndim != 3:
        raise RuntimeError('batch1 must be a 3D tensor')
    if y.ndim != 3:
        raise RuntimeError('batch2 must be a 3D tensor')
    if x.shape[0] != y.shape[0] or x.shape[2] != y.shape[1]:
        raise RuntimeError(f'Expected size for first two dimensions of batch2 tensor to be: [{x.shape[0]}, '
                           f'{x.shape[2]}] but got: [{y.shape[0]}, {y.shape[1]}].')


def bmm(input, mat2, *, out=None):
    """Batched matrix product: (b, n, k) @ (b, k, m) -> (b, n, m); no broadcasting."""
    _check_tensor(input, 'bmm', 'input', 1)
    _check_tensor(mat2, 'bmm', 'mat2', 2)
    x, y = input._data, mat2._data
    _check_bmm_shapes(x, y)
    _check_bmm(x, y)
    return _finish_product(_mm(x, y), BmmBackward0, input, mat2, out)


def mv(input, vec, *, out=None):
    """Matrix-vector product: (n, k) @ (k,) -> (n,)."""
    _check_tensor(input, 'mv', 'input', 1)
    _check_tensor(vec, 'mv', 'vec', 2)
    x, y = input._data, vec._data
    if x.ndim != 2 or y.ndim != 1:
        raise RuntimeError(f'vector + matrix @ vector expected, got 1, {x.ndim}, {y.ndim}')
    _check_mv(x, y)
    return _finish_product(_mm(x, y), MvBackward0, input, vec, out)


def dot(input, other, *, out=None):
    """Dot product of two 1-D tensors of the same size and dtype (0-d result)."""
    _check_tensor(input, 'dot', 'input', 1)
    _check_tensor(other, 'dot', 'tensor', 2)
    _check_dot(input._data, other._data)
    return _finish_product(_dot_kernel(input._data, other._data), DotBackward0, input, other, out)


def vdot(input, other, *, out=None):
    """``dot`` with the first argument conjugated (the same as ``dot`` for real tensors)."""
    _check_tensor(input, 'vdot', 'input', 1)
    _check_tensor(other, 'vdot', 'other', 2)
    _check_dot(input._data, other._data)
    return _finish_product(_dot_kernel(input._data, other._data), VdotBackward0, input, other, out)


def inner(input, other, *, out=None):
    """Sum of products over the last dimension: shape ``input.shape[:-1] + other.shape[:-1]``.

    A 0-d operand multiplies the other elementwise.
    """
    from .elementwise import mul
    if input._data.ndim == 0 or other._data.ndim == 0:
        return mul(input, other, out=out)
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(f'inner() the last dimension must match on both input tensors but got shapes '
                           f'{list(input._data.shape)} and {list(other._data.shape)}')
    r = tensordot(input, other, ([-1], [-1]))
    return write_out(out, r) if out is not None else r


def outer(input, vec2, *, out=None):
    """Outer product of 1-D tensors: ``out[i, j] = input[i] * vec2[j]`` (types promote)."""
    from .elementwise import mul
    if input._data.ndim != 1:
        raise RuntimeError(f'outer: Expected 1-D argument self, but got {input._data.ndim}-D')
    if vec2._data.ndim != 1:
        raise RuntimeError(f'outer: Expected 1-D argument vec2, but got {vec2._data.ndim}-D')
    return mul(input.reshape(-1, 1), vec2, out=out)


ger = outer


# ---- beta * input + alpha * product ---------------------------------------------------------------

class _AddProductNode(Node):
    """Backward of ``beta * input + alpha * (a @ b)``; ``meta`` = (input shape, input dtype, a shape, b shape,
    whether b was a transposed view)."""

    __slots__ = ('beta', 'alpha', 'meta')

    def backward(self, g):
        a, b = self.saved()
        (ni, _), (na, _), (nb, _) = self.next_functions
        in_shape, in_dtype, sa, sb, bt = self.meta
        gi = None
        if ni is not None:
            gi = reduce_grad(g * self.beta if self.beta != 1 else g, in_shape, in_dtype)
        gp = g * self.alpha if self.alpha != 1 else g
        ga, gb = self._product_grads(gp, a, b, sa, sb, na is not None, nb is not None, bt)
        return gi, ga, gb

    def _product_grads(self, g, a, b, sa, sb, need_a, need_b, b_transposed):
        return _matmul_grads(g, a, b, sa, sb, need_a, need_b, b_transposed)


class AddmmBackward0(_AddProductNode):
    __slots__ = ()


class AddmvBackward0(_AddProductNode):
    __slots__ = ()


class BaddbmmBackward0(_AddProductNode):
    __slots__ = ()


class AddbmmBackward0(_AddProductNode):
    __slots__ = ()
    # The batch sum's gradient is ``g`` for every batch entry: matmul's broadcasting does exactly that.


class AddrBackward0(_AddProductNode):
    __slots__ = ()

    def _product_grads(self, g, a, b, sa, sb, need_a, need_b, b_transposed):
        return (matmul(g, b) if need_a else None), (matmul(g.transpose(0, 1), a) if need_b else None)


def _scalar_coef(v, arr):
    """``beta``/``alpha`` as PyTorch applies them: truncated to int for integer tensors."""
    if arr.dtype.kind in 'iu':
        return int(v)
    if arr.dtype == np.bool_:
        return bool(v)
    return v


def _add_product(node_cls, input, a, b, p, beta, alpha, out):
    """``beta * input + alpha * p`` where ``p = a @ b`` has been computed; records ``node_cls``."""
    x = input._data
    beta = _scalar_coef(beta, p)
    alpha = _scalar_coef(alpha, p)
    try:
        xb = np.broadcast_to(x, p.shape)
    except ValueError:
        from .shape import expand
        expand(input, p.shape)  # raises PyTorch's message
        raise
    # ``p`` is a fresh array: scale and accumulate into it. With beta 0 PyTorch ignores ``input``
    # entirely (nan and inf in it do not propagate).
    if alpha != 1:
        p *= alpha
    if beta != 0:
        p += xb * beta if beta != 1 else xb
    r = _wrap(p)
    if _enabled[0] and (input._requires_grad or a._requires_grad or b._requires_grad):
        node = node_cls((grad_edge(input), grad_edge(a), grad_edge(b)))
        node.save(a if b._requires_grad else None, b if a._requires_grad else None)
        node.beta, node.alpha = beta, alpha
        node.meta = (x.shape, x.dtype, a._data.shape, b._data.shape, _transposed(b._data))
        r.grad_fn = node
        r._requires_grad = True
    if out is not None:
        return write_out(out, r)
    return r


def _check_same_dtype_as(x, arr, what):
    if x.dtype != arr.dtype:
        raise RuntimeError(f'{what} must have the same dtype, but got {_tn(x)} and {_tn(arr)}')


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to (n, m)."""
    x, y = mat1._data, mat2._data
    if x.ndim != 2:
        raise RuntimeError(f'mat1 must be a matrix, got {x.ndim}-D tensor')
    if y.ndim != 2:
        raise RuntimeError(f'mat2 must be a matrix, got {y.ndim}-D tensor')
    _check_same_dtype_as(input._data, y, 'self and mat2')
    _check_mm_dtypes(x, y)
    _check_mm_shapes(x.shape, y.shape)
    return _add_product(AddmmBackward0, input, mat1, mat2, _mm(x, y), beta, alpha, out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``; ``input`` broadcasts to (n,)."""
    x, y = mat._data, vec._data
    if x.ndim != 2 or y.ndim != 1:
        raise RuntimeError(f'vector + matrix @ vector expected, got {input._data.ndim}, {x.ndim}, {y.ndim}')
    if not (input._data.dtype == x.dtype == y.dtype):
        raise RuntimeError(f'addmv input tensors must have the same dtype, but got {_tn(input._data)}, {_tn(x)}, '
                           f'and {_tn(y)}')
    _check_mv(x, y)
    return _add_product(AddmvBackward0, input, mat, vec, _mm(x, y), beta, alpha, out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * outer(vec1, vec2)``; ``input`` broadcasts to (n, m)."""
    x, y = vec1._data, vec2._data
    if x.ndim != 1:
        raise RuntimeError(f'addr: Expected 1-D argument vec1, but got {x.ndim}-D')
    if y.ndim != 1:
        raise RuntimeError(f'addr: Expected 1-D argument vec2, but got {y.ndim}-D')
    if not (input._data.dtype == x.dtype == y.dtype):
        raise RuntimeError(f'expected scalar type {_tn(input._data)} but found '
                           f'{_tn(x if x.dtype != input._data.dtype else y)}')
    if x.dtype.kind in 'biu':
        for name, v in (('beta', beta), ('alpha', alpha)):
            if isinstance(v, float):
                raise RuntimeError(f'For integral input tensors, argument {name} must not be a floating point number.')
            if isinstance(v, bool) and x.dtype != np.bool_:
                raise RuntimeError(f'Boolean {name} only supported for Boolean results.')
    return _add_product(AddrBackward0, input, vec1, vec2, np.multiply.outer(x, y), beta, alpha, out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * bmm(batch1, batch2)``; ``input`` broadcasts to (b, n, m)."""
    x, y = batch1._data, batch2._data
    _check_bmm_shapes(x, y)
    _check_bmm(x, y, 'baddbmm')
    if input._data.dtype != x.dtype:
        raise RuntimeError(f'expected scalar type {_tn(x)} but found {_tn(input._data)}')
    return _add_product(BaddbmmBackward0, input, batch1, batch2, _mm(x, y), beta, alpha, out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``; ``input`` broadcasts to (n, m)."""
    x, y = batch1._data, batch2._data
    if x.ndim != 3:
        raise RuntimeError('batch1 must be a 3D tensor')
    if y.ndim != 3:
        raise RuntimeError('batch2 must be a 3D tensor')
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(f'batch1 and batch2 must have same number of batches, got {x.shape[0]} and {y.shape[0]}')
    if x.shape[2] != y.shape[1]:
        raise RuntimeError(f'Incompatible matrix sizes for bmm ({x.shape[1]}x{x.shape[2]} and '
                           f'{y.shape[1]}x{y.shape[2]})')
    _check_bmm(x, y, 'addmm_impl_cpu_')
    if input._data.dtype != x.dtype:
        raise RuntimeError(f'expected scalar type {_tn(x)} but found {_tn(input._data)}')
    if x.shape[0] and x.dtype.kind == 'f' and x.dtype != np.float16:
        # One matrix product over the concatenated inner dimension: (n, b*k) @ (b*k, m).
        p = _mm(np.swapaxes(x, 0, 1).reshape(x.shape[1], -1), y.reshape(-1, y.shape[2]))
    else:
        p = _mm(x, y).sum(0, dtype=x.dtype) if x.shape[0] else np.zeros((x.shape[1], y.shape[2]), x.dtype, like=x)
    return _add_product(AddbmmBackward0, input, batch1, batch2, p, beta, alpha, out)


# ---- einsum ---------------------------------------------------------------------------------------
#
# ``einsum`` first rewrites the equation into a canonical form that NumPy's einsum accepts and whose
# gradient is again an einsum: every ``...`` becomes explicit letters (right-aligned across operands,
# as broadcasting does), the output is made explicit (implicit mode: ``...`` first, then the letters
# seen exactly once, in ASCII order), and size-1 dimensions that broadcast against a larger size are
# squeezed away (a differentiable reshape), so every letter has one size everywhere it appears.
#
# The gradient for operand i is the einsum of the output gradient with the other operands, producing
# operand i's letters. Two cases need more than that: a letter that appears only in operand i and not
# in the output (it was summed away: its gradient is broadcast back with ``expand``), and a letter
# repeated within operand i (a diagonal: the gradient is placed on it by an einsum with identity
# matrices).

_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
_ELL = '...'


def _einsum_args(args):
    """``(equation, operands)`` from either calling convention (string or sublists)."""
    if not args:
        raise TypeError('einsum(): must specify the equation string and at least one operand, or at least one '
                        'operand and its subscripts list')
    if isinstance(args[0], str):
        ops = args[1:]
        if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
            ops = tuple(ops[0])
        return args[0], tuple(ops)
    ops, subs = list(args[0::2]), list(args[1::2])
    out = None
    if len(ops) > len(subs):
        out = ops.pop()
        if isinstance(out, Tensor):
            raise TypeError('einsum(): the last argument must be a subscripts list when using the sublist format')

    def letters(sub):
        s = ''
        for v in sub:
            if v is Ellipsis:
                s += _ELL
            elif isinstance(v, int) and 0 <= v < 52:
                s += _LETTERS[v]
            else:
                raise ValueError(f'einsum(): expected subscript to be within the range [0, 52), but got {v}')
        return s

    eq = ','.join(letters(s) for s in subs)
    if out is not None:
        eq += '->' + letters(out)
    return eq, tuple(ops)


def _parse_einsum(equation, nops):
    """Terms (lists of letters and ``'...'``) per operand and the output term (None if implicit)."""
    arrow = equation.find('->')
    lhs_end = len(equation) if arrow < 0 else arrow
    terms = [[]]
    ell_seen = False
    i = 0
    while i < lhs_end:
        c = equation[i]
        op = len(terms) - 1
        if c == ' ':
            i += 1
        elif c == ',':
            if len(terms) == nops:
                raise RuntimeError('einsum(): fewer operands were provided than specified in the equation')
            terms.append([])
            ell_seen = False
            i += 1
        elif c == '.':
            if ell_seen:
                raise RuntimeError(f"einsum(): found '.' for operand {op} for which an ellipsis was already found")
            if equation[i:i + 3] != _ELL or i + 3 > lhs_end:
                raise RuntimeError(f"einsum(): found '.' for operand {op} that is not part of any ellipsis")
            terms[-1].append(_ELL)
            ell_seen = True
            i += 3
        elif c in _LETTERS:
            terms[-1].append(c)
            i += 1
        else:
            raise RuntimeError(f'einsum(): invalid subscript given at index {i} in the equation string, subscripts '
                               'must be in [a-zA-Z]')
    if len(terms) < nops:
        raise RuntimeError('einsum(): more operands were provided than specified in the equation')
    if arrow < 0:
        return terms, None
    out = []
    ell_seen = False
    i = arrow + 2
    while i < len(equation):
        c = equation[i]
        if c == ' ':
            i += 1
        elif c == '.':
            if ell_seen:
                raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
            if equation[i:i + 3] != _ELL:
                raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis (...)")
            out.append(_ELL)
            ell_seen = True
            i += 3
        elif c in _LETTERS:
            if c in out:
                raise RuntimeError(f'einsum(): output subscript {c} appears more than once in the output')
            if not any(c in t for t in terms):
                raise RuntimeError(f'einsum(): output subscript {c} does not appear in the equation for any input '
                                   'operand')
            out.append(c)
            i += 1
        else:
            raise RuntimeError(f'einsum(): invalid subscript given at index {i} in the equation string, subscripts '
                               'must be in [a-zA-Z]')
    return terms, out


def einsum(*args):
    """Einstein summation: ``einsum('ij,jk->ik', a, b)`` or the sublist form ``einsum(a, [0, 1], b, [1, 2])``.

    Letters are ``[a-zA-Z]``; ``...`` stands for broadcast dimensions; without ``->`` the output
    is ``...`` followed by the letters that appear exactly once, sorted. Dimensions of size 1
    broadcast against a letter's other sizes. Operands must share one dtype.
    """
    equation, ops = _einsum_args(args)
    for k, t in enumerate(ops):
        if not isinstance(t, Tensor):
            raise TypeError(f'einsum(): argument \'operands\' (position {k + 2}) must be tuple of Tensors, not '
                            f'{type(t).__name__}')
    if not ops:
        raise RuntimeError('einsum(): must provide at least one operand')
    terms, out = _parse_einsum(equation, len(ops))

    # Ellipsis dimensions: how many each operand has, and their broadcast sizes (right-aligned).
    ell_dims = []
    for k, (term, t) in enumerate(zip(terms, ops)):
        nd = t._data.ndim
        nlab = sum(1 for c in term if c != _ELL)
        if _ELL in term:
            if nlab > nd:
                raise RuntimeError(f'einsum(): the number of subscripts in the equation ({nlab}) is more than the '
                                   f'number of dimensions ({nd}) for operand {k}')
            ell_dims.append(nd - nlab)
        else:
            if nlab != nd:
                raise RuntimeError(f'einsum(): the number of subscripts in the equation ({nlab}) does not match the '
                                   f'number of dimensions ({nd}) for operand {k} and no ellipsis was given')
            ell_dims.append(0)
    n_ell = max(ell_dims)
    used = {c for term in terms for c in term}
    spare = [c for c in _LETTERS if c not in used]
    if n_ell > len(spare):
        raise RuntimeError('einsum(): too many dimensions: at most 52 distinct subscripts are supported')
    ell_letters = spare[:n_ell]

    # Explicit letters for every dimension of every operand, and each letter's size.
    sizes = {}
    ell_sizes = [1] * n_ell
    full_terms = []
    for k, (term, t) in enumerate(zip(terms, ops)):
        shape = t._data.shape
        letters = []
        pos = 0
        for c in term:
            if c == _ELL:
                ne = ell_dims[k]
                for j in range(ne):
                    s = shape[pos + j]
                    e = n_ell - ne + j
                    if s != 1 and ell_sizes[e] != 1 and s != ell_sizes[e]:
                        raise RuntimeError(f'einsum(): dimension {j} covered by ellipsis in operand {k}has size {s} '
                                           'which does not broadcast with previously seen ellipsis with size '
                                           f'{ell_sizes[e]} for the respective dimension')
                    if s != 1:
                        ell_sizes[e] = s
                    letters.append(ell_letters[e])
                pos += ne
            else:
                s = shape[pos]
                if c in letters and shape[letters.index(c)] != s:
                    raise RuntimeError(f'einsum(): subscript {c} is repeated for operand {k} but the sizes don\'t '
                                       f'match, {s} != {shape[letters.index(c)]}')
                prev = sizes.get(c, 1)
                if s != 1 and prev != 1 and s != prev:
                    raise RuntimeError(f'einsum(): subscript {c} has size {s} for operand {k} which does not '
                                       f'broadcast with previously seen size {prev}')
                if s != 1:
                    sizes[c] = s
                else:
                    sizes.setdefault(c, 1)
                letters.append(c)
                pos += 1
        full_terms.append(letters)
    sizes.update(zip(ell_letters, ell_sizes))

    if out is None:
        counts = collections.Counter(c for term in terms for c in term if c != _ELL)
        out_letters = ell_letters + sorted(c for c, n in counts.items() if n == 1)
    else:
        out_letters = []
        for c in out:
            out_letters.extend(ell_letters if c == _ELL else [c])

    # Squeeze size-1 dimensions that broadcast against a larger size of the same letter.
    tensors = []
    for k, (letters, t) in enumerate(zip(full_terms, ops)):
        shape = t._data.shape
        keep = [j for j, c in enumerate(letters) if not (shape[j] == 1 and sizes[c] != 1)]
        if len(keep) != len(letters):
            t = t.reshape(tuple(shape[j] for j in keep))
            full_terms[k] = [letters[j] for j in keep]
        tensors.append(t)
    return _einsum(tuple(''.join(lt) for lt in full_terms), ''.join(out_letters), tensors)


class EinsumBackward0(Node):
    """Backward of a canonical einsum (see the comment above ``einsum``)."""

    __slots__ = ('terms', 'out')

    def backward(self, g):
        ops = self.saved()
        grads = []
        for i, (nxt, _) in enumerate(self.next_functions):
            grads.append(None if nxt is None else _einsum_operand_grad(g, i, self.terms, self.out, ops))
        return tuple(grads)


def _einsum_operand_grad(g, i, terms, out, ops):
    term = terms[i]
    shape = ops[i]._data.shape
    elsewhere = set(out).union(*(terms[j] for j in range(len(terms)) if j != i))
    core = []
    for c in term:
        if c in elsewhere and c not in core:
            core.append(c)
    core = ''.join(core)
    others = [j for j in range(len(terms)) if j != i]
    grad = _einsum((out,) + tuple(terms[j] for j in others), core, [g] + [ops[j] for j in others])
    if core == term:
        return grad
    size = dict(zip(term, shape))
    if len(set(term)) == len(term):
        # Letters summed only within this operand: broadcast the gradient back along them.
        grad = grad.reshape(tuple(size[c] if c in core else 1 for c in term))
        return grad.expand(shape)
    # Repeated letters: a ones-vector restores each summed-away letter, an identity matrix ties each
    # further occurrence of a letter to its first one.
    spare = iter(c for c in _LETTERS if c not in set(term) | elsewhere)
    dt = g._data.dtype
    in_terms, in_ops, target = [core], [grad], []
    seen = set(core)
    for c in term:
        if c not in seen:
            seen.add(c)
            in_terms.append(c)
            in_ops.append(_wrap(np.ones(size[c], dt, like=g._data)))
            target.append(c)
        elif c in target:
            f = next(spare)
            in_terms.append(c + f)
            in_ops.append(_wrap(np.eye(size[c], dtype=dt, like=g._data)))
            target.append(f)
        else:
            target.append(c)
    return _einsum(tuple(in_terms), ''.join(target), in_ops)


def _einsum(terms, out, tensors):
    """A canonical einsum: explicit letters, output given, consistent sizes. Records ``EinsumBackward0``."""
    arrays = [t._data for t in tensors]
    d0 = arrays[0].dtype
    for a in arrays[1:]:
        if a.dtype != d0:
            raise RuntimeError(f'expected scalar type {_tn(arrays[0])} but found {_tn(a)}')
    eq = ','.join(terms) + '->' + out
    result_dtype = d0
    if d0.kind in 'biu':
        # PyTorch sums a letter found in a single operand with ``sum`` (integers accumulate in int64) and
        # contracts letters shared by operands with ``bmm`` (not available for bool).
        counts = collections.Counter(c for t in terms for c in set(t))
        lonely = any(counts[c] == 1 and c not in out for t in terms for c in t)
        contracted = any(counts[c] > 1 and c not in out for c in counts)
        if d0 == np.bool_ and contracted and not lonely:
            raise NotImplementedError('"bmm" not implemented for \'Bool\'')
        if lonely:
            result_dtype = np.dtype(np.int64)
        arrays = [a.astype(np.int64) for a in arrays]
    elif d0 == np.float16:
        arrays = [a.astype(np.float32) for a in arrays]
    if len(arrays) > 1:
        r = np.einsum(eq, *(_blas_ready(a) for a in arrays), optimize='greedy')
    else:
        r = np.einsum(eq, arrays[0])
    r = _wrap(np.asarray(r, result_dtype, like=arrays[0]))
    if _enabled[0] and any(t._requires_grad for t in tensors):
        node = EinsumBackward0(tuple(grad_edge(t) for t in tensors))
        node.save(*tensors)
        node.terms = terms
        node.out = out
        r.grad_fn = node
        r._requires_grad = True
    return r


# ---- tensordot, kron, cross, trace, diagonals --------------------------------------------------------

def tensordot(a, b, dims=2, out=None):
    """Contract dimensions ``dims`` of ``a`` with those of ``b``.

    ``dims`` is an int n (last n of ``a`` with first n of ``b``) or a pair of dimension lists.
    The result has ``a``'s free dimensions followed by ``b``'s.
    """
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    x, y = a._data, b._data
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f'tensordot expects dims >= 0, but got dims={dims}')
        if dims > x.ndim or dims > y.ndim:
            raise RuntimeError(f'tensordot expects dims < ndim_a or ndim_b, but got dims={dims}')
        da, db = list(range(x.ndim - dims, x.ndim)), list(range(dims))
    else:
        da, db = dims
        for d, (arg, pos) in ((da, ('dims_self', 3)), (db, ('dims_other', 4))):
            if isinstance(d, (int, np.integer)):
                raise TypeError(f"tensordot(): argument '{arg}' (position {pos}) must be tuple of ints, not int")
        da, db = list(da), list(db)
    if len(da) != len(db):
        raise RuntimeError('both dimension lists should have same length')
    if x.dtype != y.dtype:
        raise RuntimeError('both inputs should have same dtype')
    da = [_wrap_dim(int(d), x.ndim) for d in da]
    db = [_wrap_dim(int(d), y.ndim) for d in db]
    for p, q in zip(da, db):
        if x.shape[p] != y.shape[q]:
            raise RuntimeError(f'contracted dimensions need to match, but first has size {x.shape[p]} in dim {p} and '
                               f'second has size {y.shape[q]} in dim {q}')
    free_a = [d for d in range(x.ndim) if d not in da]
    free_b = [d for d in range(y.ndim) if d not in db]
    k = math.prod(x.shape[d] for d in da)
    fa = tuple(x.shape[d] for d in free_a)
    fb = tuple(y.shape[d] for d in free_b)
    ma = a.permute(free_a + da).reshape(math.prod(fa), k)
    mb = b.permute(db + free_b).reshape(k, math.prod(fb))
    r = mm(ma, mb).reshape(fa + fb)
    return write_out(out, r) if out is not None else r


def kron(input, other, *, out=None):
    """Kronecker product; the operand with fewer dimensions gets leading size-1 dimensions."""
    from .elementwise import mul
    n = max(input._data.ndim, other._data.ndim)
    sa = (1,) * (n - input._data.ndim) + input._data.shape
    sb = (1,) * (n - other._data.ndim) + other._data.shape
    a = input.reshape(tuple(v for s in sa for v in (s, 1)))
    b = other.reshape(tuple(v for s in sb for v in (1, s)))
    r = mul(a, b).reshape(tuple(p * q for p, q in zip(sa, sb)))
    return write_out(out, r) if out is not None else r


class LinalgCrossBackward0(Node):
    __slots__ = ('dim', 'meta')

    def backward(self, g):
        a, b = self.saved()
        (na, _), (nb, _) = self.next_functions
        ga = reduce_grad(linalg_cross(b, g, dim=self.dim), *self.meta[0]) if na is not None else None
        gb = reduce_grad(linalg_cross(g, a, dim=self.dim), *self.meta[1]) if nb is not None else None
        return ga, gb


def linalg_cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along ``dim``; other dimensions broadcast (``torch.linalg.cross``)."""
    x, y = input._data, other._data
    if x.ndim != y.ndim:
        raise RuntimeError('linalg.cross: inputs must have the same number of dimensions.')
    d = _wrap_dim(dim, x.ndim)
    if x.shape[d] != 3 or y.shape[d] != 3:
        raise RuntimeError(f'linalg.cross: inputs dimension {dim} must have length 3. Got {x.shape[d]} and '
                           f'{y.shape[d]}')
    if x.dtype != y.dtype:
        raise RuntimeError(f'expected scalar type {_tn(x)} but found {_tn(y)}')
    broadcast_shapes_strict(x.shape, y.shape)
    r = _wrap(np.asarray(np.cross(x, y, axis=d), x.dtype, like=x))
    if _enabled[0] and (input._requires_grad or other._requires_grad):
        node = LinalgCrossBackward0((grad_edge(input), grad_edge(other)))
        node.save(input if other._requires_grad else None, other if input._requires_grad else None)
        node.dim = d
        node.meta = ((x.shape, x.dtype), (y.shape, y.dtype))
        r.grad_fn = node
        r._requires_grad = True
    return write_out(out, r) if out is not None else r


def cross(input, other, dim=None, *, out=None):
    """``torch.cross``: ``linalg.cross`` whose default ``dim`` is the first dimension of size 3 (deprecated)."""
    if dim is None:
        warnings.warn('Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim '
                      'explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree '
                      'with that of linalg.cross in a future release.', UserWarning, stacklevel=2)
        sizes = input._data.shape
        dim = next((i for i, s in enumerate(sizes) if s == 3), None)
        if dim is None:
            raise RuntimeError('no dimension of size 3 in input')
    return linalg_cross(input, other, dim=dim, out=out)


class TraceBackward0(Node):
    __slots__ = ('shape',)

    def backward(self, g):
        return (g * _wrap(np.eye(*self.shape, dtype=g._data.dtype, like=g._data)),)


def trace(input):
    """Sum of the main diagonal of a 2-D tensor (integers accumulate in int64)."""
    x = input._data
    if x.ndim != 2:
        raise RuntimeError(f'trace: expected a matrix, but got tensor with dim {x.ndim}')
    _not_for_bool(x, 'trace')
    if x.dtype.kind in 'iu':
        r = np.trace(x, dtype=np.int64)
    elif x.dtype == np.float16:
        r = np.trace(x, dtype=np.float32).astype(np.float16)
    else:
        r = np.trace(x)
    r = _wrap(np.asarray(r, like=x))
    if _enabled[0] and input._requires_grad:
        node = TraceBackward0((grad_edge(input),))
        node.shape = x.shape
        r.grad_fn = node
        r._requires_grad = True
    return r


def _diag_index(n, m, offset):
    """Row and column indices of diagonal ``offset`` of an (n, m) matrix."""
    if offset >= 0:
        length = max(0, min(n, m - offset))
        rows = np.arange(length)
        return rows, rows + offset
    length = max(0, min(n + offset, m))
    cols = np.arange(length)
    return cols - offset, cols


class DiagEmbedBackward0(Node):
    __slots__ = ('args',)

    def backward(self, g):
        from .shape import diagonal
        return (diagonal(g, *self.args),)


def _diagonal_scatter(src, shape, offset, d1, d2):
    """Zeros of ``shape`` with diagonal ``offset`` of the (d1, d2) planes set from ``src``'s last dimension."""
    s = src._data
    r = np.zeros(shape, s.dtype, like=s)
    rows, cols = _diag_index(shape[d1], shape[d2], offset)
    np.moveaxis(r, (d1, d2), (-2, -1))[..., rows, cols] = s
    r = _wrap(r)
    if _enabled[0] and src._requires_grad:
        node = DiagEmbedBackward0((grad_edge(src),))
        node.args = (offset, d1, d2)
        r.grad_fn = node
        r._requires_grad = True
    return r


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose (dim1, dim2) planes have ``input``'s last dimension on diagonal ``offset``."""
    x = input._data
    nd = x.ndim + 1
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f'diagonal dimensions cannot be identical {dim1}, {dim2}')
    n = (x.shape[-1] if x.ndim else 1) + abs(offset)
    rest = iter(x.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(nd))
    return _diagonal_scatter(input if x.ndim else input.reshape(1), shape, offset, d1, d2)


def diag(input, diagonal=0, *, out=None):
    """1-D input: a square matrix with it on diagonal ``diagonal``; 2-D input: that diagonal, as 1-D."""
    x = input._data
    if x.ndim == 1:
        n = x.shape[0] + abs(diagonal)
        r = _diagonal_scatter(input, (n, n), diagonal, 0, 1)
    elif x.ndim == 2:
        from .convert import clone
        from .shape import diagonal as _diagonal
        r = clone(_diagonal(input, diagonal, 0, 1))
    else:
        raise RuntimeError(f'diag(): Supports 1D or 2D tensors. Got {x.ndim}D')
    return write_out(out, r) if out is not None else r


def diagflat(input, offset=0):
    """The flattened ``input`` on diagonal ``offset`` of a square matrix."""
    return diag(input.reshape(-1), offset)


# ---- decompositions and solvers (ember.linalg) ------------------------------------------------------

class LinAlgError(RuntimeError):
    """Raised when a decomposition or solve fails numerically (singular, not positive-definite)."""


class _MultiOutputNode(Node):
    """A node for an op with several outputs, keeping the outputs it needs as arrays.

    Keeping arrays (not the output tensors, which hold this node) avoids a reference cycle;
    ``saved_outputs`` rebuilds them, attached to this node when ``create_graph`` is on.
    """

    __slots__ = ('_outs',)

    def save_outputs(self, *outs):
        self._outs = tuple((o._data, o._vc, o._vc[0]) for o in outs)

    def saved_outputs(self):
        outs = getattr(self, '_outs', None)
        if outs is None:
            self._released = True
            self.saved()  # raises the "backward through the graph a second time" error
        result = []
        for i, (arr, vc, ver) in enumerate(outs):
            if vc[0] != ver:
                raise RuntimeError(
                    'one of the variables needed for gradient computation has been modified by an inplace '
                    f'operation: [{_wrap(arr).type()} {list(arr.shape)}], which is output {i} of {self.name()}, is at '
                    f'version {vc[0]}; expected version {ver} instead. Hint: enable anomaly detection with '
                    'ember.autograd.set_detect_anomaly(True) to find the operation that failed to compute its '
                    'gradient.')
            t = _wrap(arr, True, self) if _enabled[0] else _wrap(arr)
            t._output_nr = i
            t._vc = vc
            result.append(t)
        return result

    def _release_extra(self):
        if getattr(self, '_outs', None) is not None:
            self._outs = None
            self._released = True


def _record_multi(node_cls, input, outs, **fields):
    """Wrap output arrays ``outs`` and, when recording, attach one ``node_cls`` to all of them."""
    outs = [_wrap(o) for o in outs]
    if _enabled[0] and input._requires_grad:
        node = node_cls((grad_edge(input),))
        node.n_outputs = len(outs)
        for k, v in fields.items():
            setattr(node, k, v)
        node.save_outputs(*outs)
        for i, o in enumerate(outs):
            o.grad_fn = node
            o._output_nr = i
            o._requires_grad = True
    return outs


def _check_float(x, fname, low_precision=None):
    """PyTorch's dtype checks for a decomposition: floating input, and no float16 where unsupported."""
    if x.dtype.kind != 'f':
        raise RuntimeError(f'{fname}: Expected a floating point or complex tensor as input. Got {_tn(x)}')
    if x.dtype == np.float16:
        if low_precision is None:
            raise RuntimeError(f'{fname}: Low precision dtypes not supported. Got Half')
        raise NotImplementedError(f'"{low_precision}" not implemented for \'Half\'')


def _check_matrix(x, fname, square=True):
    if x.ndim < 2:
        raise RuntimeError(f'{fname}: The input tensor A must have at least 2 dimensions.')
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f'{fname}: A must be batches of square matrices, but they are {x.shape[-2]} by '
                           f'{x.shape[-1]} matrices')


def _mT(t):
    return t.transpose(-1, -2)


def _eye_like(n, like):
    """An (n, n) identity tensor of ``like``'s dtype and array type."""
    return _wrap(np.eye(n, dtype=like._data.dtype, like=like._data))


def _batch_prefix(x, index):
    return f'(Batch element {index}): ' if x.ndim > 2 else ''


def _first_zero_pivot(a):
    """LAPACK getrf's ``info``: 1-based index of the first exactly-zero pivot of LU with partial pivoting."""
    a = np.array(a, dtype=a.dtype, copy=True, like=a)
    n = a.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        if p != k:
            a[[k, p]] = a[[p, k]]
        a[k + 1:, k:] -= np.multiply.outer(a[k + 1:, k] / a[k, k], a[k, k:])
    return 0


def _singular_index(x):
    """``(batch index, pivot)`` of the first singular matrix in the batch ``x``."""
    flat = x.reshape((-1,) + x.shape[-2:])
    for i, m in enumerate(flat):
        piv = _first_zero_pivot(m)
        if piv:
            return i, piv
    return 0, x.shape[-1]


class LinalgInvExBackward0(SavedOutputNode):
    __slots__ = ()

    def backward(self, g):
        ainv_t = _mT(self.saved_output())
        return (-matmul(matmul(ainv_t, g), ainv_t),)


def _inv_array(x, fname='linalg.inv'):
    try:
        return np.linalg.inv(x)
    except np.linalg.LinAlgError:
        i, piv = _singular_index(x)
        raise LinAlgError(f'{fname}: {_batch_prefix(x, i)}The diagonal element {piv} is zero, the inversion could '
                          'not be completed because the input matrix is singular.') from None


def linalg_inv(A, *, out=None):
    """Inverse of each square matrix in ``A`` (..., n, n); raises ``LinAlgError`` if one is singular."""
    x = A._data
    _check_matrix(x, 'linalg.inv')
    _check_float(x, 'linalg.inv')
    r = _wrap(_inv_array(x).astype(x.dtype, copy=False))
    if _enabled[0] and A._requires_grad:
        node = LinalgInvExBackward0((grad_edge(A),))
        node.save_output(r)
        r.grad_fn = node
        r._requires_grad = True
    return write_out(out, r) if out is not None else r


def inverse(input, *, out=None):
    """Alias of ``ember.linalg.inv``."""
    return linalg_inv(input, out=out)


class LinalgDetBackward0(SavedOutputNode):
    __slots__ = ()

    def backward(self, g):
        a, = self.saved()
        det = self.saved_output()
        gd = (g * det).unsqueeze(-1).unsqueeze(-1)
        singular = det._data == 0
        if np.any(singular):
            # Like PyTorch, a matrix with a zero determinant gets a zero gradient (``g * det`` is 0);
            # an identity stands in for it so that the inverse exists.
            keep = _wrap((~singular)[..., None, None].astype(a._data.dtype))
            a = a * keep + _eye_like(a._data.shape[-1], a) * (1 - keep)
        return (gd * _mT(linalg_inv(a)),)


def linalg_det(A, *, out=None):
    """Determinant of each square matrix in ``A`` (..., n, n) -> (...)."""
    x = A._data
    _check_matrix(x, 'linalg.det')
    _check_float(x, 'linalg.det', 'lu_cpu')
    r = _wrap(np.asarray(np.linalg.det(x), x.dtype, like=x))
    if _enabled[0] and A._requires_grad:
        node = LinalgDetBackward0((grad_edge(A),))
        node.save(A)
        node.save_output(r)
        r.grad_fn = node
        r._requires_grad = True
    return write_out(out, r) if out is not None else r


def det(input):
    """Alias of ``ember.linalg.det``."""
    return linalg_det(input)


class LinalgSlogdetBackward0(_MultiOutputNode):
    __slots__ = ()

    def backward(self, grads):
        a, = self.saved()
        g = grads[1]
        if g is None:
            return (None,)
        return (g.unsqueeze(-1).unsqueeze(-1) * _mT(linalg_inv(a)),)


def linalg_slogdet(A, *, out=None):
    """``(sign, logabsdet)`` of the determinant of each square matrix in ``A``."""
    x = A._data
    _check_matrix(x, 'linalg.slogdet')
    _check_float(x, 'linalg.slogdet')
    sign, logabs = np.linalg.slogdet(x)
    outs = _record_multi(LinalgSlogdetBackward0, A,
                         [np.asarray(sign, x.dtype, like=x), np.asarray(logabs, x.dtype, like=x)])
    if outs[0].grad_fn is not None:
        outs[0].grad_fn.save(A)
    return return_types.linalg_slogdet(tuple(outs))


def slogdet(input):
    """``ember.linalg.slogdet`` (result type ``slogdet``)."""
    return return_types.slogdet(tuple(linalg_slogdet(input)))


def logdet(input):
    """Log of the determinant: nan for a negative determinant, -inf for a zero one."""
    sign, logabs = linalg_slogdet(input)
    return logabs.masked_fill(sign < 0, float('nan'))


class LinalgSolveExBackward0(SavedOutputNode):
    __slots__ = ('vec', 'meta')

    def backward(self, g):
        a, = self.saved()
        x = self.saved_output()
        (na, _), (nb, _) = self.next_functions
        if self.vec:
            g, x = g.unsqueeze(-1), x.unsqueeze(-1)
        gb = _solve(_mT(a), g)
        ga = None
        if na is not None:
            ga = reduce_grad(-matmul(gb, _mT(x)), *self.meta[0])
        if nb is not None:
            gb = reduce_grad(gb.squeeze(-1) if self.vec else gb, *self.meta[1])
        else:
            gb = None
        return ga, gb


def _solve(a, b):
    """Solve ``a @ X = b`` for matrices ``b`` (batches broadcast), as an Ember op with a gradient."""
    return linalg_solve(a, b) if b._data.ndim > 1 else linalg_solve(a, b.unsqueeze(-1)).squeeze(-1)


def linalg_solve(A, B, *, left=True, out=None):
    """The solution ``X`` of ``A @ X = B`` (``X @ A = B`` if not ``left``); batch dimensions broadcast.

    ``B`` is a batch of vectors when it is 1-D or has the shape ``A.shape[:-1]``.
    """
    if not left:
        r = _mT(linalg_solve(_mT(A), _mT(B)))
        return write_out(out, r) if out is not None else r
    a, b = A._data, B._data
    _check_matrix(a, 'linalg.solve')
    _check_float(a, 'linalg.solve')
    if a.dtype != b.dtype:
        raise RuntimeError(f'linalg.solve: Expected A and B to have the same dtype, but found A of type {_tn(a)} and B '
                           f'of type {_tn(b)} instead')
    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    bm = b[..., None] if vec else b
    n = a.shape[-1]
    if bm.shape[-2] != n:
        raise RuntimeError(f'linalg.solve: Incompatible shapes of A and B for the equation AX = B ({n}x{n} and '
                           f'{bm.shape[-2]}x{bm.shape[-1]})')
    batch = broadcast_shapes_strict(a.shape[:-2], bm.shape[:-2])
    ab = np.broadcast_to(a, batch + a.shape[-2:])
    bb = np.broadcast_to(bm, batch + bm.shape[-2:])
    try:
        x = np.linalg.solve(ab, bb)
    except np.linalg.LinAlgError:
        i, _ = _singular_index(ab)
        raise LinAlgError(f'ember.linalg.solve: {_batch_prefix(ab, i)}The solver failed because the input matrix is '
                          'singular.') from None
    r = _wrap(np.asarray(x[..., 0] if vec else x, a.dtype, like=a))
    if _enabled[0] and (A._requires_grad or B._requires_grad):
        node = LinalgSolveExBackward0((grad_edge(A), grad_edge(B)))
        node.save(A)
        node.save_output(r)
        node.vec = vec
        node.meta = ((a.shape, a.dtype), (b.shape, b.dtype))
        r.grad_fn = node
        r._requires_grad = True
    return write_out(out, r) if out is not None else r


class LinalgCholeskyExBackward0(SavedOutputNode):
    __slots__ = ('upper',)

    def backward(self, g):
        L = self.saved_output()
        if self.upper:
            L, g = _mT(L), _mT(g)
        # gA = L^{-H} S L^{-1} with S = 0.5 * (T + tril(T, -1)^H) and T = tril(L^H gL).
        t = matmul(_mT(L), g).tril()
        s = (t + _mT(t.tril(-1))) * 0.5
        linv = linalg_inv(L)
        return (matmul(matmul(_mT(linv), s), linv),)


def _cholesky_array(x, fname):
    try:
        return np.linalg.cholesky(x)
    except np.linalg.LinAlgError:
        flat = x.reshape((-1,) + x.shape[-2:])
        for i, m in enumerate(flat):
            for k in range(1, m.shape[0] + 1):
                try:
                    np.linalg.cholesky(m[:k, :k])
                except np.linalg.LinAlgError:
                    raise LinAlgError(f'{fname}: {_batch_prefix(x, i)}The factorization could not be completed '
                                      'because the input is not positive-definite (the leading minor of order '
                                      f'{k} is not positive-definite).') from None
        raise


def linalg_cholesky(A, *, upper=False, out=None):
    """Cholesky factor ``L`` (lower) with ``A = L L^T``, or ``U = L^T`` if ``upper``; reads the lower triangle."""
    x = A._data
    _check_matrix(x, 'linalg.cholesky')
    _check_float(x, 'linalg.cholesky', 'cholesky_cpu')
    L = _cholesky_array(x, 'linalg.cholesky').astype(x.dtype, copy=False)
    r = _wrap(np.ascontiguousarray(np.swapaxes(L, -1, -2), like=L) if upper else L)
    if _enabled[0] and A._requires_grad:
        node = LinalgCholeskyExBackward0((grad_edge(A),))
        node.upper = upper
        node.save_output(r)
        r.grad_fn = node
        r._requires_grad = True
    return write_out(out, r) if out is not None else r


def cholesky(input, upper=False, *, out=None):
    """``torch.cholesky`` (deprecated in PyTorch in favour of ``linalg.cholesky``)."""
    return linalg_cholesky(input, upper=upper, out=out)


class LinalgQrBackward0(_MultiOutputNode):
    __slots__ = ('mode', 'shape')

    def backward(self, grads):
        gq, gr = grads
        m, n = self.shape[-2:]
        if self.mode == 'r':
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                               "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
        if self.mode == 'complete' and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        q, r = self.saved_outputs()
        if m >= n:
            return (_qr_backward_tall(gq, gr, q, r),)
        # A = [X | Y] with X square: X = Q R1 and Y = Q R2, so R2 = Q^T Y.
        r1, r2 = r[..., :, :m], r[..., :, m:]
        gr1 = gr2 = None
        if gr is not None:
            gr1, gr2 = gr[..., :, :m], gr[..., :, m:]
            y = matmul(q, r2)
            gq = matmul(y, _mT(gr2)) if gq is None else gq + matmul(y, _mT(gr2))
        gx = _qr_backward_tall(gq, gr1, q, r1)
        gy = matmul(q, gr2) if gr2 is not None else \
            _wrap(np.zeros(self.shape[:-1] + (n - m,), q._data.dtype, like=q._data))
        from .join import cat
        return (cat([gx, gy], -1),)


def _qr_backward_tall(gq, gr, q, r):
    """Gradient of A = QR (m >= n, reduced): (gQ + Q copyltu(M)) R^{-T}, M = R gR^T - gQ^T Q."""
    m_ = None
    if gr is not None:
        m_ = matmul(r, _mT(gr))
    if gq is not None:
        m_ = -matmul(_mT(gq), q) if m_ is None else m_ - matmul(_mT(gq), q)
    if m_ is None:
        return None
    b = matmul(q, m_.tril() + _mT(m_.tril(-1)))
    if gq is not None:
        b = b + gq
    return _mT(_solve(r, _mT(b)))


def linalg_qr(A, mode='reduced', *, out=None):
    """``(Q, R)`` with ``A = Q R``; ``mode`` 'reduced' (k = min(m, n) columns), 'complete' or 'r' (Q empty)."""
    x = A._data
    if mode not in ('reduced', 'complete', 'r'):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
                           "'complete'")
    _check_matrix(x, 'linalg.qr', square=False)
    _check_float(x, 'linalg.qr', 'geqrf_cpu')
    if mode == 'r':
        q = np.zeros((0,), x.dtype, like=x)
        r = np.linalg.qr(x, mode='r')
    else:
        q, r = np.linalg.qr(x, mode=mode)
    q, r = _record_multi(LinalgQrBackward0, A, [np.asarray(q, x.dtype, like=x), np.asarray(r, x.dtype, like=x)],
                         mode=mode, shape=x.shape)
    return return_types.linalg_qr((q, r))


def qr(input, some=True, *, out=None):
    """``torch.qr``: ``linalg.qr`` with mode 'reduced' (``some``) or 'complete'."""
    return return_types.qr(tuple(linalg_qr(input, 'reduced' if some else 'complete')))


class LinalgEighBackward0(_MultiOutputNode):
    __slots__ = ()

    def backward(self, grads):
        gl, gv = grads
        lam, v = self.saved_outputs()
        if gv is None:
            if gl is None:
                return (None,)
            return (matmul(v * gl.unsqueeze(-2), _mT(v)),)
        n = lam._data.shape[-1]
        # gA = V (skew(V^T gV) / E + diag(gL)) V^T with E_ij = L_j - L_i (1 on the diagonal).
        vhgv = matmul(_mT(v), gv)
        vhgv = (vhgv - _mT(vhgv)) * 0.5
        e = lam.unsqueeze(-2) - lam.unsqueeze(-1) + _eye_like(n, lam)
        ret = vhgv / e
        if gl is not None:
            ret = ret + diag_embed(gl)
        return (matmul(v, matmul(ret, _mT(v))),)


def _check_uplo(UPLO):
    if UPLO not in ('L', 'U'):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def linalg_eigh(A, UPLO='L', *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric matrices.

    Only the ``UPLO`` triangle ('L' lower, 'U' upper) of ``A`` is read.
    """
    x = A._data
    _check_matrix(x, 'linalg.eigh')
    _check_uplo(UPLO)
    if x.dtype.kind != 'f' or x.dtype == np.float16:
        raise NotImplementedError(f'"linalg_eigh_cpu" not implemented for \'{_tn(x)}\'')
    w, v = np.linalg.eigh(x, UPLO)
    w, v = _record_multi(LinalgEighBackward0, A, [np.asarray(w, x.dtype, like=x), np.asarray(v, x.dtype, like=x)])
    return return_types.linalg_eigh((w, v))


def linalg_eigvalsh(A, UPLO='L', *, out=None):
    """Eigenvalues (ascending) of symmetric matrices (only the ``UPLO`` triangle is read)."""
    x = A._data
    if _enabled[0] and A._requires_grad:
        r = linalg_eigh(A, UPLO)[0]
    else:
        _check_matrix(x, 'linalg.eigh')
        _check_uplo(UPLO)
        if x.dtype.kind != 'f' or x.dtype == np.float16:
            raise NotImplementedError(f'"linalg_eigh_cpu" not implemented for \'{_tn(x)}\'')
        r = _wrap(np.asarray(np.linalg.eigvalsh(x, UPLO), x.dtype, like=x))
    return write_out(out, r) if out is not None else r


class LinalgSvdBackward0(_MultiOutputNode):
    __slots__ = ('full',)

    def backward(self, grads):
        gu, gs, gvh = grads
        u, s, vh = self.saved_outputs()
        if self.full:
            # Only the first k = min(m, n) singular vectors are determined by A.
            k = s._data.shape[-1]
            u, vh = u[..., :, :k], vh[..., :k, :]
            gu = gu[..., :, :k] if gu is not None else None
            gvh = gvh[..., :k, :] if gvh is not None else None
        return (_svd_backward(gu, gs, gvh, u, s, vh),)


def _svd_backward(gu, gs, gvh, u, s, vh):
    """PyTorch's ``svd_backward`` for real matrices (reduced U (m, k), S (k,), Vh (k, n))."""
    if gu is None and gvh is None:
        if gs is None:
            return None
        return matmul(u * gs.unsqueeze(-2), vh)
    m, n = u._data.shape[-2], vh._data.shape[-1]
    k = s._data.shape[-1]
    v = _mT(vh)
    gv = _mT(gvh) if gvh is not None else None
    uhgu = vhgv = None
    if gu is not None:
        uhgu = matmul(_mT(u), gu)
        uhgu = uhgu - _mT(uhgu)
    if gv is not None:
        vhgv = matmul(vh, gv)
        vhgv = vhgv - _mT(vhgv)
    s2 = s * s
    e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + _eye_like(k, s)
    if uhgu is not None and vhgv is not None:
        ret = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) / e
    elif uhgu is not None:
        ret = uhgu * (s.unsqueeze(-2) / e)
    else:
        ret = s.unsqueeze(-1) * (vhgv / e)
    if gs is not None:
        ret = ret + diag_embed(gs)
    if m > n and gu is not None:
        ga = matmul(u, ret)
        gu_sinv = gu / s.unsqueeze(-2)
        ga = ga + gu_sinv - matmul(u, matmul(_mT(u), gu_sinv))
        return matmul(ga, vh)
    if m < n and gv is not None:
        ga = matmul(ret, vh)
        sinv_gvh = gvh / s.unsqueeze(-1)
        ga = ga + sinv_gvh - matmul(matmul(sinv_gvh, v), vh)
        return matmul(u, ga)
    return matmul(u, matmul(ret, vh)) if m >= n else matmul(matmul(u, ret), vh)


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``; S descending. ``full_matrices=False`` keeps k = min(m, n)."""
    x = A._data
    if driver is not None:
        raise RuntimeError('torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with '
                           'cuSOLVER backend.')
    _check_matrix(x, 'linalg.svd', square=False)
    _check_float(x, 'linalg.svd', 'linalg_svd_cpu')
    u, s, vh = _svd_arrays(x, full_matrices)
    u, s, vh = _record_multi(LinalgSvdBackward0, A, [u, s, vh], full=full_matrices)
    return return_types.linalg_svd((u, s, vh))


def _svd_arrays(x, full_matrices):
    m, n = x.shape[-2:]
    if x.size == 0:
        # LAPACK is not called on empty matrices; the singular vectors are identity blocks.
        k = min(m, n)
        um, vn = (m, n) if full_matrices else (k, k)
        u = np.broadcast_to(np.eye(m, um, dtype=x.dtype, like=x), x.shape[:-2] + (m, um)).copy()
        vh = np.broadcast_to(np.eye(vn, n, dtype=x.dtype, like=x), x.shape[:-2] + (vn, n)).copy()
        return u, np.zeros(x.shape[:-2] + (k,), x.dtype, like=x), vh
    u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
    return np.asarray(u, x.dtype, like=x), np.asarray(s, x.dtype, like=x), np.asarray(vh, x.dtype, like=x)


def linalg_svdvals(A, *, driver=None, out=None):
    """Singular values (descending) of each matrix in ``A``."""
    x = A._data
    if _enabled[0] and A._requires_grad:
        r = linalg_svd(A, full_matrices=False, driver=driver)[1]
    else:
        _check_matrix(x, 'linalg.svd', square=False)
        _check_float(x, 'linalg.svd', 'linalg_svd_cpu')
        r = _wrap(_svd_arrays(x, False)[1] if x.size == 0 else
                  np.asarray(np.linalg.svd(x, compute_uv=False), x.dtype, like=x))
    return write_out(out, r) if out is not None else r


def svd(input, some=True, compute_uv=True, *, out=None):
    """``torch.svd``: ``(U, S, V)`` (V, not Vh); ``some`` keeps k = min(m, n) vectors."""
    if not compute_uv:
        s = linalg_svdvals(input)
        x = input._data
        m, n = x.shape[-2:]
        zu = _wrap(np.zeros(x.shape[:-2] + (m, m), x.dtype, like=x))
        zv = _wrap(np.zeros(x.shape[:-2] + (n, n), x.dtype, like=x))
        return return_types.svd((zu, s, zv))
    u, s, vh = linalg_svd(input, full_matrices=not some)
    return return_types.svd((u, s, _mT(vh)))


def _tolerance(x, s_max, atol, rtol):
    """The cut-off ``max(atol, rtol * s_max)`` of ``pinv``/``matrix_rank`` (PyTorch's defaults)."""
    def arr(v):
        return v._data if isinstance(v, Tensor) else v
    atol, rtol = arr(atol), arr(rtol)
    if rtol is None:
        no_atol = atol is None or np.all(np.asarray(atol, like=x) <= 0)
        rtol = np.finfo(x.dtype).eps * max(x.shape[-2:]) if no_atol else 0.0
    if atol is None:
        atol = 0.0
    atol = np.asarray(atol, x.dtype, like=x)
    rtol = np.asarray(rtol, x.dtype, like=x)
    if atol.ndim:
        atol = atol[..., None]
    if rtol.ndim:
        rtol = rtol[..., None]
    return np.maximum(atol, rtol * s_max)


class LinalgPinvBackward0(SavedOutputNode):
    """PyTorch's ``pinv_backward`` (Golub and Pereyra's formula, valid while the rank is constant)."""

    __slots__ = ()

    def backward(self, g):
        a, = self.saved()
        p = self.saved_output()
        m, n = a._data.shape[-2:]
        ph, gh = _mT(p), _mT(g)
        if m <= n:
            k = matmul(gh, p)
            kph = matmul(k, ph)
            return (-_mT(matmul(p, k)) + kph - matmul(matmul(a, p), kph) + matmul(matmul(ph, p), gh - matmul(k, a)),)
        k = matmul(p, gh)
        phk = matmul(ph, k)
        return (-_mT(matmul(k, p)) + matmul(matmul(gh - matmul(a, k), p), ph) + phk - matmul(matmul(phk, p), a),)


def linalg_pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Moore-Penrose pseudo-inverse (n, m) of ``A`` (..., m, n), from its SVD (or ``eigh`` if ``hermitian``).

    Singular values at or below ``max(atol, rtol * largest)`` are treated as zero; ``rtol``
    defaults to ``eps * max(m, n)`` when neither tolerance is given (else to 0).
    """
    x = A._data
    if x.ndim < 2 or x.dtype not in (np.float32, np.float64):
        raise RuntimeError(f'linalg.pinv({_tn(x)}{{{list(x.shape)}}}): expected a tensor with 2 or more dimensions of '
                           'float, double, cfloat or cdouble types')
    if hermitian:
        w, v = np.linalg.eigh(x)
        absw = np.abs(w)
        s_max = absw.max(-1, keepdims=True) if absw.shape[-1] else absw[..., :1]
        keep = absw > _tolerance(x, s_max, atol, rtol)
        winv = np.divide(1, w, out=np.zeros_like(w), where=keep)
        r = (v * winv[..., None, :]) @ np.swapaxes(v, -1, -2)
    else:
        u, s, vh = _svd_arrays(x, False)
        keep = s > _tolerance(x, s[..., :1], atol, rtol)
        sinv = np.divide(1, s, out=np.zeros_like(s), where=keep)
        r = (np.swapaxes(vh, -1, -2) * sinv[..., None, :]) @ np.swapaxes(u, -1, -2)
    r = _wrap(np.asarray(r, x.dtype, like=x))
    if _enabled[0] and A._requires_grad:
        node = LinalgPinvBackward0((grad_edge(A),))
        node.save(A)
        node.save_output(r)
        r.grad_fn = node
        r._requires_grad = True
    return write_out(out, r) if out is not None else r


def pinverse(input, rcond=1e-15):
    """``torch.pinverse``: ``linalg.pinv`` with relative tolerance ``rcond``."""
    return linalg_pinv(input, rtol=rcond)


def linalg_matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    """Number of singular values above ``max(atol, rtol * largest)`` (int64); ``tol`` is a legacy ``atol``."""
    x = A._data
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    _check_matrix(x, 'linalg.matrix_rank', square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    if hermitian:
        s = np.abs(np.linalg.eigvalsh(x))
        s_max = s.max(-1, keepdims=True) if s.shape[-1] else s[..., :1]
    else:
        s = _svd_arrays(x, False)[1] if x.size == 0 else np.linalg.svd(x, compute_uv=False)
        s_max = s[..., :1]
    r = _wrap(np.sum(s > _tolerance(x, s_max, atol, rtol), -1, dtype=np.int64))
    return write_out(out, r) if out is not None else r


def linalg_matrix_power(A, n, *, out=None):
    """``A`` multiplied by itself ``n`` times (identity for 0; the inverse's power for n < 0)."""
    x = A._data
    _check_matrix(x, 'linalg.matrix_power')
    n = int(n)
    if n == 0:
        r = _wrap(np.broadcast_to(np.eye(x.shape[-1], dtype=x.dtype, like=x), x.shape).copy())
        if _enabled[0] and A._requires_grad:
            node = CopyBackwards((grad_edge(A), (None, 0)))
            r.grad_fn = node
            r._requires_grad = True
    else:
        base = linalg_inv(A) if n < 0 else A
        n = abs(n)
        r = None
        while True:
            if n & 1:
                r = base if r is None else matmul(r, base)
            n >>= 1
            if not n:
                break
            base = matmul(base, base)
        if r is A:
            from .convert import clone
            r = clone(A)
    return write_out(out, r) if out is not None else r


def matrix_power(input, n):
    """Alias of ``ember.linalg.matrix_power``."""
    return linalg_matrix_power(input, n)


def linalg_vecdot(x, y, *, dim=-1, out=None):
    """Dot products of vectors along ``dim`` (other dimensions broadcast)."""
    from .reduce import sum as _sum
    a, b = x._data, y._data
    if a.dtype.kind != 'f':
        raise RuntimeError(f'linalg.vecdot: Expected a floating point or complex tensor as input. Got {_tn(a)}')
    if a.dtype != b.dtype:
        raise RuntimeError(f'linalg.vecdot: Expected x and y to have the same dtype, but found x of type {_tn(a)} and '
                           f'y of type {_tn(b)} instead')
    r = _sum(x * y, dim)
    return write_out(out, r) if out is not None else r


def linalg_multi_dot(tensors, *, out=None):
    """The product of a chain of matrices, multiplied in the cheapest order.

    The first tensor may be 1-D (a row vector) and the last 1-D (a column vector); the others are 2-D.
    """
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f'multi_dot(): expected at least 2 tensors but got {n}')
    shapes = []
    for i, t in enumerate(tensors):
        nd = t._data.ndim
        if i in (0, n - 1) and nd not in (1, 2):
            which = 'first' if i == 0 else 'last'
            raise RuntimeError(f'multi_dot(): the {which} tensor must be 1D or 2D but got {nd}D')
        if 0 < i < n - 1 and nd != 2:
            raise RuntimeError(f'multi_dot(): tensor {i} must be 2D but got {nd}D')
        if t._data.dtype != tensors[0]._data.dtype:
            first, this = _CPP_NAME[tensors[0]._data.dtype.name], _CPP_NAME[t._data.dtype.name]
            raise RuntimeError(f'multi_dot(): all tensors must have be the same dtype but tensor 0 is {first} and '
                               f'tensor {i} {this}')
    mats = list(tensors)
    first_vec = mats[0]._data.ndim == 1
    last_vec = mats[-1]._data.ndim == 1
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(-1)
    shapes = [m._data.shape for m in mats]
    for i in range(n - 1):
        if shapes[i][1] != shapes[i + 1][0]:
            raise RuntimeError(f'multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i]._data.shape)} and '
                               f'{list(tensors[i + 1]._data.shape)} cannot be multiplied')
    dims = [shapes[0][0]] + [s[1] for s in shapes]
    # Matrix-chain order by dynamic programming over split points.
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def chain(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return mm(chain(i, k), chain(k + 1, j))

    r = chain(0, n - 1)
    if first_vec or last_vec:
        r = r.reshape(tuple(s for s, drop in zip(r._data.shape, (first_vec, last_vec)) if not drop))
    return write_out(out, r) if out is not None else r


def chain_matmul(*matrices, out=None):
    """``torch.chain_matmul`` (deprecated in PyTorch): ``linalg.multi_dot`` of 2-D tensors."""
    if len(matrices) == 1:
        from .convert import clone
        return clone(matrices[0])
    return linalg_multi_dot(matrices, out=out)


# ---- norms -------------------------------------------------------------------------------------------

def linalg_vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """``(sum |x|^ord)^(1/ord)`` over ``dim`` (all dimensions if None); ``ord`` may be inf, -inf or 0.

    With ``dtype`` the input is converted to it first. The kernel is the reductions' vector norm.
    """
    from .reduce import _vector_norm
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: Expected a number for ord, got '{ord}'")
    if dtype is not None:
        d = _dtype.to_dtype(dtype)
        if not d.is_floating_point:
            raise RuntimeError(f'linalg.vector_norm: dtype should be floating point or complex, but got '
                               f'{_TYPE_NAME[d.name]}')
        if x._data.dtype.kind == 'f' and _dtype.promote_types(x.dtype, d) is not d:
            raise RuntimeError(f'linalg.vector_norm: the dtype of the input ({_tn(x._data)}) should be convertible '
                               f'without narrowing to the specified dtype ({_TYPE_NAME[d.name]})')
    r = _vector_norm(x, ord, dim, keepdim, dtype)
    return write_out(out, r) if out is not None else r


def _norm_dtype(x, dtype, fname):
    if x._data.dtype.kind != 'f':
        raise RuntimeError(f'{fname}: Expected a floating point or complex tensor as input. Got {_tn(x._data)}')
    return x if dtype is None else x.to(dtype)


def _matrix_norm_dims(x, dim, fname):
    if isinstance(dim, (int, np.integer)):
        dim = (dim,)
    if len(dim) != 2:
        raise RuntimeError(f'{fname}: dim must be a 2-tuple. Got {" ".join(str(d) for d in dim)}')
    d0, d1 = _wrap_dim(dim[0], x.ndim), _wrap_dim(dim[1], x.ndim)
    if d0 == d1:
        raise RuntimeError(f'{fname}: dims must be different. Got ({dim[0]}, {dim[1]})')
    return d0, d1


def linalg_matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norm over the two dimensions ``dim``: 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2."""
    x = A._data
    if x.ndim < 2:
        raise RuntimeError('linalg.matrix_norm: The input tensor A must have at least 2 dimensions.')
    A = _norm_dtype(A, dtype, 'linalg.matrix_norm')
    d0, d1 = _matrix_norm_dims(x, dim, 'linalg.matrix_norm')
    if isinstance(ord, str):
        if ord == 'fro':
            r = linalg_vector_norm(A, 2, (d0, d1), keepdim)
        elif ord == 'nuc':
            r = _svd_norm(A, d0, d1, keepdim, lambda s: s.sum(-1))
        else:
            raise RuntimeError(f'linalg.matrix_norm: Order {ord} not supported.')
    elif ord in (2, -2):
        r = _svd_norm(A, d0, d1, keepdim, lambda s: s[..., 0] if ord == 2 else s[..., -1])
    elif ord in (1, -1, math.inf, -math.inf):
        # ord 1: the largest column sum of |A|; inf: the largest row sum. -1 and -inf take the smallest.
        summed, reduced = (d0, d1) if abs(ord) == 1 else (d1, d0)
        sums = linalg_vector_norm(A, 1, summed, True)
        r = linalg_vector_norm(sums, math.inf if ord > 0 else -math.inf, reduced, True)
        if not keepdim:
            r = r.reshape(tuple(s for i, s in enumerate(r._data.shape) if i not in (d0, d1)))
    else:
        raise RuntimeError(f'linalg.matrix_norm: Order {ord} not supported.')
    return write_out(out, r) if out is not None else r


def _svd_norm(A, d0, d1, keepdim, reduce):
    """A norm computed from the singular values of the (d0, d1) matrices of ``A``."""
    nd = A._data.ndim
    rest = [i for i in range(nd) if i not in (d0, d1)]
    s = linalg_svdvals(A.permute(rest + [d0, d1]))
    r = reduce(s)
    if keepdim:
        for d in sorted((d0, d1)):
            r = r.unsqueeze(d)
    return r


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """``ember.linalg.norm``: a matrix norm when ``ord`` is given and ``dim`` is a 2-tuple (or, without
    ``dim``, ``A`` is 2-D) or ``ord`` is a string; otherwise a vector norm (2-norm if ``ord`` is None)."""
    x = A._data
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(f'linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}')
    elif ord is not None and x.ndim not in (1, 2):
        raise RuntimeError(f'linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got '
                           f'{x.ndim}D.')
    if isinstance(ord, str) or (ord is not None and (len(dims) == 2 if dim is not None else x.ndim == 2)):
        r = linalg_matrix_norm(A, ord, dims if dim is not None else (0, 1), keepdim, dtype=dtype)
    else:
        r = linalg_vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return write_out(out, r) if out is not None else r


# ---- exports -----------------------------------------------------------------------------------------

def _rmatmul(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(other, self)


__all__ = [
    'matmul', 'mm', 'bmm', 'mv', 'dot', 'vdot', 'inner', 'outer', 'ger', 'einsum', 'tensordot', 'addmm', 'addmv',
    'addr', 'baddbmm', 'addbmm', 'kron', 'cross', 'trace', 'diag', 'diag_embed', 'diagflat', 'det',
    'logdet', 'slogdet', 'inverse', 'cholesky', 'qr', 'svd', 'pinverse', 'matrix_power', 'chain_matmul',
]

METHODS = {name: globals()[name] for name in (
    'matmul', 'mm', 'bmm', 'mv', 'dot', 'vdot', 'inner', 'outer', 'ger', 'addmm', 'addmv', 'addr', 'baddbmm',
    'addbmm', 'kron', 'cross', 'trace', 'diag', 'diag_embed', 'diagflat', 'det', 'logdet', 'slogdet',
    'inverse', 'cholesky', 'qr', 'svd', 'pinverse', 'matrix_power')}
METHODS.update({name + '_': inplace_variant(globals()[name], name + '_')
                for name in ('addmm', 'addmv', 'addr', 'baddbmm', 'addbmm')})
METHODS.update(__matmul__=matmul, __rmatmul__=_rmatmul)
