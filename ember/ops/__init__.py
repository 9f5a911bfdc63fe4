"""The op library. Each family module defines its ops once, with ``__all__`` (the functions
exported as ``ember.<name>``) and ``METHODS`` (the ``Tensor`` methods it provides); this
package attaches the methods to ``Tensor``."""
from .._tensor import Tensor
from . import convert, elementwise, fill, indexing, reduce, shape
from . import softmax, sort
from . import random
from . import linalg
from . import conv, pool
from . import join, pad
from . import activation, loss, normalization
from . import dropout, embedding, resample
from . import rnn
from . import attention

FAMILIES = (convert, elementwise, fill, indexing, reduce, shape, softmax, sort, random, linalg, conv, pool, join, pad,
            activation, normalization, resample, rnn, attention)

for _family in FAMILIES:
    for _name, _fn in _family.METHODS.items():
        setattr(Tensor, _name, _fn)
