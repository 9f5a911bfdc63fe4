"""``ember.nn``: modules, parameters, layers, losses, init and functional."""
from .parameter import Parameter, Buffer, UninitializedParameter
from .modules import *  # noqa: F401,F403
from . import functional, init
from . import parallel
# the star import above binds nn.modules.utils to the name `utils`, which `from . import utils` would return
from importlib import import_module as _import_module
utils = _import_module('.utils', __name__)
