"""Fine-tune a model-zoo network with its early layers frozen: ResNet-18 from ``ember.hub`` gets a new
10-class head and only ``layer4`` and ``fc`` are trained, on the Digits upscaled to 3x32x32.

    python examples/finetune_frozen.py                   # random initial weights: no download
    python examples/finetune_frozen.py --pretrained      # ImageNet weights (downloaded once into the hub cache)
    python examples/finetune_frozen.py --epochs 1 --limit 64

Freezing = ``requires_grad_(False)`` on the parameters to keep, and giving the optimizer only the
others. Frozen BatchNorm layers are also put in eval mode so that their running statistics stay as
loaded. ``ember train`` does the same from a config: ``model: {name: resnet18, kwargs: {num_classes: 10},
freeze: [conv1, bn1, layer1, layer2, layer3]}``.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import ember as torch  # noqa: E402
from ember import hub, nn  # noqa: E402
from ember.utils.data import DataLoader, Subset  # noqa: E402
from ember.vision import datasets, transforms  # noqa: E402

TRAINED = ('layer4', 'fc')


def build(pretrained):
    """ResNet-18 with a new 10-way ``fc``; everything outside ``TRAINED`` frozen."""
    model = hub.create_model('resnet18', pretrained=pretrained, num_classes=10)
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith(TRAINED))
    return model


def freeze_batchnorm(model):
    """Keep BatchNorm layers whose weights are frozen in eval mode (call after ``model.train()``)."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d) and not module.weight.requires_grad:
            module.eval()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--pretrained', action='store_true', help='start from the ImageNet weights')
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--limit', type=int, default=512, help='training images to use')
    p.add_argument('--batch-size', type=int, default=32)
    args = p.parse_args(argv)

    torch.manual_seed(0)
    tf = transforms.Compose([transforms.Resize(32), transforms.Grayscale(num_output_channels=3), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    train_set = Subset(datasets.Digits(train=True, transform=tf), range(args.limit))
    test_set = Subset(datasets.Digits(train=False, transform=tf), range(min(args.limit // 2, 359)))
    model = build(args.pretrained)
    trainable = [p for p in model.parameters() if p.requires_grad]
    total = sum(p.numel() for p in model.parameters())
    print(f'training {sum(p.numel() for p in trainable):,} of {total:,} parameters')
    frozen_before = model.layer1[0].conv1.weight.clone()

    optimizer = torch.optim.Adam(trainable, lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        freeze_batchnorm(model)
        for x, y in DataLoader(train_set, batch_size=args.batch_size, shuffle=True):
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f'epoch {epoch}: last batch loss {loss.item():.4f}')

    model.eval()
    with torch.no_grad():
        correct = sum((model(x).argmax(1) == y).sum().item() for x, y in DataLoader(test_set, batch_size=64))
    print(f'test accuracy {correct / len(test_set):.3f}')
    assert torch.equal(model.layer1[0].conv1.weight, frozen_before), 'a frozen layer changed'
    return model


if __name__ == '__main__':
    main()
