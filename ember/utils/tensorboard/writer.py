"""``SummaryWriter``: log scalars, histograms, images, graphs, ... for TensorBoard, as ``torch.utils.tensorboard``.

How events reach the disk: each ``add_*`` call builds a ``Summary`` protocol buffer (summary.py),
wraps it in an ``Event`` with its step and wall time and puts it on a bounded queue; a daemon
thread takes events off the queue and appends them to the event file through tensorboardX's
``EventsWriter`` (which frames each record with its length and CRCs), flushing the file every
``flush_secs``. So logging costs the training loop only the building of a small protocol buffer.
``flush()`` waits until the queue is empty, then flushes the file; ``close()`` and an ``atexit``
handler do the same, so events already logged survive a normal exit or an uncaught exception.
"""
import atexit
import itertools
import os
import queue
import socket
import threading
import time
import weakref

from tensorboardX.event_file_writer import EventsWriter
from tensorboardX.proto.event_pb2 import Event, SessionLog
from tensorboardX.record_writer import directory_check

from ._convert import make_np
from ._tbx import _require
from .summary import (audio, custom_scalars, histogram, histogram_raw, hparams, image, image_boxes, mesh, pr_curve,
                      pr_curve_raw, scalar, tensor_proto, text, video)

__all__ = ['FileWriter', 'SummaryWriter']

_file_ids = itertools.count()
_open_writers = weakref.WeakSet()
_NOTHING = object()


@atexit.register
def _close_open_writers():
    for w in list(_open_writers):
        w.close()


class _EventFileWriter:
    """Appends ``Event`` protos to a new event file in ``logdir`` from a background thread.

    The file is named as TensorBoard's writers name theirs,
    ``events.out.tfevents.<time>.<host>.<pid>.<n><filename_suffix>``, so that two writers on one
    directory never share a file.
    """

    def __init__(self, logdir, max_queue=10, flush_secs=120, filename_suffix=''):
        self._logdir = logdir
        directory_check(logdir)
        self._writer = EventsWriter(os.path.join(logdir, 'events'),
                                    f'.{os.getpid()}.{next(_file_ids)}{filename_suffix}')
        self._queue = queue.Queue(int(max_queue))
        self._flush_secs = flush_secs
        self._suffix = filename_suffix
        self._error = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name='ember-tensorboard-writer', daemon=True)
        self._thread.start()
        _open_writers.add(self)

    def get_logdir(self):
        return self._logdir

    def _run(self):
        pending = False
        next_flush = time.time() + self._flush_secs
        while True:
            try:
                event = self._queue.get(timeout=max(next_flush - time.time(), 0.001))
            except queue.Empty:
                event = _NOTHING
            try:
                if event is None:
                    return
                if event is not _NOTHING:
                    self._writer.write_event(event)
                    pending = True
                if pending and time.time() >= next_flush:
                    self._writer.flush()
                    pending = False
                    next_flush = time.time() + self._flush_secs
            except Exception as e:  # noqa: BLE001 (a failed write must not hang flush(); flush/close report it)
                self._error = e
            finally:
                if event is not _NOTHING:
                    self._queue.task_done()

    def add_event(self, event):
        if self._closed:
            raise OSError('Writer is closed')
        self._queue.put(event)

    def flush(self):
        if not self._closed:
            self._queue.join()
            self._writer.flush()
            self._raise_error()

    def close(self):
        if self._closed:
            return
        self._closed = True
        _open_writers.discard(self)
        self._queue.put(None)
        self._thread.join()
        self._writer.close()
        self._raise_error()

    def reopen(self):
        """Start a new event file in the same directory after ``close()``."""
        if self._closed:
            self.__init__(self._logdir, self._queue.maxsize, self._flush_secs, self._suffix)

    def _raise_error(self):
        if self._error is not None:
            e, self._error = self._error, None
            raise OSError(f'writing events to {self._logdir} failed') from e


