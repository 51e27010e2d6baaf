"""State changes of the relational coordination survey. Nothing here touches a case."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst, slugify

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.insight.models import (
    Agreement,
    Dimension,
    PartnerGroup,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    SurveyRound,
)
from tovholder.organisations.models import Municipality, User

BASIS = "insight"

# The project's own neutral wording (the licensed instrument's text is not shipped).
DEFAULT_QUESTIONS = {
    Dimension.SHARED_GOALS: "{gruppe} og jeg arbejder hen imod de samme mål for barnet.",
    Dimension.SHARED_KNOWLEDGE: "Jeg ved, hvad {gruppe} bidrager med i arbejdet med barnet.",
    Dimension.MUTUAL_RESPECT: "{gruppe} anerkender værdien af det, jeg bidrager med.",
    Dimension.FREQUENT: "Jeg er i kontakt med {gruppe} så ofte, som opgaven kræver.",
    Dimension.TIMELY: "{gruppe} giver mig besked i tide, når noget vigtigt ændrer sig.",
    Dimension.ACCURATE: "Det, jeg får at vide af {gruppe}, er præcist og til at stole på.",
    Dimension.PROBLEM_SOLVING: "Når der opstår problemer, finder {gruppe} og jeg løsninger sammen frem for at "
                               "placere skyld.",
}
# Names as they read inside a sentence ("Jeg ved, hvad skolerne bidrager med …");
# lists and headings capitalise the first letter.
DEFAULT_GROUPS = [
    ("gp", "de praktiserende læger", "gp_practice"),
    ("school", "skolerne", "school"),
    ("ppr", "PPR", "ppr"),
    ("health_visitors", "sundhedsplejen", "health_visitors"),
    ("family_counselling", "familierådgivningen", "family_counselling"),
    ("bua", "Børne- og Ungdomspsykiatrien (BUA)", "bua"),
]


@transaction.atomic
def survey_defaults_ensure(*, municipality: Municipality) -> None:
    """The default partner groups and wording, once per municipality (idempotent)."""
    for order, (key, name, kind) in enumerate(DEFAULT_GROUPS):
        PartnerGroup.objects.get_or_create(municipality=municipality, key=key,
                                           defaults={"name": name, "unit_kind": kind, "order": order * 10})
    for dimension, text in DEFAULT_QUESTIONS.items():
        SurveyQuestion.objects.get_or_create(municipality=municipality, dimension=dimension,
                                             defaults={"text": text})


def question_text(template: str, group: str) -> str:
    text = template.replace("{gruppe}", group)
    return text[:1].upper() + text[1:]


@transaction.atomic
def partner_group_add(*, actor: Actor, municipality: Municipality, name: str, unit_kind: str = "") -> PartnerGroup:
    survey_defaults_ensure(municipality=municipality)
    name = name.strip()
    key = slugify(name)[:40] or "gruppe"
    if PartnerGroup.objects.filter(municipality=municipality, key=key).exists():
        raise ValidationError("Der findes allerede en samarbejdspartner med det navn.")
    last = PartnerGroup.objects.filter(municipality=municipality).order_by("-order").first()
    group = PartnerGroup(municipality=municipality, key=key, name=name, unit_kind=unit_kind,
                         order=(last.order + 10) if last else 0)
    group.full_clean()
    group.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=BASIS, obj=group,
                 summary=f"Samarbejdspartner tilføjet til spørgeskemaet: {name}")
    return group


@transaction.atomic
def survey_question_set(*, actor: Actor, municipality: Municipality, dimension: str, text: str) -> SurveyQuestion:
    """Change the wording of one dimension's statement. Rounds already opened keep theirs."""
    survey_defaults_ensure(municipality=municipality)
    text = " ".join(text.split())
    if len(text) < 10:
        raise ValidationError("Skriv et udsagn på mindst 10 tegn.")
    question = SurveyQuestion.objects.select_for_update().get(municipality=municipality, dimension=dimension)
    if question.text != text:
        question.text = text
        question.updated_at = timezone.now()
        question.full_clean()
        question.save()
        audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=BASIS, obj=question,
                     summary=f"Spørgsmål om {Dimension(dimension).label.lower()} ændret")
    return question


