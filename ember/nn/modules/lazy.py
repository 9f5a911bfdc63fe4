"""Lazy modules: ``LazyLinear`` and ``LazyConv1d/2d/3d`` / ``LazyConvTranspose1d/2d/3d``, whose input size is
inferred from the first input, as in PyTorch.

How it works. A lazy module starts with ``UninitializedParameter`` weights (no shape, no values) and a
forward pre-hook. The first call runs ``initialize_parameters(input)``: it reads the input size from
the input's shape, materialises the parameters and initialises them with the layer's usual
``reset_parameters`` (so a seeded run draws the same numbers as PyTorch's), then removes the hook and
turns the module into its ``cls_to_become`` (``Linear``, ``Conv2d``, ...). Loading a state_dict before
that materialises the parameters with the stored shapes; ``state_dict()`` of an uninitialised module
holds the ``UninitializedParameter`` objects themselves.
"""
from ..parameter import UninitializedParameter, is_lazy
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear

__all__ = ['LazyModuleMixin', 'LazyLinear', 'LazyConv1d', 'LazyConv2d', 'LazyConv3d', 'LazyConvTranspose1d',
           'LazyConvTranspose2d', 'LazyConvTranspose3d']


class LazyModuleMixin:
    """Mixin of modules whose parameters' shapes depend on their first input (put it first among the bases).

    Subclasses implement ``initialize_parameters(*args, **kwargs)``, which receives the first forward's
    arguments and materialises every ``UninitializedParameter``; ``cls_to_become`` (or ``None``) is the
    class the module takes afterwards.
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f'initialize_parameters is not implemented for {type(self).__name__}')

    def has_uninitialized_params(self):
        """True while a parameter or buffer is still uninitialised."""
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f'module {self._get_name()} has not been fully initialized')
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # uninitialised entries are stored as they are: detaching would turn them into empty tensors
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars or is_lazy(p) else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars or is_lazy(b) else b.detach()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs, assign=False):
        lazy_in_both = []
        for name, param in (*self._parameters.items(), *self._buffers.items()):
            key = prefix + name
            if param is None or key not in state_dict or not is_lazy(param):
                continue
            if is_lazy(state_dict[key]):
                lazy_in_both.append(key)
            else:
                param.materialize(state_dict[key].shape)
        if lazy_in_both:
            # nothing to copy from an uninitialised entry into an uninitialised parameter
            state_dict = {k: v for k, v in state_dict.items() if k not in lazy_in_both}
            n_missing = len(missing_keys)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs, assign)
        if lazy_in_both:
            missing_keys[n_missing:] = [k for k in missing_keys[n_missing:] if k not in lazy_in_both]

    def _apply(self, fn):
        # a dtype cast changes an uninitialised parameter's future dtype and keeps it uninitialised
        lazy = {k: p for k, p in self._parameters.items() if is_lazy(p)}
        for k in lazy:
            self._parameters[k] = None
        try:
            super()._apply(fn)
        finally:
            for k, p in lazy.items():
                p._data = fn(p)._data
                self._parameters[k] = p
        return self


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is inferred from the last dimension of the first input.

    Input ``(*, in_features)``, output ``(*, out_features)``. Until the first forward ``weight`` and
    ``bias`` are ``UninitializedParameter`` and ``in_features`` is 0; then the module becomes a ``Linear``
    initialised as ``Linear(in_features, out_features)`` would be.
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        # bias=False: no tensor is made here only to be replaced
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """Materialise ``weight`` ``(out_features, input.shape[-1])`` and ``bias``, then initialise them."""
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        if self.in_features == 0:
            # loaded from a state_dict: the weight knows the size
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f'The in_features inferred from input: {input.shape[-1]} is not equal to '
                                     f'in_features from self.weight: {self.weight.shape[-1]}')
            self.in_features = input.shape[-1]


class _LazyConvXdMixin(LazyModuleMixin):
    """``in_channels`` from dimension 1 of a batched input (0 unbatched); weights as the convolution's."""

    _spatial = 0

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        """Materialise ``weight`` and ``bias`` for the input's channel count, then initialise them."""
        if not self.has_uninitialized_params():
            return
        self.in_channels = self._get_in_channels(input)
        if self.in_channels % self.groups != 0:
            raise ValueError('in_channels must be divisible by groups')
        if self.transposed:
            self.weight.materialize((self.in_channels, self.out_channels // self.groups, *self.kernel_size))
        else:
            self.weight.materialize((self.out_channels, self.in_channels // self.groups, *self.kernel_size))
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _get_in_channels(self, input):
        unbatched = self._spatial + 1
        if input.dim() not in (unbatched, unbatched + 1):
            raise RuntimeError(f'Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) input to '
                               f'{type(self).__name__}, but got input of size: {input.shape}')
        return input.shape[1] if input.dim() == unbatched + 1 else input.shape[0]


class _LazyConv(_LazyConvXdMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode='zeros', device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


class _LazyConvTranspose(_LazyConvXdMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode='zeros', device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """``Conv1d`` with ``in_channels`` inferred from the first input ``(N, C_in, L)`` or ``(C_in, L)``."""

    cls_to_become = Conv1d
    _spatial = 1


class LazyConv2d(_LazyConv, Conv2d):
    """``Conv2d`` with ``in_channels`` inferred from the first input ``(N, C_in, H, W)`` or ``(C_in, H, W)``."""

    cls_to_become = Conv2d
    _spatial = 2


class LazyConv3d(_LazyConv, Conv3d):
    """``Conv3d`` with ``in_channels`` inferred from the first input ``(N, C_in, D, H, W)`` or unbatched."""

    cls_to_become = Conv3d
    _spatial = 3


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """``ConvTranspose1d`` with ``in_channels`` inferred from the first input."""

    cls_to_become = ConvTranspose1d
    _spatial = 1


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """``ConvTranspose2d`` with ``in_channels`` inferred from the first input."""

    cls_to_become = ConvTranspose2d
    _spatial = 2


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """``ConvTranspose3d`` with ``in_channels`` inferred from the first input."""

    cls_to_become = ConvTranspose3d
    _spatial = 3
