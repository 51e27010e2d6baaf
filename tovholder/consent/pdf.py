"""The consent declaration as a printable PDF, for the paper route (no Digital Post)."""

from __future__ import annotations

from fpdf import FPDF

_REPLACE = {"•": "-", "—": "-", "–": "-", "’": "'", "“": '"', "”": '"', "…": "..."}


def _latin1(text: str) -> str:
    for a, b in _REPLACE.items():
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")


def declaration_pdf(*, declaration: str, person_name: str, capacity_label: str, reference: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()

    def para(height: float, text: str) -> None:
        pdf.multi_cell(0, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    lines = declaration.split("\n")
    pdf.set_font("Helvetica", "B", 14)
    para(7, lines[0])
    pdf.set_font("Helvetica", size=11)
    para(6, "\n".join(lines[1:]))
    pdf.ln(8)
    pdf.set_font("Helvetica", "B", 12)
    para(7, "Mit svar (sæt kryds)")
    pdf.set_font("Helvetica", size=11)
    para(7, "[  ]  Ja, jeg giver samtykke\n[  ]  Nej, jeg giver ikke samtykke")
    pdf.ln(6)
    para(7, f"Navn: {person_name} ({capacity_label})")
    pdf.ln(10)
    para(7, "Dato: ____________________    Underskrift: ______________________________")
    pdf.ln(8)
    pdf.set_font("Helvetica", size=9)
    para(5, f"Reference: {reference}. Send erklæringen tilbage i den vedlagte svarkuvert.")
    return bytes(pdf.output())
