"""ember.vision: datasets, transforms, models and image utilities (torchvision's API on Ember).

Submodules load on first use, so ``import ember.vision`` stays cheap and Pillow is only needed by
the parts that read or write images.
"""
import importlib

_SUBMODULES = ('datasets', 'io', 'models', 'ops', 'transforms', 'utils')

__all__ = list(_SUBMODULES)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f'{__name__}.{name}')
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
