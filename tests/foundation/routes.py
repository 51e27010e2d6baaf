from tests.support.routes import Route, everyone


def notice_for_lars(world) -> int:
    from tovholder.audit.actor import Actor
    from tovholder.cases.services import notice_send

    return notice_send(actor=Actor(system="test"), case=world.case, users=[world.user("lars")], text="Test")[0].pk


def sofies_committee_seat(world) -> int:
    from tovholder.organisations.models import Membership

    return Membership.objects.get(user=world.user("sofie"), role="committee_member").pk


CASE = lambda w: {"case_id": w.case.pk}  # noqa: E731
# world.case: Syddjurs, past the committee (awaiting start), lead lars, participant maria,
# referred by anne's practice, the child goes to pia's school.
CASE_READERS = {"lars": 200, "maria": 200, "karen": 200, "mads": 200, "pia": 200, "ida": 200}

ROUTES = [
    Route("web:login", public=True, anonymous=200),
    Route("web:logout", method="POST", public=True, anonymous=302),
    Route("web:set_language", method="POST", public=True, anonymous=302, data=lambda w: {"language": "en"}),
    Route("cases:home", allowed=everyone(200)),
    Route("cases:detail", CASE, allowed=CASE_READERS),
    Route("cases:audit", CASE, allowed={"lars": 200, "maria": 200, "karen": 200, "mads": 200}),
    Route("cases:notice_read", lambda w: {"notice_id": notice_for_lars(w)}, method="POST", allowed={"lars": 302}),
    Route("web:configuration", allowed={"admin": 200}),
    Route("web:municipality_settings", lambda w: {"code": "706"}, allowed={"admin": 200}),
    Route("web:membership_add", allowed={"admin": 200}),
    Route("web:membership_end", lambda w: {"membership_id": sofies_committee_seat(w)}, method="POST",
          allowed={"admin": 302}),
    Route("GET /api/cases", allowed=everyone(200)),
    Route("GET /api/cases/{case_id}", CASE, allowed={k: v for k, v in CASE_READERS.items() if k != "ida"}),
    Route("GET /api/cases/{case_id}/audit", CASE, allowed={"lars": 200, "maria": 200, "karen": 200, "mads": 200}),
    Route("GET /api/openapi.json", allowed=everyone(200), public=True, anonymous=200),
    Route("GET /api/docs", allowed=everyone(200), public=True, anonymous=200),
]
