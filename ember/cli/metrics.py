"""Running classification metrics: loss, top-1 / top-5 accuracy and the confusion matrix."""
import numpy as np

__all__ = ['Meter']


class Meter:
    """Accumulates ``update(loss, logits (N, C), target (N,))`` over batches; ``result()`` gives the means."""

    def __init__(self, num_classes=None):
        self.num_classes = num_classes
        self.loss = 0.0
        self.correct = 0
        self.correct5 = 0
        self.n = 0
        self.confusion = None

    def update(self, loss, logits, target):
        scores, y = logits.detach().numpy(), target.numpy()
        n = len(y)
        self.loss += float(loss) * n
        self.n += n
        pred = scores.argmax(1)
        self.correct += int((pred == y).sum())
        k = min(5, scores.shape[1])
        top = np.argsort(-scores, axis=1, kind='stable')[:, :k]
        self.correct5 += int((top == y[:, None]).any(1).sum())
        c = self.num_classes or scores.shape[1]
        if self.confusion is None:
            self.confusion = np.zeros((c, c), dtype=np.int64)
        np.add.at(self.confusion, (y, pred), 1)

    def result(self):
        n = max(self.n, 1)
        return {'loss': self.loss / n, 'accuracy': self.correct / n, 'top5': self.correct5 / n}

    @classmethod
    def merged(cls, meters):
        """One Meter holding the sums of ``meters`` (the shards of one pass, e.g. one per process), added in
        the order given so that every process merging the same list gets the same floats."""
        out = cls()
        for m in meters:
            out.num_classes = out.num_classes or m.num_classes
            out.loss += m.loss
            out.correct += m.correct
            out.correct5 += m.correct5
            out.n += m.n
            if m.confusion is not None:
                out.confusion = m.confusion.copy() if out.confusion is None else out.confusion + m.confusion
        return out
