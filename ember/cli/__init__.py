"""The ``ember`` command: ``ember train [CONFIG] [--set key=value ...] [--resume PATH] [--output DIR]`` and
``ember eval CONFIG --checkpoint PATH``. Without CONFIG, ``train`` uses the packaged Digits config."""
import argparse
import sys

__all__ = ['main']


def _parser():
    p = argparse.ArgumentParser(prog='ember', description='Train and evaluate models with Ember.')
    sub = p.add_subparsers(dest='command', required=True)
    t = sub.add_parser('train', help='train a model from a JSON or YAML config')
    t.add_argument('config', nargs='?', help='config file (default: the packaged Digits config)')
    t.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE',
                   help='override a config key by its dotted path, e.g. --set optimizer.lr=0.01')
    t.add_argument('--resume', metavar='PATH', help='continue from a last.pt checkpoint')
    t.add_argument('--output', metavar='DIR', help='output folder (default: the config\'s output)')
    e = sub.add_parser('eval', help='evaluate a checkpoint on the test split')
    e.add_argument('config', nargs='?', help='config file (default: the packaged Digits config)')
    e.add_argument('--checkpoint', required=True, metavar='PATH')
    e.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE')
    return p


def main(argv=None):
    """Entry point of the ``ember`` script and ``python -m ember``; returns the exit status."""
    args = _parser().parse_args(argv)
    from .config import ConfigError, apply_overrides, default_config_path, load_config, validate
    try:
        cfg = validate(apply_overrides(load_config(args.config or default_config_path()), args.overrides))
    except ConfigError as err:
        print(f"ember {args.command}: invalid config: {err}", file=sys.stderr)
        return 2
    from . import train as _train
    if args.command == 'train':
        return _train.train(cfg, output=args.output, resume=args.resume)
    _train.evaluate(cfg, args.checkpoint)
    return 0
