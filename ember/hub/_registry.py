"""A timm-style model registry over ``ember.vision.models``.

Every registered torchvision builder is a model name; ``'name.tag'`` picks one of its weights
(``'resnet50.imagenet1k_v1'``), plain ``'name'`` its default weights. A model's pretrained config is
a dict with timm's keys (url, num_classes, input_size, pool_size, crop_pct, interpolation, mean, std,
first_conv, classifier, architecture, tag) read from the weights' metadata and preset.
``create_model`` builds a model, optionally with pretrained weights, a new classifier
(``num_classes``) and a first conv for ``in_chans`` input channels; ``resolve_data_config`` and
``create_transform`` give the matching evaluation preprocessing.
"""
import fnmatch
import math
import re

__all__ = ['adapt_input_conv', 'create_model', 'create_transform', 'get_pretrained_cfg', 'list_models',
           'resolve_data_config']

IMAGENET_DEFAULT_MEAN = (0.485, 0.456, 0.406)
IMAGENET_DEFAULT_STD = (0.229, 0.224, 0.225)
DEFAULT_CROP_PCT = 0.875

# (name prefix, first conv, classifier): the module paths in torchvision's architectures
_HEADS = [
    ('resnet', 'conv1', 'fc'), ('resnext', 'conv1', 'fc'), ('wide_resnet', 'conv1', 'fc'),
    ('regnet', 'stem.0', 'fc'), ('efficientnet', 'features.0.0', 'classifier.1'),
    ('convnext', 'features.0.0', 'classifier.2'), ('vit_', 'conv_proj', 'heads.head'),
    ('alexnet', 'features.0', 'classifier.6'), ('vgg', 'features.0', 'classifier.6'),
    ('squeezenet', 'features.0', 'classifier.1'), ('densenet', 'features.conv0', 'classifier'),
    ('mobilenet_v2', 'features.0.0', 'classifier.1'), ('mobilenet_v3', 'features.0.0', 'classifier.3'),
    ('shufflenet', 'conv1.0', 'fc'), ('googlenet', 'conv1.conv', 'fc'),
    ('inception_v3', 'Conv2d_1a_3x3.conv', 'fc'), ('mnasnet', 'layers.0', 'classifier.1'),
]
# feature-map size before global pooling where it is not the input size / 32
_POOL_SIZE = {'alexnet': (6, 6), 'squeezenet1_0': (13, 13), 'squeezenet1_1': (13, 13), 'inception_v3': (8, 8)}


def _vision_models():
    from ..vision import models
    return models


def _natural_key(s):
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', s.lower())]


def _split_name(model_name):
    arch, _, tag = model_name.partition('.')
    return arch, tag


def _weights_enum(arch):
    models = _vision_models()
    try:
        return models.get_model_weights(arch)
    except ValueError:
        return None


def _members(enum):
    # iterating an Enum gives the distinct members in definition order (DEFAULT is an alias)
    return [] if enum is None else list(enum)


def list_models(filter='', module='', pretrained=False, exclude_filters='', name_matches_cfg=False):
    """Sorted (natural order) names of the models built by ``ember.vision.models``.

    ``filter``: an fnmatch pattern or list of patterns to keep (``'resnet*'``); ``exclude_filters``:
    pattern(s) to drop; ``module``: only models defined in ``ember.vision.models.<module>``;
    ``pretrained``: only models with published weights (names then carry their weights tags as
    ``'name.tag'`` when a pattern asks for one); ``name_matches_cfg`` is accepted for timm
    compatibility (every name here has a config).
    """
    models = _vision_models()
    from ..vision.models._api import BUILTIN_MODELS
    names = models.list_models()
    if module:
        names = [n for n in names if BUILTIN_MODELS[n].__module__.rsplit('.', 1)[-1] == module]
    if pretrained:
        names = [n for n in names if _members(_weights_enum(n))]
    patterns = [filter] if isinstance(filter, str) else list(filter)
    patterns = [p for p in patterns if p]
    if any('.' in p for p in patterns):
        # a pattern naming a tag matches against every 'name.tag'
        names = [f'{n}.{w.name.lower()}' for n in names for w in _members(_weights_enum(n))]
    if patterns:
        names = sorted({n for p in patterns for n in fnmatch.filter(names, p)})
    excludes = [exclude_filters] if isinstance(exclude_filters, str) else list(exclude_filters)
    for p in excludes:
        if p:
            names = [n for n in names if not fnmatch.fnmatch(n, p)]
    return sorted(names, key=_natural_key)


