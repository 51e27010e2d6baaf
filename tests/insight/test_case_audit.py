"""The case audit: one case's whole history, only for those allowed, exportable."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.insight.htmltables import page_tables
from tovholder.audit.models import AuditEvent
from tovholder.children.cpr import CPR_PATTERN

pytestmark = pytest.mark.django_db


def test_it_reports_the_whole_history_to_the_lead_professional(world, login):
    response = login("lars").get(f"/indsigt/forloeb/{world.case.pk}/")
    assert response.status_code == 200
    tables = page_tables(response.content.decode())
    assert {"forloeb", "frister", "roller", "kontakter", "haendelser"} <= set(tables)
    roles = [r[0] for r in tables["roller"][1:]]
    assert "Lars Nielsen" in roles and "Maria Vestergaard" in roles
    assert any(r[0] == "Drøftelse i koordinationsudvalget" for r in tables["frister"][1:])
    events = [r[-1] for r in tables["haendelser"][1:]]
    assert "Forløb oprettet (afventer samtykke)" in events
    assert "Gennemgang af forløbet vist" in events  # reading it is itself in the trail


def test_it_answers_404_to_those_without_the_audit_scope(world, login):
    for persona in ("pia", "ida", "anne", "ole", "admin", "stranger"):
        assert login(persona).get(f"/indsigt/forloeb/{world.case.pk}/").status_code == 404, persona


def test_it_links_the_audit_from_the_case_page_only_for_those_allowed(world, login):
    assert "Åbn gennemgangen" in login("lars").get(f"/forloeb/{world.case.pk}/").content.decode()
    assert "Åbn gennemgangen" not in login("pia").get(f"/forloeb/{world.case.pk}/").content.decode()


def test_it_exports_the_audit_without_cpr_numbers_and_records_the_export(world, login):
    response = login("karen").get(f"/indsigt/forloeb/{world.case.pk}/eksport.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 5
    text = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None)
    assert not CPR_PATTERN.search(text)
    assert world.case.reference in text
    csv_text = login("karen").get(f"/indsigt/forloeb/{world.case.pk}/eksport.csv").content.decode("utf-8-sig")
    assert "Hændelser (revisionsspor)" in csv_text and not CPR_PATTERN.search(csv_text)
    assert AuditEvent.objects.filter(case=world.case, action="export", user=world.user("karen")).count() == 2
