"""The consent declaration as a printable PDF, for the paper route (no Digital Post)."""

from __future__ import annotations

from fpdf import FPDF

from tovholder.consent.texts import declaration_blocks

_REPLACE = {"•": "-", "—": "-", "–": "-", "’": "'", "“": '"', "”": '"', "…": "..."}


def _latin1(text: str) -> str:
    for a, b in _REPLACE.items():
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")


def declaration_pdf(*, declaration: str, person_name: str, capacity_label: str, reference: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(_latin1("Samtykkeerklæring"))
    pdf.add_page()

    def para(height: float, text: str, style: str = "", size: int = 11, after: float = 2) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, height, _latin1(text), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(after)

    for block in declaration_blocks(declaration):
        if block["kind"] == "title":
            para(7, block["lines"][0], "B", 14, 0)
            para(6, "\n".join(block["lines"][1:]), after=4)
        elif block["kind"] == "heading":
            para(6, block["text"], "B", 11, 0)
        elif block["kind"] == "list":
            para(6, "\n".join(f"-  {item}" for item in block["items"]))
        else:
            para(6, block["text"])
    pdf.ln(4)
    para(7, "Mit svar (sæt kryds)", "B", 12, 0)
    para(7, "[  ]  Ja, jeg giver samtykke\n[  ]  Nej, jeg giver ikke samtykke", after=6)
    para(7, f"Navn: {person_name} ({capacity_label})", after=10)
    para(7, "Dato: ____________________    Underskrift: ______________________________", after=8)
    para(5, f"Reference: {reference}. Send erklæringen tilbage i den vedlagte svarkuvert.", size=9)
    return bytes(pdf.output())
