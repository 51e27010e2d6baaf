"""Who reaches the single entry's pages and API operations (see tests/support/routes.py).

The fixture: a MedCom referral from anne's practice (gp:0) to Syddjurs' entry, with an
attachment; a reply in its thread waiting in the outbox; and an unreadable message in the
region-wide quarantine (every inbox keeper sees it)."""

from __future__ import annotations

from types import SimpleNamespace

from tests.support.routes import PERSONAS, Route, everyone

KEEPERS_706 = {"ida": 200}
KEEPERS = {"ida": 200, "nora": 200}
# Staff of units that may use the web referral form (school, PPR, health visitors, family
# counselling, BUA, wards, GP practices); nora and admin belong only to an entry.
REFERRERS = {p: 200 for p in PERSONAS if p not in ("nora", "admin", "stranger")}


def inbox_fixture(world) -> SimpleNamespace:
    cached = getattr(world, "_inbox_routes", None)
    if cached is not None:
        return cached
    import datetime as dt

    from tests.support.world import SYSTEM
    from tovholder.demo.families import synthetic_cpr
    from tovholder.inbox.demo import gp_referral
    from tovholder.inbox.models import Arrival, InboxItem, OutboundMessage, Segment
    from tovholder.inbox.services import medcom_receive, thread_reply

    cpr = synthetic_cpr(dt.date(2013, 8, 8), 91, "f")
    body, ctype = gp_referral(sender=world.unit("gp:0"), entry=world.unit("706:single_entry"), cpr=cpr,
                              given="Rute", family="Testsen", text="Rute har det svært.", author="Anne Mortensen",
                              attachments=(("Udtalelse", "application/pdf", b"%PDF-1.4 route"),))
    medcom_receive(body=body, content_type=ctype, channel="http")
    item = InboxItem.objects.get(thread__patient_cpr=cpr)
    thread_reply(actor=SYSTEM, thread=item.thread, text="Vi vender tilbage.", reason="reply")
    outbound = OutboundMessage.objects.get(thread=item.thread)
    medcom_receive(body=b"{broken", content_type="application/fhir+json", channel="http")
    arrival = Arrival.objects.filter(state=Arrival.State.QUARANTINED).order_by("-pk").first()
    fixture = SimpleNamespace(
        cpr=cpr, item=item, thread=item.thread, outbound=outbound, arrival=arrival,
        attachment=Segment.objects.get(thread=item.thread, kind="attachment"),
    )
    world._inbox_routes = fixture
    return fixture


ITEM = lambda w: {"item_id": inbox_fixture(w).item.pk}  # noqa: E731
THREAD = lambda w: {"thread_id": inbox_fixture(w).thread.pk}  # noqa: E731
ARRIVAL = lambda w: {"arrival_id": inbox_fixture(w).arrival.pk}  # noqa: E731
JSON = "application/json"

ROUTES = [
    # Pages
    Route("inbox:inbox", allowed=KEEPERS),
    Route("inbox:item", ITEM, allowed=KEEPERS_706),
    # POSTs without a form: the keeper gets the page back with the errors (400).
    Route("inbox:item_open_case", ITEM, method="POST", allowed={"ida": 400}),
    Route("inbox:item_attach", ITEM, method="POST", allowed={"ida": 400}),
    Route("inbox:item_reject", ITEM, method="POST", allowed={"ida": 400}),
    Route("inbox:item_forward", ITEM, method="POST", allowed={"ida": 400}),
    Route("inbox:item_noted", ITEM, method="POST", allowed={"ida": 302}),
    Route("inbox:thread", THREAD, allowed={"ida": 200, "anne": 200}),
    Route("inbox:thread_reply", THREAD, method="POST", allowed={"ida": 400}),
    Route("inbox:attachment", lambda w: {"segment_id": inbox_fixture(w).attachment.pk},
          allowed={"ida": 200, "anne": 200}),
    Route("inbox:quarantine", allowed=KEEPERS),
    Route("inbox:quarantine_detail", ARRIVAL, allowed=KEEPERS),
    Route("inbox:quarantine_resolve", ARRIVAL, method="POST", allowed={"ida": 400, "nora": 400}),
    Route("inbox:quarantine_retry", ARRIVAL, method="POST", allowed={"ida": 302, "nora": 302}),
    Route("inbox:outbound_resolve", lambda w: {"outbound_id": inbox_fixture(w).outbound.pk}, method="POST",
          allowed={"ida": 302}),
    Route("inbox:register", allowed=KEEPERS),
    Route("inbox:referral", allowed=REFERRERS),
    Route("inbox:my_referrals", allowed=everyone(200)),
    Route("inbox:directory", public=True, anonymous=200),
    # API
    Route("POST /api/medcom/messages", method="POST", public=True, anonymous=200),
    Route("GET /api/directory", public=True, anonymous=200),
    Route("GET /api/inbox/items", allowed=everyone(200)),
    Route("GET /api/inbox/items/{item_id}", ITEM, allowed={"ida": 200, "anne": 200}),
    Route("POST /api/inbox/items/{item_id}/open-case", ITEM, method="POST", content_type=JSON,
          data=lambda w: {"cpr": inbox_fixture(w).cpr, "given_name": "Rute", "family_name": "Testsen"},
          allowed={"ida": 200}),
    Route("POST /api/inbox/items/{item_id}/attach", ITEM, method="POST", content_type=JSON,
          data=lambda w: {"case_id": w.case.pk}, allowed={"ida": 200}),
    Route("POST /api/inbox/items/{item_id}/reject", ITEM, method="POST", content_type=JSON,
          data=lambda w: {"reason": "Ikke i målgruppen."}, allowed={"ida": 200}),
    Route("POST /api/inbox/items/{item_id}/forward", ITEM, method="POST", content_type=JSON,
          data=lambda w: {"municipality_code": "707"}, allowed={"ida": 200}),
    Route("GET /api/inbox/threads/{thread_id}", THREAD, allowed={"ida": 200, "anne": 200}),
    Route("GET /api/inbox/quarantine", allowed=everyone(200)),
    Route("POST /api/inbox/referrals", method="POST", content_type=JSON,
          data=lambda w: {"unit_id": w.unit("706:school:0").pk, "municipality_code": "706",
                          "cpr": inbox_fixture(w).cpr, "given_name": "Rute", "family_name": "Testsen",
                          "text": "Bekymring.", "phone": "12345678"},
          allowed={"lars": 200, "pia": 200}),
]
