"""ImageFolder loading timed in Ember and in PyTorch + torchvision in one run.

    python benchmarks/bench_imagefolder.py [--repeat 3] [--workers 0,2] [--images 2000] [--batch 64] [--crop 64]

Builds ``--images`` small JPEGs (96x80 RGB, 10 class folders) in a temporary folder, then loads
them with ``ImageFolder`` and ``Compose([RandomResizedCrop(crop), RandomHorizontalFlip(), ToTensor(),
Normalize(mean, std)])`` through ``DataLoader(batch_size=batch, shuffle=True)`` with each
``num_workers`` (``--batch 32 --crop 224`` is the ImageNet training setting). Pillow decodes the
files for both libraries. An epoch is one full pass, worker start-up included; the libraries
alternate epoch by epoch so that machine noise hits both alike.
The table shows median seconds per epoch and the ratio Ember / PyTorch.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CLASSES = 10
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--repeat', type=int, default=3, help='timed epochs per library and setting (default 3)')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--workers', default='0,2', help='comma-separated num_workers settings (default 0,2)')
    p.add_argument('--images', type=int, default=2000, help='number of JPEG files (default 2000)')
    p.add_argument('--batch', type=int, default=64, help='batch size (default 64)')
    p.add_argument('--crop', type=int, default=64, help='RandomResizedCrop output size (default 64)')
    return p.parse_args()


def make_images(root, n):
    """``n`` smooth-ish random 96x80 JPEGs spread over ``CLASSES`` class folders."""
    from PIL import Image
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (n, 10, 12, 3), dtype=np.uint8)
    for i in range(n):
        folder = os.path.join(root, f'class{i % CLASSES}')
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(base[i]).resize((96, 80), Image.BILINEAR).save(os.path.join(folder, f'{i:05d}.jpg'),
                                                                      quality=90)


def _libraries():
    """``{name: (lib, datasets, transforms)}`` for Ember and for torch + torchvision."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'tests'))
    import torch
    from tv import datasets as tv_datasets
    from tv import transforms as tv_transforms

    import ember
    from ember.vision import datasets, transforms
    return {'ember': (ember, datasets, transforms), 'torch': (torch, tv_datasets, tv_transforms)}


def make_loader(lib, datasets, transforms, root, num_workers, batch=64, crop=64):
    tf = transforms.Compose([transforms.RandomResizedCrop(crop), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    return lib.utils.data.DataLoader(datasets.ImageFolder(root, transform=tf), batch_size=batch, shuffle=True,
                                     num_workers=num_workers)


def _epoch(loader):
    n = 0
    for x, y in loader:
        assert x.shape[1] == 3 and x.shape[2] == x.shape[3]
        n += len(y)
    return n


def main():
    args = _parse()
    libs = _libraries()
    for lib, _, _ in libs.values():
        lib.set_num_threads(1)
    workers = [int(w) for w in args.workers.split(',')]
    with tempfile.TemporaryDirectory() as root:
        t = time.perf_counter()
        make_images(root, args.images)
        print(f'{args.images} JPEGs written in {time.perf_counter() - t:.1f} s; batch {args.batch}, '
              f'RandomResizedCrop({args.crop}) + flip + ToTensor + Normalize')
        print(f'{"num_workers":>11} {"ember s/epoch":>14} {"torch s/epoch":>14} {"ratio":>7}')
        for nw in workers:
            loaders = {name: make_loader(lib, ds, tf, root, nw, args.batch, args.crop)
                       for name, (lib, ds, tf) in libs.items()}
            times = {name: [] for name in loaders}
            for loader in loaders.values():
                for _ in range(args.warmup):
                    assert _epoch(loader) == args.images
            for _ in range(args.repeat):
                for name, loader in loaders.items():
                    t = time.perf_counter()
                    _epoch(loader)
                    times[name].append(time.perf_counter() - t)
            med = {name: float(np.median(v)) for name, v in times.items()}
            print(f'{nw:>11} {med["ember"]:>14.3f} {med["torch"]:>14.3f} {med["ember"] / med["torch"]:>7.2f}')


if __name__ == '__main__':
    main()
