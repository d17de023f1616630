"""``edgeflow models list|info|readme``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="List registered nets and show their cards.", no_args_is_help=True,
                  rich_markup_mode=None)  # "[default: ...]" in help texts is text, not markup


@app.command("list")
def list_cmd(
    pattern: Annotated[str, typer.Argument(help="Shell-style filter, e.g. 'sep*'.")] = "*",
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """One table of all registered nets: params, MFLOPs, trained accuracy, paper claims vs ours."""
    from rich.table import Table

    from edgeflow.cli.tables import console
    from edgeflow.zoo.cards import get_card
    from edgeflow.zoo.registry import list_models
    from edgeflow.zoo.stats import claim_rows, net_stats

    rows = []
    for name in list_models(pattern):
        card, stats = get_card(name), net_stats(name)
        claims = "; ".join(_claim_text(c) for c in claim_rows(card))
        committed = not card.not_committed  # else the accuracy, if any, is of weights left out of the repo
        acc = card.measured.get("test_accuracy_pct", card.not_committed.get("test_accuracy_pct"))
        rows.append({"name": name, "family": card.family, "params": stats.params, "mflops": stats.flops / 1e6,
                     "int8_kb": card.measured.get("tflite_int8_kb"), "test_accuracy_pct": acc,
                     "weights_committed": committed, "claims": claims})
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return
    left_out = any(not r["weights_committed"] for r in rows)
    t = Table(title="edgeflow models (FLOPs per image at the card's input size)",
              caption="* weights not committed: the net's README says why and how to train them" if left_out else None)
    for col in ("name", "family", "params", "MFLOPs", "int8 KB", "top-1 %", "paper vs ours"):
        t.add_column(col, justify="right" if col in ("params", "MFLOPs", "int8 KB", "top-1 %") else "left")
    for r in rows:
        t.add_row(r["name"], r["family"], f"{r['params']:,}", f"{r['mflops']:.1f}",
                  "-" if r["int8_kb"] is None else f"{r['int8_kb']:.0f}",
                  _top1_text(r), r["claims"])
    console.print(t)


def _top1_text(row: dict) -> str:
    acc = "-" if row["test_accuracy_pct"] is None else f"{row['test_accuracy_pct']:.2f}"
    return acc if row["weights_committed"] else f"{acc} *"


@app.command("info")
def info_cmd(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """A net's card: input contract, params and FLOPs, the paper's claims beside ours."""
    from rich.table import Table

    from edgeflow.cli.tables import console
    from edgeflow.zoo.cards import get_card
    from edgeflow.zoo.stats import claim_rows, net_stats

    card, stats = get_card(name), net_stats(name)
    claims = claim_rows(card)
    if json_out:
        typer.echo(json.dumps({"name": name, "family": card.family, "paper": card.paper, "params": stats.params,
                               "flops": stats.flops, "input_shape": list(card.input_shape), "mean": card.mean,
                               "std": card.std, "classes": card.classes, "tolerances": card.tolerances,
                               "measured": card.measured,
                               "claims": [{"claim": c.claim, "paper_pct": c.paper_pct, "ours_pct": c.ours_pct}
                                          for c in claims]}, indent=2))
        return
    console.print(f"[bold]{name}[/bold] ({card.family})  {card.paper}")
    console.print(card.description.strip())
    console.print(f"input {card.in_chans}x{card.img_size}x{card.img_size} ({card.dataset}), mean {card.mean}, "
                  f"std {card.std}; params {stats.params:,}; {stats.flops / 1e6:.2f} MFLOPs per image")
    for key, value in card.measured.items():
        console.print(f"measured {key}: {value}")
    if claims:
        t = Table(title="paper claims vs ours (reductions in %, or absolute in M)")
        for col in ("claim", "paper", "ours", "ours − paper"):
            t.add_column(col, justify="left" if col == "claim" else "right")
        for c in claims:
            unit = {"M": " M", "% kept": " % kept"}.get(c.unit, " %")
            t.add_row(c.claim, f"{c.paper_pct:.2f}{unit}", f"{c.ours_pct:.2f}{unit}", f"{c.gap_pp:+.2f}")
        console.print(t)


@app.command("readme")
def readme_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="Nets to write [default: all].")] = None,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 listing stale READMEs.")] = False,
) -> None:
    """Generate models/NAME/README.md from the card and the recomputed params/FLOPs/claims."""
    from edgeflow.zoo.readme import readme_path, stale_readmes, write_readme
    from edgeflow.zoo.registry import check_model_name, list_models

    for name in names or []:
        check_model_name(name)
    names = list(dict.fromkeys(names or list_models()))
    if check:
        stale = stale_readmes(names)
        for name in stale:
            typer.echo(f"stale: {_rel(readme_path(name))} (run `edgeflow models readme {name}`)")
        if stale:
            raise typer.Exit(1)
        typer.echo(f"{len(names)} README(s) up to date")
        return
    for name in names:
        typer.echo(f"{'wrote' if write_readme(name) else 'unchanged'} {_rel(readme_path(name))}")


@app.command("record")
def record_cmd(
    name: Annotated[str, typer.Argument(help="A net trained into models/NAME/weights.pt.")],
    parity: Annotated[Path | None, typer.Option(
        help="parity.json of `edgeflow export NAME --int8 --data fashion-mnist`: its TFLite int8 accuracy.")] = None,
    hardware: Annotated[str | None, typer.Option(
        help="Where it trained, for the wall time's comment [default: the GPU the checkpoint names, else this "
             "machine's cores and CPU type].")] = None,
) -> None:
    """Write how models/NAME/weights.pt was made ([trained]) and its accuracies into the card; refresh its README."""
    from edgeflow.zoo.readme import readme_path, write_readme
    from edgeflow.zoo.record import record
    from edgeflow.zoo.registry import check_model_name

    check_model_name(name)
    card = record(name, parity, hardware)
    write_readme(name)
    typer.echo(f"recorded {_rel(card)}; wrote {_rel(readme_path(name))}")


def _rel(path: Path) -> Path:
    """``path`` relative to the project root, for short messages."""
    from edgeflow.paths import project_root

    return path.relative_to(project_root()) if path.is_relative_to(project_root()) else path


def _claim_text(c) -> str:
    if c.unit == "% kept":
        return f"{c.claim}: paper {c.paper_pct:.1f} %, ours {c.ours_pct:.1f} %"
    if c.unit == "M":
        return f"{c.claim}: paper {c.paper_pct:.2f} M, ours {c.ours_pct:.2f} M"
    return f"{c.claim}: paper −{c.paper_pct:.2f} %, ours −{c.ours_pct:.2f} %"
