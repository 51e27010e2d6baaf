"""Every letters URL and API operation, with who may reach it (tests/foundation/test_access_matrix.py)."""

from tests.support.routes import Route
from tests.support.world import SYSTEM

CASE = lambda w: {"case_id": w.case.pk}  # noqa: E731
# world.case: lead lars, participant maria, committee karen and mads, principal pia: they read
# every letter; the inbox keeper ida reads the consent letters only; the referrer none.
CASE_READERS = {"lars": 200, "maria": 200, "karen": 200, "mads": 200, "pia": 200}
TOKEN = "Zm9vYmFyYmF6cXV4eHl6enkxMjM0NTY3ODkwYWJjZGVmZ2g"


def _minutes(w):
    from tovholder.cases import notify

    letters = notify.tell_family(actor=SYSTEM, case=w.case, subject="Referat", body="Referatet.", reason="minutes",
                                 attachments=[("referat.pdf", "application/pdf", b"%PDF-1.4")])
    return letters[0]


def _letter(w):
    return {"letter_id": _minutes(w).pk}


def _attachment(w):
    letter = _minutes(w)
    return {"letter_id": letter.pk, "attachment_id": letter.attachments.get().pk}


ROUTES = [
    Route("letters:case_letters", CASE, allowed={**CASE_READERS, "ida": 200}),
    Route("letters:detail", _letter, allowed=CASE_READERS),
    Route("letters:attachment", _attachment, allowed=CASE_READERS),
    Route("letters:family_read", lambda w: {"token": TOKEN}, public=True, anonymous=404),
    Route("letters:family_attachment", lambda w: {"token": TOKEN, "attachment_id": 1}, public=True, anonymous=404),
    Route("GET /api/cases/{case_id}/letters", CASE, allowed={**CASE_READERS, "ida": 200}),
]
