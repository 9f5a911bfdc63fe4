"""The training config: its schema, defaults, loading (JSON, or YAML when PyYAML is installed) and validation.

A config is a nested mapping. Every key is checked before training starts: an unknown key or a value
of the wrong type raises :class:`ConfigError` naming the key's dotted path and the expected type.
"""
import copy
import json
import os

__all__ = ['ConfigError', 'SCHEMA', 'load_config', 'validate', 'apply_overrides', 'default_config_path']

_ANY_DICT = dict
_NONE = type(None)

# Each leaf is (accepted types, default). A nested dict is a section.
SCHEMA = {
    'dataset': {
        'name': ((str,), 'digits'),
        'root': ((str, _NONE), None),
        'download': ((bool,), False),
        'val_split': ((float, int), 0.1),
        'subset': ((int, _NONE), None),
        'splits': ((dict,), {'train': 'train', 'test': 'val'}),
        'kwargs': ((dict,), {}),
    },
    'transforms': {
        'train': ((list,), [{'name': 'ToTensor'}]),
        'eval': ((list,), [{'name': 'ToTensor'}]),
    },
    'model': {
        'name': ((str,), 'ember.cli.models:digits_cnn'),
        'kwargs': ((dict,), {}),
        'pretrained': ((bool,), False),
        'freeze': ((list,), []),
    },
    'loss': {
        'name': ((str,), 'CrossEntropyLoss'),
        'kwargs': ((dict,), {}),
    },
    'optimizer': {
        'name': ((str,), 'Adam'),
        'lr': ((float, int), 1e-3),
        'kwargs': ((dict,), {}),
        'param_groups': ((list,), []),
    },
    'scheduler': {
        'name': ((str, _NONE), None),
        'kwargs': ((dict,), {}),
    },
    'batch_size': ((int,), 64),
    'epochs': ((int,), 10),
    'num_workers': ((int,), 0),
    'seed': ((int,), 0),
    'device': ((str,), 'cpu'),
    'grad_clip': ((float, int, _NONE), None),
    'early_stopping': {
        'metric': ((str, _NONE), None),
        'patience': ((int,), 5),
        'mode': ((str,), 'max'),
    },
    'checkpoint': {
        'last': ((bool,), True),
        'best_metric': ((str, _NONE), 'val_accuracy'),
        'mode': ((str,), 'max'),
        'every': ((int, _NONE), None),
    },
    'export': {
        'onnx': ((bool,), False),
        'opset': ((int,), 17),
    },
    'metrics': ((list,), ['accuracy', 'top5', 'confusion_matrix']),
    'logging': {
        'csv': ((bool,), True),
        'tensorboard': ((bool,), False),
        'progress': ((bool,), True),
        'plots': ((bool,), True),
    },
    'output': ((str,), 'runs/digits'),
}

_CHOICES = {
    'early_stopping.mode': ('min', 'max'),
    'checkpoint.mode': ('min', 'max'),
    'device': ('cpu',),
}
_METRICS = ('accuracy', 'top5', 'confusion_matrix')


class ConfigError(ValueError):
    """A config key is unknown, has the wrong type or an invalid value; the message names its dotted path."""


def default_config_path():
    """The packaged Digits config: ``digits.yaml`` when PyYAML is installed, else its ``digits.json`` twin."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'configs')
    try:
        import yaml  # noqa: F401
    except ImportError:
        return os.path.join(here, 'digits.json')
    return os.path.join(here, 'digits.yaml')


def load_config(path):
    """Read a ``.json`` or ``.yaml``/``.yml`` file into a dict (YAML needs ``pip install ember[train]``)."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if str(path).endswith(('.yaml', '.yml')):
        try:
            import yaml
        except ImportError as e:
            raise ImportError("YAML configs need PyYAML: pip install ember[train] (or use a .json config)") from e
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _parse_value(text):
    try:
        import yaml
        return yaml.safe_load(text)
    except ImportError:
        pass
    try:
        return json.loads(text)
    except ValueError:
        return text


