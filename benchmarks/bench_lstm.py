"""LSTM language-model training step, Ember vs PyTorch, one thread each.

    python benchmarks/bench_lstm.py [--repeat 20] [--warmup 3] [--threads 1]

The model is the classic word-level language model: Embedding(10,000, 200) -> 2-layer LSTM(200, 200)
-> Linear(200, 10,000), CrossEntropyLoss, SGD(lr=1). One timed call is a whole training step on a
(35, 20) batch of token ids: zero_grad, forward, loss, backward, gradient clipping, optimizer step. Both
libraries start from the same weights and data; Ember and PyTorch alternate so machine noise hits
both alike. Prints the median ms per step of each, their ratio (Ember / PyTorch) and the loss of the
last step of each (which agree when both compute the same thing).
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


def _step_fn(lib, model, tokens, targets):
    crit = lib.nn.CrossEntropyLoss()
    opt = lib.optim.SGD(model.parameters(), lr=1.0)
    hidden = (lib.zeros(LAYERS, BATCH, HIDDEN), lib.zeros(LAYERS, BATCH, HIDDEN))

    def step():
        opt.zero_grad()
        out, _ = model(tokens, hidden)
        loss = crit(out, targets)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
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
    steps = {'ember': _step_fn(ember, e_model, ember.tensor(tokens), ember.tensor(targets)),
             'torch': _step_fn(torch, t_model, torch.tensor(tokens), torch.tensor(targets))}
    times = {'ember': [], 'torch': []}
    losses = {}
    for i in range(args.warmup + args.repeat):
        for name, step in steps.items():
            start = time.perf_counter()
            losses[name] = step()
            if i >= args.warmup:
                times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(f'LSTM LM training step (vocab {VOCAB}, emb {EMB}, hidden {HIDDEN}x{LAYERS}, seq {SEQ}, batch {BATCH}), '
          f'{args.threads} thread(s), median of {args.repeat}')
    print(f'  ember {med["ember"]:8.2f} ms   torch {med["torch"]:8.2f} ms   ratio {med["ember"] / med["torch"]:.2f}')
    print(f'  last loss: ember {losses["ember"]:.5f}  torch {losses["torch"]:.5f}')


if __name__ == '__main__':
    main()
