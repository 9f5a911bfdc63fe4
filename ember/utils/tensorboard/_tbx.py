"""Importing tensorboardX, the optional dependency that frames and encodes event files."""
import sys


def _import_tensorboardx():
    """Import tensorboardX, or raise an ImportError naming the extra that provides it.

    tensorboardX's package ``__init__`` tries ``import torch`` only to annotate its own
    SummaryWriter, which Ember does not use; importing torch takes seconds and Ember never
    imports it, so while tensorboardX loads, ``torch`` is marked absent (unless already loaded).
    """
    if sys.modules.get('tensorboardX') is not None:
        return
    block = 'torch' not in sys.modules
    if block:
        sys.modules['torch'] = None
    try:
        import tensorboardX  # noqa: F401
    except ImportError as e:
        raise ImportError('ember.utils.tensorboard needs the tensorboardX package: '
                          'pip install ember[tensorboard]') from e
    finally:
        if block and sys.modules.get('torch', 0) is None:
            del sys.modules['torch']


def _require(module, package, extra, what):
    """Import optional ``module`` for ``what``, or raise an ImportError naming ``package`` and the
    Ember ``extra`` that installs it."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f'{what} needs the {package} package: pip install ember[{extra}]') from e
