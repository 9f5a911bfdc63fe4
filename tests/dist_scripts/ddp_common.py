"""The model and data shared by the DDP script and the single-process reference in the tests."""
import numpy as np

import ember
from ember import nn

STEPS, BATCH = 20, 64


def make_model():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(8 * 1 * 1, 10))


def make_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((STEPS * BATCH, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, STEPS * BATCH)
    return ember.from_numpy(x), ember.from_numpy(y)
