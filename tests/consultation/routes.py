"""Who may reach each page of consultation and referral onwards (see tests/support/routes.py).

Objects are made through the services on a consented case in a joint pathway: lead lars
(teacher), participant maria (PPR); the committee (karen, mads) and the principal (pia)
read the case; jonas is BUA's advisory unit; ida (inbox keeper) sees intake data only.
"""

from tests.support.routes import PERSONAS, Route, everyone

ASKER_SIDE = {"lars": 200, "maria": 200, "karen": 200, "mads": 200, "pia": 200}


def _objects(w) -> dict:
    cached = getattr(w, "_consultation_routes", None)
    if cached is not None:
        return cached
    import datetime as dt

    from django.utils import timezone

    from tests.consultation.helpers import actor, consented_case
    from tovholder.access import ConsultationBasis
    from tovholder.consultation import referrals as ref
    from tovholder.consultation import services as svc

    case = consented_case(w)
    lars = actor(w, "lars", "706:school:0")
    identified = svc.consultation_ask(
        actor=lars, basis="lead", advising_unit=w.unit("bua"), asking_unit=w.unit("706:school:0"),
        target_group="adhd", subject="Uro", text="Hvad gør vi?", case=case,
        uploads=[svc.Upload("notat.pdf", "application/pdf", b"%PDF-1.4 notat")])
    anonymous = svc.consultation_ask(
        actor=lars, basis=ConsultationBasis.ASKER, advising_unit=w.unit("bua"), asking_unit=w.unit("706:school:0"),
        target_group="autism", subject="Generelt", text="Et generelt spørgsmål.")
    series = svc.slot_series_publish(
        actor=actor(w, "jonas"), advising_unit=w.unit("bua"), target_group="adhd",
        first_starts_at=timezone.now() + dt.timedelta(days=3), duration_minutes=60, occurrences=2, capacity=3,
        video_link="https://video.example/samrum")
    slot = series.slots.order_by("starts_at").first()
    booked = svc.slot_book(actor=lars, basis="lead", slot=slot, asking_unit=w.unit("706:school:0"),
                           subject="Booket", text="Til drøftelse", case=case)
    draft = ref.referral_prepare(actor=lars, basis="lead", case=case, receiver_unit=w.unit("paediatric"))
    sent = ref.referral_prepare(actor=lars, basis="lead", case=case, receiver_unit=w.unit("bua"))
    ref.referral_update(actor=lars, basis="lead", referral=sent, expected_version=None, question="Udredning?",
                        tried="Struktur i klassen.", ppr_missing_reason="PPR er ikke inddraget endnu.")
    ref.referral_send(actor=lars, basis="lead", referral=sent)
    cached = {"case": case, "identified": identified, "anonymous": anonymous, "slot": slot, "booked": booked,
              "draft": draft, "sent": sent,
              "attachment": identified.messages.get().attachments.get()}
    w._consultation_routes = cached
    return cached


def _rejected(w):
    """A referral rejected on a case: the lead's follow-up task."""
    cached = getattr(w, "_consultation_rejected", None)
    if cached is not None:
        return cached
    from tests.consultation.helpers import actor, consented_case
    from tovholder.cases import notify
    from tovholder.consultation import referrals as ref

    if "family" not in notify._handlers:  # the letters app not installed (parallel development)
        notify.register("family", lambda **kwargs: [])
    case = consented_case(w)
    lars = actor(w, "lars", "706:school:0")
    r = ref.referral_prepare(actor=lars, basis="lead", case=case, receiver_unit=w.unit("bua"))
    ref.referral_update(actor=lars, basis="lead", referral=r, expected_version=None, question="Udredning?",
                        tried="Struktur i klassen.", ppr_assessment="Normalt begavet; markant uro.")
    ref.referral_send(actor=lars, basis="lead", referral=r)
    answer = ref.referral_answer_record(actor=lars, basis="lead", referral=r, outcome="rejected",
                                        reason="outside_target_group")
    w._consultation_rejected = {"case": case, "follow_up": answer.follow_up}
    return w._consultation_rejected


def consultation(key):
    return lambda w: {"consultation_id": _objects(w)[key].pk}


def case_and(key, name):
    return lambda w: {"case_id": _objects(w)["case"].pk, name: _objects(w)[key].pk}


ALL_BUT_STRANGER = {p: 200 for p in PERSONAS if p != "stranger"}
WORKERS = {"lars": 200, "maria": 200}

ROUTES = [
    Route("consultation:home", allowed=everyone(200)),
    Route("consultation:ask", allowed=ALL_BUT_STRANGER),
    Route("consultation:detail", consultation("identified"), allowed={**ASKER_SIDE, "jonas": 200}),
    Route("consultation:detail", consultation("anonymous"), allowed={"lars": 200, "jonas": 200}),
    Route("consultation:reply", consultation("identified"), method="POST", data=lambda w: {"text": "Tak"},
          allowed={p: 302 for p in [*ASKER_SIDE, "jonas"]}),
    Route("consultation:attachment",
          lambda w: {"consultation_id": _objects(w)["identified"].pk, "attachment_id": _objects(w)["attachment"].pk},
          allowed={**ASKER_SIDE, "jonas": 200}),
    Route("consultation:booking_cancel", consultation("booked"), method="POST", allowed={p: 302 for p in ASKER_SIDE}),
    Route("consultation:to_agreement", consultation("identified"), allowed={"lars": 200}),
    Route("consultation:slots", allowed=everyone(200)),
    Route("consultation:series_new", allowed={"jonas": 200, "maria": 200, "karen": 200, "ole": 200}),
    Route("consultation:slot_detail", lambda w: {"slot_id": _objects(w)["slot"].pk}, allowed={"jonas": 200}),
    Route("consultation:book", lambda w: {"slot_id": _objects(w)["slot"].pk},
          allowed={p: 200 for p in ALL_BUT_STRANGER if p != "jonas"}),
    Route("consultation:slot_cancel", lambda w: {"slot_id": _objects(w)["slot"].pk}, method="POST",
          allowed={"jonas": 302}),
    Route("consultation:referral_new", lambda w: {"case_id": _objects(w)["case"].pk}, allowed=WORKERS),
    Route("consultation:referral_detail", case_and("draft", "referral_id"), allowed=WORKERS),
    Route("consultation:referral_send", case_and("draft", "referral_id"), method="POST", allowed=WORKERS),
    Route("consultation:referral_answer", case_and("sent", "referral_id"), allowed=WORKERS),
    Route("consultation:follow_up_done",
          lambda w: {"case_id": _rejected(w)["case"].pk, "follow_up_id": _rejected(w)["follow_up"].pk},
          allowed={"lars": 200}),
    Route("consultation:admission_new", lambda w: {"case_id": _objects(w)["case"].pk}, allowed=WORKERS),
    Route("GET /api/consultations", allowed=everyone(200)),
    Route("GET /api/consultations/{consultation_id}", consultation("identified"), allowed={**ASKER_SIDE, "jonas": 200}),
    Route("GET /api/consultations/{consultation_id}", consultation("anonymous"), allowed={"lars": 200, "jonas": 200}),
    Route("GET /api/consultation-slots", allowed=everyone(200)),
    Route("GET /api/cases/{case_id}/referrals", lambda w: {"case_id": _objects(w)["case"].pk}, allowed=ASKER_SIDE),
]
