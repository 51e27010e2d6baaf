"""Insight's URLs and who may reach them (see tests/support/routes.py)."""

import datetime as dt

from tests.support.routes import PERSONAS, Route
from tovholder.audit.actor import Actor

SYDDJURS = lambda w: {"omraade": "706"}  # noqa: E731
CASE = lambda w: {"case_id": w.case.pk}  # noqa: E731
# Syddjurs figures: its committee (exact), its administrator (exact), leaders of its units (small counts hidden).
INSIGHT_SYDDJURS = {"karen": 200, "mads": 200, "admin": 200, "pia": 200, "henrik": 200}
# Respondents of a Syddjurs survey: staff of its units and of the region's GP practices and BUA.
RESPONDENTS = {p: 200 for p in ("ida", "karen", "mads", "lars", "maria", "pia", "henrik", "anne", "peter", "jonas",
                                "admin")}


def open_round(world):
    from tovholder.insight.services import survey_round_open

    r = survey_round_open(actor=Actor(user=world.user("karen")), municipality=world.syddjurs, kind="baseline",
                          opens_on=dt.date(2022, 4, 1))
    return {"round_id": r.pk}


ROUTES = [
    Route("insight:home", data=SYDDJURS, allowed=INSIGHT_SYDDJURS),
    Route("insight:export", lambda w: {"table": "henvendelser", "fmt": "csv"}, data=SYDDJURS,
          allowed=INSIGHT_SYDDJURS),
    Route("insight:survey", data=SYDDJURS, allowed=INSIGHT_SYDDJURS),
    Route("insight:survey_export", lambda w: {"table": "rk_udvikling", "fmt": "csv"}, data=SYDDJURS,
          allowed=INSIGHT_SYDDJURS),
    Route("insight:survey_manage", data=SYDDJURS, allowed={"karen": 200, "admin": 200}),
    Route("insight:survey_rounds", allowed={p: 200 for p in PERSONAS if p != "stranger"}),
    Route("insight:survey_answer", open_round, allowed=RESPONDENTS),
    Route("insight:case_audit", CASE, allowed={"lars": 200, "maria": 200, "karen": 200, "mads": 200}),
    Route("insight:case_audit_export", lambda w: {"case_id": w.case.pk, "fmt": "xlsx"},
          allowed={"lars": 200, "maria": 200, "karen": 200, "mads": 200}),
]
ROUTES += [
    Route("GET /api/insight/figures", data=SYDDJURS, allowed=INSIGHT_SYDDJURS),
]
