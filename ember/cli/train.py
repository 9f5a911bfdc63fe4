"""The training template behind ``ember train`` and ``ember eval``, built only from Ember's public API.

``train(cfg)`` fits the model a validated config describes, writing into ``cfg['output']``:
``metrics.csv`` (one row per epoch), ``last.pt`` and ``best.pt`` checkpoints (model, optimizer, scheduler,
epoch, RNG states, history and config), ``test_metrics.json``, and with matplotlib ``curves.png`` and
``confusion_matrix.png``; with ``logging.tensorboard`` TensorBoard event files under ``tensorboard/``.
"""
import csv
import importlib
import json
import os
import random
import sys
import time

import numpy as np

import ember

from .config import validate
from .metrics import Meter

__all__ = ['train', 'evaluate', 'build_model', 'build_datasets']

_DATASETS = {'mnist': 'MNIST', 'fashion_mnist': 'FashionMNIST', 'cifar10': 'CIFAR10'}


def _import_attr(spec):
    module, _, name = spec.partition(':')
    obj = importlib.import_module(module)
    for part in name.split('.'):
        obj = getattr(obj, part)
    return obj


def _transform(items):
    from ember.vision import transforms as T
    return T.Compose([getattr(T, t['name'])(**t.get('kwargs', {})) for t in items])


def build_datasets(cfg):
    """``(train, val, test, classes)`` for ``cfg['dataset']``; ``val`` is a seeded split of the training set."""
    from ember.utils.data import Subset
    from ember.vision import datasets
    d = cfg['dataset']
    name, kw = d['name'], dict(d['kwargs'])
    t_train, t_eval = _transform(cfg['transforms']['train']), _transform(cfg['transforms']['eval'])
    if name == 'digits':
        make = lambda train, tf: datasets.Digits(train=train, transform=tf, **kw)
    elif name in _DATASETS:
        cls = getattr(datasets, _DATASETS[name])
        make = lambda train, tf: cls(d['root'] or 'data', train=train, transform=tf, download=d['download'], **kw)
    elif name == 'image_folder':
        if not d['root']:
            raise ValueError("dataset.root: image_folder needs the folder's path (with train/ and val/ subfolders)")
        make = lambda train, tf: datasets.ImageFolder(os.path.join(d['root'], 'train' if train else 'val'),
                                                      transform=tf, **kw)
    elif ':' in name:
        cls = _import_attr(name)
        make = lambda train, tf: cls(train=train, transform=tf, **kw)
    else:
        raise ValueError(f"dataset.name: unknown dataset {name!r} (expected digits, mnist, fashion_mnist, "
                         "cifar10, image_folder or module:Class)")
    full_train, full_eval, test = make(True, t_train), make(True, t_eval), make(False, t_eval)
    classes = list(getattr(test, 'classes', []) or [])
    # The split is drawn from its own generator so that it does not depend on the model's initialisation.
    perm = ember.randperm(len(full_train), generator=ember.Generator().manual_seed(cfg['seed'])).tolist()
    if d['subset'] is not None:
        perm = perm[:d['subset']]
    n_val = int(round(len(perm) * d['val_split']))
    train_set, val_set = Subset(full_train, perm[n_val:]), Subset(full_eval, perm[:n_val])
    if d['subset'] is not None:
        test = Subset(test, list(range(min(d['subset'], len(test)))))
    return train_set, val_set, test, classes


def build_model(cfg):
    """The model ``cfg['model']`` names (``ember.vision.models`` name or ``module:callable``), frozen as asked."""
    m = cfg['model']
    kwargs = dict(m['kwargs'])
    if ':' in m['name']:
        if m['pretrained']:
            kwargs['pretrained'] = True
        model = _import_attr(m['name'])(**kwargs)
    else:
        from ember.vision import models
        if m['pretrained']:
            kwargs['weights'] = 'DEFAULT'
        model = models.get_model(m['name'], **kwargs)
    for prefix in m['freeze']:
        hits = [p for n, p in model.named_parameters() if n == prefix or n.startswith(prefix + '.')]
        if not hits:
            raise ValueError(f"model.freeze: no parameter named {prefix!r}")
        for p in hits:
            p.requires_grad_(False)
    return model


def _build_optim(cfg, model):
    o, s = cfg['optimizer'], cfg['scheduler']
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = getattr(ember.optim, o['name'])(params, lr=o['lr'], **o['kwargs'])
    scheduler = getattr(ember.optim.lr_scheduler, s['name'])(optimizer, **s['kwargs']) if s['name'] else None
    return optimizer, scheduler


