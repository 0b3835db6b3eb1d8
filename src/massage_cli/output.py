"""Printing rows as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click


def plain(value: Any) -> Any:
    """A value as JSON can carry it: None, booleans and integers as they are, lists item by item, dates and
    times in ISO 8601, everything else (Money, enums) as its text."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return ",".join(_cell(v) for v in value)
    return str(value)


def emit(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str) -> None:
    """Print ``rows`` (only ``columns``, in order) in the chosen format."""
    if fmt == "json":
        data = [{c: (_cell(r.get(c)) if not isinstance(r.get(c), (int, bool)) else r.get(c)) for c in columns}
                for r in rows]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_cell(r.get(c)) for c in columns])
        click.echo(buffer.getvalue(), nl=False)
        return
    table = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in table]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in table:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    if not table:
        click.echo("(none)")


def emit_one(row: Mapping[str, Any], fmt: str) -> None:
    """Print one record as key/value lines (table) or a single JSON object / CSV row."""
    if fmt == "table":
        width = max(len(k) for k in row) if row else 0
        for key, value in row.items():
            click.echo(f"{key.ljust(width)}  {_cell(value)}")
        return
    emit([row], list(row), fmt)
