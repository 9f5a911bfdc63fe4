"""The training template behind ``ember train``, ``ember eval``, ``ember predict`` and ``ember export``,
built only from Ember's public API.

``train(cfg)`` fits the model a validated config describes, writing into ``cfg['output']``:
``metrics.csv`` (one row per epoch), ``last.pt`` and ``best.pt`` (and ``epoch_N.pt`` every N epochs when
asked) holding model, optimizer, scheduler, epoch, RNG states, history, class names and config;
``test_metrics.json``; with matplotlib ``curves.png`` and ``confusion_matrix.png``; with
``logging.tensorboard`` TensorBoard events under ``tensorboard/`` (scalars, a batch of inputs, the model
graph, hparams); with ``export.onnx`` ``model.onnx``, checked against ONNX Runtime when it is installed.

Reproducibility. The numbers of a run depend only on the config: the order of epoch ``e`` is a
permutation drawn from its own generator seeded by ``(seed, e)``, and each training batch's random
augmentation runs under RNGs seeded by ``(seed, e, its first index)`` and restored afterwards. Data loading thus
never touches the main random stream (which only initialises the model and drives dropout), so
``num_workers`` 0 or 2 give bit-identical runs. A checkpoint is written to a temporary file and renamed,
so a crash leaves the previous one intact. The first Ctrl-C stops at the end of the current batch and
saves ``last.pt`` with the position in the epoch, the partial metrics and the RNG states: ``--resume``
then goes on from the next batch as if never stopped (a second Ctrl-C exits at once).

Several processes. Started with ``WORLD_SIZE`` > 1 in the environment (``ember train --nproc N``, which
relaunches itself under ``ember run``), ``train`` joins the process group and trains the model in
``DistributedDataParallel``. ``batch_size`` stays the global batch: each rank takes ``batch_size / N``
samples of it (the epoch's order comes from a ``DistributedSampler`` seeded by the config, the same
sampler a single process uses with one replica), so the gradient of every step is that of the whole
batch and the same config trains the same way on 1 or N processes (up to the per-rank BatchNorm
statistics, dropout masks and the padding of the epoch's last batch). Validation and test sets are split
across the ranks and their metrics merged, so every rank logs the same numbers and makes the same
best-checkpoint and early-stopping decisions; rank 0 alone prints and writes files. Checkpoints hold the
plain model's ``state_dict`` (no ``module.`` prefix), so they evaluate, predict and resume with any number
of processes; resuming with the same number restores every rank's RNG state as well.
"""
import csv
import importlib
import json
import os
import random
import signal
import sys
import threading
import time

import numpy as np

import ember
from ember.utils.data import Dataset, DistributedSampler, Subset

from .config import validate
from .metrics import Meter
from .parallel import Job

__all__ = ['train', 'evaluate', 'predict', 'export', 'export_checkpoint', 'build_model', 'build_datasets',
           'load_checkpoint']

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


def _dataset_factory(cfg):
    from ember.vision import datasets
    d = cfg['dataset']
    name, kw = d['name'], dict(d['kwargs'])
    if name == 'digits':
        return lambda train, tf: datasets.Digits(train=train, transform=tf, **kw)
    if name in _DATASETS:
        cls = getattr(datasets, _DATASETS[name])
        return lambda train, tf: cls(d['root'] or 'data', train=train, transform=tf, download=d['download'], **kw)
    if name == 'image_folder':
        if not d['root']:
            raise ValueError("dataset.root: image_folder needs the folder's path (with one subfolder per split)")
        splits = {'train': 'train', 'test': 'val', **d['splits']}
        return lambda train, tf: datasets.ImageFolder(
            os.path.join(d['root'], splits['train' if train else 'test']), transform=tf, **kw)
    if ':' in name:
        cls = _import_attr(name)
        return lambda train, tf: cls(train=train, transform=tf, **kw)
    raise ValueError(f"dataset.name: unknown dataset {name!r} (expected digits, mnist, fashion_mnist, "
                     "cifar10, image_folder or module:Class)")


def build_datasets(cfg):
    """``(train, val, test, classes)`` for ``cfg['dataset']``; ``val`` is a seeded split of the training set."""
    d = cfg['dataset']
    make = _dataset_factory(cfg)
    t_train, t_eval = _transform(cfg['transforms']['train']), _transform(cfg['transforms']['eval'])
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


