"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

As in PyTorch, grad mode is thread-local: each thread starts with grad enabled and a switch
in one thread never affects another. The flag lives in a ``ContextVar`` (every thread runs
in its own context); ``_grad_enabled()`` reads it with one C call. ``_enabled[0]`` reads
the same flag for code written against the older list-cell form.
"""
import contextvars
import functools
import inspect

_grad_var = contextvars.ContextVar('ember_grad_enabled', default=True)
_inference_var = contextvars.ContextVar('ember_inference_mode', default=False)

_grad_enabled = _grad_var.get
_set_grad_enabled = _grad_var.set


class _EnabledCell:
    """``_enabled[0]``: the calling thread's grad mode (read and write)."""

    __slots__ = ()

    def __getitem__(self, i):
        return _grad_var.get()

    def __setitem__(self, i, value):
        _grad_var.set(bool(value))


_enabled = _EnabledCell()


def is_grad_enabled():
    """True when operations on tensors that require grad are being recorded (this thread)."""
    return _grad_var.get()


def is_inference_mode_enabled():
    """True inside ``inference_mode()`` (this thread)."""
    return _inference_var.get()


def _wrap_generator(ctx_factory, func):
    """Enter a fresh context manager around every resumption of the generator ``func``."""
    @functools.wraps(func)
    def generator_context(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException as exc:
                    with ctx_factory():
                        response = gen.throw(exc)
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as e:
            return e.value
    return generator_context


class _DecoratorContextManager:
    """A context manager that also decorates functions (and generator functions)."""

    def __call__(self, func):
        if inspect.isclass(func):
            raise RuntimeError('Cannot decorate classes; decorate each method individually.')
        factory = self.clone
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(factory, func)

        @functools.wraps(func)
        def decorate_context(*args, **kwargs):
            with factory():
                return func(*args, **kwargs)
        return decorate_context

    def clone(self):
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """Also usable as a bare decorator: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecoratorContextManager):
    """Context manager / decorator that disables gradient recording in this thread.

    Results computed inside have ``requires_grad=False`` even when inputs require grad.
    """

    def __init__(self, orig_func=None):
        self.prev = False

    def __enter__(self):
        self.prev = _grad_var.get()
        _grad_var.set(False)

    def __exit__(self, *exc):
        _grad_var.set(self.prev)


class enable_grad(_NoParamDecoratorContextManager):
    """Context manager / decorator that enables gradient recording in this thread."""

    def __init__(self, orig_func=None):
        self.prev = True

    def __enter__(self):
        self.prev = _grad_var.get()
        _grad_var.set(True)

    def __exit__(self, *exc):
        _grad_var.set(self.prev)


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode to ``mode``: immediately when called, restored on ``with`` exit.

    Works as a function (``set_grad_enabled(False)``), a context manager and a decorator.
    """

    def __init__(self, mode):
        self.prev = _grad_var.get()
        self.mode = bool(mode)
        _grad_var.set(self.mode)

    def __call__(self, func):
        _grad_var.set(self.prev)
        return super().__call__(func)

    def __enter__(self):
        _grad_var.set(self.mode)

    def __exit__(self, *exc):
        _grad_var.set(self.prev)

    def __repr__(self):
        return f'ember.autograd.grad_mode.set_grad_enabled(mode={self.mode})'

    def clone(self):
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """``inference_mode(True)`` disables grad recording like ``no_grad`` and marks the thread as
    in inference mode; ``inference_mode(False)`` enables grad. Also a (bare) decorator.

    Ember has no separate inference tensors: tensors made inside behave as ``no_grad`` results.
    """

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        self._prev = (_grad_var.get(), _inference_var.get())
        _grad_var.set(not self.mode)
        _inference_var.set(self.mode)

    def __exit__(self, *exc):
        _grad_var.set(self._prev[0])
        _inference_var.set(self._prev[1])

    def clone(self):
        return self.__class__(self.mode)
