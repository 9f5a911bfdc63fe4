"""``ember.optim``: optimizers with PyTorch's update rules and state_dict layout."""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
