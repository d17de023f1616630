"""Why int8 is not clearly faster than fp32 here, in one or two lines, from the per-op profile (when there
is one) and the device fingerprint. Empty when int8 is at least ``CLEARLY_FASTER`` × fp32."""

from __future__ import annotations

CLEARLY_FASTER = 1.2  # int8 speed / fp32 speed below which the verdict explains
SIGNIFICANT = 0.05  # share of int8 time from which ops left off XNNPACK are the main reason given

# Instructions XNNPACK's int8 kernels speed up with (names as /proc/cpuinfo spells them)
DOT_PRODUCT = {"x86": ("avx512_vnni", "avx_vnni", "amx_int8"), "arm": ("asimddp", "i8mm")}


def int8_verdict(speedup: float | None, fingerprint: dict, by_type: list[dict] | None = None,
                 int8_ops: list[dict] | None = None, *, emulated: bool = False) -> list[str]:
    """1-2 lines: how fast int8 is, and the main reason the profile and the fingerprint show."""
    if speedup is None or speedup >= CLEARLY_FASTER:
        return []
    where = _cpu(fingerprint)
    lines = [f"int8 runs at {speedup:.2f}× the speed of fp32 on {where}{' (EMULATED timing)' if emulated else ''}"]
    worst = _worst_type(by_type or [])
    if worst:
        lines[0] += f": {worst}"
    reason = _reason(fingerprint, int8_ops or [], emulated)
    if reason:
        lines.append(reason)
    elif not by_type:
        lines.append("run `edgeflow bench NAME --profile` to see which ops take the time")
    return lines[:2]


def _cpu(fp: dict) -> str:
    if fp.get("emulated"):
        return f"an emulated {fp.get('qemu_cpu') or fp.get('cpu') or 'core'}"
    return fp.get("cpu") or fp.get("arch") or "this device"


def _worst_type(rows: list[dict]) -> str:
    """The op type that loses most time in int8 against fp32 (a type found only in int8 loses all of its)."""
    total = sum(r["us"].get("int8", 0.0) for r in rows)
    losers = [(r["us"]["int8"] - r["us"].get("fp32", 0.0), r) for r in rows if "int8" in r["us"]]
    lost, row = max(losers, key=lambda x: x[0], default=(0.0, None))
    if row is None or lost <= 0 or not total:
        return ""
    share = f"{100 * row['us']['int8'] / total:.0f} % of int8 time is {row['type']}"
    if row.get("int8_over_fp32"):
        return f"{share}, {row['int8_over_fp32']:.1f}× slower than fp32 on this CPU"
    return f"{share}, an op the fp32 model does not have"


def _reason(fp: dict, int8_ops: list[dict], emulated: bool) -> str:
    """A second line: XNNPACK off, int8 ops left to the built-in kernels, or missing dot-product ISA."""
    if fp.get("xnnpack") is False:
        return "XNNPACK was not active: the interpreter's built-in kernels ran, not the optimized ones"
    slow = [o for o in int8_ops if o.get("delegated") is False]
    share = sum(o.get("share", 0.0) for o in slow)
    types = sorted({o["type"] for o in slow})
    off_xnnpack = (f"{', '.join(types)} {'is' if len(types) == 1 else 'are'} not delegated to XNNPACK in int8 "
                   f"(built-in kernels, {100 * share:.0f} % of int8 time)")
    if slow and share >= SIGNIFICANT:
        return off_xnnpack
    family = "arm" if str(fp.get("arch", "")).startswith(("arm", "aarch")) else "x86"
    isa = fp.get("isa") or {}
    if isa and not emulated and not any(isa.get(f) for f in DOT_PRODUCT[family]):
        return (f"this CPU has no int8 dot-product instructions ({', '.join(DOT_PRODUCT[family])}): int8 kernels "
                "gain little over fp32 here")
    return off_xnnpack if slow else ""
