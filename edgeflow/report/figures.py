"""The report's figures as PNG bytes (matplotlib, headless), to be embedded as data URIs."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from edgeflow.export.manifest import artifact_runtime
from edgeflow.plots import _pyplot, accuracy_vs_size

TOP_LAYERS = 15


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    _pyplot().close(fig)
    return buf.getvalue()


def accuracy_size_png(parity: dict, manifest: dict, title: str) -> bytes | None:
    """Top-1 against file size, one point per runtime × precision (``plots.accuracy_vs_size``)."""
    sizes = {(artifact_runtime(a), a["precision"]): a["bytes"] for a in manifest.get("artifacts", [])}
    points = [(f"{r['runtime']} {r['precision']}", sizes[(r["runtime"], r["precision"])] / 1024,
               100 * r["accuracy"]) for r in parity["rows"] if (r["runtime"], r["precision"]) in sizes]
    if not points:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "size.png"
        accuracy_vs_size(points, path, title)
        return path.read_bytes()


def latency_png(entries: list[dict], title: str) -> bytes | None:
    """Latency distribution per runtime: a box (quartiles, whiskers at p1/p99) from every timed run where they
    were saved, else the p50 dot with a p90–p99 bar."""
    if not entries:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, max(2.2, 0.8 + 0.45 * len(entries))))
    for i, e in enumerate(entries):
        samples = e.get("samples_ms") or []
        if samples:
            ax.boxplot([samples], positions=[i], vert=False, whis=(1, 99), widths=0.6, showfliers=True,
                       flierprops={"markersize": 2, "alpha": 0.4})
        else:
            ax.plot([e["p90_ms"], e["p99_ms"]], [i, i], "-", color="tab:gray", lw=3)
            ax.plot([e["p50_ms"]], [i], "o", color="tab:blue")
    ax.set_yticks(range(len(entries)), [e["label"] for e in entries])
    ax.set_xscale("log")  # runtimes differ by 10x and a stray slow run would squash the rest on a linear axis
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    low, high = ax.get_xlim()
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))  # 0.3, not 3×10⁻¹
    ax.xaxis.set_minor_formatter(FormatStrFormatter("%g") if high < 8 * low else NullFormatter())
    ax.set_xlabel("single-image latency (ms, log scale)")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return _png(fig)


def layers_png(layers: dict, title: str) -> bytes | None:
    """Local SQNR of the worst int8 layers (lower is worse), one panel per int8 model."""
    found = {k: v[:TOP_LAYERS] for k, v in layers.items() if isinstance(v, list) and v}
    if not found:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(found), figsize=(6 * len(found), 0.8 + 0.3 * TOP_LAYERS), squeeze=False)
    for ax, (label, rows) in zip(axes[0], found.items()):
        names = [r["tensor"].strip("/").removesuffix("_output_0")[-36:] for r in rows]
        ax.barh(range(len(rows)), [r["local_sqnr_db"] for r in rows], color="tab:orange")
        ax.set_yticks(range(len(rows)), names, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("local SQNR (dB)")
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(title)
    fig.tight_layout()
    return _png(fig)


def latency_across_png(series: dict[str, dict[str, float]], title: str) -> bytes | None:
    """p50 latency of every section (net × device) per runtime × precision, grouped bars."""
    labels = sorted({k for s in series.values() for k in s})
    if not labels or len(series) < 2:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.5 * len(labels)))
    height = 0.8 / len(series)
    for j, (name, values) in enumerate(series.items()):
        ys = [i + j * height for i, k in enumerate(labels) if k in values]
        ax.barh(ys, [values[k] for k in labels if k in values], height=height, label=name)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(labels))], labels)
    ax.invert_yaxis()
    ax.set_xlabel("p50 latency (ms)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return _png(fig)
