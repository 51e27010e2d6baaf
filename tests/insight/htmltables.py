"""Read the tables of a rendered page back (what a person sees), by the section they are in."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.section: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section.append(attrs.get("id", ""))
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "section" and self.section:
            self.section.pop()
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            key = self.section[-1] if self.section else ""
            self.tables.setdefault(key, []).append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    """section id → rows (header row first) of the table(s) in that section."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables
