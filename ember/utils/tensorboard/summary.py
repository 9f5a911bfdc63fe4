"""Summary builders: values in, ``Summary`` protocol buffers (tensorboardX's classes) out.

Each function mirrors the one of the same name in ``torch.utils.tensorboard.summary`` and writes
the same fields, so TensorBoard's plugins (scalars, histograms, images, text, hparams, pr_curves,
custom_scalars, mesh) read Ember's logs as they read PyTorch's.
"""
import io
import json
import logging
import struct

import numpy as np
from google.protobuf import struct_pb2
from tensorboardX.proto import layout_pb2
from tensorboardX.proto.plugin_pr_curve_pb2 import PrCurvePluginData
from tensorboardX.proto.plugin_text_pb2 import TextPluginData
from tensorboardX.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboardX.proto.tensor_pb2 import TensorProto
from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

from ._convert import make_np
from ._tbx import _require
from ._utils import convert_to_HWC, prepare_video

__all__ = ['half_to_int', 'int_to_half', 'hparams', 'scalar', 'histogram_raw', 'histogram', 'make_histogram', 'image',
           'image_boxes', 'draw_boxes', 'make_image', 'video', 'make_video', 'audio', 'custom_scalars', 'text',
           'tensor_proto', 'pr_curve_raw', 'pr_curve', 'compute_curve', 'mesh']

logger = logging.getLogger(__name__)


def _pil(what):
    return _require('PIL.Image', 'Pillow', 'vision', what)


def half_to_int(f):
    """The bits of ``f`` as a float32, read as an int32 (PyTorch stores half values this way in ``half_val``)."""
    return struct.unpack('i', struct.pack('f', f))[0]


def int_to_half(i):
    """Inverse of ``half_to_int``."""
    return struct.unpack('f', struct.pack('i', i))[0]


# NumPy dtype -> (TensorProto dtype, value field, conversion of the flattened array)
_TENSOR_TYPE_MAP = {
    np.dtype(np.float16): ('DT_HALF', 'half_val', lambda a: [half_to_int(x) for x in a.tolist()]),
    np.dtype(np.float32): ('DT_FLOAT', 'float_val', np.ndarray.tolist),
    np.dtype(np.float64): ('DT_DOUBLE', 'double_val', np.ndarray.tolist),
    np.dtype(np.int8): ('DT_INT8', 'int_val', np.ndarray.tolist),
    np.dtype(np.uint8): ('DT_UINT8', 'int_val', np.ndarray.tolist),
    np.dtype(np.int16): ('DT_INT16', 'int_val', np.ndarray.tolist),
    np.dtype(np.int32): ('DT_INT32', 'int_val', np.ndarray.tolist),
    np.dtype(np.int64): ('DT_INT64', 'int64_val', np.ndarray.tolist),
    np.dtype(np.bool_): ('DT_BOOL', 'bool_val', np.ndarray.tolist),
}


def _plugin_metadata(name, content=b''):
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=name, content=content))


