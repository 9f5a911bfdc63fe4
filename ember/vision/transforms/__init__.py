"""ember.vision.transforms: torchvision.transforms (v1) for PIL images and Ember tensor images."""
from . import functional
from .transforms import *  # noqa: F401,F403
from .autoaugment import *  # noqa: E402,F401,F403,I001
