"""Insight over the JSON API: the same tables as the page and its exports."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from ninja import Router, Schema
from ninja.security import django_auth

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.insight.access import require_insight
from tovholder.insight.metrics import Period, insight_for
from tovholder.insight.page import visible

router = Router(tags=["indsigt"], auth=django_auth)


class ColumnOut(Schema):
    key: str
    label: str
    kind: str


class TableOut(Schema):
    key: str
    title: str
    description: str
    columns: list[ColumnOut]
    rows: list[list]
    note: str
    not_recorded: str


class FiguresOut(Schema):
    area: str
    area_label: str
    exact: bool
    start: dt.date
    end: dt.date
    asof: dt.date
    tables: list[TableOut]


@router.get("/insight/figures", response=FiguresOut)
def figures(request, omraade: str = "", fra: dt.date | None = None, til: dt.date | None = None):
    """Every figure for an area (a municipality code or `region-<id>`) and a period, as
    the page shows them to this user (counts of 1–4 as "<5" without exact access)."""
    area, _areas = require_insight(request.user, omraade or None)
    default = Period.default()
    period = Period(fra or default.start, til or max(default.end, fra or default.start))
    if period.start > period.end:
        raise Http404
    insight = visible(insight_for(area, period))
    audit_record(actor=Actor(user=request.user), action=AuditEvent.Action.EXPORT, basis="insight",
                 summary=f"Indsigt hentet via API · {area.label} · {period.start:%d.%m.%Y}–{period.end:%d.%m.%Y}")
    return {"area": area.code, "area_label": area.label, "exact": area.exact, "start": period.start,
            "end": period.end, "asof": period.asof, "tables": [t.as_dict() for t in insight.all_tables()]}
