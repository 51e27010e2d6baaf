"""The plan as a PDF (seed 001, Bilag 1): what the family holds after each meeting.

Written with fpdf2 from the version's immutable content, so the same version always gives
the same document. DejaVu Sans when the system has it (every Danish letter, and more);
otherwise the core Helvetica font, whose latin-1 covers æ, ø and å.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fpdf import FPDF

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
INK = (33, 37, 41)
MUTED = (90, 98, 106)
BRAND = (20, 70, 110)
RULE = (200, 206, 212)


def _period(start: str | None, end: str | None) -> str:
    if not start and not end:
        return "—"
    return f"{_date(start)}–{_date(end) if end else ''}"


def _date(iso: str | None) -> str:
    return dt.date.fromisoformat(iso).strftime("%d.%m.%Y") if iso else "—"


class PlanDocument(FPDF):
    def __init__(self, title: str, footer: str):
        super().__init__(format="A4", unit="mm")
        self.doc_title = title
        self.footer_text = footer
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=18)
        if (DEJAVU / "DejaVuSans.ttf").exists() and (DEJAVU / "DejaVuSans-Bold.ttf").exists():
            self.add_font("Body", "", str(DEJAVU / "DejaVuSans.ttf"))
            self.add_font("Body", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
            self.family = "Body"
            self.unicode = True
        else:
            self.family = "Helvetica"
            self.unicode = False
        self.set_title(title)
        self.set_creator("Tovholder")

    def text_safe(self, value: str) -> str:
        if self.unicode:
            return value
        return value.replace("–", "-").replace("—", "-").replace("•", "-").encode("latin-1", "replace").decode("latin-1")

    def footer(self):
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.text_safe(f"{self.footer_text} · side {self.page_no()}/{{nb}}"), align="C")

    # Building blocks -------------------------------------------------------------------------

    def heading(self, text: str) -> None:
        if self.get_y() > 255:
            self.add_page()
        self.ln(3)
        self.set_font(self.family, "B", 12)
        self.set_text_color(*BRAND)
        self.cell(0, 7, self.text_safe(text), new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)
        self.set_text_color(*INK)

    def para(self, text: str, *, size: float = 10, bold: bool = False, muted: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*(MUTED if muted else INK))
        self.multi_cell(0, 5, self.text_safe(text or "—"), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)

    def facts(self, rows: list[tuple[str, str]]) -> None:
        for label, value in rows:
            self.set_font(self.family, "B", 10)
            self.cell(48, 5.5, self.text_safe(label))
            self.set_font(self.family, "", 10)
            self.multi_cell(0, 5.5, self.text_safe(value or "—"), new_x="LMARGIN", new_y="NEXT")

    def grid(self, headings: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
        self.set_font(self.family, "", 9)
        with self.table(col_widths=widths, text_align="LEFT", line_height=4.8, padding=1.2,
                        headings_style=_heading_style(self), borders_layout="HORIZONTAL_LINES") as table:
            header = table.row()
            for h in headings:
                header.cell(self.text_safe(h))
            for values in rows:
                row = table.row()
                for v in values:
                    row.cell(self.text_safe(v or "—"))
        self.ln(1)


def _heading_style(pdf: PlanDocument):
    from fpdf.fonts import FontFace

    return FontFace(family=pdf.family, emphasis="BOLD", color=BRAND, fill_color=(235, 241, 246))


def plan_pdf(version, *, case=None) -> bytes:
    """The PDF of one plan version."""
    c = version.content
    child = c["child"]
    meeting = c["meeting"]
    title = f"Fælles forpligtende handleplan — {child['name']}"
    pdf = PlanDocument(title, f"Handleplan version {c['number']} · {c['reference']} · {meeting['kind_label']} "
                              f"{_date(meeting['held_on'])}")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 17)
    pdf.set_text_color(*BRAND)
    pdf.multi_cell(0, 8, pdf.text_safe("Fælles forpligtende handleplan"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "", 11)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 6, pdf.text_safe(f"Version {c['number']} · {meeting['kind_label']} {_date(meeting['held_on'])}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.ln(2)
    cpr = ""
    if case is not None:
        from tovholder.children.cpr import mask_cpr

        cpr = mask_cpr(case.child.cpr)
    lead = c["lead"]
    contact = ", ".join(x for x in [lead["name"], lead["title"],
                                    "" if lead["unit"] in (lead["title"] or "") else lead["unit"]] if x)
    reach = ", ".join(x for x in [f"tlf. {lead['phone']}" if lead["phone"] else "",
                                  lead["email"]] if x)
    pdf.facts([
        ("Navn", child["name"]),
        ("Cpr-nr.", cpr or "—"),
        ("Dato", _date(meeting["held_on"])),
        ("Sted", meeting["place"]),
        ("Mødetype", meeting["kind_label"]),
        ("Indsatsansvarlig", contact),
        ("Kontakt", reach),
        ("Dato for næste møde", _date(c["next_meeting_on"]) if c["next_meeting_on"] else
         ("Forløbet er afsluttet" if meeting["kind"] == "closing" else "—")),
    ])

    pdf.heading("Deltagere (navn og titel)")
    pdf.para("; ".join(f"{p['name']}{', ' + p['title'] if p['title'] else ''}"
                       f"{'' if p['attended'] else ' (deltog ikke)'}" for p in c["participants"]))
    pdf.heading("Forældre/værge og forældremyndighed")
    pdf.para("; ".join(f"{h['name']} ({h['relation'].lower()}){', ' + h['address'] if h['address'] else ''}"
                       for h in c["custody_holders"]) or "—")
    pdf.para("Forældremyndighed: " + (" og ".join(h["name"] for h in c["custody_holders"]) or "—"), muted=True)

    pdf.heading("Barnets stemme")
    voice = {"present": "Barnet deltog i mødet.", "statement": "Barnet gav en skriftlig udtalelse før mødet.",
             "conversation": "Barnet blev hørt i en samtale før mødet.",
             "represented": "Barnets stemme blev bragt ind af en voksen."}.get(c["child_voice"]["how"], "")
    pdf.para(voice, bold=True)
    if c["child_voice"]["statement"]:
        pdf.para(f"Barnets egne ord: »{c['child_voice']['statement']}«")
    if c["child_voice"]["text"]:
        pdf.para(c["child_voice"]["text"])

    pdf.heading("Hvad fungerer?")
    pdf.para(c["what_works"])
    pdf.heading("Hvad er svært?")
    pdf.para(c["what_is_hard"])

    pdf.heading("Mål — og hvordan det går (0 = slet ikke, 10 = helt)")
    if c["goals"]:
        rows = []
        for g in c["goals"]:
            history = " → ".join(f"{r['score']}" for r in g["ratings"]) or "—"
            latest = g["ratings"][-1] if g["ratings"] else None
            now = f"{latest['score']}/10 ({latest['rated_by'].lower()})" if latest and latest["version"] == c["number"] else "—"
            rows.append([g["child_words"], g["our_words"], now, history + (" (nået)" if g["ended"] else "")])
        pdf.grid(["Hvad ønsker barnet at opnå?", "Hvad ønsker vi at opnå?", "I dag", "Udvikling"],
                           rows, (56, 56, 30, 32))
    else:
        pdf.para("Ingen mål endnu.", muted=True)

    pdf.heading("Konkrete aftaler indtil næste møde")
    if c["agreements"]:
        rows = [[a["what"], a["how"], a["responsible_label"] + (f": {a['responsible_name']}" if a["responsible_name"] else ""),
                 _date(a["due_on"]), a["status_label"]] for a in c["agreements"]]
        pdf.grid(["Hvad", "Hvordan gør vi?", "Hvem er ansvarlig?", "Senest", "Status"], rows,
                           (44, 50, 38, 22, 20))
    else:
        pdf.para("Ingen aftaler.", muted=True)

    pdf.heading("Indsatser fra alle sektorer")
    if c["interventions"]:
        rows = [[i["sector_label"] + (f" — {i['unit']}" if i["unit"] else ""), i["description"],
                 i["kind_label"], f"Trin {i['step']}", _period(i["start_on"], i["end_on"]),
                 i["status_label"]] for i in c["interventions"]]
        pdf.grid(["Sektor og enhed", "Indsats", "Art", "Trin", "Periode", "Status"], rows,
                           (38, 48, 22, 14, 32, 20))
    else:
        pdf.para("Ingen indsatser registreret.", muted=True)

    pdf.heading("Forventningsafstemning")
    pdf.para(c["expectations"])
    agree = {"yes": "Ja", "partly": "Delvist", "no": "Nej"}.get(c["parents_agree"], "—")
    pdf.para(f"Er forældrene enige i planen? {agree}" + (f" — {c['parents_comment']}" if c["parents_comment"] else ""),
             bold=True)
    if meeting["kind"] == "closing":
        pdf.heading("Overgang til hverdagen")
        pdf.para(f"Barnet følges fremover af: {c['everyday_support']}")

    pdf.heading("Dato for næste møde")
    pdf.para(_date(c["next_meeting_on"]) if c["next_meeting_on"] else "Forløbet er afsluttet.", size=12, bold=True)
    pdf.ln(2)
    pdf.para(f"Spørgsmål eller noget, der ikke går som aftalt? Kontakt den indsatsansvarlige: {contact}"
             + (f", {reach}" if reach else "") + ".", size=9, muted=True)
    return bytes(pdf.output())
