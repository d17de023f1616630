"""Plots (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

from edgeflow.checkpoint import atomic_write


def accuracy_vs_size(points: list[tuple[str, float, float]], path: Path, title: str) -> None:
    """Scatter of (label, size KB, top-1 %) points, one per runtime × precision; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
