"""The figures as tables: what the page shows, the charts draw and the exports write.

A `Table` holds aggregates only (counts, percentages, labels) — never a child, never a CPR
number. Small-cell suppression for viewers without exact access happens here, once, so
page, charts and exports cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Counts from 1 to SMALL_CELL - 1 are shown as "<5" to viewers with suppressed access.
SMALL_CELL = 5


class Suppressed:
    """A count hidden because it is small (1–4)."""

    def __str__(self) -> str:
        return f"<{SMALL_CELL}"

    def __repr__(self) -> str:
        return "Suppressed()"

    def __eq__(self, other) -> bool:
        return isinstance(other, Suppressed)

    def __hash__(self) -> int:
        return hash("Suppressed")


SUPPRESSED = Suppressed()


@dataclass
class Column:
    key: str
    label: str
    kind: str = "count"  # label | count | percent | number | text


@dataclass
class Table:
    key: str  # stable slug: export file names and the API
    title: str
    description: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    # Figures this part of the system cannot compute yet (another part has not recorded them).
    not_recorded: str = ""

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    def value(self, row_label: str, column_key: str) -> Any:
        """The value in the row whose first cell is `row_label` (for tests and key figures)."""
        i = self.column_index(column_key)
        for row in self.rows:
            if str(row[0]) == row_label:
                return row[i]
        raise KeyError(row_label)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "title": str(self.title),
            "description": str(self.description),
            "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in self.columns],
            "rows": [[cell_text(v) if isinstance(v, Suppressed) else _plain(v) for v in row] for row in self.rows],
            "note": str(self.note),
            "not_recorded": str(self.not_recorded),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, (int, float)) or value is None:
        return value
    return str(value)


def percent(part: int | None, whole: int | None) -> float | None:
    if not whole or part is None:
        return None
    return round(100.0 * part / whole, 1)


def cell_text(value: Any, kind: str = "count") -> str:
    if value is None:
        return "—"
    if isinstance(value, Suppressed):
        return str(value)
    if kind == "percent":
        return f"{value:.0f} %".replace(".", ",") if isinstance(value, (int, float)) else str(value)
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def suppress(table: Table) -> Table:
    """Hide counts of 1–4 and every percentage computed from one; where exactly one count
    in a row would be hidden, hide the row's next smallest count too, so it cannot be
    worked out from the row's total."""
    count_cols = [i for i, c in enumerate(table.columns) if c.kind == "count"]
    pct_cols = [i for i, c in enumerate(table.columns) if c.kind == "percent"]
    rows = []
    for row in table.rows:
        row = list(row)
        small = [i for i in count_cols if isinstance(row[i], int) and 0 < row[i] < SMALL_CELL]
        if len(small) == 1 and len(count_cols) > 2:
            others = sorted((row[i], i) for i in count_cols if i not in small and isinstance(row[i], int) and row[i] > 0)
            if others:
                small.append(others[0][1])
        for i in small:
            row[i] = SUPPRESSED
        if small:
            for i in pct_cols:
                row[i] = SUPPRESSED
        rows.append(row)
    # A column of a distribution (one count column, many rows) with a single hidden
    # cell would be revealed by the total: hide the next smallest too.
    if len(count_cols) == 1 and len(rows) > 1:
        i = count_cols[0]
        hidden = [r for r in rows if isinstance(r[i], Suppressed)]
        if len(hidden) == 1:
            rest = sorted((r[i], n) for n, r in enumerate(rows) if isinstance(r[i], int) and r[i] > 0)
            if rest:
                rows[rest[0][1]][i] = SUPPRESSED
                for p in pct_cols:
                    rows[rest[0][1]][p] = SUPPRESSED
    return Table(key=table.key, title=table.title, description=table.description, columns=table.columns,
                 rows=rows, note=table.note, not_recorded=table.not_recorded)
