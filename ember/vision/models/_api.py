"""The weights API and the model registry, as torchvision's.

Each builder takes ``weights=`` (a member of its ``WeightsEnum`` subclass, its name as a string, or
None). A member's value is a ``Weights``: the published checkpoint URL, a constructor for the
preprocessing preset the weights were trained with, and metadata (categories, accuracies, ...).
Builders register themselves by name with ``register_model`` so that ``get_model('resnet50')`` and
``list_models()`` find them.
"""
import fnmatch
import importlib
import inspect
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, Callable, Optional, Union, get_args

__all__ = ['WeightsEnum', 'Weights', 'get_model', 'get_model_builder', 'get_model_weights', 'get_weight',
           'list_models', 'register_model']


@dataclass
class Weights:
    """A pretrained checkpoint: ``url`` (where its state_dict is published), ``transforms`` (a callable that
    builds the evaluation preprocessing preset) and ``meta`` (``categories``, ``num_params``, metrics, ...)."""

    url: str
    transforms: Callable
    meta: dict

    def __eq__(self, other):
        # deepcopy and unpickling of an Enum member compare the copy with the defined values; a copied
        # functools.partial is never equal to its original, so partials compare by their contents.
        if not isinstance(other, Weights):
            return NotImplemented
        if self.url != other.url or self.meta != other.meta:
            return False
        a, b = self.transforms, other.transforms
        if isinstance(a, partial) and isinstance(b, partial):
            return a.func == b.func and a.args == b.args and a.keywords == b.keywords
        return a == b


class WeightsEnum(Enum):
    """Base class of the per-architecture weight enums (``ResNet50_Weights`` ...); values are ``Weights``."""

    @classmethod
    def verify(cls, obj):
        """Return ``obj`` as a member of ``cls``: None stays None, ``'IMAGENET1K_V1'`` or
        ``'ResNet50_Weights.IMAGENET1K_V1'`` is looked up, another enum's member raises TypeError."""
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + '.', '')]
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                                f"{obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        """Download (or read from the hub cache) the checkpoint; arguments go to
        ``ember.hub.load_state_dict_from_url`` (``progress=True``, ``model_dir``, ``check_hash`` ...)."""
        from ember.hub import load_state_dict_from_url
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def get_weight(name: str) -> WeightsEnum:
    """The weights member named ``'EnumName.MEMBER'``, e.g. ``get_weight('ResNet50_Weights.IMAGENET1K_V2')``."""
    try:
        enum_name, value_name = name.split('.')
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    base = importlib.import_module(__name__.rsplit('.', 1)[0])
    # the models package and its subpackages (the same search as torchvision's)
    modules = [base] + [m for _, m in inspect.getmembers(base, inspect.ismodule)
                        if getattr(m, '__file__', None) and m.__file__.endswith('__init__.py')]
    for m in modules:
        candidate = m.__dict__.get(enum_name)
        if isinstance(candidate, type) and issubclass(candidate, WeightsEnum):
            return candidate[value_name]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")


def get_model_weights(name: Union[Callable, str]):
    """The ``WeightsEnum`` subclass of a builder, given the builder or its registered name."""
    fn = get_model_builder(name) if isinstance(name, str) else name
    return _get_enum_from_fn(fn)


def _get_enum_from_fn(fn):
    # the enum is read from the annotation of the builder's `weights` parameter, as torchvision does
    sig = inspect.signature(fn)
    if 'weights' not in sig.parameters:
        raise ValueError("The method is missing the 'weights' argument.")
    ann = sig.parameters['weights'].annotation
    if isinstance(ann, type) and issubclass(ann, WeightsEnum):
        return ann
    for t in get_args(ann):
        if isinstance(t, type) and issubclass(t, WeightsEnum):
            return t
    raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved. Make sure the typing "
                     "info is correct.")


BUILTIN_MODELS = {}


def register_model(name: Optional[str] = None):
    """Decorator registering a model builder under ``name`` (default: the function's name)."""
    def wrapper(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn
    return wrapper


def list_models(module=None, include=None, exclude=None):
    """Sorted names of the registered models, optionally only those defined in ``module`` (a package such as
    ``ember.vision.models``), kept by the fnmatch patterns ``include`` and then dropped by ``exclude``."""
    names = {k for k, v in BUILTIN_MODELS.items()
             if module is None or v.__module__.rsplit('.', 1)[0] == module.__name__}
    if include:
        include = [include] if isinstance(include, str) else include
        kept = set()
        for pattern in include:
            kept |= set(fnmatch.filter(names, pattern))
    else:
        kept = names
    if exclude:
        exclude = [exclude] if isinstance(exclude, str) else exclude
        for pattern in exclude:
            kept -= set(fnmatch.filter(names, pattern))
    return sorted(kept)


def get_model_builder(name: str) -> Callable:
    """The builder registered under ``name`` (case-insensitive)."""
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config: Any):
    """Build the model registered under ``name``; ``config`` goes to its builder (``weights=``, ``num_classes=``)."""
    return get_model_builder(name)(**config)

