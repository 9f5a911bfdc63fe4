"""A Transformer encoder training step timed in Ember and PyTorch in one run.

    python benchmarks/bench_transformer.py [--threads 1] [--repeat 20] [--dropout 0.1] [--clock wall|cpu]

Workload: ``TransformerEncoder`` of 2 ``TransformerEncoderLayer`` (d_model 256, 4 heads,
dim_feedforward 1024, batch_first), input batch 16 x sequence 128; one step is forward, MSE loss
against a fixed target, backward, ``SGD.step()``. Both libraries start from the same weights (PyTorch's
state_dict loaded into Ember) and alternate step by step, so machine noise hits both alike; after
warm-up the median of ``--repeat`` steps is printed with the ratio Ember / PyTorch. With dropout
above 0 Ember draws its masks from PyTorch's random stream, so it does the same work. The same
steps without dropout, and the attention op alone (forward + backward), are timed too.
"""
import argparse
import os
import sys
import time
import warnings
from pathlib import Path

D_MODEL, NHEAD, FF, LAYERS, BATCH, SEQ = 256, 4, 1024, 2, 16, 128


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', type=int, default=1, help='threads for both libraries (default 1)')
    p.add_argument('--repeat', type=int, default=20, help='timed steps per library (default 20)')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--dropout', type=float, default=0.1, help="the layers' dropout (PyTorch's default 0.1)")
    p.add_argument('--clock', choices=('wall', 'cpu'), default='wall', help='wall time or process CPU time')
    return p.parse_args()


def _model(lib, dropout):
    lib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the nested-tensor notice: irrelevant to training
        layer = lib.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, dropout=dropout, batch_first=True)
        return lib.nn.TransformerEncoder(layer, LAYERS)


def _train_step(lib, model, x, y):
    opt = lib.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def _attention_step(lib, arrays):
    q, k, v, g = (lib.tensor(a, requires_grad=i < 3) for i, a in enumerate(arrays))
    sdpa = lib.nn.functional.scaled_dot_product_attention

    def step():
        for t in (q, k, v):
            t.grad = None
        sdpa(q, k, v).backward(g)
    return step


def _time(fns, repeat, warmup, clock):
    import numpy as np
    for _ in range(warmup):
        for f in fns.values():
            f()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t = clock()
            f()
            times[k].append((clock() - t) * 1e3)
    return {k: float(np.median(v)) for k, v in times.items()}


def main():
    args = _parse()
    for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = str(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import numpy as np
    import torch

    import ember
    ember.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == 'cpu' else time.perf_counter
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SEQ, D_MODEL)).astype(np.float32)
    y = rng.standard_normal((BATCH, SEQ, D_MODEL)).astype(np.float32)
    print(f'TransformerEncoder: {LAYERS} layers, d_model {D_MODEL}, {NHEAD} heads, ff {FF}, batch {BATCH} x seq {SEQ}')
    print(f'threads {args.threads}; warm-up {args.warmup}; median of {args.repeat} {args.clock}-clock steps (ms)')
    print(f'{"workload":36} {"ember":>9} {"torch":>9} {"ratio":>6}')
    for dropout in dict.fromkeys((args.dropout, 0.0)):
        tm = _model(torch, dropout)
        em = _model(ember, dropout)
        em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
        fns = {'ember': _train_step(ember, em, ember.tensor(x), ember.tensor(y)),
               'torch': _train_step(torch, tm, torch.tensor(x), torch.tensor(y))}
        m = _time(fns, args.repeat, args.warmup, clock)
        name = f'train step, dropout {dropout}'
        print(f'{name:36} {m["ember"]:9.1f} {m["torch"]:9.1f} {m["ember"] / m["torch"]:6.2f}')
    hd = D_MODEL // NHEAD
    arrays = [rng.standard_normal((BATCH, NHEAD, SEQ, hd)).astype(np.float32) for _ in range(4)]
    m = _time({'ember': _attention_step(ember, arrays), 'torch': _attention_step(torch, arrays)}, args.repeat,
              args.warmup, clock)
    name = 'scaled_dot_product_attention f+b'
    print(f'{name:36} {m["ember"]:9.1f} {m["torch"]:9.1f} {m["ember"] / m["torch"]:6.2f}')


if __name__ == '__main__':
    main()
