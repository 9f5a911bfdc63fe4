"""``ember.onnx``: export Ember models to ONNX and load ONNX weights back.

``export`` runs the model once, records every op it executes (see ``_trace``), and writes
the graph with the ``onnx`` package (an optional dependency: ``pip install ember[onnx]``).
Importing this package does not import ``onnx``; the exporter loads it on first use.
"""
import enum

from . import errors
from .errors import OnnxExporterError

__all__ = ['export', 'load_weights', 'is_in_onnx_export', 'TrainingMode', 'OperatorExportTypes',
           'OnnxExporterError', 'errors']

# ONNX Runtime 1.17+ runs every op of this opset; ``opset_version`` may ask for 13 to 21.
DEFAULT_OPSET = 17


class TrainingMode(enum.IntEnum):
    """How ``export`` sets the model's training flag while it runs: eval, as is, or train."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """``operator_export_type`` values; Ember exports plain ONNX only."""
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


def is_in_onnx_export():
    """True while ``export`` is running the model."""
    from ._trace import active
    return active() is not None


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None, output_names=None,
           opset_version=None, dynamo=False, external_data=True, dynamic_shapes=None, custom_translation_table=None,
           report=False, optimize=True, verify=False, profile=False, dump_exported_program=False, artifacts_dir='.',
           export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None, training=TrainingMode.EVAL,
           operator_export_type=OperatorExportTypes.ONNX, do_constant_folding=True, custom_opsets=None,
           export_modules_as_functions=False, autograd_inlining=True):
    """Export ``model`` (an ``nn.Module`` or a function of tensors) to ONNX by running it once on ``args``.

    ``args``: a tensor or a tuple of positional arguments (a trailing dict is taken as keyword
    arguments, as in PyTorch); tensors among them (also inside lists and tuples) become the graph's
    inputs, other values are fixed in the graph. ``f``: a path or a binary file object to write;
    ``None`` writes nothing. Returns the ``onnx.ModelProto``.

    The model's parameters and buffers become initializers named by their ``state_dict`` keys
    (graph inputs instead when ``export_params=False``; also listed as inputs when
    ``keep_initializers_as_inputs``). Nodes are named by module path (``/layer1/0/conv1/Conv``).
    ``dynamic_axes`` (``{name: {axis: 'dim_name'}}`` or ``{name: [axis, ...]}``) makes those
    dimensions symbolic. ``training``: ``TrainingMode.EVAL`` (default) puts the model in eval mode
    while it runs and restores its flags after. ``opset_version`` defaults to 17. With
    ``do_constant_folding``, ops whose inputs are all constants are stored as their results.

    Shapes read in Python (``x.size(0)``) are recorded as numbers; ``view``/``reshape`` keep a
    leading dimension symbolic when it is copied from the input. ``nn.LSTM``/``GRU``/``RNN`` (and
    their cells) become ONNX ``LSTM``/``GRU``/``RNN`` nodes, one per layer; ``proj_size > 0`` and
    ``PackedSequence`` inputs raise ``SymbolicValueError``. Multi-head and scaled dot-product
    attention are written with MatMul/Softmax and keep batch and sequence lengths symbolic.

    ``dynamo=True``, ``dynamic_shapes``, ``custom_translation_table``, ``report``, ``verify``,
    ``profile``, ``dump_exported_program``, ``export_modules_as_functions``, ``custom_opsets`` and
    operator export types other than ``ONNX`` raise ``NotImplementedError``. ``external_data``,
    ``optimize``, ``artifacts_dir`` and ``autograd_inlining`` only concern PyTorch's dynamo
    exporter and are accepted without effect.
    """
    unsupported = {'dynamo': dynamo, 'dynamic_shapes': dynamic_shapes is not None,
                   'custom_translation_table': custom_translation_table is not None, 'report': report,
                   'verify': verify, 'profile': profile, 'dump_exported_program': dump_exported_program,
                   'export_modules_as_functions': bool(export_modules_as_functions),
                   'custom_opsets': bool(custom_opsets),
                   'operator_export_type': operator_export_type != OperatorExportTypes.ONNX}
    for name, used in unsupported.items():
        if used:
            raise NotImplementedError(f'ember.onnx.export: {name} is not supported (Ember records the ops a '
                                      f'forward pass runs and exports plain ONNX)')
    from ._export import export as _export
    return _export(model, args, f, kwargs=kwargs, verbose=bool(verbose), input_names=input_names,
                   output_names=output_names, opset_version=opset_version or DEFAULT_OPSET,
                   export_params=export_params, keep_initializers_as_inputs=bool(keep_initializers_as_inputs),
                   dynamic_axes=dynamic_axes, training=TrainingMode(training), do_constant_folding=do_constant_folding)


def load_weights(model, f, strict=True):
    """Copy an ONNX model's initializers into ``model``'s parameters and buffers, matched by name.

    ``f``: a path, a binary file object, bytes or an ``onnx.ModelProto``. Every initializer named like
    a ``state_dict`` key must have that entry's shape (``RuntimeError`` naming both otherwise); values
    are cast to the entry's dtype. With ``strict``, every parameter of ``model`` must be in the file.
    Returns ``(missing_keys, unexpected_keys)``: ``state_dict`` keys absent from the file, and
    initializer names that are not ``state_dict`` keys.
    """
    from ._export import load_weights as _load
    return _load(model, f, strict)
