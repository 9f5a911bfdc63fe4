"""The projector plugin's files: ``tensors.tsv``, ``metadata.tsv``, ``sprite.png`` and ``projector_config.pbtxt``."""
import math
import os

import numpy as np

from ._convert import make_np
from ._tbx import _require
from ._utils import make_grid


def make_tsv(metadata, save_path, metadata_header=None):
    """Write one label per line (or, with ``metadata_header``, a header row and tab-separated columns)."""
    if not metadata_header:
        lines = [str(x) for x in metadata]
    else:
        if len(metadata_header) != len(metadata[0]):
            raise AssertionError('len of header must be equal to the number of columns in metadata')
        lines = ['\t'.join(str(e) for e in row) for row in [metadata_header] + list(metadata)]
    with open(os.path.join(save_path, 'metadata.tsv'), 'wb') as f:
        f.write(('\n'.join(lines) + '\n').encode('utf-8'))


def make_sprite(label_img, save_path):
    """Tile the ``(N, C, H, W)`` images (values in [0, 1]) into the square ``sprite.png`` the projector shows."""
    Image = _require('PIL.Image', 'Pillow', 'vision', 'add_embedding with label_img')
    imgs = make_np(label_img)
    nrow = math.ceil(imgs.shape[0] ** 0.5)
    grid_chw = make_grid(imgs, ncols=nrow)
    square = np.zeros((grid_chw.shape[2], grid_chw.shape[2], 3))
    grid_hwc = grid_chw.transpose(1, 2, 0)
    square[:grid_hwc.shape[0], :, :] = grid_hwc
    Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(os.path.join(save_path, 'sprite.png'), format='PNG')


def make_mat(matlist, save_path):
    """Write the ``(N, D)`` matrix as ``tensors.tsv``, one row per line."""
    with open(os.path.join(save_path, 'tensors.tsv'), 'wb') as f:
        for row in matlist:
            f.write(('\t'.join(str(v.item()) for v in row) + '\n').encode('utf-8'))


def _quote(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def embedding_info(metadata, label_img, subdir, global_step, tag):
    """One ``embeddings { ... }`` entry of the projector config, in protobuf text format."""
    # fields in the order protobuf's text format prints EmbeddingInfo: by field number
    lines = [f'  tensor_name: {_quote(f"{tag}:{str(global_step).zfill(5)}")}']
    if metadata is not None:
        lines.append(f'  metadata_path: {_quote(subdir + "/metadata.tsv")}')
    if label_img is not None:
        shape = label_img.shape
        lines += ['  sprite {', f'    image_path: {_quote(subdir + "/sprite.png")}',
                  f'    single_image_dim: {shape[3]}', f'    single_image_dim: {shape[2]}', '  }']
    lines.append(f'  tensor_path: {_quote(subdir + "/tensors.tsv")}')
    return 'embeddings {\n' + '\n'.join(lines) + '\n}\n'


def write_pbtxt(save_path, contents):
    with open(os.path.join(save_path, 'projector_config.pbtxt'), 'wb') as f:
        f.write(contents.encode('utf-8'))
