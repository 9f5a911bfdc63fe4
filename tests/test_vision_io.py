"""ember.vision.io: image files <-> uint8 (C, H, W) tensors.

torchvision.io's decoders are compiled code that does not load beside the CPU build of torch, so
the reference here is Pillow's decoding laid out as torchvision's ``pil_to_tensor`` lays it out.
"""
import io
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from tv import functional as tvf

import ember
from ember.vision import io as eio
from ember.vision.io import ImageReadMode


def _rng_img(h, w, c, seed=0):
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    return arr[:, :, 0] if c == 1 else arr


def _ref(pil, mode):
    return tvf.pil_to_tensor(pil.convert(mode) if mode else pil).numpy()


PIL_MODES = {'L': 1, 'LA': 2, 'RGB': 3, 'RGBA': 4}


@pytest.mark.parametrize('src', list(PIL_MODES))
@pytest.mark.parametrize('mode,pil_mode', [(ImageReadMode.UNCHANGED, None), (ImageReadMode.GRAY, 'L'),
                                           ('gray_alpha', 'LA'), ('RGB', 'RGB'), (ImageReadMode.RGBA, 'RGBA'),
                                           (ImageReadMode.RGB_ALPHA, 'RGBA')])
def test_read_png_modes(tmp_path, src, mode, pil_mode):
    pil = Image.fromarray(_rng_img(5, 7, PIL_MODES[src]))
    if pil.mode != src:
        pil = pil.convert(src)
    pil.save(tmp_path / 'x.png')
    for out in (eio.read_image(tmp_path / 'x.png', mode), eio.decode_image(str(tmp_path / 'x.png'), mode),
                eio.decode_png(eio.read_file(tmp_path / 'x.png'), mode)):
        assert out.dtype == ember.uint8
        np.testing.assert_array_equal(out.numpy(), _ref(pil, pil_mode))
    if mode is ImageReadMode.UNCHANGED:
        assert out.shape == (PIL_MODES[src], 5, 7)


@pytest.mark.parametrize('mode,expected_channels', [(ImageReadMode.UNCHANGED, 3), (ImageReadMode.GRAY, 1)])
def test_read_jpeg(tmp_path, mode, expected_channels):
    Image.fromarray(_rng_img(8, 6, 3)).save(tmp_path / 'x.jpg', quality=90)
    data = eio.read_file(tmp_path / 'x.jpg')
    out = eio.decode_jpeg(data, mode)
    assert out.shape == (expected_channels, 8, 6)
    with Image.open(tmp_path / 'x.jpg') as pil:
        np.testing.assert_array_equal(out.numpy(), _ref(pil, 'L' if expected_channels == 1 else None))
    outs = eio.decode_jpeg([data, data], mode)
    assert len(outs) == 2 and ember.equal(outs[1], out)
    assert ember.equal(eio.decode_image(data, mode), out)


def test_palette_and_gif(tmp_path):
    pil = Image.fromarray(_rng_img(4, 4, 3)).convert('P')
    pil.save(tmp_path / 'p.png')
    np.testing.assert_array_equal(eio.read_image(tmp_path / 'p.png').numpy(), _ref(pil, 'RGB'))
    pil.save(tmp_path / 't.png', transparency=0)
    assert eio.read_image(tmp_path / 't.png').shape == (4, 4, 4)
    frames = [Image.fromarray(_rng_img(4, 5, 3, seed=s)).convert('P') for s in range(3)]
    frames[0].save(tmp_path / 'a.gif', save_all=True, append_images=frames[1:])
    out = eio.decode_gif(eio.read_file(tmp_path / 'a.gif'))
    assert out.shape == (3, 3, 4, 5)
    np.testing.assert_array_equal(out[0].numpy(), _ref(frames[0], 'RGB'))
    frames[0].save(tmp_path / 'one.gif')
    assert eio.decode_gif(eio.read_file(tmp_path / 'one.gif')).shape == (3, 4, 5)


@pytest.mark.parametrize('shape', [(3, 6, 5), (1, 4, 9), (4, 9)])
def test_png_roundtrip(tmp_path, shape):
    arr = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    x = ember.from_numpy(arr)
    for level in (0, 6, 9):
        enc = eio.encode_png(x, level)
        assert enc.dtype == ember.uint8 and enc.dim() == 1
        back = eio.decode_png(enc)
        np.testing.assert_array_equal(back.numpy(), arr.reshape(back.shape))
    eio.write_png(x, tmp_path / 'w.png')
    np.testing.assert_array_equal(eio.read_image(tmp_path / 'w.png').numpy(), arr.reshape((-1,) + shape[-2:]))
    # A non-contiguous view is written as its values.
    eio.write_png(ember.from_numpy(arr).flip(-1), tmp_path / 'f.png')
    np.testing.assert_array_equal(eio.read_image(tmp_path / 'f.png').numpy(), arr[..., ::-1].reshape((-1,) +
                                                                                                    shape[-2:]))


