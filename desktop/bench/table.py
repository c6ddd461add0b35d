"""The bench's output: titled tables rendered as aligned plain text, or as JSON."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Column:
    name: str
    fmt: str = ""
    """format spec for numbers, e.g. '.1f'; text is printed as is."""


@dataclass
class Table:
    """One section of the report: a title, columns, rows and notes on what was measured."""
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *values: Any) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"{self.key}: {len(values)} values for {len(self.columns)} columns")
        self.rows.append(list(values))

    def labels(self) -> list[str]:
        """The first cell of every row (what tests look for)."""
        return [str(row[0]) for row in self.rows]

    def render(self) -> str:
        cells = [[c.name for c in self.columns]]
        cells += [[_cell(v, c.fmt) for v, c in zip(row, self.columns)] for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        numeric = [i > 0 and any(isinstance(row[i], (int, float)) for row in self.rows)
                   for i in range(len(self.columns))]
        lines = [self.title, "-" * min(100, max(len(self.title), sum(widths) + 2 * len(widths)))]
        for n, row in enumerate(cells):
            parts = [v.rjust(w) if num else v.ljust(w)
                     for v, w, num in zip(row, widths, numeric)]
            lines.append("  ".join(parts).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines += [f"  * {note}" for note in self.notes]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"title": self.title, "columns": [c.name for c in self.columns],
                "rows": [[_jsonable(v) for v in row] for row in self.rows], "notes": self.notes}


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return format(value, fmt or ".2f")
    if isinstance(value, int) and not isinstance(value, bool) and fmt:
        return format(value, fmt)
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
