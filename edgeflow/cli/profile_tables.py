"""Tables of ``bench --profile`` (``workflows.op_profile``): per op type, the top ops, the sum check."""

from __future__ import annotations

from rich.table import Table


def _us(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _title(profile: dict, what: str) -> str:
    fp = profile.get("fingerprint") or {}
    where = f"emulated {fp.get('qemu_cpu') or ''} (qemu: NOT device timing)" if profile.get("emulated") \
        else fp.get("cpu") or profile["device"]
    return f"{what} on {profile['device']} — {where}, {profile['threads']} thread(s), median of {profile['iters']}"


def op_type_table(profile: dict) -> Table:
    """One row per op type: count, summed µs per precision, share of each precision's sum, int8/fp32."""
    precisions = list(profile["precisions"])
    label = "emulated µs" if profile.get("emulated") else "µs"
    t = Table(title=_title(profile, "per-op profile by op type"))
    t.add_column("op type")
    t.add_column("ops" if len(precisions) == 1 else f"ops ({' / '.join(precisions)})", justify="right")
    for p in precisions:
        t.add_column(f"{p} {label}", justify="right")
        t.add_column(f"{p} %", justify="right")
    t.add_column("int8/fp32 time", justify="right")
    sums = {p: profile["precisions"][p]["sum_us"] or 1.0 for p in precisions}
    for row in profile["by_type"]:
        cells = []
        for p in precisions:
            us = row["us"].get(p)
            cells += [_us(us), "-" if us is None else f"{100 * us / sums[p]:.1f}"]
        ratio = row.get("int8_over_fp32")
        t.add_row(row["type"], " / ".join(str(row["count"].get(p, 0)) for p in precisions)
                  if len(set(row["count"].values())) > 1 else str(max(row["count"].values())), *cells,
                  "-" if ratio is None else (f"[red]{ratio:.2f}×[/red]" if ratio > 1 else f"{ratio:.2f}×"))
    return t


def top_ops_table(profile: dict, precision: str, n: int = 10) -> Table:
    """The ``n`` slowest ops of one precision: index, type, shapes, dtypes, delegated, µs, share."""
    p = profile["precisions"][precision]
    # the same op in fp32 (same export: same op order), for int8's time ratio op by op
    fp32 = {(o["index"], o["type"]): o for o in profile["precisions"].get("fp32", {}).get("ops", [])}
    ratio_col = precision == "int8" and bool(fp32)
    t = Table(title=f"top {n} {precision} ops ({len(p['ops'])} in all)")
    us = "emulated µs" if profile.get("emulated") else "µs"
    for col in ("#", "op", "inputs", "outputs", "XNNPACK", us, "%", *(("int8/fp32",) if ratio_col else ())):
        t.add_column(col, justify="left" if col in ("op", "inputs", "outputs", "XNNPACK") else "right")
    for o in sorted(p["ops"], key=lambda o: -(o["median_us"] or 0.0))[:n]:
        shapes = [" ".join(f"{'x'.join(map(str, x['shape']))} {x['dtype']}" for x in o[k])
                  for k in ("inputs", "outputs")]
        xnn = {True: "yes", False: "[red]no[/red]", None: "?"}[o["delegated"]]
        twin = fp32.get((o["index"], o["type"]))
        ratio = [f"{o['median_us'] / twin['median_us']:.2f}×" if twin and twin["median_us"] and o["median_us"]
                 else "-"] if ratio_col else []
        t.add_row(str(o["index"]), o["type"], *shapes, xnn, _us(o["median_us"]), f"{100 * o['share']:.1f}", *ratio)
    return t


def sum_check_lines(profile: dict) -> list[str]:
    """Per precision: sum of per-op medians vs the whole model, and whether it is within the tolerance."""
    tol = profile["sum_tolerance"]
    lines = []
    for name, p in profile["precisions"].items():
        held = "[green]held[/green]" if p["sum_within_tolerance"] else "[red]did NOT hold[/red]"
        name = f"{name} (emulated)" if profile.get("emulated") else name
        ratio = "-" if p["sum_ratio"] is None else f"{100 * (p['sum_ratio'] - 1):+.0f} %"
        lines.append(f"{name}: per-op sum {_us(p['sum_us'])} µs vs whole model {_us(p['whole_us'])} µs "
                     f"({ratio}; check ±{100 * tol:.0f} % {held})"
                     + (f"; ops not timed: {p['untimed_ops']}" if p["untimed_ops"] else ""))
    return lines