class FileWriter:
    """Writes ``Event`` protocol buffers to a new event file in ``log_dir``, asynchronously.

    ``max_queue`` events may wait before an ``add_*`` call blocks for the writer thread;
    the file is flushed every ``flush_secs`` seconds, on ``flush()`` and on ``close()``.
    """

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=''):
        self.event_writer = _EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self):
        """The directory the event file is written in."""
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None):
        """Queue ``event``, stamped with ``walltime`` (default ``time.time()``) and ``step`` when given."""
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None):
        """Queue a ``Summary`` protocol buffer as an event."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile, walltime=None):
        """Queue a ``(GraphDef, run metadata)`` pair; the run metadata, when not None, is a
        ``RunMetadata`` proto (or its serialized bytes) stored under the tag ``step1``."""
        graph, run_metadata = graph_profile
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)
        if run_metadata is not None:
            if not isinstance(run_metadata, bytes):
                run_metadata = run_metadata.SerializeToString()
            from tensorboardX.proto.event_pb2 import TaggedRunMetadata
            self.add_event(Event(tagged_run_metadata=TaggedRunMetadata(tag='step1', run_metadata=run_metadata)),
                           None, walltime)

    def add_onnx_graph(self, graph, walltime=None):
        """Queue a ``GraphDef`` converted from an ONNX model."""
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)

    def flush(self):
        """Write every queued event to disk."""
        self.event_writer.flush()

    def close(self):
        """Flush and close the event file."""
        self.event_writer.close()

    def reopen(self):
        """After ``close()``, start a new event file in the same directory."""
        self.event_writer.reopen()


class SummaryWriter:
    """Writes entries to event files in ``log_dir`` for TensorBoard, without slowing training.

    Args:
        log_dir (str): where to write; default ``runs/<CURRENT_DATETIME_HOSTNAME><comment>``.
        comment (str): suffix of the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step (int): after a crash at step T+X and a restart at step T, events with steps
            at or after T are hidden (the restarted run must use the same ``log_dir``).
        max_queue (int): events that may wait for the writer thread before an ``add_*`` call blocks.
        flush_secs (int): how often the event file is flushed to disk.
        filename_suffix (str): suffix of the event file names.

    Values may be Ember tensors, NumPy arrays or Python numbers. Use as a context manager (or
    call ``close()``) to flush everything; pending events are also flushed at interpreter exit.

    Example::

        writer = SummaryWriter('runs/exp1')
        for step in range(100):
            writer.add_scalar('loss', loss.item(), step)
        writer.close()
    """

    def __init__(self, log_dir=None, comment='', purge_step=None, max_queue=10, flush_secs=120, filename_suffix=''):
        if not log_dir:
            from datetime import datetime
            current_time = datetime.now().strftime('%b%d_%H-%M-%S')
            log_dir = os.path.join('runs', current_time + '_' + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        # TensorFlow's default histogram buckets: +-1e-12 * 1.1**k up to 1e20, and 0
        v = 1e-12
        buckets = []
        while v < 1e20:
            buckets.append(v)
            v *= 1.1
        self.default_bins = [-b for b in reversed(buckets)] + [0] + buckets

    def _get_file_writer(self):
        """The writer of ``log_dir``, created again if the SummaryWriter was closed."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self.file_writer.add_event(Event(step=self.purge_step, file_version='brain.Event:2'))
                self.file_writer.add_event(Event(step=self.purge_step, session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self):
        """The directory event files are written in."""
        return self.log_dir

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """Log a set of hyperparameters and their metrics for the HParams dashboard.

        The hparams and the metrics (as scalars) go to a sub-run ``log_dir/<run_name>`` (default: the
        current time). ``hparam_dict`` values: bool, str, int, float, a one-element tensor or None;
        ``hparam_domain_discrete``: ``{name: [all values it can take]}``.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError('hparam_dict and metric_dict should be dictionary.')
        exp, ssi, sei = hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as w_hp:
            w_hp.file_writer.add_summary(exp, global_step)
            w_hp.file_writer.add_summary(ssi, global_step)
            w_hp.file_writer.add_summary(sei, global_step)
            for k, v in metric_dict.items():
                w_hp.add_scalar(k, v, global_step)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """Log one number under ``tag`` at ``global_step``. ``new_style`` stores it as a scalars-plugin
        tensor (float32, or float64 with ``double_precision``) instead of ``simple_value``."""
        summary = scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several numbers on one chart ``main_tag``: each key of ``tag_scalar_dict`` is a sub-run
        ``log_dir/<main_tag>_<key>`` with its own event file."""
        walltime = time.time() if walltime is None else walltime
        fw_logdir = self._get_file_writer().get_logdir()
        for tag, scalar_value in tag_scalar_dict.items():
            fw_tag = fw_logdir + '/' + main_tag.replace('/', '_') + '_' + tag
            fw = self.all_writers.get(fw_tag)
            if fw is None:
                fw = self.all_writers[fw_tag] = FileWriter(fw_tag, self.max_queue, self.flush_secs,
                                                           self.filename_suffix)
            fw.add_summary(scalar(main_tag, scalar_value), global_step, walltime)

    def add_tensor(self, tag, tensor, global_step=None, walltime=None):
        """Log a whole tensor (its dtype, shape and values)."""
        self._get_file_writer().add_summary(tensor_proto(tag, tensor), global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins='tensorflow', walltime=None, max_bins=None):
        """Log a histogram of ``values`` (any shape). ``bins``: ``'tensorflow'`` (TensorFlow's exponential
        buckets), a NumPy rule (``'auto'``, ``'fd'``, ...), an int or the bucket edges; ``max_bins``
        merges neighbouring buckets until at most that many remain."""
        if isinstance(bins, str) and bins == 'tensorflow':
            bins = self.default_bins
        self._get_file_writer().add_summary(histogram(tag, values, bins, max_bins=max_bins), global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
                          global_step=None, walltime=None):
        """Log a histogram from its statistics; ``bucket_limits`` are the buckets' upper edges,
        one per count in ``bucket_counts``."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError('len(bucket_limits) != len(bucket_counts), see the document.')
        summary = histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats='CHW'):
        """Log an image (needs Pillow). ``img_tensor`` laid out as ``dataformats`` (``'CHW'``, ``'HWC'``,
        ``'HW'``, ...): uint8 in [0, 255] or floats in [0, 1]; one channel is shown as grey."""
        self._get_file_writer().add_summary(image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats='NCHW'):
        """Log a batch of images (``'NCHW'`` or ``'NHWC'``) tiled into one grid, 8 per row."""
        self._get_file_writer().add_summary(image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_image_with_boxes(self, tag, img_tensor, box_tensor, global_step=None, walltime=None, rescale=1,
                             dataformats='CHW', labels=None):
        """Log an image with boxes ``(N, 4)`` given as ``(xmin, ymin, xmax, ymax)`` drawn on it;
        ``labels`` (one string per box) are written on the boxes."""
        if labels is not None:
            if isinstance(labels, str):
                labels = [labels]
            if len(labels) != box_tensor.shape[0]:
                labels = None
        summary = image_boxes(tag, img_tensor, box_tensor, rescale=rescale, dataformats=dataformats, labels=labels)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """Render a matplotlib figure (or a list of them, as a grid) and log it as an image;
        ``close`` closes the figures."""
        from ._utils import figure_to_image
        if isinstance(figure, list):
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats='NCHW')
        else:
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats='CHW')

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """Log ``(N, T, C, H, W)`` videos (uint8 in [0, 255] or floats in [0, 1]) as one animated GIF
        at ``fps`` frames per second, the batch tiled into a grid (needs Pillow)."""
        self._get_file_writer().add_summary(video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """Log a mono sound ``(1, L)`` with values in [-1, 1] as a 16-bit WAV at ``sample_rate`` Hz."""
        summary = audio(tag, snd_tensor, sample_rate=sample_rate)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a string (shown as Markdown) under ``tag``."""
        self._get_file_writer().add_summary(text(tag, text_string), global_step, walltime)

    def add_onnx_graph(self, prototxt):
        """Log the graph of the ONNX model file ``prototxt`` (needs onnx)."""
        _require('onnx', 'onnx', 'onnx', 'add_onnx_graph')
        from tensorboardX.onnx_graph import load_onnx_graph
        self._get_file_writer().add_onnx_graph(load_onnx_graph(prototxt))

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Log the op graph of ``model`` run once on ``input_to_model`` (a tensor or a tuple of them).

        The model runs in eval mode with forward hooks on every module, which name each op by the
        module that ran it (``Net/Conv2d[conv1]/convolution``); the ops, their inputs, parameters
        (``Net/Conv2d[conv1]/weight``) and output shapes come from the autograd graph it records.
        Inputs and parameters require grad during the run so that the graph exists even under
        ``no_grad`` or for frozen models. ``verbose`` prints the graph. ``use_strict_trace`` is accepted
        for PyTorch compatibility: Ember records containers of outputs (lists, dicts) in either case.
        """
        from ._graph import graph
        self._get_file_writer().add_graph(graph(model, input_to_model, verbose, use_strict_trace))

    @staticmethod
    def _encode(rawstr):
        return rawstr.replace('%', '%25').replace('/', '%2f').replace('\\', '%5c')

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag='default',
                      metadata_header=None):
        """Log an ``(N, D)`` embedding for the projector, with per-point ``metadata`` labels (or rows,
        with ``metadata_header``) and ``label_img`` images ``(N, C, H, W)`` in [0, 1]."""
        from ._embedding import embedding_info, make_mat, make_sprite, make_tsv, write_pbtxt
        mat = make_np(mat)
        if global_step is None:
            global_step = 0
        subdir = f'{str(global_step).zfill(5)}/{self._encode(tag)}'
        save_path = os.path.join(self._get_file_writer().get_logdir(), subdir)
        if os.path.exists(save_path):
            if os.path.isdir(save_path):
                print('warning: Embedding dir exists, did you set global_step for add_embedding()?')
            else:
                raise NotADirectoryError(f'Path: `{save_path}` exists, but is a file. Cannot proceed.')
        else:
            os.makedirs(save_path)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError('#labels should equal with #data points')
            make_tsv(metadata, save_path, metadata_header=metadata_header)
        if label_img is not None:
            if mat.shape[0] != label_img.shape[0]:
                raise AssertionError('#images should equal with #data points')
            make_sprite(label_img, save_path)
        if mat.ndim != 2:
            raise AssertionError('mat should be 2D, where mat.size(0) is the number of data points')
        make_mat(mat, save_path)
        # the projector config lists every embedding logged so far; the file is rewritten whole
        if not hasattr(self, '_projector_config'):
            self._projector_config = []
        self._projector_config.append(embedding_info(metadata, label_img, subdir, global_step, tag))
        write_pbtxt(self._get_file_writer().get_logdir(), ''.join(self._projector_config))

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
                     walltime=None):
        """Log a precision-recall curve of binary ``labels`` against ``predictions`` in [0, 1]."""
        labels, predictions = make_np(labels), make_np(predictions)
        self._get_file_writer().add_summary(pr_curve(tag, labels, predictions, num_thresholds, weights),
                                            global_step, walltime)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts, true_negative_counts,
                         false_negative_counts, precision, recall, global_step=None, num_thresholds=127,
                         weights=None, walltime=None):
        """Log a precision-recall curve from per-threshold counts, precision and recall."""
        summary = pr_curve_raw(tag, true_positive_counts, false_positive_counts, true_negative_counts,
                               false_negative_counts, precision, recall, num_thresholds, weights)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_custom_scalars_multilinechart(self, tags, category='default', title='untitled'):
        """Lay out one chart ``title`` in ``category`` plotting the scalar ``tags`` together."""
        self._get_file_writer().add_summary(custom_scalars({category: {title: ['Multiline', tags]}}))

    def add_custom_scalars_marginchart(self, tags, category='default', title='untitled'):
        """Lay out one chart plotting ``tags[0]`` within the margin of ``tags[1]`` (lower) and ``tags[2]`` (upper)."""
        if len(tags) != 3:
            raise AssertionError(f'Expected 3 tags, got {len(tags)}.')
        self._get_file_writer().add_summary(custom_scalars({category: {title: ['Margin', tags]}}))

    def add_custom_scalars(self, layout):
        """Lay out the Custom Scalars dashboard: ``{category: {chart: ['Multiline', tags] or
        ['Margin', [value, lower, upper]]}}``. Call once per writer."""
        self._get_file_writer().add_summary(custom_scalars(layout))

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None, global_step=None, walltime=None):
        """Log a mesh or point cloud: ``vertices`` ``(B, N, 3)``, ``colors`` ``(B, N, 3)`` (uint8 in [0, 255]
        or floats in [0, 1]), ``faces`` ``(B, F, 3)`` vertex indices; ``config_dict`` holds three.js settings."""
        self._get_file_writer().add_summary(mesh(tag, vertices, colors, faces, config_dict), global_step, walltime)

    def flush(self):
        """Write every queued event of this writer (and its ``add_scalars`` sub-runs) to disk."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self):
        """Flush and close the event files; a later ``add_*`` call starts new ones."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
