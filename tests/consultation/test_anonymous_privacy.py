"""An anonymous consultation stores no CPR number or name anywhere: every text column of
every table, and every log record, is searched for the child's CPR and name."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.db import models

from tests.support.world import PASSWORD
from tovholder.consultation.models import Consultation, ConsultationMessage
from tovholder.demo.families import synthetic_cpr

CPR = synthetic_cpr(dt.date(2014, 3, 9), 77, "m")
GIVEN, FAMILY = "Valdemar", "Østergaard-Fjeldsø"


def text_values():
    """Every value of every CharField, TextField and JSONField in the database."""
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields
                  if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
        if not fields:
            continue
        for row in model._base_manager.values_list(*fields):
            for value in row:
                if value not in (None, "", [], {}):
                    yield model._meta.label, str(value)


def hits(needles):
    return [(label, value[:80]) for label, value in text_values()
            if any(n.casefold() in value.casefold() for n in needles)]


@pytest.mark.django_db
def test_it_stores_no_cpr_or_name_anywhere_for_an_anonymous_consultation(world, client, no_cpr_in_logs):
    assert client.login(username="lars", password=PASSWORD)
    needles = [CPR, f"{CPR[:6]}-{CPR[6:]}", GIVEN, FAMILY]
    assert hits(needles) == []

    # A careless first try with the CPR number in the text is refused and leaves nothing behind.
    r = client.post("/sparring/spoerg/", {
        "advising_unit": world.unit("bua").pk, "asking_unit": world.unit("706:school:0").pk,
        "target_group": "anxiety_depression", "subject": "Skolevægring",
        "text": f"Eleven ({CPR[:6]}-{CPR[6:]}) kommer ikke i skole.", "idem": "a1"})
    assert r.status_code == 200 and "CPR-nummer" in r.content.decode()
    # The anonymous question; a client that also sends name and CPR fields gets them ignored.
    r = client.post("/sparring/spoerg/", {
        "advising_unit": world.unit("bua").pk, "asking_unit": world.unit("706:school:0").pk,
        "target_group": "anxiety_depression", "subject": "Skolevægring, 10-årig",
        "text": "En elev i 4. klasse har ikke været i skole i tre uger. Hvad kan skolen gøre nu?",
        "cpr": CPR, "name": f"{GIVEN} {FAMILY}", "child_name": GIVEN, "forloeb": "", "idem": "a2"})
    assert r.status_code == 302
    consultation = Consultation.objects.get()
    assert consultation.is_anonymous

    # BUA reads and answers it; the asker reads the answer.
    bua = client.__class__()
    assert bua.login(username="jonas", password=PASSWORD)
    assert bua.get(f"/sparring/{consultation.pk}/").status_code == 200
    r = bua.post(f"/sparring/{consultation.pk}/svar/", {"text": "Lav en plan for gradvis tilbagevenden.",
                                                      "recommendation": "municipal", "idem": "b1"})
    assert r.status_code == 302
    assert client.get(f"/sparring/{consultation.pk}/").status_code == 200
    assert client.get("/sparring/").status_code == 200

    assert ConsultationMessage.objects.filter(consultation=consultation).count() == 2
    assert hits(needles) == [], "the child's CPR number or name was stored"
    logged = [rec.getMessage() for rec in no_cpr_in_logs.records]
    assert not [m for m in logged if any(n.casefold() in m.casefold() for n in needles)]


@pytest.mark.django_db
def test_it_has_no_column_that_links_a_consultation_to_a_case_or_child():
    from tovholder.cases.models import Case
    from tovholder.children.models import Child, CustodyHolder

    for model in (Consultation, ConsultationMessage):
        targets = {f.related_model for f in model._meta.concrete_fields if f.is_relation}
        assert not targets & {Case, Child, CustodyHolder}, model


@pytest.mark.django_db
def test_it_adds_no_trace_of_a_known_child_when_asked_about_anonymously(world, client):
    """The child is on the teacher's own case: the anonymous consultation about it adds no
    row and no value that names the child, and nothing links it to the case."""
    from tests.consultation.helpers import consented_case

    case = consented_case(world)
    child = case.child
    needles = [child.cpr, child.given_name, child.family_name]
    before = {(label, value) for label, value in text_values()}
    assert client.login(username="lars", password=PASSWORD)
    r = client.post("/sparring/spoerg/", {
        "advising_unit": world.unit("bua").pk, "asking_unit": world.unit("706:school:0").pk,
        "target_group": "adhd", "subject": "Uro og konflikter", "idem": "c1",
        "text": "En dreng i 3. klasse har mange konflikter i frikvartererne. Hvornår bør vi tænke ADHD?"})
    assert r.status_code == 302
    added = {(label, value) for label, value in text_values()} - before
    assert added, "the consultation was stored"
    assert not [(label, v[:60]) for label, v in added if any(n.casefold() in v.casefold() for n in needles)]
    consultation = Consultation.objects.get()
    assert not hasattr(consultation, "subject_link") or not consultation.subject_link
    from tovholder.audit.models import AuditEvent

    events = AuditEvent.objects.filter(object_type="consultation.Consultation", object_id=str(consultation.pk))
    assert events.exists() and not events.filter(case__isnull=False).exists()
    assert not events.filter(child__isnull=False).exists()
