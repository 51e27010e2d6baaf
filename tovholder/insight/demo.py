"""Insight's part of the demo (the lead engineer wires it into the demo loader).

    insight_demo_load(demo: DemoRegion) -> dict[str, int]

Replays the Syddjurs trial (seed 001: 18 referrals, 1 April – 10 November 2022) through
the real services with the clock set by time_machine, answers its three relational
coordination rounds, and builds the case facts and the daily roll-up, so the insight
page shows the trial's figures at once:
/indsigt/?omraade=706&fra=2022-04-01&til=2022-11-10 (as karen, the committee chair).

It needs the demo region's Syddjurs units (`demo` is only checked for them); the trial
has its own staff, whose roles end with the trial, and its own 2022 period, so it does
not touch the demo families' cases. Running it twice does nothing the second time.
Returns the trial's case ids by key (A1–A13 active, N1–N2 without consent).

    insight_demo_refresh() -> None

Builds the case facts and the roll-up for every case in the database (what the
background loop does every 30 seconds), e.g. right after the demo families are loaded.
"""

from __future__ import annotations

from tovholder.insight.facts import facts_refresh
from tovholder.insight.rollup import rollup_rebuild
from tovholder.insight.trial import MUNICIPALITY, trial_load, trial_loaded


def insight_demo_load(demo) -> dict[str, int]:
    if MUNICIPALITY not in demo.municipalities:
        raise ValueError("The demo region has no Syddjurs (706).")
    if trial_loaded():
        return {}
    cases = trial_load()
    insight_demo_refresh()
    return cases


def insight_demo_refresh() -> None:
    facts_refresh(full=True)
    rollup_rebuild()
