"""Module backward hooks (``register_full_backward_hook``/``_pre_hook``).

The module's tensor inputs and outputs are passed through identity nodes with one output per
tensor. The output node sees ``grad_output`` first (backward pre-hooks run there); the input node
then sees ``grad_input`` and calls the hooks with both. When no input needs a gradient the hooks
run from the output node with ``grad_input`` all None, as in PyTorch.
"""
from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge


class BackwardHookFunctionBackward(Node):
    __slots__ = ('callback', 'n')

    @property
    def n_outputs(self):
        return self.n

    def backward(self, grads):
        if self.n == 1 and not isinstance(grads, tuple):
            grads = (grads,)
        result = self.callback(tuple(grads))
        return tuple(result)


class BackwardHook:
    def __init__(self, module):
        self.module = module
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_wrapped = False

    def _wrap(self, tensors_holder, callback):
        items = tensors_holder if isinstance(tensors_holder, tuple) else (tensors_holder,)
        idx = [i for i, a in enumerate(items) if isinstance(a, Tensor) and a.requires_grad]
        if not idx or not _grad_enabled():
            return tensors_holder, 0
        node = BackwardHookFunctionBackward(tuple(grad_edge(items[i]) for i in idx))
        node.callback = callback
        node.n = len(idx)
        new = list(items)
        for k, i in enumerate(idx):
            t = _wrap(items[i]._data, True, node)
            t._vc = items[i]._vc
            t._output_nr = k
            new[i] = t
        out = tuple(new)
        return (out if isinstance(tensors_holder, tuple) else out[0]), len(idx)

    def setup_input_hook(self, args):
        args, n = self._wrap(args, self._on_grad_input)
        self.n_inputs = n
        return args

    def setup_output_hook(self, output):
        out, _ = self._wrap(output, self._on_grad_output)
        return out

    def _on_grad_output(self, grads):
        for hook in self.module._backward_pre_hooks.values():
            r = hook(self.module, grads)
            if r is not None:
                grads = tuple(r)
        self.grad_outputs = grads
        if self.n_inputs == 0:
            for hook in self.module._backward_hooks.values():
                hook(self.module, (None,), grads)
        return grads

    def _on_grad_input(self, grads):
        for hook in self.module._backward_hooks.values():
            r = hook(self.module, grads, self.grad_outputs)
            if r is not None:
                grads = tuple(r)
        return grads