def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
    """The three hparams-plugin summaries ``(experiment, session_start_info, session_end_info)``.

    ``hparam_dict`` values may be int, float, str, bool (recorded, as in PyTorch, as numbers: bool
    is an int) or a one-element tensor; None values are skipped. ``hparam_domain_discrete`` maps a
    name to the list of values it can take (of the same type as its value).
    """
    from tensorboardX.proto.api_pb2 import DataType, Experiment, HParamInfo, MetricInfo, MetricName, Status
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo

    from ..._tensor import Tensor
    if not isinstance(hparam_dict, dict):
        logger.warning('parameter: hparam_dict should be a dictionary, nothing logged.')
        raise TypeError('parameter: hparam_dict should be a dictionary, nothing logged.')
    if not isinstance(metric_dict, dict):
        logger.warning('parameter: metric_dict should be a dictionary, nothing logged.')
        raise TypeError('parameter: metric_dict should be a dictionary, nothing logged.')
    hparam_domain_discrete = hparam_domain_discrete or {}
    if not isinstance(hparam_domain_discrete, dict):
        raise TypeError('parameter: hparam_domain_discrete should be a dictionary, nothing logged.')
    for k, v in hparam_domain_discrete.items():
        if k not in hparam_dict or not isinstance(v, list) or not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f'parameter: hparam_domain_discrete[{k}] should be a list of same type as '
                            f'hparam_dict[{k}].')

    def discrete(k, field):
        if k not in hparam_domain_discrete:
            return None
        return struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in hparam_domain_discrete[k]])

    hps = []
    ssi = SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        # the order of these checks is PyTorch's: a bool is an int, so it is logged as a number
        if isinstance(v, (int, float)):
            ssi.hparams[k].number_value = v
            hps.append(HParamInfo(name=k, type=DataType.Value('DATA_TYPE_FLOAT64'),
                                  domain_discrete=discrete(k, 'number_value')))
        elif isinstance(v, str):
            ssi.hparams[k].string_value = v
            hps.append(HParamInfo(name=k, type=DataType.Value('DATA_TYPE_STRING'),
                                  domain_discrete=discrete(k, 'string_value')))
        elif isinstance(v, Tensor):
            ssi.hparams[k].number_value = float(make_np(v).reshape(-1)[0])
            hps.append(HParamInfo(name=k, type=DataType.Value('DATA_TYPE_FLOAT64')))
        else:
            raise ValueError('value should be one of int, float, str, bool, or torch.Tensor')

    def summary(tag, **content):
        data = HParamsPluginData(version=0, **content).SerializeToString()
        return Summary(value=[Summary.Value(tag=tag, metadata=_plugin_metadata('hparams', data))])

    exp = Experiment(hparam_infos=hps, metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metric_dict])
    return (summary('_hparams_/experiment', experiment=exp),
            summary('_hparams_/session_start_info', session_start_info=ssi),
            summary('_hparams_/session_end_info',
                    session_end_info=SessionEndInfo(status=Status.Value('STATUS_SUCCESS'))))


def scalar(name, tensor, collections=None, new_style=False, double_precision=False):
    """A one-value summary: ``simple_value``, or with ``new_style`` a scalars-plugin tensor
    (float32, or float64 with ``double_precision``). ``tensor``: anything holding one number."""
    tensor = make_np(tensor).squeeze()
    if tensor.ndim != 0:
        raise AssertionError(f'Tensor should contain one element (0 dimensions). Was given size: {tensor.size} '
                             f'and {tensor.ndim} dimensions.')
    value = float(tensor)
    if new_style:
        if double_precision:
            proto = TensorProto(double_val=[value], dtype='DT_DOUBLE')
        else:
            proto = TensorProto(float_val=[value], dtype='DT_FLOAT')
        return Summary(value=[Summary.Value(tag=name, tensor=proto, metadata=_plugin_metadata('scalars'))])
    return Summary(value=[Summary.Value(tag=name, simple_value=value)])


def tensor_proto(tag, tensor):
    """A summary holding the whole tensor (any supported dtype) for the tensor plugin."""
    arr = make_np(tensor)
    if arr.size * arr.itemsize >= (1 << 31):
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    if arr.dtype not in _TENSOR_TYPE_MAP:
        raise ValueError(f'{tag} has unsupported tensor dtype {getattr(tensor, "dtype", arr.dtype)}')
    dtype, field, convert = _TENSOR_TYPE_MAP[arr.dtype]
    proto = TensorProto(dtype=dtype, tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in
                                                                        arr.shape]),
                        **{field: convert(arr.reshape(-1))})
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin_metadata('tensor'), tensor=proto)])


def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    """A histogram summary from precomputed statistics; ``bucket_limits`` are the buckets' upper edges."""
    hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                          bucket_limit=_as_list(bucket_limits), bucket=_as_list(bucket_counts))
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def _as_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return make_np(x).reshape(-1).tolist()


