"""ember.vision.datasets against torchvision.datasets on the same files, written in the real formats."""
import gzip
import hashlib
import io
import os
import pickle
import tarfile
import time
import urllib.error
import zipfile

import numpy as np
import pytest
import scipy.io
from PIL import Image
from tv import datasets as tvd

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets as ed
from ember.vision.datasets import utils as eu


def _pix(img):
    return np.asarray(img)


def _same_samples(a, b, idx=None):
    assert len(a) == len(b)
    for i in (range(len(a)) if idx is None else idx):
        (xa, ya), (xb, yb) = a[i], b[i]
        assert xa.mode == xb.mode and xa.size == xb.size
        np.testing.assert_array_equal(_pix(xa), _pix(xb))
        assert ya == yb and type(ya) is type(yb)


class Tag:
    """A picklable transform with a multi-line repr (exercises repr indentation)."""

    def __init__(self, name):
        self.name = name

    def __call__(self, x):
        return x

    def __repr__(self):
        return f'Tag(\n    {self.name}\n)'


# ---------------------------------------------------------------- folders

def _image_tree(root, classes=(('cat', 3), ('dog', 2), ('emu', 1)), size=(5, 4)):
    rng = np.random.default_rng(0)
    for c, n in classes:
        os.makedirs(root / c / 'sub', exist_ok=True)
        for i in range(n):
            arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            where = root / c / ('sub' if i == 2 else '') / f'{i}.png'
            Image.fromarray(arr).save(where)
        (root / c / 'notes.txt').write_text('not an image')
    return root


def test_image_folder_matches_torchvision(tmp_path):
    root = _image_tree(tmp_path)
    a, b = ed.ImageFolder(str(root)), tvd.ImageFolder(str(root))
    assert a.classes == b.classes == ['cat', 'dog', 'emu']
    assert a.class_to_idx == b.class_to_idx
    assert a.samples == b.samples and a.imgs == b.imgs and a.targets == b.targets
    assert a.extensions == b.extensions
    assert repr(a) == repr(b)
    _same_samples(a, b)
    assert a[0][0].mode == 'RGB'


def test_image_folder_transforms_and_repr(tmp_path):
    root = _image_tree(tmp_path)
    kw = dict(transform=Tag('t'), target_transform=lambda y: y + 10)
    a, b = ed.ImageFolder(root, **kw), tvd.ImageFolder(root, **kw)
    assert a[1][1] == b[1][1] == 10
    assert repr(a).replace('ember', 'x') == repr(b).replace('torchvision', 'x')
    assert 'Transform: Tag(' in repr(a) and 'Target transform: <function' in repr(a)


@pytest.mark.parametrize('kwargs', [
    dict(extensions=('.png',)),
    dict(extensions='.txt'),
    dict(is_valid_file=lambda p: p.endswith('0.png') or p.endswith('.txt')),
])
def test_dataset_folder_selection(tmp_path, kwargs):
    root = _image_tree(tmp_path)
    loader = os.path.getsize
    a, b = ed.DatasetFolder(root, loader, **kwargs), tvd.DatasetFolder(root, loader, **kwargs)
    assert a.samples == b.samples and a.targets == b.targets
    assert [a[i] for i in range(len(a))] == [b[i] for i in range(len(b))]


def _raises_same(fn_e, fn_t, exc):
    with pytest.raises(exc) as ea:
        fn_e()
    with pytest.raises(exc) as et:
        fn_t()
    assert str(ea.value) == str(et.value)
    return str(ea.value)


