"""``ember.nn``: modules, parameters, layers, losses, init and functional."""
from .parameter import Parameter, Buffer, UninitializedParameter
from .modules import *  # noqa: F401,F403
from . import functional, init
