"""Every script in examples/ runs, with small sizes passed as arguments, and does what its docstring says."""
import importlib.util
import os

import pytest

import ember

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'examples')


def _load(name):
    spec = importlib.util.spec_from_file_location(f'example_{name}', os.path.join(EXAMPLES, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('data', ['digits', 'fakedata'])
def test_cifar10_mymodel(data, capsys):
    ex = _load('cifar10_mymodel')
    model = ex.main(['--data', data, '--epochs', '1', '--limit', '64', '--batch-size', '32'])
    out = capsys.readouterr().out
    assert 'epoch 0: mean loss' in out and 'test accuracy' in out
    assert tuple(model(ember.ones(64, 3, 32, 32)).shape) == (64, 10)  # the seed's check: (batch_size, 10)
    train_set, _ = ex.datasets_for(data)
    assert tuple(train_set[0][0].shape) == (3, 32, 32)


def test_lstm_sine_learns(capsys):
    losses, forecast = _load('lstm_sine').main(['--steps', '60', '--hidden', '16'])
    assert sum(losses[-10:]) < 0.2 * sum(losses[:10])
    assert len(forecast) == 50 and all(-1.5 < v < 1.5 for v in forecast)
    assert 'forecast:' in capsys.readouterr().out


def test_finetune_frozen_trains_only_the_unfrozen_layers(capsys):
    ex = _load('finetune_frozen')
    init = ex.build(pretrained=False)
    model = ex.main(['--epochs', '1', '--limit', '32'])   # main() itself asserts layer1 did not change
    assert model.fc.out_features == 10
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(('layer4', 'fc')) for n in trainable)
    assert {n for n, p in init.named_parameters() if p.requires_grad} == trainable
    assert 'training 8,398,858 of 11,181,642 parameters' in capsys.readouterr().out


def test_csv_dataset(tmp_path, capsys):
    ex = _load('csv_dataset')
    root = ex.make_demo_folder(str(tmp_path / 'data'), n=40)
    ds = ex.MyDataset(os.path.join(root, 'images'), os.path.join(root, 'info.csv'), os.path.join(root, 'train.txt'))
    assert len(ds) == 32
    image, label = ds[3]
    assert image.mode == 'RGB' and image.size == (8, 8) and label == ember.vision.datasets.Digits()[3][1]
    accuracy = ex.main(['--data', root, '--epochs', '2'])
    assert 0.0 <= accuracy <= 1.0 and '32 training images' in capsys.readouterr().out


def test_linear_model_and_tensorboard_examples_import():
    assert callable(_load('linear_model').training_loop)
    assert callable(_load('tensorboard_screenshot').log_training)
