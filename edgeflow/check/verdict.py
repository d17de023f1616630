"""Why int8 is not clearly faster than fp32 here, in one or two lines, from the per-op profile (when there
is one) and the device fingerprint. Empty when int8 is at least ``CLEARLY_FASTER`` × fp32."""

from __future__ import annotations

CLEARLY_FASTER = 1.2  # int8 speed / fp32 speed below which the verdict explains
SIGNIFICANT = 0.05  # share of int8 time from which ops left off XNNPACK are the main reason given
SLOWER = 1.5  # int8/fp32 time from which a single op is worth naming

# Instructions XNNPACK's int8 kernels speed up with (names as /proc/cpuinfo spells them)
DOT_PRODUCT = {"x86": ("avx512_vnni", "avx_vnni", "amx_int8"), "arm": ("asimddp", "i8mm")}


def int8_verdict(speedup: float | None, fingerprint: dict, by_type: list[dict] | None = None,
                 int8_ops: list[dict] | None = None, *, emulated: bool = False,
                 fp32_ops: list[dict] | None = None) -> list[str]:
    """1-2 lines: how fast int8 is, and the main reason the profile and the fingerprint show (else the single
    op of another type that int8 slows down most, from ``fp32_ops`` of the same export)."""
    if speedup is None or speedup >= CLEARLY_FASTER:
        return []
    where = _cpu(fingerprint)
    lines = [f"int8 runs at {speedup:.2f}× the speed of fp32 on {where}{' (EMULATED timing)' if emulated else ''}"]
    worst, text = _worst_type(by_type or [])
    if text:
        lines[0] += f": {text}"
    reason = _reason(fingerprint, int8_ops or [], emulated) or _worst_op(int8_ops or [], fp32_ops or [], worst)
    if reason:
        lines.append(reason)
    elif not by_type:
        lines.append("run `edgeflow bench NAME --profile` to see which ops take the time")
    return lines[:2]


def _cpu(fp: dict) -> str:
    if fp.get("emulated"):
        return f"an emulated {fp.get('qemu_cpu') or fp.get('cpu') or 'core'}"
    return fp.get("cpu") or fp.get("arch") or "this device"


def _worst_type(rows: list[dict]) -> tuple[str, str]:
    """The op type that loses most time in int8 against fp32 (a type found only in int8 loses all of its),
    and what to say about it; ('', '') when none loses time."""
    total = sum(r["us"].get("int8", 0.0) for r in rows)
    losers = [(r["us"]["int8"] - r["us"].get("fp32", 0.0), r) for r in rows if "int8" in r["us"]]
    lost, row = max(losers, key=lambda x: x[0], default=(0.0, None))
    if row is None or lost <= 0 or not total:
        return "", ""
    share = f"{100 * row['us']['int8'] / total:.0f} % of int8 time is {row['type']}"
    if row.get("int8_over_fp32"):
        return row["type"], f"{share}, {row['int8_over_fp32']:.1f}× slower than fp32 on this CPU"
    return row["type"], f"{share}, an op the fp32 model does not have"


def _worst_op(int8_ops: list[dict], fp32_ops: list[dict], worst_type: str) -> str:
    """The op (not of the type line 1 names) with the most time lost in int8 against the same op in fp32
    (same index and type: the two precisions of one export), where it is at least ``SLOWER`` × slower."""
    fp32 = {(o["index"], o["type"]): o.get("median_us") for o in fp32_ops}
    pairs = [(o, fp32.get((o["index"], o["type"]))) for o in int8_ops if o.get("median_us") and o["type"] != worst_type]
    lost, op, base = max(((o["median_us"] - f, o, f) for o, f in pairs if f), key=lambda x: x[0],
                         default=(0.0, None, None))
    if op is None or lost <= 0 or op["median_us"] < SLOWER * base:
        return ""
    shapes = " → ".join("x".join(map(str, t[0]["shape"])) for t in (op.get("inputs"), op.get("outputs")) if t)
    return (f"op {op['index']} {op['type']} ({shapes}) is {op['median_us'] / base:.1f}× slower in int8 "
            f"({100 * op.get('share', 0.0):.0f} % of int8 time)")


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
