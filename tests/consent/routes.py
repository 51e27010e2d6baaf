"""Every consent URL and API operation, with who may reach it (tests/foundation/test_access_matrix.py)."""

import datetime as dt

from tests.support.routes import Route

CASE = lambda w: {"case_id": w.case.pk}  # noqa: E731
# world.case: Syddjurs, consent given, awaiting start; lead lars, participant maria; the
# committee (karen, mads) and the inbox keeper (ida) may manage consent; pia (principal)
# reads it only; anne (referrer) sees only the thread.
MANAGERS = {"lars": 200, "maria": 200, "karen": 200, "mads": 200, "ida": 200}
READERS = {**MANAGERS, "pia": 200}
REDIRECTED = {k: 302 for k in MANAGERS}
TOKEN = lambda w: {"token": "Zm9vYmFyYmF6cXV4eHl6enkxMjM0NTY3ODkwYWJjZGVmZ2g"}  # noqa: E731


def _request(w):
    from tovholder.consent.models import ConsentRequest

    return {"request_id": ConsentRequest.objects.filter(case=w.case).order_by("id").first().pk}


def _scanned_request(w):
    """A new case waiting for consent where one parent's paper answer was registered:
    only the inbox keeper of Syddjurs may fetch the scan (the committee has not got it)."""
    from tests.consent.helpers import open_case, requests_of
    from tovholder.audit.actor import Actor
    from tovholder.consent.services import consent_register_paper

    case = open_case(w, parents=2, digital_post=False)
    first = requests_of(case)[0]
    consent_register_paper(actor=Actor(user=w.user("ida"), unit=w.unit("706:single_entry")), basis="inbox",
                           request=first, give=True, signed_on=dt.date.today(),
                           scan=("scan.pdf", "application/pdf", b"%PDF-1.4"))
    return {"request_id": first.pk}


ROUTES = [
    Route("consent:waiting", allowed={"ida": 200, "nora": 200}),
    Route("consent:text_edit", lambda w: {"code": "706"}, allowed={"admin": 200}),
    Route("consent:request_start", CASE, method="POST", allowed=REDIRECTED),
    Route("consent:renewal_start", CASE, method="POST", allowed=REDIRECTED),
    Route("consent:paper_answer", _request, allowed=MANAGERS),
    Route("consent:staff_withdraw", _request, allowed=MANAGERS),
    Route("consent:scan", _scanned_request, allowed={"ida": 200}),
    Route("consent:link", TOKEN, public=True, anonymous=404),
    Route("consent:link_answer", TOKEN, method="POST", public=True, anonymous=404, data=lambda w: {"answer": "give"}),
    Route("consent:link_withdraw", TOKEN, method="POST", public=True, anonymous=404),
    Route("GET /api/cases/{case_id}/consent", CASE, allowed=READERS),
    Route("GET /api/consent/waiting", allowed={"ida": 200, "nora": 200}),
    Route("POST /api/consent/requests/{request_id}/withdraw", _request, method="POST", allowed=MANAGERS,
          data=lambda w: {"note": "Mor ringede"}, content_type="application/json"),
]