def _rng_state():
    np_state = np.random.get_state()
    return {'ember': ember.get_rng_state(), 'numpy_keys': ember.from_numpy(np_state[1].astype(np.int64)),
            'numpy_rest': [int(np_state[2]), int(np_state[3]), float(np_state[4])], 'python': random.getstate()}


def _set_rng_state(state):
    ember.set_rng_state(state['ember'])
    pos, has_gauss, cached = state['numpy_rest']
    np.random.set_state(('MT19937', state['numpy_keys'].numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))


def _save(path, model, optimizer, scheduler, epoch, history, best, stale, cfg):
    ember.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
                'scheduler': scheduler.state_dict() if scheduler is not None else None,
                'epoch': epoch, 'history': history, 'best': best, 'stale': stale, 'rng': _rng_state(),
                'config': cfg}, path)


def _progress(loader, desc, enabled):
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=len(loader.dataset), desc=desc, unit='img', leave=False, file=sys.stderr)
    return None


def _run_epoch(model, loader, loss_fn, optimizer, cfg, desc, on_batch_end=None):
    """One pass over ``loader``; trains when ``optimizer`` is given. Returns ``(Meter, samples/s)``."""
    training = optimizer is not None
    model.train(training)
    meter = Meter()
    bar = _progress(loader, desc, cfg['logging']['progress'] and training)
    start = time.perf_counter()
    with ember.set_grad_enabled(training):
        for i, (x, y) in enumerate(loader):
            out = model(x)
            loss = loss_fn(out, y)
            if training:
                optimizer.zero_grad()
                loss.backward()
                if cfg['grad_clip'] is not None:
                    ember.nn.utils.clip_grad_norm_(model.parameters(), cfg['grad_clip'])
                optimizer.step()
            meter.update(loss.item(), out, y)
            if bar is not None:
                rate = meter.n / max(time.perf_counter() - start, 1e-9)
                bar.set_postfix(loss=f'{meter.loss / meter.n:.4f}', rate=f'{rate:.0f}/s', refresh=False)
                bar.update(len(y))
            if on_batch_end is not None:
                on_batch_end(i, loss.item())
    if bar is not None:
        bar.close()
    return meter, meter.n / max(time.perf_counter() - start, 1e-9)


def _loader(dataset, cfg, shuffle):
    return ember.utils.data.DataLoader(dataset, batch_size=cfg['batch_size'], shuffle=shuffle,
                                       num_workers=cfg['num_workers'])


def _write_csv(path, history):
    tmp = path + '.tmp'
    with open(tmp, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(history[0]))
        w.writeheader()
        w.writerows(history)
    os.replace(tmp, path)


def _improved(value, best, mode):
    return best is None or (value > best if mode == 'max' else value < best)


def _tb_writer(cfg, out):
    if not cfg['logging']['tensorboard']:
        return None
    from ember.utils.tensorboard import SummaryWriter
    return SummaryWriter(os.path.join(out, 'tensorboard'))


