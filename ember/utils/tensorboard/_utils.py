"""Image layout helpers: any ``dataformats`` to HWC, batches to a grid, videos to frames, figures to arrays."""
import numpy as np

from ._tbx import _require


def make_grid(imgs, ncols=8):
    """Tile an ``(N, 1 or 3, H, W)`` batch into one ``(3, rows*H, min(N, ncols)*W)`` image, row by row."""
    if not isinstance(imgs, np.ndarray):
        raise AssertionError('plugin error, should pass numpy array here')
    if imgs.shape[1] == 1:
        imgs = np.concatenate([imgs, imgs, imgs], 1)
    if imgs.ndim != 4 or imgs.shape[1] != 3:
        raise AssertionError('Input should be a 4D numpy array with 3 channels')
    n, _, h, w = imgs.shape
    ncols = min(n, ncols)
    nrows = int(np.ceil(float(n) / ncols))
    canvas = np.zeros((3, h * nrows, w * ncols), dtype=imgs.dtype)
    for i in range(n):
        y, x = divmod(i, ncols)
        canvas[:, y * h:(y + 1) * h, x * w:(x + 1) * w] = imgs[i]
    return canvas


def convert_to_HWC(tensor, input_format):
    """Reorder an array laid out as ``input_format`` (``'CHW'``, ``'HWC'``, ``'HW'``, ``'NCHW'``, ...) to
    ``(H, W, C)``: batches become a grid, one channel is repeated to three."""
    if len(set(input_format)) != len(input_format):
        raise AssertionError(f'You can not use the same dimension shorthand twice. input_format: {input_format}')
    if len(tensor.shape) != len(input_format):
        raise AssertionError(f'size of input tensor and input format are different. tensor shape: '
                             f'{tensor.shape}, input_format: {input_format}')
    input_format = input_format.upper()
    if len(input_format) == 4:
        nchw = tensor.transpose([input_format.find(c) for c in 'NCHW'])
        return make_grid(nchw).transpose(1, 2, 0)
    if len(input_format) == 3:
        hwc = tensor.transpose([input_format.find(c) for c in 'HWC'])
        if hwc.shape[2] == 1:
            hwc = np.concatenate([hwc, hwc, hwc], 2)
        return hwc
    hw = tensor.transpose([input_format.find(c) for c in 'HW'])
    return np.stack([hw, hw, hw], 2)


def prepare_video(v):
    """``(N, T, C, H, W)`` videos to ``(T, rows*H, cols*W, C)`` frames: the batch, padded with black
    videos to a power of two, is tiled into a grid; uint8 becomes float in [0, 1]."""
    b, t, c, h, w = v.shape
    if v.dtype == np.uint8:
        v = np.float32(v) / 255.0
    if b == 0 or b & (b - 1):
        v = np.concatenate((v, np.zeros((2 ** b.bit_length() - b, t, c, h, w))), axis=0)
    n_rows = 2 ** ((b.bit_length() - 1) // 2)
    n_cols = v.shape[0] // n_rows
    v = v.reshape(n_rows, n_cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3)
    return v.reshape(t, n_rows * h, n_cols * w, c)


def figure_to_image(figures, close=True):
    """Render a matplotlib figure to a ``(3, H, W)`` uint8 array (a list of figures to ``(N, 3, H, W)``);
    ``close`` closes the figures afterwards."""
    plt = _require('matplotlib.pyplot', 'matplotlib', 'plot', 'add_figure')
    backend_agg = _require('matplotlib.backends.backend_agg', 'matplotlib', 'plot', 'add_figure')

    def render(figure):
        canvas = backend_agg.FigureCanvasAgg(figure)
        canvas.draw()
        data = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)
        w, h = figure.canvas.get_width_height()
        chw = np.moveaxis(data.reshape([h, w, 4])[:, :, 0:3], source=2, destination=0)
        if close:
            plt.close(figure)
        return chw

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)
