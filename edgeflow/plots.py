"""Plots (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

from edgeflow.checkpoint import atomic_write


def accuracy_vs_size(points: list[tuple[str, float, float]], path: Path, title: str) -> None:
    """Scatter of (label, size KB, top-1 %) points, one per runtime × precision; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, size_kb, acc in points:
        ax.scatter(size_kb, acc, s=40)
        ax.annotate(label, (size_kb, acc), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.set_xlabel("model file size (KB)")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)