def histogram(name, values, bins, max_bins=None):
    """A histogram summary of ``values`` (any shape) binned by ``bins`` (edges, an int, or a NumPy rule name)."""
    values = make_np(values)
    return Summary(value=[Summary.Value(tag=name, histo=make_histogram(values.astype(float), bins, max_bins))])


def make_histogram(values, bins, max_bins=None):
    """``np.histogram`` of ``values`` as a HistogramProto, trimmed to the buckets that hold values.

    With ``max_bins``, neighbouring buckets are merged until at most ``max_bins`` remain. TensorBoard
    reads only right edges, so one empty bucket is kept left of the first non-empty one.
    """
    if values.size == 0:
        raise ValueError('The input has no element.')
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    num_bins = len(counts)
    if max_bins is not None and num_bins > max_bins:
        subsampling = num_bins // max_bins
        remainder = num_bins % subsampling
        if remainder != 0:
            counts = np.pad(counts, pad_width=[[0, subsampling - remainder]], mode='constant', constant_values=0)
        counts = counts.reshape(-1, subsampling).sum(axis=-1)
        new_limits = np.empty((counts.size + 1,), limits.dtype)
        new_limits[:-1] = limits[:-1:subsampling]
        new_limits[-1] = limits[-1]
        limits = new_limits
    cum_counts = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(cum_counts, [0, cum_counts[-1] - 1], side='right')
    start, end = int(start), int(end) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError('The histogram is empty, please file a bug report.')
    return HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                          sum_squares=values.dot(values), bucket_limit=limits.tolist(), bucket=counts.tolist())


def _to_uint8(arr):
    """Pixel values as uint8: uint8 as is, other dtypes taken to be in [0, 1] and scaled by 255 (clipped)."""
    scale = 1 if arr.dtype == np.uint8 else 255
    return (arr.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def image(tag, tensor, rescale=1, dataformats='NCHW'):
    """A PNG image summary. ``tensor`` laid out as ``dataformats`` (a batch is tiled into a grid);
    uint8 values are in [0, 255], other dtypes in [0, 1] (out-of-range values are clipped)."""
    arr = convert_to_HWC(make_np(tensor), dataformats)
    return Summary(value=[Summary.Value(tag=tag, image=make_image(_to_uint8(arr), rescale=rescale))])


def image_boxes(tag, tensor_image, tensor_boxes, rescale=1, dataformats='CHW', labels=None):
    """An image summary with red boxes ``(N, 4)`` as ``(xmin, ymin, xmax, ymax)`` drawn on it, each with
    its label when ``labels`` is given."""
    arr = convert_to_HWC(make_np(tensor_image), dataformats)
    img = make_image(_to_uint8(arr), rescale=rescale, rois=make_np(tensor_boxes), labels=labels)
    return Summary(value=[Summary.Value(tag=tag, image=img)])


def _draw_single_box(image, xmin, ymin, xmax, ymax, display_str, color='black', color_text='black', thickness=2):
    from PIL import ImageDraw, ImageFont
    font = ImageFont.load_default()
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = xmin, xmax, ymin, ymax
    draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)], width=thickness,
              fill=color)
    if display_str:
        l, t, r, b = font.getbbox(display_str)
        text_width, text_height = r - l, b - t
        margin = np.ceil(0.05 * text_height)
        draw.rectangle([(left, bottom - text_height - 2 * margin), (left + text_width, bottom)], fill=color)
        draw.text((left + margin, bottom - text_height - margin), display_str, fill=color_text, font=font)
    return image


def draw_boxes(disp_image, boxes, labels=None):
    """Draw each row ``(xmin, ymin, xmax, ymax)`` of ``boxes`` on the PIL image."""
    for i in range(boxes.shape[0]):
        disp_image = _draw_single_box(disp_image, boxes[i, 0], boxes[i, 1], boxes[i, 2], boxes[i, 3],
                                      display_str=None if labels is None else labels[i], color='Red')
    return disp_image