def _head_paths(arch):
    for prefix, first_conv, classifier in _HEADS:
        if arch.startswith(prefix):
            return first_conv, classifier
    return None, None


def _interp_name(mode):
    return 'bilinear' if mode is None else getattr(mode, 'value', str(mode))


def get_pretrained_cfg(model_name):
    """The pretrained config of ``'name'`` (its default weights) or ``'name.tag'``.

    Keys as timm's: ``url``, ``num_classes``, ``input_size`` ``(3, H, W)``, ``pool_size``, ``crop_pct``
    (crop / resize size), ``interpolation`` (``'bilinear'``, ``'bicubic'``...), ``mean``, ``std``,
    ``first_conv`` and ``classifier`` (module paths), ``architecture``, ``tag``. A model without
    weights gets ImageNet defaults and ``url=''``. Unknown names raise RuntimeError.
    """
    arch, tag = _split_name(model_name)
    models = _vision_models()
    try:
        models.get_model_builder(arch)
    except ValueError:
        raise RuntimeError(f'Unknown model ({model_name})') from None
    enum = _weights_enum(arch)
    weights = None
    if enum is not None:
        if tag:
            try:
                weights = enum[tag.upper()]
            except KeyError:
                raise RuntimeError(f'Invalid pretrained tag ({tag}) for {arch}; available: '
                                   f'{[w.name.lower() for w in enum]}') from None
        else:
            weights = enum.DEFAULT if 'DEFAULT' in enum.__members__ else next(iter(enum), None)
    elif tag:
        raise RuntimeError(f'Invalid pretrained tag ({tag}) for {arch}: the model has no weights')
    first_conv, classifier = _head_paths(arch)
    cfg = {'url': '', 'num_classes': 1000, 'input_size': (3, 224, 224), 'pool_size': (7, 7),
           'crop_pct': DEFAULT_CROP_PCT, 'interpolation': 'bilinear', 'mean': IMAGENET_DEFAULT_MEAN,
           'std': IMAGENET_DEFAULT_STD, 'first_conv': first_conv, 'classifier': classifier,
           'architecture': arch, 'tag': tag.lower() if tag else ''}
    if weights is not None:
        kw = dict(getattr(weights.transforms, 'keywords', {}) or {})
        crop = kw.get('crop_size', 224)
        resize = kw.get('resize_size', 256)
        crop = crop[0] if isinstance(crop, (tuple, list)) else crop
        resize = resize[0] if isinstance(resize, (tuple, list)) else resize
        cfg.update(url=weights.url, num_classes=len(weights.meta['categories']), input_size=(3, crop, crop),
                   crop_pct=crop / resize, interpolation=_interp_name(kw.get('interpolation')),
                   mean=tuple(kw.get('mean', IMAGENET_DEFAULT_MEAN)), std=tuple(kw.get('std', IMAGENET_DEFAULT_STD)),
                   tag=weights.name.lower())
    side = cfg['input_size'][-1]
    cfg['pool_size'] = None if arch.startswith(('vit_', 'swin', 'maxvit')) else \
        _POOL_SIZE.get(arch, (math.ceil(side / 32), math.ceil(side / 32)))
    return cfg


