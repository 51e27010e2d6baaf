"""Helpers for the consent tests: cases opened as the inbox opens them, the letters'
delivery, and the personal links as the family finds them in their letters."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from tests.support.world import SYSTEM, make_child
from tovholder.cases.models import Case, ReferralChannel
from tovholder.cases.services import case_open
from tovholder.consent.models import ConsentRequest
from tovholder.consent.services import consent_request_start
from tovholder.deadlines.workdays import COPENHAGEN
from tovholder.letters.models import Letter
from tovholder.letters.services import letters_deliver

INBOX = SYSTEM


@dataclass
class Told:
    family: list = field(default_factory=list)
    referrer: list = field(default_factory=list)
    real_referrer: bool = False


def local(y, m, d, hh=10, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=COPENHAGEN)


def open_case(world, *, birth: dt.date = dt.date(2013, 5, 4), parents: int = 2, digital_post: bool = True,
              referrer: str = "gp:0", start: bool = True) -> Case:
    """A case as the inbox opens it: child, custody holders, case, consent requests."""
    child = make_child(world.demo, birth=birth, parents=parents, digital_post=digital_post)
    case = case_open(actor=INBOX, basis="inbox", municipality=world.syddjurs, child=child,
                     referral_channel=ReferralChannel.GP, referrer_unit=world.unit(referrer),
                     opened_at=timezone.now())
    if start:
        consent_request_start(actor=INBOX, case=case)
    return Case.objects.get(pk=case.pk)


def requests_of(case: Case) -> list[ConsentRequest]:
    return list(ConsentRequest.objects.filter(case=case).defer("scan").order_by("round__number", "id"))


def people(case: Case) -> list[tuple[str, str]]:
    return [(r.person_key.split(":")[0], r.status) for r in requests_of(case)]


def deliver() -> int:
    total = 0
    while n := letters_deliver():
        total += n
    return total


def delivered(letter: Letter) -> dict:
    letter.refresh_from_db()
    path = Path(settings.OUTBOX_DIR) / "letters" / f"{letter.pk}.json"
    return json.loads(path.read_text(encoding="utf-8"))


LINK = re.compile(r"https?://\S+/samtykke/([A-Za-z0-9_-]{40,})/")


def token_in(letter: Letter) -> str:
    """The consent token in a delivered letter, as the family would find it."""
    match = LINK.search(delivered(letter)["body"])
    assert match, "no consent link in the delivered letter"
    return match.group(1)


def consent_link(request: ConsentRequest, step: str = "request") -> str:
    """Deliver the person's letter and return the token of their personal link."""
    deliver()
    letter = Letter.objects.get(dedupe_key=f"consent:{request.pk}:{step}")
    return token_in(letter)


def family_actor_give(request: ConsentRequest) -> ConsentRequest:
    """The person says yes through their link (the service the link page calls)."""
    from tovholder.consent.models import How
    from tovholder.consent.services import consent_answer, family_actor

    return consent_answer(actor=family_actor(request), request=request.pk, give=True, how=How.DIGITAL)
