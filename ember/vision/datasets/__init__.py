"""ember.vision.datasets: torchvision's datasets (folders of images, MNIST family, CIFAR, SVHN,
FakeData) and ``Digits``, a small dataset shipped with Ember."""
from .cifar import CIFAR10, CIFAR100
from .digits import Digits
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import EMNIST, KMNIST, MNIST, FashionMNIST
from .svhn import SVHN
from .vision import VisionDataset

__all__ = ('VisionDataset', 'DatasetFolder', 'ImageFolder', 'FakeData', 'MNIST', 'FashionMNIST', 'KMNIST', 'EMNIST',
           'CIFAR10', 'CIFAR100', 'SVHN', 'Digits')
