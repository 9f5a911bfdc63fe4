"""``ember.utils.tensorboard``: ``SummaryWriter`` writes TensorBoard event files, as ``torch.utils.tensorboard``.

Needs the optional tensorboardX package (``pip install ember[tensorboard]``), whose event-file
writer and protocol buffers it uses; ``import ember`` does not import this package. View the logs
with ``tensorboard --logdir runs``.
"""
from ._tbx import _import_tensorboardx

_import_tensorboardx()

from .writer import FileWriter, SummaryWriter  # noqa: E402

__all__ = ['FileWriter', 'SummaryWriter']
