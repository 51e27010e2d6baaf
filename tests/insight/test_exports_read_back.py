"""Every table the insight pages offer, downloaded through the real export views as CSV and
as XLSX and read back with the csv module and openpyxl: the files hold exactly the table's
columns and rows as the selectors compute them, the CSV and the XLSX agree, and the
all-tables workbook is the per-table files put together. Data: the Syddjurs trial replay."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from tovholder.insight.access import insight_areas
from tovholder.insight.metrics import Period, insight_for
from tovholder.insight.page import all_tables, visible
from tovholder.insight.survey import survey_tables
from tovholder.insight.tables import SMALL_CELL, Suppressed, Table
from tovholder.insight.trial import TRIAL_END, TRIAL_START, trial_load
from tovholder.organisations.models import Municipality

pytestmark = pytest.mark.django_db

BOM = b"\xef\xbb\xbf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERIOD = {"fra": TRIAL_START.isoformat(), "til": TRIAL_END.isoformat()}


@pytest.fixture
def trial_world(world):
    trial_load()  # the trial's cases, its survey rounds and the facts, through the real services
    return world


# ---- What a cell must read as ------------------------------------------------------------------

def _csv_text(value) -> str:
    """A computed value as the CSV must write it: Danish decimal comma, "<5", empty for none."""
    if value is None:
        return ""
    if isinstance(value, Suppressed):
        return f"<{SMALL_CELL}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def _xlsx_value(value):
    """A computed value as the XLSX must hold it: numbers as numbers, text as text."""
    if value is None:
        return None
    if isinstance(value, Suppressed):
        return f"<{SMALL_CELL}"
    if isinstance(value, (int, float)):
        return value
    return str(value) or None  # an empty text is an empty cell


# ---- Reading the files back --------------------------------------------------------------------

def _read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(BOM)  # so Danish Excel reads it as UTF-8
    text = response.content.decode("utf-8-sig")
    assert "\ufeff" not in text
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def _read_xlsx(response) -> dict[str, list[tuple]]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book}


def _trailer(table: Table) -> list[str]:
    lines = []
    if table.note:
        lines.append(str(table.note))
    if table.not_recorded:
        lines.append(f"Endnu ikke registreret: {table.not_recorded}")
    return lines


def _check_csv(rows: list[list[str]], table: Table, heading: list[str]) -> None:
    """Heading lines, the column headings, one line per row of the table, its note: nothing
    dropped, nothing added."""
    width = len(table.columns)
    assert width >= 2, table.key
    n = len(heading)
    assert rows[:n] == [[line] for line in heading], table.key
    assert rows[n] == [str(c.label) for c in table.columns], table.key
    body = rows[n + 1:n + 1 + len(table.rows)]
    assert len(body) == len(table.rows), f"{table.key}: rows dropped"
    for got, row in zip(body, table.rows, strict=True):
        assert len(got) == width, f"{table.key}: {got}"
        assert got == [_csv_text(v) for v in row], table.key
    assert rows[n + 1 + len(table.rows):] == [[line] for line in _trailer(table)], f"{table.key}: rows added"


def _cells(row: tuple, width: int) -> list:
    """The first `width` cells of a sheet row (openpyxl pads rows to the sheet's width)."""
    assert all(c is None for c in row[width:]), row
    return list(row[:width]) + [None] * (width - len(row))


def _check_sheet(sheet: list[tuple], table: Table, heading: list[str]) -> None:
    """Heading lines, the title, the column headings, the rows with numbers as numbers, the note."""
    width = len(table.columns)
    n = len(heading)
    assert [_cells(r, 1)[0] for r in sheet[:n]] == heading, table.key
    assert _cells(sheet[n], 1)[0] == str(table.title), table.key
    assert _cells(sheet[n + 1], width) == [str(c.label) for c in table.columns], table.key
    body = sheet[n + 2:n + 2 + len(table.rows)]
    assert len(body) == len(table.rows), f"{table.key}: rows dropped"
    for got, row in zip(body, table.rows, strict=True):
        got = _cells(got, width)
        assert got == [_xlsx_value(v) for v in row], table.key
        for cell, value in zip(got, row, strict=True):  # a number stays a number, not text
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert isinstance(cell, (int, float)), (table.key, cell)
    assert [_cells(r, 1)[0] for r in sheet[n + 2 + len(table.rows):]] == _trailer(table), f"{table.key}: rows added"


def _same_as_csv(sheet: list[tuple], rows: list[list[str]], table: Table, heading: list[str]) -> None:
    """The XLSX holds what the CSV holds (the XLSX has the title line the single-table CSV has
    not; a decimal number reads back from the XLSX as an int when it is whole, 3.0 → 3)."""
    n = len(heading)
    sheet_lines = sheet[:n] + sheet[n + 1:]
    assert len(sheet_lines) == len(rows), table.key
    kinds = [None] * (n + 1) + [[type(v) for v in row] for row in table.rows]
    kinds += [None] * (len(rows) - len(kinds))
    for got, line, types in zip(sheet_lines, rows, kinds, strict=True):
        cells = _cells(got, max(len(line), 1))
        if types is not None:
            cells = [float(c) if t is float and isinstance(c, int) else c for c, t in zip(cells, types, strict=True)]
        assert [_csv_text(c) for c in cells] == line, (table.key, cells, line)


# ---- The insight page --------------------------------------------------------------------------

def _heading(area, period: Period) -> list[str]:
    lines = [f"Område: {area.label}",
             f"Periode: {period.start:%d.%m.%Y}–{period.end:%d.%m.%Y} (opgjort pr. {period.asof:%d.%m.%Y})"]
    if not area.exact:
        lines.append(f"Tal fra 1 til {SMALL_CELL - 1} vises som <{SMALL_CELL}.")
    return lines


# Exact figures for Syddjurs (an administrator), the region with small counts hidden and the
# municipalities compared, and Syddjurs with small counts hidden (a school principal).
VIEWS = [("admin", "706"), ("admin", "region"), ("pia", "706")]


def test_it_exports_every_table_of_the_insight_page_as_csv_and_xlsx_that_read_back_to_its_rows(
        trial_world, login):
    seen_exact = seen_hidden = False
    for persona, code in VIEWS:
        user = trial_world.user(persona)
        area = next(a for a in insight_areas(user) if a.code == code or (code == "region" and a.is_region))
        period = Period(TRIAL_START, TRIAL_END)
        params = {"omraade": area.code, **PERIOD}
        client = login(persona)
        tables = all_tables(visible(insight_for(area, period)))
        keys = [t.key for t in tables]
        assert len(keys) == len(set(keys)) and len(tables) >= 12, keys
        assert any(t.rows for t in tables)
        heading = _heading(area, period)

        # The page offers a CSV and an XLSX of exactly these tables.
        html = client.get("/indsigt/", params).content.decode()
        for fmt in ("csv", "xlsx"):
            offered = re.findall(rf'href="/indsigt/eksport/([\w-]+)\.{fmt}\?', html)
            assert sorted(set(offered) - {"alle"}) == sorted(keys), (persona, code, fmt)

        sheets = {}
        for table in tables:
            rows = _read_csv(client.get(f"/indsigt/eksport/{table.key}.csv", params))
            _check_csv(rows, table, heading)
            book = _read_xlsx(client.get(f"/indsigt/eksport/{table.key}.xlsx", params))
            assert len(book) == 1, table.key
            (sheet,) = book.values()
            _check_sheet(sheet, table, heading)
            _same_as_csv(sheet, rows, table, heading)
            sheets[table.key] = sheet
            cells = [v for row in table.rows for v in row]
            seen_hidden |= any(isinstance(v, Suppressed) for v in cells)
            seen_exact |= area.exact and any(isinstance(v, int) and 0 < v < SMALL_CELL for v in cells)

        # The all-tables workbook: one sheet per table, in the page's order, each the per-table file.
        book = _read_xlsx(client.get("/indsigt/eksport/alle.xlsx", params))
        assert len(book) == len(tables), (persona, code)
        for sheet, table in zip(book.values(), tables, strict=True):
            assert sheet == sheets[table.key], table.key
        if area.is_region:
            assert "kommuner" in keys
    assert seen_exact and seen_hidden  # both an exact small count and a "<5" went through the files


def test_it_exports_every_survey_table_as_csv_and_xlsx_that_read_back_to_its_rows(trial_world, login):
    client = login("admin")
    municipality = Municipality.objects.get(code="706")
    tables = survey_tables(municipality=municipality)
    assert len(tables) > 1 and all(t.rows for t in tables)
    heading = ["Område: Syddjurs Kommune", "Relationel koordinering"]
    params = {"omraade": "706"}
    sheets = {}
    for table in tables:
        rows = _read_csv(client.get(f"/indsigt/relationel-koordinering/eksport/{table.key}.csv", params))
        _check_csv(rows, table, heading)
        book = _read_xlsx(client.get(f"/indsigt/relationel-koordinering/eksport/{table.key}.xlsx", params))
        assert len(book) == 1, table.key
        (sheet,) = book.values()
        _check_sheet(sheet, table, heading)
        _same_as_csv(sheet, rows, table, heading)
        sheets[table.key] = sheet
    book = _read_xlsx(client.get("/indsigt/relationel-koordinering/eksport/alle.xlsx", params))
    assert len(book) == len(tables)
    for sheet, table in zip(book.values(), tables, strict=True):
        assert sheet == sheets[table.key], table.key
    assert any(isinstance(v, float) for t in tables for row in t.rows for v in row)  # means: decimal comma


@pytest.mark.parametrize("persona", ["stranger", "lars", "ole"])
def test_it_answers_404_to_an_outsider_asking_for_an_export(world, login, persona):
    client = login(persona)
    for url in ("/indsigt/eksport/henvendelser.csv", "/indsigt/eksport/henvendelser.xlsx",
                "/indsigt/eksport/alle.xlsx", "/indsigt/relationel-koordinering/eksport/rk_udvikling.csv",
                "/indsigt/relationel-koordinering/eksport/alle.xlsx"):
        assert client.get(url, {"omraade": "706", **PERIOD}).status_code == 404, (persona, url)
    assert login(None).get("/indsigt/eksport/alle.xlsx").status_code == 302  # signed out: to the login


def test_it_answers_404_for_a_table_or_format_that_does_not_exist(world, login):
    client = login("admin")
    params = {"omraade": "706"}
    assert client.get("/indsigt/eksport/henvendelser.csv", params).status_code == 200
    assert client.get("/indsigt/eksport/findes-ikke.csv", params).status_code == 404
    assert client.get("/indsigt/eksport/henvendelser.pdf", params).status_code == 404
    assert client.get("/indsigt/eksport/alle.csv", params).status_code == 404
