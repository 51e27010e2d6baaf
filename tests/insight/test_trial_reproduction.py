"""The Syddjurs trial (seed 001) replayed through the real services with the clock set by
time_machine: the insight page produces the trial's published figures itself."""

from __future__ import annotations

import pytest
import time_machine

from tests.insight.htmltables import page_tables
from tovholder.insight.access import insight_areas
from tovholder.insight.metrics import Period, insight_for
from tovholder.insight.trial import (
    PUBLISHED,
    PUBLISHED_AGES,
    TRIAL_END,
    TRIAL_START,
    _at,
    trial_load,
)

pytestmark = pytest.mark.django_db

TRIAL = {"omraade": "706", "fra": TRIAL_START.isoformat(), "til": TRIAL_END.isoformat()}


def test_it_reproduces_the_trials_published_figures_on_the_insight_page(world, login):
    trial_load()

    # The figures as the selectors compute them …
    area = next(a for a in insight_areas(world.user("karen")) if a.code == "706")
    insight = insight_for(area, Period(TRIAL_START, TRIAL_END))
    assert {row[0]: row[2] for row in insight.key.rows if row[0] in PUBLISHED} == PUBLISHED
    assert {int(row[0].split()[0]): row[1] for row in insight.table("alder").rows} == PUBLISHED_AGES

    # … and as the committee chair reads them on the page.
    html = login("karen").get("/indsigt/", TRIAL).content.decode()
    shown = {row[0]: row[1:] for row in page_tables(html)["noegletal"][1:]}
    assert shown["Henvendelser i alt"] == ["18", ""]
    assert shown["Ekskluderet fra opgørelsen"] == ["5", ""]
    assert shown["– lukket pga. manglende samtykke"] == ["2", ""]
    assert shown["– håndteret uden for modellen (anden vej)"] == ["1", ""]
    assert shown["– genhenvisninger"] == ["2", ""]
    assert shown["Aktive forløb (fælles forløb, første henvendelse)"] == ["13", ""]
    assert shown["Henvendelser fra egen læge eller forældre via egen læge"] == ["16", ""]
    assert shown["Henvendelser fra skolen"] == ["2", ""]
    assert shown["Udvalget inden for 8 hverdage efter samtykke"] == ["13", "13/13"]
    assert shown["Igangsætningsmøde inden for 4 uger efter udvalget"] == ["10", "10/13"]
    assert shown["Udredende/behandlende indsats inden for 4 uger efter igangsætningsmødet"] == ["6", "6/13"]
    assert shown["Første opfølgningsmøde inden for 6 uger efter igangsætningsmødet"] == ["3", "3/13"]
    assert shown["13–17 uger mellem igangsætningsmøde og opfølgningsmøde"] == ["3", "3/13"]
    assert shown["Afslutningsmøde holdt"] == ["0", "0/13"]
    assert shown["Undtaget fra tidsfristerne"] == ["0", ""]
    no_date = next(k for k in shown if k.startswith("Intet opfølgningsmøde holdt"))
    assert shown[no_date] == ["7", "7/13"]
    ages = {row[0]: row[1] for row in page_tables(html)["alder"][1:]}
    assert ages == {f"{age} år": str(n) for age, n in PUBLISHED_AGES.items()}
    # The follow-up meetings held each agreed the next date; none was held by 10 November
    # (the trial's plans that "lacked a date"), so five of the six agreed dates were missed.
    clocks = {row[0]: row[1:] for row in page_tables(html)["rettidighed"][1:]}
    next_meeting = clocks["Næste opfølgningsmøde senest på den dato, der blev aftalt på mødet før"]
    assert (next_meeting[0], next_meeting[3], next_meeting[4]) == ("6", "5", "1")  # n, overdue, pending
    # No consultation with BUA was used and nobody was referred to BUA during the trial.
    psychiatry = {row[0]: row[1] for row in page_tables(html)["psykiatri"][1:]}
    assert psychiatry["Sparring med BUA: samtaler"] == "0" and psychiatry["Henvisninger til BUA"] == "0"

    # A closed period keeps its figures: seen from 2026, the trial still had 13 active pathways.
    with time_machine.travel(_at(TRIAL_END.replace(year=2026), 12), tick=False):
        later = insight_for(area, Period(TRIAL_START, TRIAL_END))
    assert {row[0]: row[2] for row in later.key.rows if row[0] in PUBLISHED} == PUBLISHED


def test_it_counts_the_trial_the_same_from_the_daily_rollup_as_from_the_facts(world):
    from django.utils import timezone

    from tovholder.insight.models import FactsRefresh
    from tovholder.insight.rollup import rollup_rebuild

    trial_load(survey=False)
    rollup_rebuild()
    area = next(a for a in insight_areas(world.user("karen")) if a.code == "706")
    period = Period(TRIAL_START, timezone.localdate())  # runs to today: whole months from the roll-up
    from_rollup = {t.key: t.rows for t in insight_for(area, period).all_tables()}
    FactsRefresh.objects.filter(name="rollup").update(asof=None)
    from_facts = {t.key: t.rows for t in insight_for(area, period).all_tables()}
    assert from_rollup == from_facts
    assert any(row[1] for row in from_rollup["rettidighed"])
