"""CSV and XLSX exports of the figures' tables. Aggregates only: no names, no CPR numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from tovholder.insight.tables import Suppressed, Table

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value):
    if isinstance(value, Suppressed):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return value
    return str(value)


def table_csv(table: Table, *, heading: Sequence[str] = ()) -> bytes:
    """Semicolon-separated, UTF-8 with a byte order mark so Danish Excel opens it right."""
    return tables_csv([table], heading=heading, titles=False)


def tables_csv(tables: Sequence[Table], *, heading: Sequence[str] = (), titles: bool = True) -> bytes:
    """Several tables one after the other, each under its title and separated by a blank line."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for line in heading:
        writer.writerow([line])
    for i, table in enumerate(tables):
        if i:
            writer.writerow([])
        if titles:
            writer.writerow([str(table.title)])
        writer.writerow([str(c.label) for c in table.columns])
        for row in table.rows:
            writer.writerow([_csv_value(v) for v in row])
        if table.note:
            writer.writerow([str(table.note)])
        if table.not_recorded:
            writer.writerow([f"Endnu ikke registreret: {table.not_recorded}"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(value) -> str:
    value = _cell(value)
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def _sheet_title(title: str, used: set[str]) -> str:
    base = "".join(ch for ch in title if ch not in '[]:*?/\\')[:28] or "Ark"
    name, n = base, 2
    while name in used:
        name = f"{base[:25]} {n}"
        n += 1
    used.add(name)
    return name


def tables_xlsx(tables: Sequence[Table], *, heading: Sequence[str] = ()) -> bytes:
    """One sheet per table: the heading lines (area, period), the title, then the table."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    bold = Font(bold=True)
    for table in tables:
        ws = wb.create_sheet(_sheet_title(str(table.title), used))
        for line in heading:
            ws.append([line])
        ws.append([str(table.title)])
        ws.cell(row=ws.max_row, column=1).font = bold
        ws.append([str(c.label) for c in table.columns])
        for cell in ws[ws.max_row]:
            cell.font = bold
        for row in table.rows:
            ws.append([_cell(v) for v in row])
        if table.note:
            ws.append([str(table.note)])
        if table.not_recorded:
            ws.append([f"Endnu ikke registreret: {table.not_recorded}"])
        for i, column in enumerate(table.columns, start=1):
            letter = ws.cell(row=1, column=i).column_letter
            ws.column_dimensions[letter].width = 14 if column.kind != "label" else 48
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
