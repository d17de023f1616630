"""The trend of one net's runs: per series (kind, runtime, precision, threads) the p50 latency and top-1 of
every run, as rows for a table and as a plot."""

from __future__ import annotations

from pathlib import Path

from edgeflow.files import atomic_write
from edgeflow.plots import _pyplot


def series_label(run: dict, m: dict) -> str:
    group = "bench" if run["kind"] == "bench" else "host"
    threads = f" x{m['threads']}" if m["threads"] else ""  # 0: latency not measured in that run
    return f"{group} {m['runtime']} {m['precision']}{threads}"


def trend(runs: list[dict]) -> dict[str, list[tuple[int, float | None, float | None]]]:
    """series label → [(run id, p50 ms, top-1 %)] in run order."""
    out: dict[str, list[tuple[int, float | None, float | None]]] = {}
    for r in runs:
        for m in r["measurements"]:
            acc = None if m["accuracy"] is None else 100 * m["accuracy"]
            out.setdefault(series_label(r, m), []).append((r["id"], m["p50_ms"], acc))
    return out


def trend_png(runs: list[dict], title: str) -> bytes:
    """p50 latency (top) and top-1 (bottom) of every series against the run id, as PNG bytes."""
    import io

    plt = _pyplot()
    fig, (lat_ax, acc_ax) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    for label, points in trend(runs).items():
        lat = [(i, ms) for i, ms, _ in points if ms is not None]
        if lat:
            lat_ax.plot([i for i, _ in lat], [ms for _, ms in lat], "o-", label=label, ms=4)
        acc_ax.plot([i for i, _, a in points if a is not None], [a for _, _, a in points if a is not None], "o-",
                    label=label, ms=4)
    lat_ax.set_ylabel("p50 latency (ms)")
    acc_ax.set_ylabel("top-1 (%)")
    acc_ax.set_xlabel("run id")
    lat_ax.set_title(title)
    for ax in (lat_ax, acc_ax):
        ax.grid(alpha=0.3)
    if lat_ax.lines:
        lat_ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def trend_plot(runs: list[dict], path: Path, title: str) -> Path:
    """``trend_png`` written to ``path`` atomically."""
    png = trend_png(runs, title)
    atomic_write(path, lambda tmp: tmp.write_bytes(png))
    return path