def _image_mode(cfg):
    """The PIL mode of the dataset's raw images ('L', 'RGB', ...), or None when its samples are not images."""
    sample = _dataset_factory(cfg)(False, None)[0][0]
    return getattr(sample, 'mode', None)


def build_model(cfg):
    """The model ``cfg['model']`` names (an ``ember.hub.list_models()`` name or ``module:callable``), frozen as asked.

    Hub names go through ``ember.hub.create_model`` (``kwargs`` such as ``num_classes`` and ``in_chans``
    adapt a pretrained network); ``freeze`` lists parameter-name prefixes (``'features'``, ``'layer1.0'``).
    """
    m = cfg['model']
    kwargs = dict(m['kwargs'])
    if ':' in m['name']:
        if m['pretrained']:
            kwargs['pretrained'] = True
        model = _import_attr(m['name'])(**kwargs)
    else:
        from ember import hub
        if m['name'].partition('.')[0] not in hub.list_models():
            raise ValueError(f"model.name: unknown model {m['name']!r} (see ember.hub.list_models(), or use "
                             "module:callable)")
        model = hub.create_model(m['name'], pretrained=m['pretrained'], **kwargs)
    for prefix in m['freeze']:
        hits = [p for n, p in model.named_parameters() if n == prefix or n.startswith(prefix + '.')]
        if not hits:
            raise ValueError(f"model.freeze: no parameter named {prefix!r}")
        for p in hits:
            p.requires_grad_(False)
    return model