def adapt_input_conv(in_chans, conv_weight):
    """First-conv weights ``(O, I, kH, kW)`` for ``in_chans`` input channels (timm's rule).

    One channel: the sum over the input channels (over each RGB triple when ``I > 3``). Other counts
    (``I`` must be 3): the RGB filters repeated to ``in_chans`` channels and scaled by
    ``3 / in_chans``, so a constant image gives the same activations. The dtype is kept.
    """
    dtype = conv_weight.dtype
    w = conv_weight.float()
    O, I, J, K = w.shape
    if in_chans == 1:
        if I > 3:
            if I % 3 != 0:
                raise ValueError(f'adapt_input_conv: {I} input channels are not RGB triples')
            w = w.reshape(O, I // 3, 3, J, K).sum(dim=2)
        else:
            w = w.sum(dim=1, keepdim=True)
    elif in_chans != 3:
        if I != 3:
            raise NotImplementedError('Weight format not supported by conversion.')
        repeat = int(math.ceil(in_chans / 3))
        w = w.repeat(1, repeat, 1, 1)[:, :in_chans, :, :] * (3 / float(in_chans))
    return w.to(dtype)


def _get_module(model, path):
    for part in path.split('.'):
        model = getattr(model, part)
    return model


def _set_module(model, path, module):
    parent, _, name = path.rpartition('.')
    setattr(_get_module(model, parent) if parent else model, name, module)


def _first_conv_and_classifier(model, cfg):
    from .. import nn
    first_conv, classifier = cfg.get('first_conv'), cfg.get('classifier')
    if first_conv is None:
        first_conv = next((n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)), None)
    if classifier is None:
        linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        classifier = linears[-1] if linears else None
    return first_conv, classifier


def _replace_first_conv(model, path, in_chans):
    import ember
    from .. import nn
    old = _get_module(model, path)
    new = nn.Conv2d(in_chans, old.out_channels, old.kernel_size, old.stride, old.padding, old.dilation, old.groups,
                    bias=old.bias is not None, padding_mode=old.padding_mode)
    with ember.no_grad():
        new.weight.copy_(adapt_input_conv(in_chans, old.weight.detach()))
        if old.bias is not None:
            new.bias.copy_(old.bias)
    _set_module(model, path, new)


def _replace_classifier(model, path, num_classes):
    from .. import nn
    old = _get_module(model, path)
    if num_classes == 0:
        new = nn.Identity()
    elif isinstance(old, nn.Linear):
        new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    elif isinstance(old, nn.Conv2d):
        new = nn.Conv2d(old.in_channels, num_classes, old.kernel_size, old.stride, old.padding,
                        bias=old.bias is not None)
    else:
        raise NotImplementedError(f'create_model: cannot replace classifier {path!r} of type '
                                  f'{type(old).__name__}')
    _set_module(model, path, new)


def _load_checkpoint(model, checkpoint_path):
    import ember
    state = ember.load(checkpoint_path, map_location='cpu')
    if isinstance(state, dict):
        for key in ('state_dict', 'model', 'state_dict_ema'):
            if key in state and isinstance(state[key], dict):
                state = state[key]
                break
    # checkpoints saved from DataParallel / DistributedDataParallel carry a 'module.' prefix
    state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
    model.load_state_dict(state, strict=True)


def create_model(model_name, pretrained=False, num_classes=None, in_chans=3, checkpoint_path='',
                 pretrained_cfg_overlay=None, **kwargs):
    """Build ``model_name`` (``'name'`` or ``'name.tag'``, see ``list_models``).

    ``pretrained``: load the published weights (from the hub cache, else downloaded; offline, the
    error names the file to place). ``num_classes``: a new randomly initialised classifier when it
    differs from the pretrained head (0: no classifier, the model returns pooled features);
    without ``pretrained`` it goes to the builder. ``in_chans``: the first conv takes that many
    channels, its filters summed (1) or repeated and rescaled (timm's ``adapt_input_conv``).
    ``checkpoint_path``: a local state_dict (or a dict holding one under ``'state_dict'``/``'model'``)
    loaded strictly into the final model. ``pretrained_cfg_overlay``: entries replacing those of the
    config. Other ``kwargs`` go to the builder (``dropout=``, ``stochastic_depth_prob=`` ...).
    The model gets ``pretrained_cfg`` and ``default_cfg`` (the same dict).
    """
    models = _vision_models()
    arch, tag = _split_name(model_name)
    cfg = get_pretrained_cfg(model_name)
    if pretrained_cfg_overlay:
        cfg.update(pretrained_cfg_overlay)
    builder = models.get_model_builder(arch)
    if pretrained:
        enum = _weights_enum(arch)
        if enum is None:
            raise RuntimeError(f'No pretrained weights exist for {model_name}. Use `pretrained=False` for '
                               f'random init.')
        weights = enum[cfg['tag'].upper()]
        if cfg.get('url') and cfg['url'] != weights.url:
            from ._hub import load_state_dict_from_url
            model = builder(weights=None, num_classes=cfg['num_classes'], **kwargs)
            model.load_state_dict(load_state_dict_from_url(cfg['url'], check_hash=True))
        else:
            model = builder(weights=weights, **kwargs)
    else:
        build_kwargs = dict(kwargs)
        if num_classes:
            build_kwargs['num_classes'] = num_classes
        model = builder(weights=None, **build_kwargs)
    first_conv, classifier = _first_conv_and_classifier(model, cfg)
    head = getattr(_get_module(model, classifier), 'out_features', None) if classifier else None
    if num_classes is not None and (num_classes == 0 or num_classes != head):
        if classifier is None:
            raise NotImplementedError(f'create_model: no classifier found in {arch} to resize')
        _replace_classifier(model, classifier, num_classes)
    if in_chans != 3:
        if first_conv is None:
            raise NotImplementedError(f'create_model: no first conv found in {arch} to adapt to {in_chans} channels')
        _replace_first_conv(model, first_conv, in_chans)
    if checkpoint_path:
        _load_checkpoint(model, checkpoint_path)
    cfg.update(first_conv=first_conv, classifier=classifier, input_size=(in_chans,) + tuple(cfg['input_size'][1:]))
    if num_classes is not None:
        cfg['num_classes'] = num_classes
    elif not pretrained and head is not None:
        cfg['num_classes'] = head
    model.pretrained_cfg = cfg
    model.default_cfg = cfg
    return model


