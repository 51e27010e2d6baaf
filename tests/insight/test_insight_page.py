"""The insight page: who sees it, how exactly, and that its exports open."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.insight.htmltables import page_tables
from tests.support.world import make_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.children.cpr import CPR_PATTERN
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
    text = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None)
    assert not CPR_PATTERN.search(text) and "Barnsen" not in text  # aggregates only: no CPR, no names
    assert AuditEvent.objects.filter(action="export", user=figures_world.user("karen")).count() == 2


def _queries(client, params) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/indsigt/", params).status_code == 200
    return len(ctx.captured_queries)


def test_it_computes_the_page_with_a_fixed_number_of_queries_however_many_cases(world, login,
                                                                               django_assert_max_num_queries):
    from django.db import connection

    client = login("karen")
    params = {"omraade": "706", "fra": "2000-01-01", "til": "2100-01-01"}
    facts_refresh(full=True)
    few = _queries(client, params)
    for _ in range(12):
        make_case(world.demo, stage="active")
    facts_refresh(full=True)
    assert _queries(client, params) == few
    # One pass over the facts on PostgreSQL (GROUPING SETS, in a transaction with its two SET
    # LOCALs); one GROUP BY per grouping elsewhere.
    budget = 30 if connection.vendor == "postgresql" else 48
    with django_assert_max_num_queries(budget):
        client.get("/indsigt/", params)


def test_it_shows_the_region_with_each_municipality_and_small_counts_hidden(figures_world, login):
    region = figures_world.demo.region
    html = login("karen").get("/indsigt/", {"omraade": f"region-{region.pk}", "fra": "2000-01-01",
                                             "til": "2100-01-01"}).content.decode()
    rows = {r[0]: r[1:] for r in page_tables(html)["kommuner"][1:]}
    assert rows["Syddjurs"][0] == "7" and rows["Norddjurs"][0] == "<5"
    assert "vises som &lt;5" in html


def test_it_explains_a_period_that_ends_before_it_begins(figures_world, login):
    response = login("karen").get("/indsigt/", {"omraade": "706", "fra": "2022-05-01", "til": "2022-04-01"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_it_refreshes_the_facts_from_the_background_loop_once_per_interval(world):
    from tovholder.insight.facts import facts_refresh_job
    from tovholder.insight.models import CaseFact

    assert facts_refresh_job() >= 1
    assert CaseFact.objects.filter(case=world.case).exists()
    make_case(world.demo, stage="awaiting_consent")
    assert facts_refresh_job() == 0  # claimed less than REFRESH_SECONDS ago: another worker's turn
    assert CaseFact.objects.count() == 1


def test_it_hides_small_cells_and_a_single_cell_that_the_total_would_reveal():
    from tovholder.insight.tables import SUPPRESSED, Column, Table, suppress

    table = Table(key="t", title="t", description="", columns=[Column("a", "a", "label"), Column("n", "n"),
                                                                Column("p", "p", "percent")],
                  rows=[["x", 3, 10.0], ["y", 20, 66.7], ["z", 7, 23.3], ["w", 0, 0.0]])
    rows = suppress(table).rows
    assert rows[0][1:] == [SUPPRESSED, SUPPRESSED]
    assert rows[2][1:] == [SUPPRESSED, SUPPRESSED]  # the next smallest, or 3 = total − 20 − 7
    assert rows[1][1] == 20 and rows[3][1] == 0


def test_it_rewrites_only_the_facts_of_open_cases_that_changed(world):
    from tovholder.cases.services import case_transition
    from tovholder.insight.models import CaseFact

    other = make_case(world.demo, stage="awaiting_consent")
    facts_refresh(full=True)
    assert facts_refresh() == 0  # nothing changed: nothing rewritten
    case_transition(actor=Actor(system="test"), basis="system", case=other, to="awaiting_committee")
    assert facts_refresh() == 1
    assert CaseFact.objects.get(case=other).consent_on is not None


def test_it_gives_the_same_figures_from_the_daily_rollup_as_from_the_facts(figures_world):
    import datetime as dt

    from django.utils import timezone

    from tovholder.cases.services import case_transition
    from tovholder.insight.access import insight_areas
    from tovholder.insight.metrics import Period, insight_for
    from tovholder.insight.models import FactsRefresh
    from tovholder.insight.rollup import rollup_rebuild, rollup_update

    today = timezone.localdate()
    period = Period(today.replace(day=1) - dt.timedelta(days=400), today)

    def tables(area, *, rollup: bool):
        if not rollup:
            asof = FactsRefresh.objects.get(name="rollup").asof
            FactsRefresh.objects.filter(name="rollup").update(asof=None)  # the roll-up is not today's: live
        found = {t.key: t.rows for t in insight_for(area, period).all_tables()}
        if not rollup:
            FactsRefresh.objects.filter(name="rollup").update(asof=asof)
        return found

    rollup_rebuild()
    areas = insight_areas(figures_world.user("karen"))  # Syddjurs and the whole region
    for area in areas:
        assert tables(area, rollup=True) == tables(area, rollup=False), area.label
    # A change reaches the roll-up through the background refresh of its month.
    case = make_case(figures_world.demo, stage="awaiting_consent")
    ids: list[int] = []
    facts_refresh(written_ids=ids)
    case_transition(actor=Actor(system="test"), basis="system", case=case, to="awaiting_committee")
    facts_refresh(written_ids=ids)
    rollup_update(case_ids=ids)
    for area in areas:
        assert tables(area, rollup=True) == tables(area, rollup=False), area.label


def test_it_serves_the_same_tables_over_the_api(figures_world, login):
    response = login("karen").get("/api/insight/figures", {"omraade": "706", "fra": "2000-01-01",
                                                           "til": "2100-01-01"})
    assert response.status_code == 200
    body = response.json()
    key = {row[0]: row[2] for row in next(t for t in body["tables"] if t["key"] == "noegletal")["rows"]}
    assert key["referrals"] == 7 and body["exact"] is True
    hidden = login("pia").get("/api/insight/figures", {"omraade": "706"}).json()
    assert hidden["exact"] is False