def _param_groups(cfg, model):
    """The optimizer's parameter list: one group per ``optimizer.param_groups`` entry (parameters chosen by
    name prefix), then the remaining trainable parameters with the optimizer's defaults."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    specs = cfg['optimizer']['param_groups']
    if not specs:
        return [p for _, p in named]
    taken, groups = set(), []
    for i, spec in enumerate(specs):
        prefixes = [spec['params']] if isinstance(spec['params'], str) else list(spec['params'])
        params = [p for n, p in named if n not in taken and any(n == q or n.startswith(q + '.') for q in prefixes)]
        if not params:
            raise ValueError(f"optimizer.param_groups[{i}].params: no trainable parameter named {spec['params']!r}")
        taken.update(n for n, p in named if any(p is q for q in params))
        groups.append({**{k: v for k, v in spec.items() if k != 'params'}, 'params': params})
    rest = [p for n, p in named if n not in taken]
    if rest:
        groups.append({'params': rest})
    return groups


def _build_optim(cfg, model):
    o, s = cfg['optimizer'], cfg['scheduler']
    optimizer = getattr(ember.optim, o['name'])(_param_groups(cfg, model), lr=o['lr'], **o['kwargs'])
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


def _mix(*parts):
    """A 63-bit seed from integers (a simple polynomial hash; stable across processes, unlike ``hash``)."""
    h = 0
    for p in parts:
        h = (h * 1_000_003 + int(p)) % (1 << 63)
    return h


class _SeededSamples(Dataset):
    """Runs each batch's transforms under Ember, NumPy and Python RNGs seeded by ``(seed, epoch, first index)``,
    restoring the caller's states after, so augmentation is the same in any worker process and never moves the
    main stream. (Seeding per batch, not per sample, because seeding Ember's generator costs about a
    millisecond; the DataLoader hands each batch whole to one process through ``__getitems__``.)"""

    def __init__(self, dataset, seed):
        self.dataset, self.seed, self.epoch = dataset, seed, 0

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.__getitems__([index])[0]

    def __getitems__(self, indices):
        s = _mix(self.seed, self.epoch, indices[0] if indices else 0)
        saved = ember.get_rng_state(), np.random.get_state(), random.getstate()
        ember.manual_seed(s)
        np.random.seed(s % (1 << 32))
        random.seed(s)
        try:
            return [self.dataset[i] for i in indices]
        finally:
            ember.set_rng_state(saved[0])
            np.random.set_state(saved[1])
            random.setstate(saved[2])


def _atomic_save(obj, path):
    tmp = f'{path}.tmp'
    ember.save(obj, tmp)
    os.replace(tmp, path)


def _checkpoint(model, optimizer, scheduler, epoch, history, best, stale, cfg, classes, image_mode, partial=None,
                rng_ranks=None):
    """The checkpoint dict; ``rng`` is this process's RNG state, ``rng_ranks`` every rank's (several processes)."""
    return {'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
            'scheduler': scheduler.state_dict() if scheduler is not None else None,
            'epoch': epoch, 'history': history, 'best': best, 'stale': stale, 'rng': _rng_state(),
            'rng_ranks': rng_ranks, 'classes': classes, 'image_mode': image_mode, 'partial': partial,
            'config': cfg}


def load_checkpoint(path):
    """Read a checkpoint written by ``ember train`` (a dict: ``model``, ``optimizer``, ``epoch``, ``config``, ...)."""
    return ember.load(path, weights_only=False)


def _progress(total, desc, enabled):
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=total, desc=desc, unit='img', leave=False, file=sys.stderr)
    return None


class _Stop(Exception):
    """Training stopped between two batches; ``batch`` is the index of the last finished one."""

    def __init__(self, batch):
        super().__init__(batch)
        self.batch = batch


def _run_epoch(model, loader, loss_fn, optimizer, cfg, desc, meter=None, on_batch_end=None, stop=None,
               first_batch=0, job=None):
    """One pass over ``loader``; trains when ``optimizer`` is given. Returns ``(Meter, samples/s)``.

    Training raises :class:`_Stop` after a step when ``stop`` (a ``threading.Event``) is set or
    ``on_batch_end`` raises KeyboardInterrupt, on any rank of ``job`` (all ranks then stop after the same
    batch); batch indices count from ``first_batch``. Only the main rank shows a progress bar.
    """
    training = optimizer is not None
    model.train(training)
    meter = meter or Meter()
    bar = _progress(len(loader.dataset), desc, cfg['logging']['progress'] and training and (job is None or job.main))
    start, seen = time.perf_counter(), 0
    try:
        with ember.set_grad_enabled(training):
            for i, (x, y) in enumerate(loader, first_batch):
                out = model(x)
                loss = loss_fn(out, y)
                if training:
                    optimizer.zero_grad()
                    loss.backward()
                    if cfg['grad_clip'] is not None:
                        ember.nn.utils.clip_grad_norm_(model.parameters(), cfg['grad_clip'])
                    optimizer.step()
                meter.update(loss.item(), out, y)
                seen += len(y)
                if bar is not None:
                    rate = seen / max(time.perf_counter() - start, 1e-9)
                    bar.set_postfix(loss=f'{meter.loss / meter.n:.4f}', rate=f'{rate:.0f}/s', refresh=False)
                    bar.update(len(y))
                if not training:
                    continue
                stopping = False
                try:
                    if on_batch_end is not None:
                        on_batch_end(i, loss.item())
                except KeyboardInterrupt:
                    stopping = True
                stopping = stopping or (stop is not None and stop.is_set())
                if job is not None:
                    stopping = job.any(stopping)
                if stopping:
                    raise _Stop(i)
    finally:
        if bar is not None:
            bar.close()
    return meter, seen / max(time.perf_counter() - start, 1e-9)


def _loader(dataset, cfg, batch_size=None):
    # The loader's own generator keeps its base_seed draw off the main stream.
    return ember.utils.data.DataLoader(dataset, batch_size=batch_size or cfg['batch_size'], shuffle=False,
                                       num_workers=cfg['num_workers'], generator=ember.Generator().manual_seed(0))


def _epoch_loader(train_set, sampler, epoch, first_batch, batch_size, cfg):
    """This rank's training batches of ``epoch`` from batch ``first_batch`` on, in the order ``sampler``
    (a DistributedSampler over ``train_set``) gives that epoch.

    With ``batch_size`` the global batch over the number of replicas, batch ``k`` of every rank is its share of
    the epoch's global batch ``k``, so ``first_batch`` means the same position for any number of processes.
    """
    train_set.epoch = epoch
    sampler.set_epoch(epoch)
    return _loader(Subset(train_set, list(sampler)[first_batch * batch_size:]), cfg, batch_size)


def _write_csv(path, history):
    tmp = path + '.tmp'
    with open(tmp, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(history[0]))
        w.writeheader()
        w.writerows(history)
    os.replace(tmp, path)


def _improved(value, best, mode):
    return best is None or (value > best if mode == 'max' else value < best)


def _tensorboard(cfg, out, model, sample_set, log):
    """A SummaryWriter holding a batch of inputs and the model graph, or None (not asked, or not installed)."""
    if not cfg['logging']['tensorboard']:
        return None
    try:
        from ember.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(os.path.join(out, 'tensorboard'))
    except ImportError as e:
        log(f"skipping TensorBoard: {e}")
        return None
    x = next(iter(_loader(sample_set, cfg)))[0]
    if x.dim() == 4:
        lo, hi = x.amin(), x.amax()
        writer.add_images('inputs', (x[:32] - lo) / (hi - lo).clamp(min=1e-12), 0)
    # Eval mode and a forked RNG: tracing the graph must not move BatchNorm statistics or the random stream.
    was_training = model.training
    model.eval()
    with ember.random.fork_rng():
        writer.add_graph(model, x[:1])
    model.train(was_training)
    return writer


def _flat_hparams(cfg):
    out = {}
    for key in ('batch_size', 'epochs', 'seed', 'grad_clip', 'num_workers'):
        out[key] = cfg[key]
    out['model'] = cfg['model']['name']
    out['optimizer'] = cfg['optimizer']['name']
    out['lr'] = cfg['optimizer']['lr']
    out['scheduler'] = cfg['scheduler']['name'] or 'none'
    for k, v in cfg['optimizer']['kwargs'].items():
        if isinstance(v, (int, float, str, bool)):
            out[f'optimizer.{k}'] = v
    return {k: v for k, v in out.items() if v is not None}


def export(model, example, path, opset=17, log=print):
    """Write ``model`` (eval mode) to ONNX at ``path`` with a dynamic batch axis; with onnxruntime installed,
    run both on ``example`` and raise if they differ. Returns the largest absolute difference, or None."""
    from ember import onnx
    model.eval()
    onnx.export(model, (example,), path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=opset)
    try:
        import onnxruntime
    except ImportError:
        log(f"wrote {path} (not checked: pip install onnxruntime)")
        return None
    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    got = session.run(None, {'input': example.numpy()})[0]
    with ember.no_grad():
        want = model(example).numpy()
    diff = float(np.abs(got - want).max()) if want.size else 0.0
    if not np.allclose(got, want, rtol=1e-3, atol=1e-4):
        raise RuntimeError(f"{path}: ONNX Runtime's output differs from Ember's by up to {diff:.3g}")
    log(f"wrote {path} (ONNX Runtime matches Ember: max |diff| {diff:.2g})")
    return diff


class _SigintFlag:
    """While active, the first Ctrl-C sets ``event`` (training stops after the batch); a second one raises."""

    def __init__(self):
        self.event = threading.Event()
        self._old = None

    def _handle(self, signum, frame):
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        print("\nCtrl-C: stopping after this batch (press again to quit at once)", file=sys.stderr)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def train(cfg, output=None, resume=None, on_batch_end=None, log=print):
    """Train as ``cfg`` says; returns the exit status (0, or 130 after Ctrl-C, having saved ``last.pt``).

    ``resume`` is a ``last.pt`` to continue from (same config: every later number and the final weights
    equal an uninterrupted run's, also when it was saved mid-epoch by Ctrl-C). ``on_batch_end(batch_index,
    loss)`` is called after every training step; a KeyboardInterrupt it raises acts as Ctrl-C. Run on several
    processes when ``WORLD_SIZE`` > 1 (see the module docstring).
    """
    cfg = validate(cfg)
    job = Job()
    status = _train(cfg, job, output, resume, on_batch_end, log if job.main else (lambda s: None))
    # not in a `finally`: leaving the group would drop the hook that aborts the job when a rank raises
    job.close()
    return status


def _train(cfg, job, output, resume, on_batch_end, log):
    out = output or cfg['output']
    cfg['output'] = out
    if job.main:
        os.makedirs(out, exist_ok=True)
    batch_size = job.batch_size(cfg['batch_size'])
    ember.manual_seed(cfg['seed'])
    np.random.seed(cfg['seed'])
    random.seed(cfg['seed'])
    train_set, val_set, test_set, classes = build_datasets(cfg)
    train_set = _SeededSamples(train_set, cfg['seed'])
    sampler = DistributedSampler(train_set, num_replicas=job.world, rank=job.rank, shuffle=True, seed=cfg['seed'])
    image_mode = _image_mode(cfg)
    net = build_model(cfg)
    if job.world > 1:
        # every rank starts from the same weights; from here on, each draws its own dropout masks
        ember.manual_seed(_mix(cfg['seed'], job.rank))
    optimizer, scheduler = _build_optim(cfg, net)
    loss_fn = getattr(ember.nn, cfg['loss']['name'])(**cfg['loss']['kwargs'])
    history, best, stale, start, partial = [], None, 0, 0, None
    if resume is not None:
        ck = load_checkpoint(resume)
        net.load_state_dict(ck['model'])
        optimizer.load_state_dict(ck['optimizer'])
        if scheduler is not None and ck['scheduler'] is not None:
            scheduler.load_state_dict(ck['scheduler'])
        history, best, stale, start, partial = ck['history'], ck['best'], ck['stale'], ck['epoch'], ck.get('partial')
        ranks = ck.get('rng_ranks')
        _set_rng_state(ranks[job.rank] if ranks and len(ranks) == job.world else ck['rng'])
        where = f", batch {partial['batch']}" if partial else ''
        log(f"resumed from {resume} after epoch {start}{where}")
    model = job.wrap(net)
    val_loader = _loader(job.shard(val_set), cfg)
    writer = None
    if job.main:
        writer = None if resume is not None else _tensorboard(cfg, out, net, train_set, log)
        if writer is None and resume is not None and cfg['logging']['tensorboard']:
            from ember.utils.tensorboard import SummaryWriter
            writer = SummaryWriter(os.path.join(out, 'tensorboard'))
    ck_cfg, es = cfg['checkpoint'], cfg['early_stopping']
    last_path, best_path = os.path.join(out, 'last.pt'), os.path.join(out, 'best.pt')

    def save(path, epoch, part=None):
        rngs = job.gather(_rng_state()) if job.world > 1 else None  # a collective: every rank calls save
        if job.main:
            _atomic_save(_checkpoint(net, optimizer, scheduler, epoch, history, best, stale, cfg, classes,
                                     image_mode, part, rngs), path)

    with _SigintFlag() as sigint:
        for epoch in range(start + 1, cfg['epochs'] + 1):
            first = partial['batch'] if partial else 0
            meter = Meter()
            # the saved partial metrics are the sum over ranks: rank 0 carries them on
            if partial and job.main:
                meter.__dict__.update(partial['meter'])
                meter.confusion = np.asarray(meter.confusion, dtype=np.int64) if meter.confusion else None
            partial = None
            lr = optimizer.param_groups[0]['lr']
            try:
                tr, rate = _run_epoch(model, _epoch_loader(train_set, sampler, epoch, first, batch_size, cfg),
                                      loss_fn, optimizer, cfg, f'epoch {epoch}/{cfg["epochs"]}', meter, on_batch_end,
                                      sigint.event, first, job if job.world > 1 else None)
            except _Stop as stopped:
                meter = job.merge(meter)
                state = dict(meter.__dict__, confusion=None if meter.confusion is None else meter.confusion.tolist())
                save(last_path, epoch - 1, {'batch': stopped.batch + 1, 'meter': state})
                log(f"interrupted in epoch {epoch} after batch {stopped.batch}: saved {last_path} "
                    f"(continue with --resume {last_path})")
                if writer is not None:
                    writer.close()
                return 130
            tr = job.merge(tr)
            row = {'epoch': epoch, 'lr': lr, **{f'train_{k}': v for k, v in tr.result().items()}}
            if len(val_set):
                va = job.merge(_run_epoch(net, val_loader, loss_fn, None, cfg, 'val')[0])
                row.update({f'val_{k}': v for k, v in va.result().items()})
            if scheduler is not None:
                scheduler.step()
            history.append(row)
            log(f"epoch {epoch}/{cfg['epochs']}  " + '  '.join(f'{k} {v:.4f}' for k, v in row.items() if k != 'epoch')
                + f'  {rate * job.world:.0f} samples/s')
            if cfg['logging']['csv'] and job.main:
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
                if m not in row:
                    raise ValueError(f"early_stopping.metric: {m!r} is not logged (logged: {', '.join(row)})")
                ref = (max if es['mode'] == 'max' else min)((r[m] for r in history[:-1]), default=None)
                stale = 0 if _improved(row[m], ref, es['mode']) else stale + 1
            if ck_cfg['last']:
                save(last_path, epoch)
            if is_best:
                save(best_path, epoch)
            if ck_cfg['every'] and epoch % ck_cfg['every'] == 0:
                save(os.path.join(out, f'epoch_{epoch}.pt'), epoch)
            if es['metric'] is not None and stale >= es['patience']:
                log(f"early stopping: {es['metric']} has not improved for {stale} epochs")
                break
    # rank 0 reads best.pt and hands its weights to the others (who may not share its file system)
    if job.from_main(os.path.exists(best_path) if job.main else None):
        if job.main:
            net.load_state_dict(load_checkpoint(best_path)['model'])
        job.sync_module(net)
    test = job.merge(_run_epoch(net, _loader(job.shard(test_set), cfg), loss_fn, None, cfg, 'test')[0])
    result = {f'test_{k}': v for k, v in test.result().items()}
    if not job.main:
        return 0
    with open(os.path.join(out, 'test_metrics.json'), 'w') as f:
        json.dump(result, f, indent=2)
    log('test  ' + '  '.join(f'{k} {v:.4f}' for k, v in result.items()))
    if writer is not None:
        writer.add_hparams(_flat_hparams(cfg), {f'hparam/{k}': v for k, v in result.items()}, run_name='hparams')
        writer.close()
    written = ['metrics.csv', 'last.pt', 'best.pt', 'test_metrics.json']
    if cfg['logging']['plots'] and history:
        try:
            from .plots import plot_confusion, plot_curves
            plot_curves(history, os.path.join(out, 'curves.png'))
            written.append('curves.png')
            if 'confusion_matrix' in cfg['metrics'] and test.confusion is not None:
                names = classes if len(classes) == len(test.confusion) else [str(i) for i in range(len(test.confusion))]
                plot_confusion(test.confusion, names, os.path.join(out, 'confusion_matrix.png'))
                written.append('confusion_matrix.png')
        except ImportError as e:
            log(f"skipping plots: {e}")
    if writer is not None:
        written.append('tensorboard/')
    if cfg['export']['onnx'] and len(test_set):
        try:
            export(net, next(iter(_loader(test_set, cfg)))[0], os.path.join(out, 'model.onnx'),
                   cfg['export']['opset'], log)
            written.append('model.onnx')
        except ImportError as e:
            log(f"skipping ONNX export: {e}")
    log(f"wrote {out}: {', '.join(written)}")
    return 0


def _model_from_checkpoint(cfg, checkpoint):
    ck = load_checkpoint(checkpoint)
    model = build_model(cfg)
    model.load_state_dict(ck['model'])
    model.eval()
    return model, ck


def evaluate(cfg, checkpoint, log=print):
    """Evaluate ``checkpoint``'s model on the test split; returns ``{'test_loss', 'test_accuracy', 'test_top5'}``."""
    cfg = validate(cfg)
    ember.manual_seed(cfg['seed'])
    _, _, test_set, _ = build_datasets(cfg)
    model, _ = _model_from_checkpoint(cfg, checkpoint)
    loss_fn = getattr(ember.nn, cfg['loss']['name'])(**cfg['loss']['kwargs'])
    meter = _run_epoch(model, _loader(test_set, cfg), loss_fn, None, cfg, 'test')[0]
    result = {f'test_{k}': v for k, v in meter.result().items()}
    log('  '.join(f'{k} {v:.4f}' for k, v in result.items()))
    return result


