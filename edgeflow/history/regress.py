"""Is the newest run worse than the earlier ones on the same device?

Latency — a one-sided Student-t prediction interval on per-run medians: the earlier runs' p50 latencies of
the same runtime × precision × threads (n ≥ 2 runs, mean m, sample standard deviation s) predict where a
further run of unchanged code falls; the newest p50 is a regression when it lies above
``m + t(1 − alpha, n − 1) · s · sqrt(1 + 1/n)`` (alpha 0.01 by default) *and* at least ``min_slowdown``
(5 %) above m, so runs that happened to agree to the microsecond do not turn tiny jitter into a failure.
The spread between runs, not the spread within one run, is what a new run is held to.

Accuracy — always a regression, with any number of earlier runs: a top-1 drop (against the reference in the
same run, and against the median of the earlier runs) beyond the card's gate for that precision
(``<precision>_max_accuracy_drop_pp``; precisions without one use the card's strictest drop gate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ALPHA = 0.01
MIN_SLOWDOWN = 0.05
DEFAULT_DROP_PP = 1.0


def t_quantile(p: float, df: int) -> float:
    """The p-quantile (p > 0.5) of Student's t with ``df`` degrees of freedom (numeric, no scipy needed)."""
    theta = np.linspace(0.0, math.pi / 2, 400_001)[:-1]  # x = tan(theta) maps [0, inf) onto [0, pi/2)
    x = np.tan(theta)
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    dens = np.exp(log_c - (df + 1) / 2 * np.log1p(x * x / df)) / np.cos(theta) ** 2
    cdf = 0.5 + np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(theta))])
    return float(np.interp(p, cdf, x))


@dataclass(frozen=True)
class Finding:
    model: str
    device: str
    series: str  # "host|bench runtime precision [xthreads]"
    what: str  # latency | accuracy
    newest: float
    baseline: str  # the earlier runs in words, e.g. "0.321 ± 0.004 ms (n=5), bound 0.340"
    regression: bool
    why: str


def _group(run: dict) -> str:
    """Export and parity time on the host with the latency worker; a bench with the on-device script."""
    return "bench" if run["kind"] == "bench" else "host"


def _label(run: dict, m: dict, *, threads: bool) -> str:
    return " ".join([_group(run), m["runtime"], m["precision"], *([f"x{m['threads']}"] if threads else [])])


def _drop_gate(gates: dict, precision: str) -> float:
    drops = [v for k, v in gates.items() if k.endswith("_max_accuracy_drop_pp")]
    return gates.get(f"{precision}_max_accuracy_drop_pp", min(drops) if drops else DEFAULT_DROP_PP)


def check_newest(runs: list[dict], *, alpha: float = ALPHA, min_slowdown: float = MIN_SLOWDOWN) -> list[Finding]:
    """Compare the newest of ``runs`` (one model, one device, one group, oldest first) with the earlier ones:
    latency per runtime × precision × threads, accuracy per runtime × precision (threads do not change it)."""
    if not runs:
        return []
    newest, earlier = runs[-1], runs[:-1]
    findings, seen = [], set()
    for m in newest["measurements"]:
        if m["p50_ms"] is not None:
            label = _label(newest, m, threads=True)
            past = [p["p50_ms"] for r in earlier for p in r["measurements"]
                    if _label(r, p, threads=True) == label and p["p50_ms"] is not None]
            findings.append(_latency(newest, label, m["p50_ms"], past, alpha, min_slowdown))
        label = _label(newest, m, threads=False)
        if m["accuracy"] is not None and label not in seen:
            seen.add(label)
            past = [next(p["accuracy"] for p in r["measurements"] if _label(r, p, threads=False) == label)
                    for r in earlier if any(_label(r, p, threads=False) == label and p["accuracy"] is not None
                                            for p in r["measurements"])]
            findings.append(_accuracy(newest, label, m, past))
    return findings


def _latency(run: dict, label: str, new: float, past: list[float], alpha: float, min_slowdown: float) -> Finding:
    def finding(baseline: str, regression: bool, why: str) -> Finding:
        return Finding(run["model"], run["device"], label, "latency p50 ms", new, baseline, regression, why)

    if len(past) < 2:
        return finding(f"n={len(past)}", False, "fewer than 2 earlier runs: no latency verdict yet")
    n, mean, sd = len(past), float(np.mean(past)), float(np.std(past, ddof=1))
    bound = mean + t_quantile(1 - alpha, n - 1) * sd * math.sqrt(1 + 1 / n)
    floor = mean * (1 + min_slowdown)
    baseline = f"{mean:.4g} ± {sd:.2g} (n={n}), bound {max(bound, floor):.4g}"
    if new > bound and new > floor:
        return finding(baseline, True, f"{100 * (new / mean - 1):+.1f} %: above the {100 * (1 - alpha):g} % "
                                       "prediction bound of the earlier runs")
    return finding(baseline, False, f"{100 * (new / mean - 1):+.1f} %: within the spread of the earlier runs")


def _accuracy(run: dict, label: str, m: dict, past: list[float]) -> Finding:
    gate = _drop_gate(run["gates"], m["precision"])
    drops = []
    if m["reference_accuracy"] is not None and m["runtime"] != "pytorch":
        drops.append((100 * (m["reference_accuracy"] - m["accuracy"]), "vs the reference in this run"))
    if past:
        drops.append((100 * (float(np.median(past)) - m["accuracy"]), f"vs the median of {len(past)} earlier runs"))
    worst = max(drops, default=(0.0, "nothing to compare with"))
    baseline = f"median {100 * float(np.median(past)):.2f} % (n={len(past)})" if past else "n=0"
    bad = worst[0] > gate + 1e-9
    why = f"drop {worst[0]:.2f} pp {worst[1]} {'>' if bad else '<='} gate {gate:g} pp"
    return Finding(run["model"], run["device"], label, "top-1 %", 100 * m["accuracy"], baseline, bad, why)


def check_all(runs: list[dict], **kw) -> list[Finding]:
    """``check_newest`` for every model × device × group (host, bench) in ``runs`` (oldest first)."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["model"], r["device"], _group(r)), []).append(r)
    return [f for group in groups.values() for f in check_newest(group, **kw)]
