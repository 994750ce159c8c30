"""Plain-text tables for the end of a command."""

from __future__ import annotations

from collections.abc import Sequence

from .evaluation import BASELINES, Evaluation


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Align columns; numbers right, text left."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [
            cell.rjust(width) if n and _numeric(cell) else cell.ljust(width)
            for cell, width in zip(row, widths, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _numeric(cell: str) -> bool:
    return cell.replace(".", "", 1).replace("-", "", 1).isdigit()


def evaluation_table(evaluations: Sequence[tuple[str, Evaluation]]) -> str:
    """One row per evaluated home: MAE and MASE of the model and baselines."""
    headers = [
        "home",
        "split",
        "hours",
        "model MAE",
        "model MASE",
        *[f"{b} MASE" for b in BASELINES],
        "p10-p90",
    ]
    rows = [
        [
            ev.name,
            split,
            ev.hours_scored,
            ev.model.mae_kwh,
            ev.model.mase_weekly,
            *[ev.baselines[b].mase_weekly for b in BASELINES],
            ev.coverage_p10_p90,
        ]
        for split, ev in evaluations
    ]
    return table(headers, rows)
