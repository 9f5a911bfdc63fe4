"""Floating-point errors: PyTorch computes ``log(0) = -inf`` and ``0/0 = nan`` silently, so Ember
turns off NumPy's RuntimeWarnings for divide, invalid, overflow and underflow when it is imported
(in the importing thread's NumPy error state). ``numpy.seterr`` restores them for NumPy code
that wants them."""
import numpy as np


def silence_floating_point_warnings():
    np.seterr(divide='ignore', invalid='ignore', over='ignore', under='ignore')
