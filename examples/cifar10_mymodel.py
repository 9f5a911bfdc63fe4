"""The CIFAR10 ``MyModel`` of the seed notes (three 5x5 conv + max-pool stages, two linear layers), trained with
Ember on data that needs no download: the 8x8 Digits upscaled to 3x32x32 images, or random ``FakeData``.

    python examples/cifar10_mymodel.py                      # Digits as 32x32 RGB images, 3 epochs
    python examples/cifar10_mymodel.py --data fakedata --epochs 1 --limit 256

With real CIFAR10 (``datasets.CIFAR10(root, train=True, download=True, transform=transforms.ToTensor())``)
the rest of the script is unchanged: the model takes (N, 3, 32, 32) batches and returns (N, 10) logits.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import ember as torch  # noqa: E402  (a PyTorch script with only its imports changed)
import ember.nn as nn  # noqa: E402
from ember.utils.data import DataLoader, Subset  # noqa: E402
from ember.vision import datasets, transforms  # noqa: E402


class MyModel(nn.Module):
    """(N, 3, 32, 32) -> (N, 10): three times a 5x5 conv (padding 2 keeps the size) and a 2x2 max-pool, then
    linear layers 1024 -> 64 -> 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=32, kernel_size=5, padding=2)   # 32 @ 32x32
        self.maxpool1 = nn.MaxPool2d(kernel_size=2)                                          # 32 @ 16x16
        self.conv2 = nn.Conv2d(in_channels=32, out_channels=32, kernel_size=5, padding=2)  # 32 @ 16x16
        self.maxpool2 = nn.MaxPool2d(kernel_size=2)                                          # 32 @ 8x8
        self.conv3 = nn.Conv2d(in_channels=32, out_channels=64, kernel_size=5, padding=2)  # 64 @ 8x8
        self.maxpool3 = nn.MaxPool2d(kernel_size=2)                                          # 64 @ 4x4
        self.flatten = nn.Flatten()                                                          # 1024
        self.linear1 = nn.Linear(in_features=1024, out_features=64)
        self.linear2 = nn.Linear(in_features=64, out_features=10)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv2(x))
        x = self.maxpool3(self.conv3(x))
        return self.linear2(self.linear1(self.flatten(x)))


def datasets_for(name):
    """(train, test) datasets of 3x32x32 float tensors in [0, 1] with labels 0..9."""
    if name == 'fakedata':
        tf = transforms.ToTensor()
        return (datasets.FakeData(1000, (3, 32, 32), 10, transform=tf),
                datasets.FakeData(200, (3, 32, 32), 10, transform=tf, random_offset=1000))
    # Digits are 8x8 grayscale: upscale them and repeat the channel to look like CIFAR10's inputs.
    tf = transforms.Compose([transforms.Resize(32), transforms.Grayscale(num_output_channels=3),
                             transforms.ToTensor()])
    return datasets.Digits(train=True, transform=tf), datasets.Digits(train=False, transform=tf)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', choices=['digits', 'fakedata'], default='digits')
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--limit', type=int, default=None, help='use only the first N training images')
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--lr', type=float, default=0.05)
    args = p.parse_args(argv)

    torch.manual_seed(0)
    train_set, test_set = datasets_for(args.data)
    if args.limit:
        train_set = Subset(train_set, range(min(args.limit, len(train_set))))
        test_set = Subset(test_set, range(min(args.limit // 4 or 1, len(test_set))))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=args.batch_size)

    model = MyModel()
    loss_fn = nn.CrossEntropyLoss()
    optim = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    for epoch in range(args.epochs):
        model.train()
        sum_loss = 0.0
        for img, target in train_loader:
            output = model(img)                  # (N, 10) logits
            loss = loss_fn(output, target)
            optim.zero_grad()                    # gradients accumulate: clear the last step's
            loss.backward()
            optim.step()
            sum_loss += loss.item() * len(target)
        print(f'epoch {epoch}: mean loss {sum_loss / len(train_set):.4f}')

    model.eval()
    correct = 0
    with torch.no_grad():                        # no graph needed to evaluate
        for img, target in test_loader:
            correct += (model(img).argmax(1) == target).sum().item()
    print(f'test accuracy {correct / len(test_set):.3f}')
    return model


if __name__ == '__main__':
    main()
