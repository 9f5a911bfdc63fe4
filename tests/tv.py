"""torchvision for the tests, importable beside the CPU build of torch.

The torchvision wheel on the package index is built against CUDA torch: its compiled operators
(``torchvision::nms`` ...) cannot load with the CPU build, and importing torchvision then fails while
registering their meta kernels. Only the pure-Python parts (models, transforms, datasets, utils) are
used as references, so the two missing operator schemas are declared before the import.
"""
import torch

try:
    torch.ops.torchvision.nms
except (AttributeError, RuntimeError):
    _lib = torch.library.Library('torchvision', 'DEF')
    _lib.define('nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
    _lib.define('qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')

import torchvision  # noqa: E402
from torchvision import datasets, models, transforms, utils  # noqa: E402
from torchvision.transforms import functional  # noqa: E402

__all__ = ['torchvision', 'datasets', 'models', 'transforms', 'utils', 'functional']
