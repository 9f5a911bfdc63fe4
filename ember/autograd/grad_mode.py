"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

The flag is one global list cell so the hot path reads it with a single index.
"""
import functools

_enabled = [True]


def is_grad_enabled():
    """True when operations on tensors that require grad are being recorded."""
    return _enabled[0]


class _Mode:
    """Base for the grad-mode context managers; also usable as function decorators."""

    _value = True

    def __enter__(self):
        self._prev = _enabled[0]
        _enabled[0] = self._value

    def __exit__(self, *exc):
        _enabled[0] = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_Mode):
    """Context manager / decorator that disables gradient recording."""

    _value = False


class enable_grad(_Mode):
    """Context manager / decorator that enables gradient recording."""

    _value = True


class set_grad_enabled(_Mode):
    """Set grad mode to ``mode``; takes effect immediately and restores it when used with ``with``."""

    def __init__(self, mode):
        self._prev = _enabled[0]
        self._value = bool(mode)
        _enabled[0] = self._value

    def __enter__(self):
        pass

    def clone(self):
        return self.__class__(self._value)


class inference_mode(_Mode):
    """Like ``no_grad`` (Ember keeps no separate inference tensors); ``mode=False`` is a no-op."""

    def __init__(self, mode=True):
        self._mode = mode

    def __enter__(self):
        self._prev = _enabled[0]
        if self._mode:
            _enabled[0] = False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self._mode):
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__(self._mode)


def is_inference_mode_enabled():
    return False