def resolve_data_config(args=None, pretrained_cfg=None, model=None, use_test_size=False, verbose=False):
    """The preprocessing config (``input_size``, ``interpolation``, ``mean``, ``std``, ``crop_pct``,
    ``crop_mode``) for a model, as timm resolves it.

    Values come from ``args`` (a dict, or an object with attributes, using the keys above or
    ``img_size``/``in_chans``) first, then ``pretrained_cfg``, then ``model.pretrained_cfg``, then
    ImageNet defaults. ``use_test_size`` prefers a config's ``test_input_size``; ``verbose`` prints it.
    """
    if args is None:
        args = {}
    elif not isinstance(args, dict):
        args = vars(args)
    if pretrained_cfg is None:
        pretrained_cfg = getattr(model, 'pretrained_cfg', None) or getattr(model, 'default_cfg', None) or {}
    config = {}
    in_chans = args.get('in_chans') or args.get('chans') or 3
    input_size = (in_chans, 224, 224)
    if args.get('input_size') is not None:
        input_size = tuple(args['input_size'])
    elif args.get('img_size') is not None:
        size = args['img_size']
        input_size = (in_chans,) + ((size, size) if isinstance(size, int) else tuple(size))
    elif use_test_size and pretrained_cfg.get('test_input_size') is not None:
        input_size = tuple(pretrained_cfg['test_input_size'])
    elif pretrained_cfg.get('input_size') is not None:
        input_size = tuple(pretrained_cfg['input_size'])
    config['input_size'] = input_size
    config['interpolation'] = args.get('interpolation') or pretrained_cfg.get('interpolation') or 'bicubic'
    config['mean'] = tuple(args.get('mean') or pretrained_cfg.get('mean') or IMAGENET_DEFAULT_MEAN)
    config['std'] = tuple(args.get('std') or pretrained_cfg.get('std') or IMAGENET_DEFAULT_STD)
    crop_pct = DEFAULT_CROP_PCT
    if args.get('crop_pct'):
        crop_pct = args['crop_pct']
    elif use_test_size and pretrained_cfg.get('test_crop_pct'):
        crop_pct = pretrained_cfg['test_crop_pct']
    elif pretrained_cfg.get('crop_pct'):
        crop_pct = pretrained_cfg['crop_pct']
    config['crop_pct'] = crop_pct
    config['crop_mode'] = args.get('crop_mode') or pretrained_cfg.get('crop_mode') or 'center'
    if verbose:
        print('Data processing configuration for current model + dataset:')
        for k, v in config.items():
            print(f'\t{k}: {v}')
    return config


