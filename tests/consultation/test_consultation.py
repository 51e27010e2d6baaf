"""Consultation requests: identified (consent covering the advising unit) or anonymous;
answers in the same thread; the asker is told."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.consultation.helpers import actor, consented_case
from tests.support.world import make_case
from tovholder.access import ConsultationBasis, consultation_grant
from tovholder.cases.models import Notice, Stage
from tovholder.consent.gate import ConsentRequired
from tovholder.consultation import services as svc
from tovholder.consultation.models import Consultation, ConsultationNotice, ConsultationSubject

PDF = svc.Upload("skoleudtalelse.pdf", "application/pdf", b"%PDF-1.4 test")


def ask(world, *, case=None, username="lars", unit="706:school:0", text="Hvad kan vi gøre i klassen?", **kw):
    return svc.consultation_ask(
        actor=actor(world, username, unit), basis=ConsultationBasis.ASKER, advising_unit=world.unit("bua"),
        asking_unit=world.unit(unit), target_group="adhd", subject="Uro i timerne", text=text, case=case, **kw)


@pytest.mark.django_db
def test_it_asks_about_an_identified_child_with_attachments(world):
    case = consented_case(world)
    c = ask(world, case=case, uploads=[PDF])
    assert not c.is_anonymous
    assert ConsultationSubject.objects.get(consultation=c).case == case
    question = c.messages.get()
    assert question.kind == "question"
    assert question.attachments.get().filename == "skoleudtalelse.pdf"
    assert c.municipality == case.municipality


@pytest.mark.django_db
def test_it_refuses_an_identified_question_without_consent(world):
    case = make_case(world.demo, stage=Stage.AWAITING_CONSENT, lead=None)
    with pytest.raises(ConsentRequired):
        ask(world, case=case)
    assert not Consultation.objects.exists()


@pytest.mark.django_db
def test_it_refuses_attachments_on_an_anonymous_question(world):
    with pytest.raises(ValidationError) as exc:
        ask(world, uploads=[PDF])
    assert exc.value.code == "anonymous_attachment"


@pytest.mark.django_db
def test_it_refuses_a_cpr_number_in_an_anonymous_question(world):
    with pytest.raises(ValidationError) as exc:
        ask(world, text="Drengen har CPR 010203-1234 og er urolig")
    assert exc.value.code == "anonymous_cpr"
    assert not Consultation.objects.exists()


@pytest.mark.django_db
def test_it_refuses_the_name_of_a_child_on_the_askers_own_case_in_an_anonymous_question(world):
    case = consented_case(world)
    name = case.child.full_name
    with pytest.raises(ValidationError) as exc:
        ask(world, text=f"Det drejer sig om {name.upper()}, som er meget urolig.")
    assert exc.value.code == "anonymous_name"


@pytest.mark.django_db
def test_it_creates_one_consultation_when_the_form_is_sent_twice(world):
    first = ask(world, idempotency_key="k1")
    second = ask(world, idempotency_key="k1")
    assert first.pk == second.pk
    assert Consultation.objects.count() == 1


@pytest.mark.django_db
def test_it_tells_the_identified_asker_on_the_case_when_bua_answers(world):
    case = consented_case(world)
    c = ask(world, case=case)
    svc.consultation_reply(actor=actor(world, "jonas"), basis=ConsultationBasis.ADVISOR, consultation=c,
                           text="Prøv struktur og pauser; drøft med PPR.", recommendation="municipal")
    c.refresh_from_db()
    assert c.status == Consultation.Status.ANSWERED and c.recommendation == "municipal"
    notice = Notice.objects.get(user=world.user("lars"), case=case)
    assert c.reference in notice.text and notice.url.endswith(f"/sparring/{c.pk}/")


@pytest.mark.django_db
def test_it_tells_the_anonymous_asker_without_a_case(world):
    c = ask(world)
    svc.consultation_reply(actor=actor(world, "jonas"), basis=ConsultationBasis.ADVISOR, consultation=c,
                           text="Tal med PPR om en observation.")
    assert ConsultationNotice.objects.get(user=world.user("lars"), consultation=c).read_at is None
    assert not Notice.objects.filter(user=world.user("lars")).exists()


@pytest.mark.django_db
def test_it_reopens_the_thread_on_a_follow_up_question(world):
    c = ask(world)
    svc.consultation_reply(actor=actor(world, "jonas"), basis=ConsultationBasis.ADVISOR, consultation=c, text="Svar")
    svc.consultation_reply(actor=actor(world, "lars", "706:school:0"), basis=ConsultationBasis.ASKER,
                           consultation=c, text="Tak — og hvis det ikke hjælper?")
    c.refresh_from_db()
    assert c.status == Consultation.Status.OPEN
    assert [m.kind for m in c.messages.all()] == ["question", "answer", "follow_up"]


@pytest.mark.django_db
def test_it_lets_nobody_outside_the_asker_and_the_advising_unit_open_an_anonymous_consultation(world):
    c = ask(world)
    assert consultation_grant(world.user("lars"), c).basis == ConsultationBasis.ASKER
    assert consultation_grant(world.user("jonas"), c).basis == ConsultationBasis.ADVISOR
    for other in ["pia", "maria", "karen", "mads", "ida", "anne", "admin", "stranger"]:
        assert consultation_grant(world.user(other), c) is None, other


@pytest.mark.django_db
def test_it_gives_the_advising_unit_no_access_to_the_case_itself(world):
    from tovholder.access import Scope, case_grant

    case = consented_case(world)
    c = ask(world, case=case)
    grant = consultation_grant(world.user("jonas"), c)
    assert grant.basis == ConsultationBasis.ADVISOR
    assert not any(grant.allows(s) for s in (Scope.CASE, Scope.INTAKE, Scope.THREAD, Scope.AUDIT, Scope.MANAGE))
    assert case_grant(world.user("jonas"), case, Scope.INTAKE) is None


@pytest.mark.django_db
def test_it_serves_the_same_thread_in_the_api_and_audits_the_read(world, login):
    from tovholder.audit.models import AuditEvent

    case = consented_case(world)
    c = ask(world, case=case, uploads=[PDF])
    r = login("jonas").get(f"/api/consultations/{c.pk}")
    assert r.status_code == 200
    body = r.json()
    assert body["basis"] == ConsultationBasis.ADVISOR and body["messages"][0]["attachments"] == ["skoleudtalelse.pdf"]
    assert AuditEvent.objects.filter(user=world.user("jonas"), case=case, action="view").exists()
    assert [x["id"] for x in login("jonas").get("/api/consultations").json()] == [c.pk]
    assert login("pia").get(f"/api/consultations/{ask(world).pk}").status_code == 404


@pytest.mark.django_db
def test_it_names_the_advising_units_read_in_words_in_the_case_audit_trail(world, login):
    case = consented_case(world)
    c = ask(world, case=case)
    assert login("jonas").get(f"/sparring/{c.pk}/").status_code == 200
    trail = login("lars").get(f"/forloeb/{case.pk}/revisionsspor/").content.decode()
    assert "rådgivende enhed i en sparring" in trail
