"""LSTM language-model training step, Ember vs PyTorch, one thread each.

    python benchmarks/bench_lstm.py [--repeat 20] [--warmup 3] [--threads 1] [--phases]

The model is the classic word-level language model: Embedding(10,000, 200) -> 2-layer LSTM(200, 200)
-> Linear(200, 10,000), CrossEntropyLoss, SGD(lr=1). One timed call is a whole training step on a
(35, 20) batch of token ids: zero_grad, forward, loss, backward, gradient clipping, optimizer step. Both
libraries start from the same weights and data; Ember and PyTorch alternate so machine noise hits
both alike. Prints the median ms per step of each, their ratio (Ember / PyTorch) and the loss of the
last step of each (which agree when both compute the same thing). ``--phases`` also prints, per library,
the median CPU time of each phase of the step (zero_grad, embedding, LSTM, decoder, loss, backward,
clipping, optimizer step): CPU time of this thread, so that other processes on a loaded machine
distort it less than wall time.
"""
import argparse
import statistics
import time

VOCAB, EMB, HIDDEN, LAYERS, SEQ, BATCH = 10_000, 200, 200, 2, 35, 20


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--repeat', type=int, default=20, help='timed steps per library (default 20)')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--threads', type=int, default=1, help='threads for both libraries (default 1)')
    p.add_argument('--phases', action='store_true', help='also print the CPU time of each phase of the step')
    return p.parse_args()


def _model(lib, state=None):
    nn = lib.nn

    class LanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(VOCAB, EMB)
            self.rnn = nn.LSTM(EMB, HIDDEN, LAYERS)
            self.decoder = nn.Linear(HIDDEN, VOCAB)

        def forward(self, tokens, hidden):
            out, hidden = self.rnn(self.encoder(tokens), hidden)
            return self.decoder(out).reshape(-1, VOCAB), hidden

    lib.manual_seed(0)
    m = LanguageModel()
    if state is not None:
        m.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    return m


PHASES = ('zero_grad', 'embedding', 'lstm', 'decoder', 'loss', 'backward', 'clip', 'step')


def _step_fn(lib, model, tokens, targets, marks=None):
    """One training step; with ``marks`` (a list) it appends the thread CPU time after each phase."""
    crit = lib.nn.CrossEntropyLoss()
    opt = lib.optim.SGD(model.parameters(), lr=1.0)
    hidden = (lib.zeros(LAYERS, BATCH, HIDDEN), lib.zeros(LAYERS, BATCH, HIDDEN))
    mark = (lambda: marks.append(time.thread_time())) if marks is not None else (lambda: None)

    def step():
        mark()
        opt.zero_grad()
        mark()
        emb = model.encoder(tokens)
        mark()
        out, _ = model.rnn(emb, hidden)
        mark()
        out = model.decoder(out).reshape(-1, VOCAB)
        mark()
        loss = crit(out, targets)
        mark()
        loss.backward()
        mark()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        mark()
        opt.step()
        mark()
        return loss.item()
    return step


def main():
    args = _parse()
    import numpy as np
    import torch

    import ember

    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, VOCAB, (SEQ, BATCH))
    targets = rng.integers(0, VOCAB, SEQ * BATCH)
    t_model = _model(torch)
    state = {k: v.numpy() for k, v in t_model.state_dict().items()}
    e_model = _model(ember, state)
    marks = {'ember': [] if args.phases else None, 'torch': [] if args.phases else None}
    steps = {'ember': _step_fn(ember, e_model, ember.tensor(tokens), ember.tensor(targets), marks['ember']),
             'torch': _step_fn(torch, t_model, torch.tensor(tokens), torch.tensor(targets), marks['torch'])}
    times = {'ember': [], 'torch': []}
    phases = {'ember': [], 'torch': []}
    losses = {}
    for i in range(args.warmup + args.repeat):
        for name, step in steps.items():
            if args.phases:
                marks[name].clear()
            start = time.perf_counter()
            losses[name] = step()
            if i >= args.warmup:
                times[name].append(time.perf_counter() - start)
                if args.phases:
                    m = marks[name]
                    phases[name].append([b - a for a, b in zip(m, m[1:])])
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(f'LSTM LM training step (vocab {VOCAB}, emb {EMB}, hidden {HIDDEN}x{LAYERS}, seq {SEQ}, batch {BATCH}), '
          f'{args.threads} thread(s), median of {args.repeat}')
    print(f'  ember {med["ember"]:8.2f} ms   torch {med["torch"]:8.2f} ms   ratio {med["ember"] / med["torch"]:.2f}')
    print(f'  last loss: ember {losses["ember"]:.5f}  torch {losses["torch"]:.5f}')
    if args.phases:
        print('  CPU ms per phase (median)   ember     torch   ratio')
        for k, phase in enumerate(PHASES + ('total',)):
            e, t = ([statistics.median(sum(p) if phase == 'total' else p[k] for p in phases[n]) * 1e3
                     for n in ('ember', 'torch')])
            print(f'    {phase:24s}{e:8.2f}  {t:8.2f}   {e / t if t else float("nan"):5.2f}')


if __name__ == '__main__':
    main()
