"""``ember.optim``: optimizers with PyTorch's update rules and state_dict layout, and learning-rate schedulers."""
from .optimizer import Optimizer
from ._stateless import swap_in_optimizer_params_and_state
from .sgd import SGD
from .adam import Adam, AdamW
from .adadelta import Adadelta
from .adagrad import Adagrad
from ._adafactor import Adafactor
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from ._muon import Muon
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sparse_adam import SparseAdam
from . import lr_scheduler
from . import swa_utils