# timm's create_transform arguments that Ember accepts only at these values
_TIMM_TRANSFORM_DEFAULTS = {'auto_augment': None, 're_prob': 0.0, 're_mode': 'const', 're_count': 1,
                            're_num_splits': 0, 'use_prefetcher': False, 'tf_preprocessing': False,
                            'separate': False, 'train_crop_mode': None, 'crop_border_pixels': None,
                            'color_jitter_prob': None, 'grayscale_prob': 0.0, 'gaussian_blur_prob': 0.0,
                            'normalize': True}


def _interpolation_mode(name):
    from ..vision.transforms import InterpolationMode
    return InterpolationMode(name) if isinstance(name, str) else name


def create_transform(input_size=224, is_training=False, no_aug=False, scale=None, ratio=None, hflip=0.5,
                     vflip=0.0, color_jitter=0.4, interpolation='bilinear', mean=IMAGENET_DEFAULT_MEAN,
                     std=IMAGENET_DEFAULT_STD, crop_pct=None, crop_mode=None, **kwargs):
    """The ``ember.vision.transforms`` pipeline for a data config (``create_transform(**config)``).

    Evaluation (default): resize to ``floor(size / crop_pct)`` (the shorter side when square), center
    crop to ``input_size`` (an int, ``(H, W)`` or ``(C, H, W)``), ``ToTensor``, ``Normalize(mean, std)``.
    ``crop_mode``: ``'center'`` (default) or ``'squash'`` (resize both sides to the scaled size);
    ``'border'`` raises NotImplementedError. Training (``is_training`` and not ``no_aug``):
    ``RandomResizedCrop(scale=(0.08, 1), ratio=(3/4, 4/3))``, horizontal/vertical flips with
    probability ``hflip``/``vflip``, ``ColorJitter(color_jitter)`` when it is non-zero, then
    ``ToTensor`` and ``Normalize``; ``no_aug`` keeps only resize + center crop. timm's further
    augmentation arguments (``auto_augment``, ``re_prob`` ...) are accepted at their defaults only.
    """
    from ..vision import transforms
    for k, v in kwargs.items():
        if k not in _TIMM_TRANSFORM_DEFAULTS:
            raise TypeError(f"create_transform() got an unexpected keyword argument '{k}'")
        if v != _TIMM_TRANSFORM_DEFAULTS[k]:
            raise NotImplementedError(f'create_transform: {k}={v!r} is not supported')
    img_size = tuple(input_size[-2:]) if isinstance(input_size, (tuple, list)) else (input_size, input_size)
    interp = _interpolation_mode(interpolation)
    tail = [transforms.ToTensor(), transforms.Normalize(mean=list(mean), std=list(std))]
    if is_training and not no_aug:
        tfl = [transforms.RandomResizedCrop(img_size, scale=tuple(scale or (0.08, 1.0)),
                                            ratio=tuple(ratio or (3.0 / 4.0, 4.0 / 3.0)), interpolation=interp)]
        if hflip > 0.0:
            tfl.append(transforms.RandomHorizontalFlip(p=hflip))
        if vflip > 0.0:
            tfl.append(transforms.RandomVerticalFlip(p=vflip))
        if color_jitter:
            cj = (float(color_jitter),) * 3 if isinstance(color_jitter, (int, float)) else tuple(color_jitter)
            tfl.append(transforms.ColorJitter(*cj))
        return transforms.Compose(tfl + tail)
    crop_pct = crop_pct or DEFAULT_CROP_PCT
    crop_mode = crop_mode or 'center'
    # the epsilon keeps an exact ratio such as 240 / 255 from flooring one pixel short
    scale_size = tuple(math.floor(s / crop_pct + 1e-6) for s in img_size)
    if crop_mode == 'squash':
        tfl = [transforms.Resize(scale_size, interpolation=interp), transforms.CenterCrop(img_size)]
    elif crop_mode == 'center':
        resize = scale_size[0] if scale_size[0] == scale_size[1] else scale_size
        tfl = [transforms.Resize(resize, interpolation=interp), transforms.CenterCrop(img_size)]
    else:
        raise NotImplementedError(f"create_transform: crop_mode={crop_mode!r} (only 'center' and 'squash')")
    return transforms.Compose(tfl + tail)