def test_folder_errors(tmp_path):
    root = _image_tree(tmp_path / 'r', classes=(('a', 1), ('b', 0), ('c', 0)))
    msg = _raises_same(lambda: ed.ImageFolder(root), lambda: tvd.ImageFolder(root), FileNotFoundError)
    assert msg.startswith('Found no valid file for the classes b, c. Supported extensions are: .jpg')
    assert len(ed.ImageFolder(root, allow_empty=True)) == len(tvd.ImageFolder(root, allow_empty=True)) == 1
    os.makedirs(tmp_path / 'empty')
    _raises_same(lambda: ed.ImageFolder(tmp_path / 'empty'), lambda: tvd.ImageFolder(tmp_path / 'empty'),
                 FileNotFoundError)
    _raises_same(lambda: ed.DatasetFolder(root, len), lambda: tvd.DatasetFolder(root, len), ValueError)
    _raises_same(lambda: ed.folder.make_dataset(root, {}), lambda: tvd.folder.make_dataset(root, {}), ValueError)
    _raises_same(lambda: ed.DatasetFolder.make_dataset(root, None, ('.png',)),
                 lambda: tvd.DatasetFolder.make_dataset(root, None, ('.png',)), ValueError)


def _corrupt_tree(root):
    _image_tree(root, classes=(('a', 2), ('b', 2)))
    bad = root / 'b' / 'broken.jpg'
    bad.write_bytes(b'\xff\xd8\xff\xe0 definitely not a jpeg')
    return bad


def test_corrupted_image_names_path(tmp_path):
    bad = _corrupt_tree(tmp_path)
    ds = ed.ImageFolder(tmp_path)
    i = [p for p, _ in ds.samples].index(str(bad))
    with pytest.raises(OSError, match='broken.jpg'):
        ds[i]


def test_corrupted_image_in_worker(tmp_path):
    bad = _corrupt_tree(tmp_path)
    ds = ed.ImageFolder(tmp_path, transform=lambda im: ember.from_numpy(np.asarray(im).copy()))
    loader = DataLoader(ds, batch_size=2, num_workers=2)
    start = time.monotonic()
    with pytest.raises(OSError) as e:
        for _ in loader:
            pass
    assert str(bad) in str(e.value) and 'DataLoader worker' in str(e.value)
    del loader
    assert time.monotonic() - start < 120  # bound proves no hang; generous for a loaded machine


def test_vision_dataset_base():
    with pytest.raises(ValueError, match='Only transforms or transform/target_transform'):
        ed.VisionDataset('~/x', transforms=print, transform=print)
    d = ed.VisionDataset('~/x', transform=Tag('a'))
    assert d.root == os.path.expanduser('~/x')
    assert d.transforms(1, 2) == (1, 2)
    assert repr(d.transforms) == repr(tvd.vision.StandardTransform(Tag('a')))


# ---------------------------------------------------------------- FakeData

@pytest.mark.parametrize('shape', [(3, 6, 5), (1, 4, 4), (4, 2, 3), (2, 3, 3)])
def test_fakedata_matches_torchvision(shape):
    kw = dict(size=4, image_size=shape, num_classes=7, random_offset=3)
    a, b = ed.FakeData(**kw), tvd.FakeData(**kw)
    _same_samples(a, b)
    assert repr(a) == repr(b)
    with pytest.raises(IndexError, match='FakeData index out of range'):
        a[4]
    ember.manual_seed(0)
    x = ember.randn(2)
    ember.manual_seed(0)
    a[1]
    assert ember.equal(ember.randn(2), x)  # the global stream is left untouched


# ---------------------------------------------------------------- MNIST family

def _idx(path, arr, code=8, gz=False):
    dt = {8: '>u1', 9: '>i1', 11: '>i2', 12: '>i4', 13: '>f4', 14: '>f8'}[code]
    head = bytes([0, 0, code, arr.ndim]) + b''.join(int(s).to_bytes(4, 'big') for s in arr.shape)
    data = head + np.asarray(arr, dtype=dt).tobytes()
    (gzip.open if gz else open)(path, 'wb').write(data)
    return data


