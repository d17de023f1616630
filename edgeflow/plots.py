"""Plots (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

from edgeflow.files import atomic_write


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def latency_vs_threads(series: dict[str, list[tuple[int, float]]], path: Path, title: str) -> None:
    """p50 latency against thread count, one line per precision; written atomically."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, points in series.items():
        points = sorted(points)
        ax.plot([t for t, _ in points], [ms for _, ms in points], "o-", label=label)
    ax.set_xlabel("threads")
    ax.set_ylabel("p50 latency (ms)")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)


def accuracy_vs_size(points: list[tuple[str, float, float]], path: Path, title: str) -> None:
    """Scatter of (label, size KB, top-1 %) points, one per runtime × precision; written atomically."""
    plt = _pyplot()
    merged: dict[tuple[int, float], list[str]] = {}  # points that coincide share one dot and one label
    for label, size_kb, acc in points:
        merged.setdefault((round(size_kb / 10), round(acc, 2)), []).append(label)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, size_kb, acc in points:
        ax.scatter(size_kb, acc, s=40)
        labels = merged[(round(size_kb / 10), round(acc, 2))]
        if labels[0] == label:
            ax.annotate(" / ".join(labels), (size_kb, acc), textcoords="offset points", xytext=(5, 4),
                        fontsize=8, ha="right" if size_kb > 0.8 * max(p[1] for p in points) else "left")
    ax.set_xlabel("model file size (KB)")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)


def training_curve(history: list[dict], path: Path, title: str) -> None:
    """Loss and accuracy per epoch (train, validation, and every exit of multi-exit nets)."""
    plt = _pyplot()
    epochs = [r["epoch"] for r in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.6))
    loss_ax.plot(epochs, [r["train_loss"] for r in history], "o-")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("train loss")
    acc_ax.plot(epochs, [100 * r["train_accuracy"] for r in history], "o-", label="train")
    if history and "val_exit_accuracies" in history[0]:
        for k in range(len(history[0]["val_exit_accuracies"])):
            acc_ax.plot(epochs, [100 * r["val_exit_accuracies"][k] for r in history], ".--", label=f"val exit {k + 1}")
    elif history and "val_accuracy" in history[0]:
        acc_ax.plot(epochs, [100 * r["val_accuracy"] for r in history], "o-", label="validation")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("top-1 %")
    acc_ax.legend()
    from matplotlib.ticker import MaxNLocator

    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
