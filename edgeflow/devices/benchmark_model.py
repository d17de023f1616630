"""Parse the output of LiteRT's ``benchmark_model`` tool (run on Android where a profile names it)."""

from __future__ import annotations

import re

_SUMMARY = re.compile(r"Inference timings in us: Init: ([\d.e+]+), First inference: ([\d.e+]+), "
                      r"Warmup \(avg\): ([\d.e+]+), Inference \(avg\): ([\d.e+]+)")
_COUNT = re.compile(r"count=(\d+) first=[\d.e+]+ curr=[\d.e+]+ min=([\d.e+]+) max=([\d.e+]+) "
                    r"avg=([\d.e+]+) std=([\d.e+]+)")
_PEAK = re.compile(r"Peak memory footprint \(MB\): init=([\d.e+]+) overall=([\d.e+]+)")
_PEAK_MONITORED = re.compile(r"Overall peak memory footprint \(MB\) via periodic monitoring: ([\d.e+]+)")


def parse_benchmark_model(text: str) -> dict:
    """Timings (ms) and peak memory (MB) from benchmark_model's log; keys absent when a line is missing."""
    out: dict = {}
    if m := _SUMMARY.search(text):
        init, first, warmup, avg = (float(v) / 1000 for v in m.groups())
        out.update(init_ms=init, first_inference_ms=first, warmup_avg_ms=warmup, inference_avg_ms=avg)
    counts = _COUNT.findall(text)
    if counts:  # the last count= line is the timed run (the first is warm-up)
        n, lo, hi, avg, std = counts[-1]
        out.update(runs=int(n), min_ms=float(lo) / 1000, max_ms=float(hi) / 1000, std_ms=float(std) / 1000)
    if m := _PEAK.search(text):
        out.update(peak_memory_init_mb=float(m.group(1)), peak_memory_mb=float(m.group(2)))
    if m := _PEAK_MONITORED.search(text):
        out["peak_memory_mb"] = float(m.group(1))
    return out