def test_jpeg_encode_matches_pillow(tmp_path):
    arr = np.random.default_rng(2).integers(0, 256, (3, 16, 16), dtype=np.uint8)
    for quality in (10, 75, 100):
        enc = eio.encode_jpeg(ember.from_numpy(arr), quality)
        buf = io.BytesIO()
        Image.fromarray(arr.transpose(1, 2, 0)).save(buf, format='JPEG', quality=quality)
        assert enc.numpy().tobytes() == buf.getvalue()
    smooth = np.broadcast_to((np.arange(16) * 12)[None, None], (3, 16, 16)).astype(np.uint8)
    eio.write_jpeg(ember.from_numpy(smooth), tmp_path / 'w.jpg', quality=95)
    back = eio.read_image(tmp_path / 'w.jpg')
    assert back.shape == (3, 16, 16) and np.abs(back.numpy().astype(int) - smooth).max() < 12
    assert len(eio.encode_jpeg([ember.from_numpy(arr)] * 2)) == 2


def test_file_roundtrip(tmp_path):
    data = ember.tensor([1, 2, 255], dtype=ember.uint8)
    eio.write_file(tmp_path / 'b', data)
    assert (tmp_path / 'b').read_bytes() == b'\x01\x02\xff'
    assert ember.equal(eio.read_file(tmp_path / 'b'), data)


def test_errors(tmp_path):
    img = ember.zeros(3, 4, 4, dtype=ember.uint8)
    cases = [
        (lambda: eio.encode_jpeg(img, 0), ValueError, 'Image quality should be a positive number between 1 and 100'),
        (lambda: eio.encode_jpeg([]), ValueError, 'requires at least one input tensor'),
        (lambda: eio.encode_png(img, 10), RuntimeError, 'Compression level should be between 0 and 9'),
        (lambda: eio.encode_png(img.float()), RuntimeError, 'Input tensor dtype should be uint8'),
        (lambda: eio.encode_png(ember.zeros(2, 4, 4, dtype=ember.uint8)), RuntimeError, 'channels should be 1 or 3'),
        (lambda: eio.encode_jpeg(ember.zeros(4, 4, dtype=ember.uint8)), RuntimeError, '3-dimensional'),
        (lambda: eio.decode_image(ember.tensor([1, 2, 3], dtype=ember.uint8)), RuntimeError, 'Could not decode'),
        (lambda: eio.decode_png(img), RuntimeError, '1-D uint8 tensor'),
        (lambda: eio.decode_jpeg([]), ValueError, 'at least one element'),
        (lambda: eio.decode_jpeg(img.flatten(), device='cuda'), NotImplementedError, 'device'),
        (lambda: eio.read_image(tmp_path / 'missing.png'), FileNotFoundError, 'missing.png'),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            fn()
    Image.fromarray(_rng_img(3, 3, 3)).save(tmp_path / 'x.png')
    with pytest.raises(RuntimeError, match='Could not decode the JPEG image'):
        eio.decode_jpeg(eio.read_file(tmp_path / 'x.png'))
    Image.fromarray(np.zeros((3, 3), np.uint16)).save(tmp_path / 'deep.png')
    with pytest.raises(RuntimeError, match='more than 8 bits'):
        eio.read_image(tmp_path / 'deep.png')


def test_exif_orientation(tmp_path):
    pil = Image.fromarray(_rng_img(4, 6, 3))
    exif = pil.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    pil.save(tmp_path / 'o.png', exif=exif)
    plain = eio.read_image(tmp_path / 'o.png')
    rotated = eio.read_image(tmp_path / 'o.png', apply_exif_orientation=True)
    assert plain.shape == (3, 4, 6) and rotated.shape == (3, 6, 4)
    np.testing.assert_array_equal(rotated.numpy(), torch.from_numpy(plain.numpy()).rot90(-1, (1, 2)).numpy())


def test_pillow_missing_names_extra_and_imports_stay_lazy():
    code = ("import sys; sys.modules['PIL'] = None\n"
            "import ember, ember.vision.io as eio, ember.vision.datasets, ember.vision.utils\n"
            "assert 'tqdm' not in sys.modules and 'scipy' not in sys.modules\n"
            "try:\n    eio.decode_image(ember.zeros(3, dtype=ember.uint8))\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'pip install ember[vision]' in out.stdout
    out = subprocess.run([sys.executable, '-c', "import sys, ember; "
                          "print([m for m in ('ember.vision', 'PIL', 'tqdm') if m in sys.modules])"],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == '[]', out.stderr
