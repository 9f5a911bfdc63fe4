"""Anomaly detection: record each node's forward traceback and check backward outputs for NaN.

While enabled, every new graph node stores the stack of the forward call that created it
(and, for nodes created during a backward pass, the node whose backward created it). When a
node's backward fails, or returns NaN with ``check_nan``, that traceback is shown as a
warning before the error propagates. Like PyTorch's, the setting is process-wide.
"""
import warnings

# [enabled, check_nan]
_anomaly = [False, True]
# The node whose backward is running (kept only while anomaly detection is on), so that nodes
# created by it (double backward) can point back to it.
_current_node = [None]


def is_anomaly_enabled():
    """True while anomaly detection is on."""
    return _anomaly[0]


def is_anomaly_check_nan_enabled():
    """True while anomaly detection also checks backward outputs for NaN."""
    return _anomaly[1]


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly detection on or off (``torch.set_anomaly_enabled``)."""
    _anomaly[0] = bool(enabled)
    _anomaly[1] = bool(check_nan)


class detect_anomaly:
    """Context manager / decorator enabling anomaly detection for the autograd engine.

    A backward function that raises, or returns NaN (``check_nan=True``), is reported with
    the traceback of the forward operation that created it.
    """

    def __init__(self, check_nan=True):
        self.prev = _anomaly[0]
        self.check_nan = check_nan
        self.prev_check_nan = _anomaly[1]
        warnings.warn('Anomaly Detection has been enabled. This mode will increase the runtime and should only be '
                      'enabled for debugging.', stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off: immediately when called, restored on ``with`` exit."""

    def __init__(self, mode, check_nan=True):
        self.prev = _anomaly[0]
        self.prev_check_nan = _anomaly[1]
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


def _report(node):
    """Warn with the forward traceback of ``node`` (and of the nodes whose backward created it)."""
    trace = node.metadata.get('traceback_')
    if trace is None:
        warnings.warn(f'Error detected in {node.name()}. No forward pass information available. Enable detect '
                      'anomaly during forward pass for more information.', stacklevel=3)
        return
    msg = f'Error detected in {node.name()}. Traceback of forward call that caused the error:\n{trace}'
    parent = node.metadata.get('parent_')
    while parent is not None:
        ptrace = parent.metadata.get('traceback_', '')
        msg += (f'\n\nPrevious calculation was induced by {parent.name()}. Traceback of forward call that induced '
                f'the previous calculation:\n{ptrace}')
        parent = parent.metadata.get('parent_')
    warnings.warn(msg, stacklevel=3)
