"""The committee's URLs and API operations, and who may reach them.

The world gets (once per test): a consented case of a Rønde Skole pupil on the Syddjurs
agenda, a Syddjurs meeting in session today with a second case decided at it (lead lars,
draft minute), and a meeting next week. Members of the Syddjurs committee (karen chair,
mads) see all of it; pia, the pupil's principal, is invited for that case only; ole chairs
another municipality's committee and henrik leads another school: 404 on every case.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.utils import timezone

from tests.support.routes import Route

JSON = "application/json"


def committee(world) -> SimpleNamespace:
    if not hasattr(world, "_committee"):
        from tests.committee.helpers import actor, consented_case, item_for
        from tovholder.committee.models import CommitteeMeeting
        from tovholder.committee.services import decision_record

        now = timezone.now()
        today = timezone.localdate()
        # Made directly: the matrix runs on any day of the week, and the service (rightly)
        # refuses meetings on weekends and holidays.
        meeting = CommitteeMeeting.objects.create(
            municipality=world.syddjurs, kind="extra", scheduled_on=today,
            starts_at=now - dt.timedelta(minutes=30), ends_at=now + dt.timedelta(minutes=30))
        later = CommitteeMeeting.objects.create(
            municipality=world.syddjurs, kind="extra", scheduled_on=today + dt.timedelta(days=7),
            starts_at=now + dt.timedelta(days=7), ends_at=now + dt.timedelta(days=7, hours=1))
        pending = item_for(consented_case(world))
        decided = item_for(consented_case(world))
        decision = decision_record(actor=actor(world, "karen"), basis="committee", item=decided, meeting=meeting,
                                   kind="pathway", conclusion="Fælles forløb.", lead_user=world.user("lars"),
                                   lead_unit=world.unit("706:school:0"))
        world._committee = SimpleNamespace(meeting=meeting, later=later, item=pending, decided=decided,
                                           minute=decision.minute)
    return world._committee


def _with(fn):
    return lambda w: fn(committee(w))


MEMBERS = {"karen": 200, "mads": 200}
CHAIRS = {"karen": 200, "ole": 200}  # each of their own committee
AGENDA = {"karen": 200, "mads": 200, "ole": 200, "pia": 200}  # pia: invited for her own pupil
ITEM_READERS = {"karen": 200, "mads": 200, "pia": 200}

ROUTES = [
    Route("committee:agenda", _with(lambda c: {}), allowed=AGENDA),
    Route("committee:settings", allowed=CHAIRS),
    Route("committee:meeting_add", allowed=CHAIRS),
    Route("committee:meeting", _with(lambda c: {"meeting_id": c.meeting.pk}), allowed={**MEMBERS, "pia": 200}),
    Route("committee:attendance", _with(lambda c: {"meeting_id": c.meeting.pk}), method="POST",
          allowed={"karen": 302, "mads": 302}),
    Route("committee:meeting_cancel", _with(lambda c: {"meeting_id": c.later.pk}), allowed={"karen": 200}),
    Route("committee:approve", _with(lambda c: {"meeting_id": c.later.pk}), method="POST", allowed={"karen": 302}),
    Route("committee:take", _with(lambda c: {"meeting_id": c.meeting.pk, "item_id": c.item.pk}), allowed=MEMBERS),
    Route("committee:item", _with(lambda c: {"item_id": c.item.pk}), allowed=ITEM_READERS),
    Route("committee:note", _with(lambda c: {"item_id": c.item.pk}), method="POST",
          allowed={"karen": 302, "mads": 302, "pia": 302}),
    Route("committee:exempt", _with(lambda c: {"item_id": c.item.pk}), allowed=MEMBERS),
    Route("committee:minute", _with(lambda c: {"minute_id": c.minute.pk}), allowed=MEMBERS),
    Route("committee:return", lambda w: {"case_id": w.case.pk}, allowed={"lars": 200}),
    Route("GET /api/committee/agenda", _with(lambda c: {}), allowed=AGENDA),
    Route("GET /api/committee/meetings", allowed={"karen": 200, "mads": 200, "ole": 200}),
    # Christmas Day: the service refuses it (400) after access was granted; others get 404.
    Route("POST /api/committee/meetings", method="POST", content_type=JSON,
          data=lambda w: {"day": "2026-12-25", "starts_at": "08:30", "ends_at": "09:30"},
          allowed={"karen": 400, "ole": 400}),
    Route("GET /api/committee/items/{item_id}", _with(lambda c: {"item_id": c.item.pk}), allowed=ITEM_READERS),
    Route("POST /api/committee/meetings/{meeting_id}/items/{item_id}/decision",
          _with(lambda c: {"meeting_id": c.meeting.pk, "item_id": c.item.pk}), method="POST", content_type=JSON,
          data=lambda w: {"kind": "postpone", "reason": ""}, allowed={"karen": 400, "mads": 400}),
    Route("POST /api/committee/items/{item_id}/exemption", _with(lambda c: {"item_id": c.item.pk}), method="POST",
          content_type=JSON, data=lambda w: {"ground": "none", "reason": ""}, allowed={"karen": 400, "mads": 400}),
    Route("POST /api/committee/meetings/{meeting_id}/approve", _with(lambda c: {"meeting_id": c.later.pk}),
          method="POST", content_type=JSON, allowed={"karen": 400}),
    Route("POST /api/committee/cases/{case_id}/return", lambda w: {"case_id": w.case.pk}, method="POST",
          content_type=JSON, data=lambda w: {"reason": ""}, allowed={"lars": 400}),
]
