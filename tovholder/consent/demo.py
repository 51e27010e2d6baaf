"""Demo and test data for consent, made with the real services.

Functions (each takes the DemoRegion — may be None, it is not needed — and a Case):

- `consent_demo_request(demo, case) -> ConsentRound`
  A case just opened (stage awaiting consent): send the requests and their letters, as the
  inbox does. Use for the demo families in "awaiting consent".
- `consent_demo_partial(demo, case) -> ConsentRound`
  As above, and the first custody holder has answered yes via the link: the panel shows
  one given, one pending.
- `consent_demo_complete(demo, case, at=None) -> Case`
  Every person required on `at` (default now) gave consent digitally at `at`; the case
  moves to "awaiting committee" at `at` (consent_completed_at = at), as if the family
  had answered. No letters are queued (past events). Use instead of
  `case_transition(to=AWAITING_COMMITTEE)` for every demo case past consent, so the
  consent gate is open for the committee's and the pathway's services.
- `consent_demo_no_answer(demo, case, at=None) -> Case`
  Requests sent, never answered, reminded and closed as "no consent" at `at` (referrer
  and family told through notify). Needs the inbox's referrer handler registered.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.cases.models import Case, ClosedReason, Stage
from tovholder.cases.services import lock_case
from tovholder.consent import services as s
from tovholder.consent.models import ConsentRequest, ConsentRound, How

DEMO = Actor(system="demo")


def consent_demo_request(demo, case: Case) -> ConsentRound:
    return s.consent_request_start(actor=DEMO, case=case)


def consent_demo_partial(demo, case: Case) -> ConsentRound:
    consent_round = s.consent_request_start(actor=DEMO, case=case)
    first = consent_round.requests.filter(capacity="custody_holder").order_by("id").first()
    if first is not None:
        s.consent_answer(actor=s.family_actor(first), request=first, give=True, how=How.DIGITAL)
    return consent_round


@transaction.atomic
def consent_demo_complete(demo, case: Case, at: dt.datetime | None = None) -> Case:
    at = at or timezone.now()
    case = lock_case(case)
    if case.stage != Stage.AWAITING_CONSENT:
        return case
    consent_round = case.consent_rounds.filter(status=ConsentRound.Status.OPEN).first()
    if consent_round is None:
        consent_round = s._new_round(DEMO, case, ConsentRound.Kind.INITIAL, at=at)
    s._ensure_requests(DEMO, consent_round, case, send=False, at=at)
    given_on = at.astimezone(timezone.get_current_timezone()).date()
    for req in consent_round.requests.filter(status=ConsentRequest.Status.PENDING):
        req.status = ConsentRequest.Status.GIVEN
        req.answered_at = at
        req.answered_how = How.DIGITAL
        req.expires_on = s.consent_lapses_on(case.municipality, given_on)
        req.version += 1
        req.save(update_fields=["status", "answered_at", "answered_how", "expires_on", "version"])
    if not consent_round.requests.exists():
        # Nobody to ask (test children without custody holders): complete on the record.
        consent_round.status = ConsentRound.Status.COMPLETE
        consent_round.completed_at = at
        consent_round.expires_on = s.consent_lapses_on(case.municipality, given_on)
        consent_round.save(update_fields=["status", "completed_at", "expires_on"])
        from tovholder.cases.services import case_transition

        return case_transition(actor=DEMO, basis="system", case=case, to=Stage.AWAITING_COMMITTEE, at=at,
                               summary="Samtykke komplet (demo)")
    s._try_complete(DEMO, consent_round, case, at=at, send=False)
    return Case.objects.get(pk=case.pk)


def consent_demo_no_answer(demo, case: Case, at: dt.datetime | None = None) -> Case:
    consent_round = s.consent_request_start(actor=DEMO, case=case)
    with transaction.atomic():
        case = lock_case(case)
        now = at or timezone.now()
        s._end_rounds(case, status=ConsentRound.Status.LAPSED, at=now)
        s._close_case(DEMO, case, reason=ClosedReason.NO_CONSENT, tell_referrer=True, at=now)
    del consent_round
    return Case.objects.get(pk=case.pk)