def make_image(tensor, rescale=1, rois=None, labels=None):
    """An ``(H, W, C)`` uint8 array as a PNG ``Summary.Image`` (resized by ``rescale``; boxes drawn from ``rois``)."""
    Image = _pil('add_image')
    height, width, channel = tensor.shape
    img = Image.fromarray(tensor)
    if rois is not None:
        img = draw_boxes(img, rois, labels=labels)
    img = img.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
    with io.BytesIO() as output:
        img.save(output, format='PNG')
        encoded = output.getvalue()
    return Summary.Image(height=height, width=width, colorspace=channel, encoded_image_string=encoded)


def video(tag, tensor, fps=4):
    """An animated-GIF image summary of ``(N, T, C, H, W)`` videos (tiled into a grid); uint8 values in
    [0, 255], other dtypes in [0, 1]."""
    arr = _to_uint8(prepare_video(make_np(tensor)))
    return Summary(value=[Summary.Value(tag=tag, image=make_video(arr, fps))])


def make_video(tensor, fps):
    """``(T, H, W, C)`` uint8 frames as an animated GIF ``Summary.Image`` at ``fps`` frames per second.

    PyTorch encodes the GIF with moviepy; Pillow writes the same kind of file without it.
    """
    Image = _pil('add_video')
    _, h, w, c = tensor.shape
    if c == 1:
        tensor = tensor[..., 0]
    frames = [Image.fromarray(np.ascontiguousarray(f)) for f in tensor]
    with io.BytesIO() as output:
        frames[0].save(output, format='GIF', save_all=True, append_images=frames[1:], duration=1000.0 / fps,
                       loop=0)
        encoded = output.getvalue()
    return Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=encoded)


def audio(tag, tensor, sample_rate=44100):
    """A 16-bit mono WAV summary of a 1-d (after squeezing) signal in [-1, 1] (clipped, with a warning)."""
    import wave
    array = make_np(tensor).squeeze()
    if abs(array).max() > 1:
        print('warning: audio amplitude out of range, auto clipped.')
        array = array.clip(-1, 1)
    if array.ndim != 1:
        raise AssertionError('input tensor should be 1 dimensional.')
    array = (array * np.iinfo(np.int16).max).astype('<i2')
    with io.BytesIO() as fio:
        with wave.open(fio, 'wb') as wave_write:
            wave_write.setnchannels(1)
            wave_write.setsampwidth(2)
            wave_write.setframerate(sample_rate)
            wave_write.writeframes(array.data)
        encoded = fio.getvalue()
    snd = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=array.shape[-1],
                        encoded_audio_string=encoded, content_type='audio/wav')
    return Summary(value=[Summary.Value(tag=tag, audio=snd)])


def custom_scalars(layout):
    """The custom-scalars layout summary. ``layout``: ``{category: {chart title: ['Multiline', tags]
    or ['Margin', [value, lower, upper]]}}``."""
    categories = []
    for category, charts_meta in layout.items():
        charts = []
        for title, chart_meta in charts_meta.items():
            tags = chart_meta[1]
            if chart_meta[0] == 'Margin':
                if len(tags) != 3:
                    raise AssertionError('len(tags) != 3')
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
                charts.append(layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=[series])))
            else:
                charts.append(layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=tags)))
        categories.append(layout_pb2.Category(title=category, chart=charts))
    proto = TensorProto(dtype='DT_STRING', string_val=[layout_pb2.Layout(category=categories).SerializeToString()],
                        tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag='custom_scalars__config__', tensor=proto,
                                        metadata=_plugin_metadata('custom_scalars'))])


