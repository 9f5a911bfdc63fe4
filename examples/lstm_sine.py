"""An LSTM that learns to continue a sine wave: given 30 samples, predict the next one.

    python examples/lstm_sine.py                 # 300 steps, then a 50-sample forecast
    python examples/lstm_sine.py --steps 40

Windows of a noiseless sine with random phase and period form each batch ``(N, 30, 1)``; an
``nn.LSTM(batch_first=True)`` reads them and a linear layer maps its last hidden state to the next value.
After training, the model forecasts by feeding its own predictions back in.
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import ember as torch  # noqa: E402
import ember.nn as nn  # noqa: E402

WINDOW = 30


class SineLSTM(nn.Module):
    """(N, T, 1) -> (N, 1): the value after the last of T samples."""

    def __init__(self, hidden=32):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)          # out: (N, T, hidden), the hidden state after each step
        return self.head(out[:, -1])   # only the last step's state predicts the next value


def batch(n, generator):
    """``n`` windows of ``WINDOW + 1`` sine samples: inputs (n, WINDOW, 1) and targets (n, 1)."""
    phase = torch.rand(n, 1, generator=generator) * 2 * math.pi
    period = 15 + 10 * torch.rand(n, 1, generator=generator)   # 15 to 25 samples per cycle
    t = torch.arange(WINDOW + 1, dtype=torch.float32)
    wave = torch.sin(phase + 2 * math.pi * t / period)
    return wave[:, :WINDOW, None], wave[:, WINDOW:]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--steps', type=int, default=300)
    p.add_argument('--hidden', type=int, default=32)
    p.add_argument('--batch-size', type=int, default=32)
    args = p.parse_args(argv)

    torch.manual_seed(0)
    data = torch.Generator().manual_seed(1)   # the data's own stream: model init does not shift it
    model = SineLSTM(args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.MSELoss()
    losses = []
    for step in range(1, args.steps + 1):
        x, y = batch(args.batch_size, data)
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)   # LSTMs occasionally spike early on
        optimizer.step()
        losses.append(loss.item())
        if step % max(args.steps // 10, 1) == 0:
            print(f'step {step}: mse {sum(losses[-10:]) / len(losses[-10:]):.5f}')

    # Forecast: slide the window, appending each prediction as the next input.
    model.eval()
    x, _ = batch(1, data)
    forecast = []
    with torch.no_grad():
        for _ in range(50):
            nxt = model(x)                                       # (1, 1)
            forecast.append(nxt.item())
            x = torch.cat([x[:, 1:], nxt[:, :, None]], dim=1)
    print('forecast:', ' '.join(f'{v:+.2f}' for v in forecast[:10]), '...')
    return losses, forecast


if __name__ == '__main__':
    main()
