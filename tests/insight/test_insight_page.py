"""The insight page: who sees it, how exactly, and that its exports open."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.support.world import make_case
from tovholder.audit.models import AuditEvent
from tovholder.insight.facts import facts_refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures_world(world):
    for _ in range(6):
        make_case(world.demo, stage="awaiting_committee")
    make_case(world.demo, stage="awaiting_consent", municipality="707", lead=None)
    facts_refresh(full=True)
    return world


def test_it_shows_the_committee_chair_exact_figures_with_charts(figures_world, login):
    response = login("karen").get("/indsigt/", {"omraade": "706"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nøgletal som i forsøgets evaluering" in html
    assert html.count('<svg class="chart"') >= 8
    assert "&lt;5" not in html


def test_it_hides_small_counts_from_a_school_principal(figures_world, login):
    response = login("pia").get("/indsigt/", {"omraade": "706"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "vises som &lt;5" in html


def test_it_answers_404_for_staff_without_an_insight_role(figures_world, login):
    assert login("lars").get("/indsigt/").status_code == 404
    assert login("ole").get("/indsigt/", {"omraade": "706"}).status_code == 404


def test_it_exports_csv_and_xlsx_that_open_and_audits_the_export(figures_world, login):
    client = login("karen")
    response = client.get("/indsigt/eksport/henvendelser.csv", {"omraade": "706", "fra": "2000-01-01",
                                                                 "til": "2100-01-01"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Henvisningsvej")
    total = next(r for r in rows[header:] if r and r[0] == "I alt")
    assert int(total[1]) == 7
    response = client.get("/indsigt/eksport/alle.xlsx", {"omraade": "706", "fra": "2000-01-01", "til": "2100-01-01"})
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) >= 10
    assert AuditEvent.objects.filter(action="export", user=figures_world.user("karen")).count() == 2
