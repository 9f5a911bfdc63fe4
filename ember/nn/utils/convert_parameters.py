"""Flatten parameters into one vector and back."""
from ..._tensor import Tensor

__all__ = ['parameters_to_vector', 'vector_to_parameters']


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    return ('' if module in ('builtins', '__builtin__') else module + '.') + type(obj).__qualname__


def _check_same_device(param, old_device):
    """Parameters must all be on one device (-1 stands for the CPU)."""
    device = param.get_device() if param.device.type == 'cuda' else -1
    if old_device is not None and device != old_device:
        raise TypeError('Found two parameters on different devices, this is currently not supported.')
    return device


def parameters_to_vector(parameters):
    """Concatenate the (contiguous) parameters, flattened, into one 1-D tensor (differentiable)."""
    from ...ops.join import cat
    device = None
    flat = []
    for param in parameters:
        device = _check_same_device(param, device)
        flat.append(param.view(-1))
    return cat(flat)


def vector_to_parameters(vec, parameters):
    """Make each parameter's data the matching slice of the 1-D tensor ``vec`` (shared, not copied)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f'expected torch.Tensor, but got: {_typename(vec)}')
    device = None
    pointer = 0
    for param in parameters:
        device = _check_same_device(param, device)
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
