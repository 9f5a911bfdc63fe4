"""A custom ``Dataset`` reading images from a folder and their labels from a CSV file, as the seed notes'
``MyDataset``: ``info.csv`` maps image names to labels and a text file lists the images of a split.

    python examples/csv_dataset.py --data DIR     # DIR holds images/, info.csv, train.txt, val.txt
    python examples/csv_dataset.py                # builds such a folder from the Digits first, in a temp dir

Then it feeds the dataset to a DataLoader and trains a small CNN on it for a few epochs.
"""
import argparse
import csv
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from PIL import Image  # noqa: E402

import ember as torch  # noqa: E402
from ember import nn  # noqa: E402
from ember.utils.data import DataLoader, Dataset  # noqa: E402
from ember.vision import datasets, transforms  # noqa: E402


class MyDataset(Dataset):
    """Samples ``(image, label)``: images from ``data_dir``, labels from ``info_csv`` (columns
    ``Image_index,Finding_Labels``), the split's image names from ``image_list`` (one per line)."""

    def __init__(self, data_dir, info_csv, image_list, transform=None):
        with open(info_csv, newline='') as f:
            self.label_info = {row['Image_index']: int(row['Finding_Labels']) for row in csv.DictReader(f)}
        with open(image_list) as f:
            self.image_file = [line.strip() for line in f if line.strip()]
        self.data_dir = data_dir
        self.transform = transform

    def __getitem__(self, index):
        image_name = self.image_file[index]
        label = self.label_info[image_name]
        image = Image.open(os.path.join(self.data_dir, image_name)).convert('RGB')
        if self.transform is not None:
            image = self.transform(image)
        return image, label

    def __len__(self):
        return len(self.image_file)


def make_demo_folder(root, n=300):
    """Write ``n`` Digits as PNGs into ``root/images`` with ``info.csv`` and an 80/20 ``train.txt``/``val.txt``."""
    os.makedirs(os.path.join(root, 'images'), exist_ok=True)
    digits = datasets.Digits(train=True)
    names = []
    with open(os.path.join(root, 'info.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['Image_index', 'Finding_Labels'])
        for i in range(n):
            img, label = digits[i]
            names.append(f'{i:05d}.png')
            img.save(os.path.join(root, 'images', names[-1]))
            w.writerow([names[-1], label])
    cut = int(n * 0.8)
    for split, part in (('train', names[:cut]), ('val', names[cut:])):
        with open(os.path.join(root, f'{split}.txt'), 'w') as f:
            f.write('\n'.join(part) + '\n')
    return root


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', help='folder with images/, info.csv, train.txt and val.txt')
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--n', type=int, default=300, help='images in the demo folder')
    args = p.parse_args(argv)

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data or make_demo_folder(tmp, args.n)
        tf = transforms.Compose([transforms.Grayscale(), transforms.ToTensor()])   # the demo images are 8x8
        train_set = MyDataset(os.path.join(root, 'images'), os.path.join(root, 'info.csv'),
                              os.path.join(root, 'train.txt'), transform=tf)
        val_set = MyDataset(os.path.join(root, 'images'), os.path.join(root, 'info.csv'),
                            os.path.join(root, 'val.txt'), transform=tf)
        image, label = train_set[0]
        print(f'{len(train_set)} training images; the first: {tuple(image.shape)}, label {label}')

        channels, height, width = image.shape
        model = nn.Sequential(nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(16 * (height // 2) * (width // 2), 10))
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        loss_fn = nn.CrossEntropyLoss()
        for epoch in range(args.epochs):
            for x, y in DataLoader(train_set, batch_size=32, shuffle=True):
                loss = loss_fn(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                correct = sum((model(x).argmax(1) == y).sum().item() for x, y in DataLoader(val_set, batch_size=64))
            print(f'epoch {epoch}: val accuracy {correct / len(val_set):.3f}')
    return correct / len(val_set)


if __name__ == '__main__':
    main()