def _mnist_files(raw, prefix='', n=(7, 4), gz=False):
    os.makedirs(raw, exist_ok=True)
    rng = np.random.default_rng(1)
    for split, count in zip(('train', 't10k'), n):
        _idx(raw / f'{prefix}{split}-images-idx3-ubyte{".gz" if gz else ""}',
             rng.integers(0, 256, (count, 28, 28)), gz=gz)
        _idx(raw / f'{prefix}{split}-labels-idx1-ubyte{".gz" if gz else ""}', rng.integers(0, 10, count), gz=gz)


@pytest.mark.parametrize('name', ['MNIST', 'FashionMNIST', 'KMNIST'])
@pytest.mark.parametrize('train', [True, False])
def test_mnist_family(tmp_path, name, train):
    _mnist_files(tmp_path / name / 'raw')
    a, b = getattr(ed, name)(tmp_path, train=train), getattr(tvd, name)(tmp_path, train=train)
    assert a.classes == b.classes and a.class_to_idx == b.class_to_idx
    assert repr(a) == repr(b)
    np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())
    assert a.data.dtype == ember.uint8 and a.targets.dtype == ember.int64
    np.testing.assert_array_equal(a.targets.numpy(), b.targets.numpy())
    _same_samples(a, b)


@pytest.mark.parametrize('split', ['letters', 'balanced', 'digits'])
def test_emnist(tmp_path, split):
    raw = tmp_path / 'EMNIST' / 'raw'
    os.makedirs(raw)
    rng = np.random.default_rng(2)
    for part in ('train', 'test'):
        _idx(raw / f'emnist-{split}-{part}-images-idx3-ubyte', rng.integers(0, 256, (5, 28, 28)))
        _idx(raw / f'emnist-{split}-{part}-labels-idx1-ubyte', rng.integers(0, 10, 5))
    a, b = ed.EMNIST(tmp_path, split, train=False), tvd.EMNIST(tmp_path, split, train=False)
    assert a.classes == b.classes and repr(a) == repr(b)
    _same_samples(a, b)
    _raises_same(lambda: ed.EMNIST(tmp_path, 'bogus'), lambda: tvd.EMNIST(tmp_path, 'bogus'), ValueError)


@pytest.mark.parametrize('code,values', [(9, [-3, 4]), (11, [-300, 2]), (12, [7, -70000]), (13, [1.5, -2.25]),
                                         (14, [0.1, 1e300])])
def test_idx_dtypes(tmp_path, code, values):
    arr = np.array([values, values[::-1]])
    _idx(tmp_path / 'f', arr, code)
    a = ed.mnist.read_sn3_pascalvincent_tensor(str(tmp_path / 'f'))
    b = tvd.mnist.read_sn3_pascalvincent_tensor(str(tmp_path / 'f'))
    assert str(a.dtype).split('.')[1] == str(b.dtype).split('.')[1]
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_mnist_missing_and_bad_files(tmp_path):
    _raises_same(lambda: ed.MNIST(tmp_path), lambda: tvd.MNIST(tmp_path), RuntimeError)
    (tmp_path / 'x').write_bytes(b'\x08\x00\x00\x01')
    with pytest.raises(ValueError, match='not an IDX file'):
        ed.mnist.read_sn3_pascalvincent_tensor(str(tmp_path / 'x'))
    with pytest.raises(ValueError, match='header announces 5'):
        (tmp_path / 'y').write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
        ed.mnist.read_sn3_pascalvincent_tensor(str(tmp_path / 'y'))


# ---------------------------------------------------------------- CIFAR

def _md5(path):
    return hashlib.md5(open(path, 'rb').read()).hexdigest()