def apply_overrides(cfg, overrides):
    """Apply ``key.sub=value`` strings (values parsed as YAML, or JSON without PyYAML) to a copy of ``cfg``."""
    cfg = copy.deepcopy(cfg)
    for item in overrides or ():
        if '=' not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, value = item.split('=', 1)
        parts = key.strip().split('.')
        node = cfg
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{key}: {p} is not a section")
        node[parts[-1]] = _parse_value(value)
    return cfg


def _type_names(types):
    return ' or '.join('null' if t is _NONE else t.__name__ for t in types)


def _check(schema, data, prefix):
    out = {}
    for key in data:
        if key not in schema:
            path = prefix + str(key)
            raise ConfigError(f"{path}: unknown key (expected one of: {', '.join(sorted(schema))})")
    for key, spec in schema.items():
        path = prefix + key
        if isinstance(spec, dict):
            value = data.get(key, {})
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a mapping, got {type(value).__name__}")
            out[key] = _check(spec, value, path + '.')
            continue
        types, default = spec
        if key not in data:
            out[key] = copy.deepcopy(default)
            continue
        value = data[key]
        # bool is a subclass of int: reject True where a number is expected.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ConfigError(f"{path}: expected {_type_names(types)}, got {type(value).__name__} ({value!r})")
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if path in _CHOICES and value not in _CHOICES[path]:
            raise ConfigError(f"{path}: expected one of {_CHOICES[path]}, got {value!r}")
        out[key] = copy.deepcopy(value)
    return out


def _check_transforms(items, path):
    for i, t in enumerate(items):
        if not isinstance(t, dict) or not isinstance(t.get('name'), str):
            raise ConfigError(f"{path}[{i}]: expected a mapping with a str 'name' (and optional 'kwargs')")
        extra = set(t) - {'name', 'kwargs'}
        if extra:
            raise ConfigError(f"{path}[{i}].{sorted(extra)[0]}: unknown key (expected name, kwargs)")
        if not isinstance(t.get('kwargs', {}), dict):
            raise ConfigError(f"{path}[{i}].kwargs: expected dict, got {type(t['kwargs']).__name__}")


def validate(data):
    """Return ``data`` with every default filled in, or raise :class:`ConfigError` naming the bad key."""
    if not isinstance(data, dict):
        raise ConfigError(f"config: expected a mapping, got {type(data).__name__}")
    cfg = _check(SCHEMA, data, '')
    for split in ('train', 'eval'):
        _check_transforms(cfg['transforms'][split], f'transforms.{split}')
    for i, m in enumerate(cfg['metrics']):
        if m not in _METRICS:
            raise ConfigError(f"metrics[{i}]: expected one of {_METRICS}, got {m!r}")
    for i, group in enumerate(cfg['optimizer']['param_groups']):
        if not isinstance(group, dict) or not isinstance(group.get('params'), (str, list)):
            raise ConfigError(f"optimizer.param_groups[{i}]: expected a mapping with 'params' (a parameter-name "
                              "prefix or a list of them) and the group's hyperparameters")
    if set(cfg['dataset']['splits']) - {'train', 'test'}:
        extra = sorted(set(cfg['dataset']['splits']) - {'train', 'test'})[0]
        raise ConfigError(f"dataset.splits.{extra}: unknown key (expected train, test)")
    if cfg['checkpoint']['every'] is not None and cfg['checkpoint']['every'] < 1:
        raise ConfigError(f"checkpoint.every: expected a positive int or null, got {cfg['checkpoint']['every']!r}")
    for i, name in enumerate(cfg['model']['freeze']):
        if not isinstance(name, str):
            raise ConfigError(f"model.freeze[{i}]: expected str, got {type(name).__name__}")
    if not 0.0 <= cfg['dataset']['val_split'] < 1.0:
        raise ConfigError(f"dataset.val_split: expected a float in [0, 1), got {cfg['dataset']['val_split']!r}")
    for key in ('batch_size', 'epochs'):
        if cfg[key] < 1:
            raise ConfigError(f"{key}: expected a positive int, got {cfg[key]!r}")
    return cfg
