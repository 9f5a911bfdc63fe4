"""Helpers shared by the model builders: the legacy ``pretrained=`` interface, keyword checks against the
weights' metadata, channel rounding and intermediate-layer extraction (torchvision's ``models._utils``)."""
import functools
import inspect
import warnings
from collections import OrderedDict
from functools import partial

from ember import nn

from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum
from ._meta import _IMAGENET_CATEGORIES


class IntermediateLayerGetter(nn.ModuleDict):
    """Run the direct children of ``model`` in registration order up to the last one named in
    ``return_layers`` and return an OrderedDict ``{return_layers[name]: output of child name}``."""

    _version = 2

    def __init__(self, model, return_layers):
        if not set(return_layers).issubset([name for name, _ in model.named_children()]):
            raise ValueError("return_layers are not present in model")
        orig_return_layers = return_layers
        remaining = {str(k): str(v) for k, v in return_layers.items()}
        layers = OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            remaining.pop(name, None)
            if not remaining:
                break
        super().__init__(layers)
        self.return_layers = orig_return_layers

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


def _make_divisible(v, divisor, min_value=None):
    """Round ``v`` channels to a multiple of ``divisor`` (at least ``min_value``), never more than 10% down."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _sequence_to_str(seq, separate_last=''):
    if not seq:
        return ''
    if len(seq) == 1:
        return f"'{seq[0]}'"
    head = "'" + "', '".join([str(item) for item in seq[:-1]]) + "'"
    tail = f"{'' if separate_last and len(seq) == 2 else ','} {separate_last}'{seq[-1]}'"
    return head + tail


def kwonly_to_pos_or_kw(fn):
    """Let the keyword-only parameters of ``fn`` also be passed positionally, with a deprecation warning
    (builders took ``pretrained`` and ``progress`` positionally before 0.13)."""
    params = inspect.signature(fn).parameters
    try:
        start = next(i for i, p in enumerate(params.values()) if p.kind == p.KEYWORD_ONLY)
    except StopIteration:
        raise TypeError(f"Found no keyword-only parameter on function '{fn.__name__}'") from None
    kwonly_names = tuple(params)[start:]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args, extra = args[:start], args[start:]
        if extra:
            extra_kwargs = dict(zip(kwonly_names, extra))
            warnings.warn(f"Using {_sequence_to_str(tuple(extra_kwargs.keys()), separate_last='and ')} as positional "
                          f"parameter(s) is deprecated since 0.13 and may be removed in the future. Please use "
                          f"keyword parameter(s) instead.", stacklevel=2)
            kwargs.update(extra_kwargs)
        return fn(*args, **kwargs)

    return wrapper


def handle_legacy_interface(**weights):
    """Decorate a builder so that ``pretrained=True/False`` (keyword or positional) still works: it maps to
    ``weights=<default enum member>`` / ``weights=None`` with torchvision's deprecation warnings.

    ``weights`` maps each new parameter name to ``(legacy name, default member or callable(kwargs) -> member)``.
    """
    def outer_wrapper(builder):
        @kwonly_to_pos_or_kw
        @functools.wraps(builder)
        def inner_wrapper(*args, **kwargs):
            for weights_param, (pretrained_param, default) in weights.items():
                sentinel = object()
                weights_arg = kwargs.get(weights_param, sentinel)
                # None, an enum member or a member name are the new interface: nothing to translate
                if ((weights_param not in kwargs and pretrained_param not in kwargs)
                        or isinstance(weights_arg, WeightsEnum)
                        or (isinstance(weights_arg, str) and weights_arg != 'legacy')
                        or weights_arg is None):
                    continue
                # a positional `pretrained` arrives under the new name (the signature only knows `weights`)
                pretrained_positional = weights_arg is not sentinel
                if pretrained_positional:
                    kwargs[pretrained_param] = pretrained_arg = kwargs.pop(weights_param)
                else:
                    pretrained_arg = kwargs[pretrained_param]
                if pretrained_arg:
                    default_weights_arg = default(kwargs) if callable(default) else default
                    if not isinstance(default_weights_arg, WeightsEnum):
                        raise ValueError(f"No weights available for model {builder.__name__}")
                else:
                    default_weights_arg = None
                if not pretrained_positional:
                    warnings.warn(f"The parameter '{pretrained_param}' is deprecated since 0.13 and may be removed in "
                                  f"the future, please use '{weights_param}' instead.", stacklevel=2)
                msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are deprecated since 0.13 "
                       f"and may be removed in the future. The current behavior is equivalent to passing "
                       f"`{weights_param}={default_weights_arg}`.")
                if pretrained_arg:
                    msg = (f"{msg} You can also use `{weights_param}={type(default_weights_arg).__name__}.DEFAULT` "
                           f"to get the most up-to-date weights.")
                warnings.warn(msg, stacklevel=2)
                del kwargs[pretrained_param]
                kwargs[weights_param] = default_weights_arg
            return builder(*args, **kwargs)

        return inner_wrapper

    return outer_wrapper


def _ovewrite_named_param(kwargs, param, new_value):
    """Set ``kwargs[param] = new_value``; a caller's different value raises (e.g. ``num_classes`` vs the weights)."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _ovewrite_value_param(param, actual, expected):
    if actual is not None and actual != expected:
        raise ValueError(f"The parameter '{param}' expected value {expected} but got {actual} instead.")
    return expected


class _ModelURLs(dict):
    def __getitem__(self, item):
        warnings.warn("Accessing the model URLs via the internal dictionary of the module is deprecated since 0.13 "
                      "and may be removed in the future. Please access them via the appropriate Weights Enum instead.",
                      stacklevel=2)
        return super().__getitem__(item)


def _imagenet_weights(url, num_params, min_size, recipe, acc1, acc5, ops, file_size, crop_size=224, resize_size=256,
                      transform_kwargs=None, categories=_IMAGENET_CATEGORIES, **meta):
    """A ``Weights`` entry of an ImageNet-1K classifier: the ImageClassification preset with ``crop_size`` and
    ``resize_size`` (plus ``transform_kwargs``), and torchvision's metadata keys (``_ops`` in GFLOPs,
    ``_file_size`` in MB)."""
    preset = {'crop_size': crop_size}
    if resize_size != 256:
        preset['resize_size'] = resize_size
    preset.update(transform_kwargs or {})
    return Weights(url=url, transforms=partial(ImageClassification, **preset),
                   meta={'categories': categories, 'num_params': num_params, 'min_size': min_size, 'recipe': recipe,
                         '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops,
                         '_file_size': file_size, **meta})
