"""``curves.png`` (loss and accuracy per epoch) and ``confusion_matrix.png``, drawn with matplotlib's Agg backend."""

__all__ = ['plot_curves', 'plot_confusion']


def _pyplot():
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("plots need matplotlib: pip install ember[plot]") from e
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_curves(history, path):
    """Plot train/val loss and accuracy from the rows of ``metrics.csv`` (a list of dicts) into ``path``."""
    plt = _pyplot()
    epochs = [r['epoch'] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ('train_loss', 'val_loss'):
        if key in history[0]:
            ax1.plot(epochs, [r[key] for r in history], marker='o', label=key)
    for key in ('train_accuracy', 'val_accuracy'):
        if key in history[0]:
            ax2.plot(epochs, [r[key] for r in history], marker='o', label=key)
    ax1.set(xlabel='epoch', ylabel='loss', title='Loss')
    ax2.set(xlabel='epoch', ylabel='accuracy', title='Accuracy')
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(matrix, classes, path):
    """Draw a ``(C, C)`` confusion matrix (rows: true class, columns: prediction) into ``path``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(matrix, cmap='Blues')
    fig.colorbar(im, ax=ax)
    ticks = range(len(classes))
    ax.set(xticks=ticks, yticks=ticks, xticklabels=classes, yticklabels=classes, xlabel='predicted', ylabel='true')
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, int(matrix[i, j]), ha='center', va='center', fontsize=7,
                    color='white' if matrix[i, j] > matrix.max() / 2 else 'black')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