def train(cfg, output=None, resume=None, on_batch_end=None, log=print):
    """Train as ``cfg`` says; returns the exit status (0, or 130 after Ctrl-C, having saved ``last.pt``).

    ``resume`` is a ``last.pt`` to continue from (same config: every later number and the final weights
    equal an uninterrupted run's). ``on_batch_end(batch_index, loss)`` is called after every training step.
    """
    cfg = validate(cfg)
    out = output or cfg['output']
    cfg['output'] = out
    os.makedirs(out, exist_ok=True)
    ember.manual_seed(cfg['seed'])
    np.random.seed(cfg['seed'])
    random.seed(cfg['seed'])
    train_set, val_set, test_set, classes = build_datasets(cfg)
    model = build_model(cfg)
    optimizer, scheduler = _build_optim(cfg, model)
    loss_fn = getattr(ember.nn, cfg['loss']['name'])(**cfg['loss']['kwargs'])
    history, best, stale, start = [], None, 0, 0
    if resume is not None:
        ck = ember.load(resume, weights_only=False)
        model.load_state_dict(ck['model'])
        optimizer.load_state_dict(ck['optimizer'])
        if scheduler is not None and ck['scheduler'] is not None:
            scheduler.load_state_dict(ck['scheduler'])
        history, best, stale, start = ck['history'], ck['best'], ck['stale'], ck['epoch']
        _set_rng_state(ck['rng'])
        log(f"resumed from {resume} at epoch {start}")
    train_loader, val_loader = _loader(train_set, cfg, True), _loader(val_set, cfg, False)
    writer = _tb_writer(cfg, out)
    ck_cfg, es = cfg['checkpoint'], cfg['early_stopping']
    last_path, best_path = os.path.join(out, 'last.pt'), os.path.join(out, 'best.pt')
    epoch = start
    try:
        for epoch in range(start + 1, cfg['epochs'] + 1):
            lr = optimizer.param_groups[0]['lr']
            tr, rate = _run_epoch(model, train_loader, loss_fn, optimizer, cfg, f'epoch {epoch}/{cfg["epochs"]}',
                                  on_batch_end)
            row = {'epoch': epoch, 'lr': lr, **{f'train_{k}': v for k, v in tr.result().items()}}
            if len(val_set):
                va, _ = _run_epoch(model, val_loader, loss_fn, None, cfg, 'val')
                row.update({f'val_{k}': v for k, v in va.result().items()})
            if scheduler is not None:
                scheduler.step()
            history.append(row)
            log(f"epoch {epoch}/{cfg['epochs']}  " + '  '.join(f'{k} {v:.4f}' for k, v in row.items() if k != 'epoch')
                + f'  {rate:.0f} samples/s')
            if cfg['logging']['csv']:
                _write_csv(os.path.join(out, 'metrics.csv'), history)
            if writer is not None:
                for k, v in row.items():
                    if k != 'epoch':
                        writer.add_scalar(k.replace('_', '/', 1), v, epoch)
            metric = ck_cfg['best_metric']
            if metric is not None and metric not in row:
                raise ValueError(f"checkpoint.best_metric: {metric!r} is not logged (logged: {', '.join(row)})")
            is_best = metric is not None and _improved(row[metric], best, ck_cfg['mode'])
            if is_best:
                best = row[metric]
            if es['metric'] is not None:
                m = es['metric']
                ref = (max if es['mode'] == 'max' else min)((r[m] for r in history[:-1]), default=None)
                stale = 0 if _improved(row[m], ref, es['mode']) else stale + 1
            if ck_cfg['last']:
                _save(last_path, model, optimizer, scheduler, epoch, history, best, stale, cfg)
            if is_best:
                _save(best_path, model, optimizer, scheduler, epoch, history, best, stale, cfg)
            if es['metric'] is not None and stale >= es['patience']:
                log(f"early stopping: {es['metric']} has not improved for {stale} epochs")
                break
    except KeyboardInterrupt:
        _save(last_path, model, optimizer, scheduler, epoch - 1, history, best, stale, cfg)
        log(f"interrupted: saved {last_path}")
        if writer is not None:
            writer.close()
        return 130
    if writer is not None:
        writer.close()
    if os.path.exists(best_path):
        model.load_state_dict(ember.load(best_path, weights_only=False)['model'])
    test = _run_epoch(model, _loader(test_set, cfg, False), loss_fn, None, cfg, 'test')[0]
    result = {f'test_{k}': v for k, v in test.result().items()}
    with open(os.path.join(out, 'test_metrics.json'), 'w') as f:
        json.dump(result, f, indent=2)
    log('test  ' + '  '.join(f'{k} {v:.4f}' for k, v in result.items()))
    if cfg['logging']['plots'] and history:
        try:
            from .plots import plot_confusion, plot_curves
            plot_curves(history, os.path.join(out, 'curves.png'))
            if 'confusion_matrix' in cfg['metrics']:
                plot_confusion(test.confusion, [str(i) for i in range(len(test.confusion))],
                               os.path.join(out, 'confusion_matrix.png'))
        except ImportError as e:
            log(f"skipping plots: {e}")
    log(f"wrote {out}: metrics.csv, last.pt, best.pt, test_metrics.json"
        + (', curves.png' if os.path.exists(os.path.join(out, 'curves.png')) else ''))
    return 0


def evaluate(cfg, checkpoint, log=print):
    """Evaluate ``checkpoint``'s model on the test split; returns ``{'test_loss', 'test_accuracy', 'test_top5'}``."""
    cfg = validate(cfg)
    ember.manual_seed(cfg['seed'])
    _, _, test_set, _ = build_datasets(cfg)
    model = build_model(cfg)
    model.load_state_dict(ember.load(checkpoint, weights_only=False)['model'])
    loss_fn = getattr(ember.nn, cfg['loss']['name'])(**cfg['loss']['kwargs'])
    meter = _run_epoch(model, _loader(test_set, cfg, False), loss_fn, None, cfg, 'test')[0]
    result = {f'test_{k}': v for k, v in meter.result().items()}
    log('  '.join(f'{k} {v:.4f}' for k, v in result.items()))
    return result