def _cifar_files(root, cls_e, cls_t, monkeypatch, hundred=False):
    folder = root / cls_e.base_folder
    os.makedirs(folder)
    rng = np.random.default_rng(3)
    names = [f for f, _ in cls_e.train_list + cls_e.test_list]
    for k, name in enumerate(names):
        n = 3 + k
        entry = {'batch_label': f'batch {k}'.encode(), 'data': rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 'filenames': [f'img{i}.png'.encode() for i in range(n)]}
        labels = [int(v) for v in rng.integers(0, 100 if hundred else 10, n)]
        if hundred:
            entry['fine_labels'], entry['coarse_labels'] = labels, [v // 5 for v in labels]
        else:
            entry['labels'] = labels
        with open(folder / name, 'wb') as f:
            pickle.dump(entry, f, protocol=2)
    meta = {cls_e.meta['key']: [f'class{i}' for i in range(100 if hundred else 10)], 'num_cases_per_batch': 3}
    with open(folder / cls_e.meta['filename'], 'wb') as f:
        pickle.dump(meta, f, protocol=2)
    for cls in (cls_e, cls_t):
        monkeypatch.setattr(cls, 'train_list', [[f, _md5(folder / f)] for f, _ in cls_e.train_list])
        monkeypatch.setattr(cls, 'test_list', [[f, _md5(folder / f)] for f, _ in cls_e.test_list])
        monkeypatch.setattr(cls, 'meta', dict(cls_e.meta, md5=_md5(folder / cls_e.meta['filename'])))


@pytest.mark.parametrize('name', ['CIFAR10', 'CIFAR100'])
@pytest.mark.parametrize('train', [True, False])
def test_cifar(tmp_path, monkeypatch, name, train):
    _cifar_files(tmp_path, getattr(ed, name), getattr(tvd, name), monkeypatch, hundred=name == 'CIFAR100')
    a, b = getattr(ed, name)(tmp_path, train=train), getattr(tvd, name)(tmp_path, train=train)
    assert a.classes == b.classes and a.class_to_idx == b.class_to_idx and a.targets == b.targets
    np.testing.assert_array_equal(a.data, b.data)
    assert repr(a) == repr(b)
    _same_samples(a, b)


def test_cifar_refuses_code(tmp_path, monkeypatch):
    _cifar_files(tmp_path, ed.CIFAR10, tvd.CIFAR10, monkeypatch)

    class Evil:
        def __reduce__(self):
            return (os.system, ('echo pwned',))

    path = tmp_path / 'evil'
    path.write_bytes(pickle.dumps({'data': Evil()}))
    with pytest.raises(pickle.UnpicklingError, match='system is not allowed'):
        ed.cifar._load_pickle(path)
    with pytest.raises(RuntimeError, match='Dataset not found or corrupted'):
        ed.CIFAR10(tmp_path / 'nothing')


def test_cifar_numpy1_pickle(tmp_path):
    # Files written by NumPy 1 name numpy.core.multiarray; they read the same.
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    blob = pickle.dumps({'data': arr, 'labels': [1, 2, 3]}, protocol=2)
    assert b'numpy._core.multiarray' in blob
    (tmp_path / 'old').write_bytes(blob.replace(b'numpy._core.multiarray', b'numpy.core.multiarray'))
    entry = ed.cifar._load_pickle(tmp_path / 'old')
    np.testing.assert_array_equal(entry['data'], arr)
    assert entry['labels'] == [1, 2, 3]


# ---------------------------------------------------------------- SVHN

@pytest.mark.parametrize('split', ['train', 'test'])
def test_svhn(tmp_path, monkeypatch, split):
    rng = np.random.default_rng(4)
    fname = ed.SVHN.split_list[split][1]
    scipy.io.savemat(tmp_path / fname, {'X': rng.integers(0, 256, (32, 32, 3, 6), dtype=np.uint8),
                                        'y': np.array([[10], [1], [2], [10], [9], [3]], dtype=np.uint8)})
    for cls in (ed.SVHN, tvd.SVHN):
        table = {k: list(v) for k, v in cls.split_list.items()}
        table[split][2] = _md5(tmp_path / fname)
        monkeypatch.setattr(cls, 'split_list', table)
    a, b = ed.SVHN(tmp_path, split), tvd.SVHN(tmp_path, split)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert list(a.labels[:2]) == [0, 1]
    assert repr(a) == repr(b)
    _same_samples(a, b)
    _raises_same(lambda: ed.SVHN(tmp_path, 'nope'), lambda: tvd.SVHN(tmp_path, 'nope'), ValueError)


# ---------------------------------------------------------------- Digits

def test_digits_matches_scikit_learn():
    from sklearn.datasets import load_digits
    sk = load_digits()
    tr, te = ed.Digits(), ed.Digits(train=False)
    assert (len(tr), len(te)) == (1438, 359)
    images = np.concatenate([tr.data.numpy(), te.data.numpy()])
    assert tr.data.dtype == ember.uint8 and tr.data.shape == (1438, 8, 8)
    np.testing.assert_array_equal(images, np.floor(sk.images * 255 / 16 + 0.5).astype(np.uint8))
    np.testing.assert_array_equal(np.concatenate([tr.targets.numpy(), te.targets.numpy()]), sk.target)
    img, y = te[5]
    assert img.mode == 'L' and img.size == (8, 8) and y == sk.target[1438 + 5]
    np.testing.assert_array_equal(_pix(img), te.data[5].numpy())
    assert set(np.bincount(te.targets.numpy())) <= set(range(30, 42))
    assert repr(te) == 'Dataset Digits\n    Number of datapoints: 359\n    Split: Test'
    assert tr.classes[3] == '3 - three' and tr.class_to_idx['9 - nine'] == 9
    batch = next(iter(DataLoader(ed.Digits(transform=lambda im: ember.from_numpy(np.asarray(im).copy())),
                                 batch_size=16)))
    assert batch[0].shape == (16, 8, 8) and batch[1].dtype == ember.int64


# ---------------------------------------------------------------- download machinery

def _gz(path, data):
    with gzip.open(path, 'wb') as f:
        f.write(data)


def test_download_url_file_scheme_and_skip(tmp_path, monkeypatch):
    src = tmp_path / 'src' / 'blob.bin'
    os.makedirs(src.parent)
    src.write_bytes(b'abc' * 1000)
    md5 = _md5(src)
    dest = tmp_path / 'dest'
    eu.download_url(src.as_uri(), dest, md5=md5)
    assert (dest / 'blob.bin').read_bytes() == src.read_bytes()

    def fail(*a, **k):
        raise AssertionError('must not download a verified file')

    monkeypatch.setattr(eu, '_urlopen', fail)
    eu.download_url(src.as_uri(), dest, md5=md5)
    monkeypatch.undo()
    with pytest.raises(RuntimeError, match='does not match the MD5 checksum 0+'):
        eu.download_url(src.as_uri(), tmp_path / 'other', md5='0' * 32)
    assert not os.path.exists(tmp_path / 'other' / 'blob.bin.part')


def test_download_progress_without_tqdm(tmp_path, monkeypatch, capsys):
    import sys
    src = tmp_path / 'a.bin'
    src.write_bytes(b'x' * 10)
    monkeypatch.setitem(sys.modules, 'tqdm', None)
    eu.download_url(src.as_uri(), tmp_path / 'd')
    assert 'a.bin' in capsys.readouterr().err


def test_download_network_failure_names_url_and_folder(tmp_path, monkeypatch):
    def offline(url, hops=3):
        raise urllib.error.URLError('Temporary failure in name resolution')

    monkeypatch.setattr(eu, '_urlopen', offline)
    with pytest.raises(RuntimeError) as e:
        ed.MNIST(tmp_path, download=True)
    msg = str(e.value)
    for mirror in ed.MNIST.mirrors:
        assert mirror + 'train-images-idx3-ubyte.gz' in msg
    assert os.path.join(str(tmp_path), 'MNIST', 'raw') in msg
    with pytest.raises(RuntimeError) as e:
        ed.CIFAR10(tmp_path, download=True)
    assert ed.CIFAR10.url.replace('https:', 'http:') in str(e.value) and str(tmp_path) in str(e.value)
    with pytest.raises(RuntimeError, match='ufldl.stanford.edu/housenumbers/test_32x32.mat'):
        ed.SVHN(tmp_path, 'test', download=True)


def test_mnist_download_from_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / 'mirror'
    _mnist_files(mirror, gz=True)
    resources = [(f, _md5(mirror / f)) for f, _ in ed.MNIST.resources]
    monkeypatch.setattr(ed.MNIST, 'resources', resources)
    monkeypatch.setattr(ed.MNIST, 'mirrors', ['file:///nonexistent/', mirror.as_uri() + '/'])
    a = ed.MNIST(tmp_path / 'data', train=False, download=True)
    _mnist_files(tmp_path / 'ref' / 'MNIST' / 'raw')
    b = tvd.MNIST(tmp_path / 'ref', train=False)
    _same_samples(a, b)
    assert sorted(os.listdir(tmp_path / 'data' / 'MNIST' / 'raw')) == sorted(
        [f for f, _ in resources] + [f[:-3] for f, _ in resources])


def test_extract_archive_kinds(tmp_path):
    payload = {'a.txt': b'hello', 'dir/b.txt': b'world'}
    with tarfile.open(tmp_path / 'x.tar.gz', 'w:gz') as t:
        for name, data in payload.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(tmp_path / 'x.zip', 'w') as z:
        for name, data in payload.items():
            z.writestr(name, data)
    _gz(tmp_path / 'c.txt.gz', b'plain')
    for archive in ('x.tar.gz', 'x.zip'):
        out = eu.extract_archive(str(tmp_path / archive), str(tmp_path / archive.replace('.', '_')))
        assert isinstance(out, str)
        for name, data in payload.items():
            assert (tmp_path / archive.replace('.', '_') / name).read_bytes() == data
    assert eu.extract_archive(str(tmp_path / 'c.txt.gz'), remove_finished=True) == str(tmp_path / 'c.txt')
    assert (tmp_path / 'c.txt').read_bytes() == b'plain' and not (tmp_path / 'c.txt.gz').exists()
    with pytest.raises(RuntimeError, match="Unknown compression or archive type: '.rar'"):
        eu.extract_archive(tmp_path / 'x.rar')


def test_extract_tar_refuses_escape(tmp_path):
    with tarfile.open(tmp_path / 'bad.tar', 'w') as t:
        info = tarfile.TarInfo('../escaped.txt')
        info.size = 1
        t.addfile(info, io.BytesIO(b'x'))
    os.makedirs(tmp_path / 'out')
    with pytest.raises(tarfile.TarError):
        eu.extract_archive(tmp_path / 'bad.tar', tmp_path / 'out')
    assert not (tmp_path / 'escaped.txt').exists()


def test_download_and_extract_and_helpers(tmp_path):
    with tarfile.open(tmp_path / 'p.tgz', 'w:gz') as t:
        info = tarfile.TarInfo('inner/f.txt')
        info.size = 2
        t.addfile(info, io.BytesIO(b'hi'))
    eu.download_and_extract_archive((tmp_path / 'p.tgz').as_uri(), tmp_path / 'dl', md5=_md5(tmp_path / 'p.tgz'))
    assert (tmp_path / 'dl' / 'inner' / 'f.txt').read_bytes() == b'hi'
    assert eu.list_dir(tmp_path / 'dl') == ['inner']
    assert eu.list_files(tmp_path / 'dl', '.tgz', prefix=True) == [os.path.join(tmp_path / 'dl', 'p.tgz')]
    assert eu.check_integrity(tmp_path / 'p.tgz') and not eu.check_integrity(tmp_path / 'nope')
    assert eu.verify_str_arg('a', 'x', ('a', 'b')) == 'a'
    with pytest.raises(ValueError, match="Unknown value 'c' for argument x. Valid values are {'a', 'b'}."):
        eu.verify_str_arg('c', 'x', ('a', 'b'))
