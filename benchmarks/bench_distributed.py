"""DistributedDataParallel throughput and MPI all-reduce bandwidth.

    python benchmarks/bench_distributed.py [--ranks 1,2] [--steps 30] [--batch 32] [--repeat 10]

For each rank count, ``ember run`` starts the job; every rank trains the seed notes' CNN (``TheModelClass``:
two 5x5 convolutions, max pooling and three linear layers on 3x32x32 images) wrapped in
``DistributedDataParallel`` with SGD, ``--batch`` images per rank and step, so that more ranks process
more images per step. The table shows the median step time over the timed steps (after 3 warm-up steps),
the images per second of the whole job and the speed-up over one rank. Then, with the largest rank
count, the median time of ``all_reduce`` on a 25 MB float32 buffer and its bandwidth (algorithm
bandwidth: bytes / time; bus bandwidth: that times 2(n-1)/n, the bytes each rank sends and receives).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ALLREDUCE_BYTES = 25 * 1024 * 1024


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--ranks', default='1,2', help='comma-separated rank counts (default 1,2)')
    p.add_argument('--steps', type=int, default=30, help='timed training steps (default 30)')
    p.add_argument('--batch', type=int, default=32, help='images per rank and step (default 32)')
    p.add_argument('--repeat', type=int, default=10, help='timed all-reduces (default 10)')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    return p.parse_args()


def the_model_class(nn, F):
    class TheModelClass(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return TheModelClass()


def worker(args):
    """One rank: time DDP training steps, then all-reduces; rank 0 prints one JSON line."""
    import numpy as np

    import ember
    import ember.distributed as dist
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group('mpi')
    rank, world = dist.get_rank(), dist.get_world_size()
    ember.manual_seed(0)
    model = DDP(the_model_class(ember.nn, ember.nn.functional))
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = ember.nn.CrossEntropyLoss()
    rng = np.random.default_rng(rank)
    x = ember.from_numpy(rng.standard_normal((args.batch, 3, 32, 32)).astype(np.float32))
    y = ember.from_numpy(rng.integers(0, 10, args.batch))
    times = []
    for step in range(args.steps + 3):
        dist.barrier()
        start = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        elapsed = ember.tensor([time.perf_counter() - start], dtype=ember.float64)
        dist.all_reduce(elapsed, dist.ReduceOp.MAX)  # a step lasts until its slowest rank is done
        if step >= 3:
            times.append(elapsed.item())
    buf = ember.ones(ALLREDUCE_BYTES // 4)
    reduce_times = []
    for i in range(args.repeat + 1):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(buf)
        if i:
            reduce_times.append(time.perf_counter() - start)
    if rank == 0:
        print('RESULT ' + json.dumps({'ranks': world, 'step': statistics.median(times),
                                      'allreduce': statistics.median(reduce_times)}), flush=True)
    dist.destroy_process_group()


def main():
    args = _parse()
    if args.worker:
        return worker(args)
    here = os.path.abspath(__file__)
    results = []
    for n in (int(r) for r in args.ranks.split(',')):
        cmd = [sys.executable, '-m', 'ember.distributed.run', '--nproc-per-node', str(n), here, '--worker',
               '--steps', str(args.steps), '--batch', str(args.batch), '--repeat', str(args.repeat)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith('RESULT ')), None)
        if out.returncode or line is None:
            sys.exit(f'{n} ranks failed:\n{out.stdout}{out.stderr}')
        results.append(json.loads(line[len('RESULT '):]))
    base = results[0]['ranks'] * args.batch / results[0]['step']
    print(f'DistributedDataParallel(TheModelClass), SGD, batch {args.batch} per rank, '
          f'median of {args.steps} steps')
    print(f'{"ranks":>5}  {"step ms":>8}  {"images/s":>9}  {"speed-up":>8}')
    for r in results:
        rate = r['ranks'] * args.batch / r['step']
        print(f'{r["ranks"]:>5}  {r["step"] * 1e3:>8.1f}  {rate:>9.0f}  {rate / base:>7.2f}x')
    last = results[-1]
    n = last['ranks']
    if n > 1:
        algbw = ALLREDUCE_BYTES / last['allreduce'] / 1e9
        print(f'all_reduce of 25 MB float32 over {n} ranks: {last["allreduce"] * 1e3:.1f} ms median, '
              f'{algbw:.2f} GB/s algorithm bandwidth, {algbw * 2 * (n - 1) / n:.2f} GB/s bus bandwidth')


if __name__ == '__main__':
    main()
