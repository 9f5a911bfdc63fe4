"""Log a short training run with ``ember.utils.tensorboard`` and take a screenshot of TensorBoard showing it.

Needs TensorBoard (``pip install ember[tensorboard] tensorboard``) and Chromium for the headless
screenshot (on Debian/Ubuntu: ``apt-get update && apt-get install -y chromium``)::

    python examples/tensorboard_screenshot.py --out tensorboard_scalars.png

The script fits a small linear model, logging its loss, learning rate, weight histogram and graph
to ``--logdir`` (a temporary directory by default); starts ``tensorboard --logdir DIR --host
127.0.0.1 --port P``; loads the scalars dashboard (or ``--page graphs``, ...) in ``chromium
--headless --screenshot``; and stops TensorBoard again, whatever happens.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import ember  # noqa: E402
from ember.utils.tensorboard import SummaryWriter  # noqa: E402


def log_training(logdir, steps=200):
    """Fit ``y = 3x - 1`` with SGD, logging to ``logdir``."""
    ember.manual_seed(0)
    x = ember.linspace(-1, 1, 64).unsqueeze(1)
    y = 3 * x - 1 + 0.1 * ember.randn(64, 1)
    model = ember.nn.Sequential(ember.nn.Linear(1, 8), ember.nn.Tanh(), ember.nn.Linear(8, 1))
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=80, gamma=0.3)
    with SummaryWriter(logdir) as writer:
        writer.add_graph(model, x)
        for step in range(steps):
            loss = ember.nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            writer.add_scalar('train/loss', loss.item(), step)
            writer.add_scalar('train/lr', sched.get_last_lr()[0], step)
            if step % 20 == 0:
                writer.add_histogram('weights/first_layer', model[0].weight, step)
        writer.add_hparams({'lr': 0.1, 'momentum': 0.9}, {'hparam/final_loss': loss.item()}, run_name='hparams')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(url, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.5)
    return False


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--logdir', default=None, help='where to log (default: a temporary directory)')
    p.add_argument('--out', default='tensorboard_scalars.png', help='PNG file to write')
    p.add_argument('--port', type=int, default=0, help='TensorBoard port (default: a free one)')
    p.add_argument('--page', default='scalars', help='dashboard to show: scalars, graphs, histograms, hparams, ...')
    p.add_argument('--window-size', default='1400,1000')
    p.add_argument('--timeout', type=float, default=120, help='seconds TensorBoard may live')
    args = p.parse_args()
    logdir = args.logdir or tempfile.mkdtemp(prefix='ember-tb-')
    log_training(logdir)
    chromium = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
    if chromium is None:
        sys.exit('chromium not found: apt-get update && apt-get install -y chromium')
    port = args.port or free_port()
    url = f'http://127.0.0.1:{port}'
    tb = subprocess.Popen([sys.executable, '-m', 'tensorboard.main', '--logdir', logdir, '--host', '127.0.0.1',
                           '--port', str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_for(url, min(60, args.timeout)):
            sys.exit('TensorBoard did not start')
        out = os.path.abspath(args.out)
        subprocess.run([chromium, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
                        f'--screenshot={out}', f'--window-size={args.window_size}', '--virtual-time-budget=20000',
                        f'{url}/#{args.page}'], check=True, timeout=args.timeout, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        print(f'logged to {logdir}; screenshot of {url}/#{args.page} in {out}')
    finally:
        tb.terminate()
        try:
            tb.wait(10)
        except subprocess.TimeoutExpired:
            tb.kill()
            tb.wait()


if __name__ == '__main__':
    main()
