"""``ember.autograd``: the backward engine, grad modes, custom Functions and gradcheck."""
from .anomaly_mode import (detect_anomaly, set_detect_anomaly, is_anomaly_enabled, is_anomaly_check_nan_enabled,
                           set_anomaly_enabled)
from .engine import backward, grad
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled)
from . import graph
from .function import Function, FunctionCtx, InplaceFunction, once_differentiable
from . import function
from .gradcheck import gradcheck, gradgradcheck, GradcheckError

__all__ = ['Function', 'backward', 'grad', 'no_grad', 'enable_grad', 'set_grad_enabled', 'inference_mode',
           'detect_anomaly', 'set_detect_anomaly', 'graph', 'function', 'gradcheck', 'gradgradcheck',
           'GradcheckError']
