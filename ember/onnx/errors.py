"""Exceptions raised by ``ember.onnx.export`` (``torch.onnx.errors``' names)."""


class OnnxExporterError(RuntimeError):
    """Errors raised by the ONNX exporter."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op ran during export that has no ONNX converter."""

    def __init__(self, op, opset, where=''):
        msg = f"Exporting the operator '{op}' to ONNX opset version {opset} is not supported"
        super().__init__(msg + (f' (called in {where})' if where else '') + '.')


class SymbolicValueError(OnnxExporterError):
    """A converter met arguments it cannot express in ONNX (the message names the op and module)."""
