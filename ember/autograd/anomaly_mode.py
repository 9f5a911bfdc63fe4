"""Anomaly detection: record each node's forward traceback and check backward outputs for NaN."""
_anomaly = [False]


def is_anomaly_enabled():
    return _anomaly[0]


class detect_anomaly:
    """Context manager / decorator enabling anomaly detection; ``check_nan`` as in PyTorch."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _anomaly[0]
        _anomaly[0] = self.check_nan

    def __exit__(self, *exc):
        _anomaly[0] = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off (immediately, and restored on ``with`` exit)."""

    def __init__(self, mode, check_nan=True):
        self._prev = _anomaly[0]
        _anomaly[0] = bool(mode) and check_nan

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _anomaly[0] = self._prev
        return False
