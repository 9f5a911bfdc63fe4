"""The ``ember`` command (also ``python -m ember``):

- ``ember train [CONFIG] [--set key=value ...] [--resume PATH] [--output DIR] [--nproc N]``: train (without
  CONFIG, the packaged Digits config; with ``--nproc N``, data-parallel on N processes over MPI);
- ``ember eval [CONFIG] --checkpoint PATH``: score a checkpoint on the test split;
- ``ember predict [CONFIG] --checkpoint PATH [--topk K] IMAGE...``: the top-k classes of image files;
- ``ember export [CONFIG] --checkpoint PATH --onnx OUT.onnx``: write ONNX, checked with ONNX Runtime;
- ``ember run --nproc-per-node N script.py``: run a script on N processes (``ember.distributed.run``).
"""
import argparse
import importlib.util
import os
import sys

__all__ = ['main']


def _parser():
    p = argparse.ArgumentParser(prog='ember', description='Train and evaluate models with Ember.')
    sub = p.add_subparsers(dest='command', required=True)

    def command(name, help):
        c = sub.add_parser(name, help=help)
        c.add_argument('config', nargs='?', help='config file (default: the packaged Digits config)')
        c.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE',
                       help='override a config key by its dotted path, e.g. --set optimizer.lr=0.01')
        return c

    t = command('train', 'train a model from a JSON or YAML config')
    t.add_argument('--resume', metavar='PATH', help='continue from a last.pt checkpoint')
    t.add_argument('--output', metavar='DIR', help='output folder (default: the config\'s output)')
    t.add_argument('--nproc', type=int, default=1, metavar='N',
                   help='train on N processes with DistributedDataParallel, started with ember run (MPI); '
                   'batch_size stays the global batch (default 1)')
    e = command('eval', 'evaluate a checkpoint on the test split')
    e.add_argument('--checkpoint', required=True, metavar='PATH')
    r = sub.add_parser('predict', help='print the top-k classes of image files')
    # One list: argparse cannot tell an optional CONFIG from the first IMAGE; main() does.
    r.add_argument('images', nargs='+', metavar='[CONFIG] IMAGE')
    r.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE')
    r.add_argument('--checkpoint', required=True, metavar='PATH')
    r.add_argument('--topk', type=int, default=5, metavar='K', help='classes to print per image (default 5)')
    x = command('export', 'export a checkpoint\'s model to ONNX')
    x.add_argument('--checkpoint', required=True, metavar='PATH')
    x.add_argument('--onnx', required=True, metavar='OUT.onnx', help='the ONNX file to write')
    x.add_argument('--opset', type=int, default=17, help='ONNX opset version (13 to 21, default 17)')
    sub.add_parser('run', help='run a script on N processes over MPI (ember run --nproc-per-node N script.py)')
    return p


def _without_nproc(argv):
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == '--nproc':
            skip = True
        elif not a.startswith('--nproc='):
            out.append(a)
    return out


def _relaunch(argv, nproc, cfg):
    """``ember train ... --nproc N``: run ``ember train ...`` on N processes under the MPI launcher
    (``ember run --nproc-per-node N -m ember train ...``); each finds ``WORLD_SIZE`` and trains with DDP."""
    if nproc < 1:
        print(f"ember train: --nproc must be at least 1, got {nproc}", file=sys.stderr)
        return 2
    if cfg['batch_size'] % nproc:
        print(f"ember train: batch_size {cfg['batch_size']} is the global batch and must be divisible by "
              f"--nproc {nproc}", file=sys.stderr)
        return 2
    if importlib.util.find_spec('mpi4py') is None:
        print("ember train: --nproc needs mpi4py and an MPI runtime: pip install ember[distributed]", file=sys.stderr)
        return 2
    from ..distributed.run import main as run_main
    return run_main(['--nproc-per-node', str(nproc), '-m', 'ember', *_without_nproc(argv)])


def main(argv=None):
    """Entry point of the ``ember`` script and ``python -m ember``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['run']:  # ``ember run``: the launcher parses its own options and passes the script's on
        from ..distributed.run import main as run_main
        return run_main(argv[1:])
    parser = _parser()
    # argparse takes one run of positionals, so IMAGEs after predict's options come back as extras.
    args, extra = parser.parse_known_args(argv)
    if extra and (args.command != 'predict' or any(e.startswith('-') for e in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == 'predict':
        args.images += extra
        # A first path ending in .yaml/.yml/.json is the config; the others are images.
        has_config = args.images[0].endswith(('.yaml', '.yml', '.json'))
        args.config = args.images.pop(0) if has_config else None
        if not args.images:
            print("ember predict: expected at least one IMAGE", file=sys.stderr)
            return 2
    from .config import ConfigError, apply_overrides, default_config_path, load_config, validate
    try:
        cfg = validate(apply_overrides(load_config(args.config or default_config_path()), args.overrides))
    except ConfigError as err:
        print(f"ember {args.command}: invalid config: {err}", file=sys.stderr)
        return 2
    if args.command == 'train' and args.nproc != 1 and 'WORLD_SIZE' not in os.environ:
        return _relaunch(argv, args.nproc, cfg)
    from . import train as _train
    if args.command == 'train':
        return _train.train(cfg, output=args.output, resume=args.resume)
    if args.command == 'eval':
        _train.evaluate(cfg, args.checkpoint)
    elif args.command == 'predict':
        _train.predict(cfg, args.checkpoint, args.images, topk=args.topk)
    else:
        _train.export_checkpoint(cfg, args.checkpoint, args.onnx, opset=args.opset)
    return 0