def text(tag, text):
    """A text-plugin summary (Markdown) under the tag ``tag + '/text_summary'``."""
    proto = TensorProto(dtype='DT_STRING', string_val=[text.encode(encoding='utf_8')],
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    smd = _plugin_metadata('text', TextPluginData(version=0).SerializeToString())
    return Summary(value=[Summary.Value(tag=tag + '/text_summary', metadata=smd, tensor=proto)])


def _pr_summary(tag, data, num_thresholds):
    smd = _plugin_metadata('pr_curves', PrCurvePluginData(version=0, num_thresholds=num_thresholds)
                           .SerializeToString())
    proto = TensorProto(dtype='DT_FLOAT', float_val=data.reshape(-1).tolist(),
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in data.shape]))
    return Summary(value=[Summary.Value(tag=tag, metadata=smd, tensor=proto)])


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127, weights=None):
    """A PR-curve summary from per-threshold counts, precision and recall (``num_thresholds`` at most 127)."""
    data = np.stack([np.asarray(_as_list(x)) for x in (tp, fp, tn, fn, precision, recall)])
    return _pr_summary(tag, data, min(num_thresholds, 127))


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None):
    """A PR-curve summary of binary ``labels`` against ``predictions`` in [0, 1] (``num_thresholds`` at most 127)."""
    num_thresholds = min(num_thresholds, 127)
    data = compute_curve(make_np(labels), make_np(predictions), num_thresholds=num_thresholds,
                         weights=None if weights is None else make_np(weights))
    return _pr_summary(tag, data, num_thresholds)


def compute_curve(labels, predictions, num_thresholds=None, weights=None):
    """``(6, num_thresholds)``: TP, FP, TN, FN counts, precision and recall at evenly spaced thresholds."""
    minimum_count = 1e-7
    if weights is None:
        weights = 1.0
    bucket_indices = np.int32(np.floor(predictions * (num_thresholds - 1)))
    float_labels = labels.astype(np.float64)
    histogram_range = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range,
                                 weights=float_labels * weights)
    fp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range,
                                 weights=(1.0 - float_labels) * weights)
    # reverse cumulative sums: counts at or above each threshold
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(minimum_count, tp + fp)
    recall = tp / np.maximum(minimum_count, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def _mesh_plugin_data():
    """TensorBoard's MeshPluginData when TensorBoard is installed: its ``components`` field (which of
    vertices/faces/colors are present) is missing from tensorboardX's copy of the proto."""
    try:
        from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData
        return MeshPluginData, True
    except ImportError:
        from tensorboardX.proto.plugin_mesh_pb2 import MeshPluginData
        return MeshPluginData, False


def mesh(tag, vertices, colors, faces, config_dict, display_name=None, description=None):
    """The mesh-plugin summaries of ``vertices``, ``faces`` and ``colors`` (each ``(B, N, 3)`` or None), one
    value per part named ``tag + '_VERTEX'`` etc.; ``config_dict`` holds three.js settings."""
    MeshPluginData, has_components = _mesh_plugin_data()
    json_config = '{}' if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [(t, kind) for t, kind in ((vertices, MeshPluginData.VERTEX), (faces, MeshPluginData.FACE),
                                        (colors, MeshPluginData.COLOR)) if t is not None]
    components = 0
    for _, kind in parts:
        components |= 1 << kind
    values = []
    for t, kind in parts:
        arr = make_np(t)
        if arr.ndim != 3:
            raise ValueError(f'Tensor shape should be of shape BxNx3, but got {list(arr.shape)}.')
        extra = {'components': components} if has_components else {}
        content = MeshPluginData(version=0, name=tag, content_type=kind, shape=arr.shape, json_config=json_config,
                                 **extra).SerializeToString()
        smd = SummaryMetadata(display_name=display_name or '', summary_description=description or '',
                              plugin_data=SummaryMetadata.PluginData(plugin_name='mesh', content=content))
        proto = TensorProto(dtype='DT_FLOAT', float_val=arr.reshape(-1).tolist(),
                            tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in arr.shape]))
        values.append(Summary.Value(tag=f'{tag}_{MeshPluginData.ContentType.Name(kind)}', tensor=proto,
                                    metadata=smd))
    return Summary(value=values)
