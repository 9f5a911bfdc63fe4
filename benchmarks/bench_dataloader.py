"""DataLoader epochs timed in Ember and PyTorch in one run.

    python benchmarks/bench_dataloader.py [--repeat 5] [--workers 0,2] [--persistent]

The workload: an in-memory dataset of 2,000 3x64x64 uint8 images with a NumPy augmentation
(random 64x64 crop of the image padded by 4, horizontal flip, normalisation to float32) and an
int label, written once against the torch API and run with ``lib=ember`` and ``lib=torch``;
``DataLoader(batch_size=64, shuffle=True)`` with each ``num_workers``. An epoch is one full pass,
worker start-up included unless ``--persistent``. The libraries alternate epoch by epoch so that
machine noise hits both alike; the table shows median seconds per epoch and the ratio Ember /
PyTorch.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

N, SIZE, PAD, BATCH = 2000, 64, 4, 64
MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(3, 1, 1)


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--repeat', type=int, default=5, help='timed epochs per library and setting (default 5)')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--workers', default='0,2', help='comma-separated num_workers settings (default 0,2)')
    p.add_argument('--persistent', action='store_true', help='keep workers alive between epochs')
    return p.parse_args()


def make_loader(lib, num_workers, persistent):
    class Augmented(lib.utils.data.Dataset):
        def __init__(self):
            rng = np.random.default_rng(0)
            images = rng.integers(0, 256, (N, 3, SIZE, SIZE), dtype=np.uint8)
            self.images = np.pad(images, ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD)))
            self.labels = rng.integers(0, 10, N)

        def __len__(self):
            return N

        def __getitem__(self, i):
            top, left = np.random.randint(0, 2 * PAD + 1, size=2)
            img = self.images[i, :, top:top + SIZE, left:left + SIZE]
            if np.random.rand() < 0.5:
                img = img[:, :, ::-1]
            x = (img.astype(np.float32) * np.float32(1 / 255) - MEAN) / STD
            return lib.from_numpy(x), int(self.labels[i])

    return lib.utils.data.DataLoader(Augmented(), batch_size=BATCH, shuffle=True, num_workers=num_workers,
                                     persistent_workers=persistent and num_workers > 0)


def _epoch(loader):
    n = 0
    for x, y in loader:
        assert x.shape[1:] == (3, SIZE, SIZE)
        n += len(y)
    assert n == N


def main():
    args = _parse()
    sys.path.insert(0, str(Path(__file__).parent.parent))
    import torch

    import ember
    torch.set_num_threads(1)
    ember.set_num_threads(1)
    libs = {'ember': ember, 'torch': torch}
    print(f'{N} images 3x{SIZE}x{SIZE}, batch {BATCH}, repeat {args.repeat}'
          f'{", persistent workers" if args.persistent else ""}')
    print(f'{"num_workers":>11} {"ember s/epoch":>14} {"torch s/epoch":>14} {"ratio":>7}')
    for nw in (int(w) for w in args.workers.split(',')):
        loaders = {name: make_loader(lib, nw, args.persistent) for name, lib in libs.items()}
        times = {name: [] for name in libs}
        for rep in range(args.warmup + args.repeat):
            for name, loader in loaders.items():
                t = time.perf_counter()
                _epoch(loader)
                if rep >= args.warmup:
                    times[name].append(time.perf_counter() - t)
        med = {name: float(np.median(v)) for name, v in times.items()}
        print(f'{nw:>11} {med["ember"]:>14.3f} {med["torch"]:>14.3f} {med["ember"] / med["torch"]:>7.2f}')
        del loaders


if __name__ == '__main__':
    main()