@transaction.atomic
def survey_round_open(*, actor: Actor, municipality: Municipality, kind: str, opens_on: dt.date,
                      title: str = "") -> SurveyRound:
    survey_defaults_ensure(municipality=municipality)
    existing = SurveyRound.objects.filter(municipality=municipality, kind=kind, opens_on=opens_on).first()
    if existing is not None:
        return existing  # a double click, or the same round asked for again
    questions = dict(SurveyQuestion.objects.filter(municipality=municipality).values_list("dimension", "text"))
    title = title.strip() or f"{SurveyRound.Kind(kind).label}, {date_format(opens_on, 'F Y')}"
    round_ = SurveyRound(municipality=municipality, kind=kind, title=title, opens_on=opens_on, questions=questions,
                         created_by=actor.user)
    round_.full_clean()
    try:
        with transaction.atomic():
            round_.save()
    except IntegrityError:
        # A double click: the round is already there.
        return SurveyRound.objects.get(municipality=municipality, kind=kind, opens_on=opens_on)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=BASIS, obj=round_,
                 summary=f"Måling åbnet: {title}")
    return round_


@transaction.atomic
def survey_round_close(*, actor: Actor, survey_round: SurveyRound) -> SurveyRound:
    survey_round = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
    if survey_round.status != SurveyRound.Status.CLOSED:
        survey_round.status = SurveyRound.Status.CLOSED
        survey_round.closed_at = timezone.now()
        survey_round.save(update_fields=["status", "closed_at"])
        audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=BASIS, obj=survey_round,
                     summary=f"Måling lukket: {survey_round.title}")
    return survey_round


@transaction.atomic
def survey_response_submit(*, actor: Actor, survey_round: SurveyRound, partner_group: PartnerGroup,
                           answers: dict[str, int | None], respondent_kind: str = "",
                           at: dt.datetime | None = None) -> SurveyResponse:
    """Save one respondent's answers about one partner group in an open round. Submitting
    again edits the same response (one per respondent, round and partner group)."""
    user: User | None = actor.user
    if user is None:
        raise ValidationError("Kun en medarbejder kan besvare spørgeskemaet.")
    survey_round = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
    if survey_round.status != SurveyRound.Status.OPEN:
        raise ValidationError("Målingen er lukket for besvarelser.")
    if partner_group.municipality_id != survey_round.municipality_id or not partner_group.active:
        raise ValidationError("Samarbejdspartneren hører ikke til målingen.")
    clean = {}
    for dimension, value in answers.items():
        if dimension not in Dimension.values:
            raise ValidationError(f"Ukendt dimension: {dimension}")
        if value in (None, ""):
            continue
        value = int(value)
        if value not in Agreement.values:
            raise ValidationError("Svar på en skala fra 1 (helt uenig) til 5 (helt enig).")
        clean[dimension] = value
    if not clean:
        raise ValidationError("Besvar mindst ét af udsagnene.")
    at = at or timezone.now()
    response, created = SurveyResponse.objects.select_for_update().get_or_create(
        round=survey_round, respondent=user, partner_group=partner_group,
        defaults={"respondent_kind": respondent_kind, "submitted_at": at, "updated_at": at},
    )
    if not created:
        response.version += 1
        response.updated_at = at
        response.respondent_kind = respondent_kind or response.respondent_kind
        response.save(update_fields=["version", "updated_at", "respondent_kind"])
        response.answers.all().delete()
    SurveyAnswer.objects.bulk_create(SurveyAnswer(response=response, dimension=d, value=v) for d, v in clean.items())
    audit_record(actor=actor, action=AuditEvent.Action.CREATE if created else AuditEvent.Action.CHANGE,
                 basis=BASIS, obj=response,
                 summary=f"Spørgeskema besvaret: {survey_round.title} · {capfirst(partner_group.name)}")
    return response