def predict(cfg, checkpoint, images, topk=5, log=print):
    """Classify image files with ``checkpoint``'s model and the config's eval transforms.

    Returns one list per image of ``(class_name, probability)`` pairs, the ``topk`` most likely first; class
    names and the image mode (``'L'``, ``'RGB'``) come from the checkpoint (else from the dataset).
    """
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("ember predict reads images with Pillow: pip install ember[vision]") from e
    cfg = validate(cfg)
    model, ck = _model_from_checkpoint(cfg, checkpoint)
    classes = ck.get('classes') or build_datasets(cfg)[3]
    mode = ck.get('image_mode') or _image_mode(cfg)
    tf = _transform(cfg['transforms']['eval'])
    results = []
    for path in images:
        with Image.open(path) as img:
            x = tf(img.convert(mode) if mode else img)
        with ember.no_grad():
            probs = ember.softmax(model(x.unsqueeze(0)), dim=1)[0]
        p, idx = probs.topk(min(topk, probs.numel()))
        names = [classes[i] if i < len(classes) else str(i) for i in idx.tolist()]
        results.append(list(zip(names, p.tolist())))
        log(f"{path}: " + ', '.join(f'{n} {q:.4f}' for n, q in results[-1]))
    return results


def export_checkpoint(cfg, checkpoint, path, opset=17, log=print):
    """``ember export``: write ``checkpoint``'s model to ONNX at ``path``, checked against ONNX Runtime if installed."""
    cfg = validate(cfg)
    model, _ = _model_from_checkpoint(cfg, checkpoint)
    _, _, test_set, _ = build_datasets(cfg)
    example = next(iter(_loader(test_set, cfg)))[0]
    return export(model, example, path, opset, log)
