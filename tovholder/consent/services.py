"""Consent: who must consent, the requests and their letters, answers, reminders, expiry,
renewal and withdrawal. DOMAIN.md "Consent"; seed 001 appendices 2 and 3.

Rules
- Who: every custody holder of the child, and the child if 15 or older on the day —
  re-evaluated until the round is complete (a child who turns 15 during the wait is
  asked too, by the sweep on the birthday or when the last parent answers).
- Deadlines (the municipality's settings): `consent_answer_days` (14) to answer, then one
  reminder with `consent_reminder_days` (7) more; then the case closes as "no consent"
  and the referrer is told in the referral's MedCom thread. A refusal closes it the same
  way (the referrer is told only that there is no consent, not who refused).
- Complete: all required people gave consent → the case moves to the committee.
- Validity: each person's consent lapses after `consent_validity_days`, at most one year.
  Thirty days before, the lead professional is told and a renewal round is sent. When it
  lapses, the gate is closed; if the renewal was refused or went unanswered, the case
  closes (no consent can be had), otherwise it waits for the renewal.
- Withdrawal (by the person's link or by staff on their request): every consent of the
  case ends at once, the case closes (reason "consent_withdrawn"), the team is told;
  the referrer is not (no more exchange with other parties). History stays readable to
  those who had access.

Concurrency: every service that acts on a case locks the case row first
(`cases.services.lock_case`) and then checks the gate; withdrawal takes the same lock, so
a withdrawal and a write serialize, and a write that waited for the withdrawal sees it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.cases import notify
from tovholder.cases.models import Case, CaseTeamMember, ClosedReason, Stage, TeamRole
from tovholder.cases.services import StaleCase, case_transition, lock_case
from tovholder.children.models import CustodyHolder
from tovholder.consent import texts
from tovholder.consent.models import (
    Capacity,
    ConsentLink,
    ConsentRequest,
    ConsentRound,
    ConsentText,
    How,
)
from tovholder.consent.pdf import declaration_pdf
from tovholder.deadlines.services import case_refresh_deadline
from tovholder.deadlines.workdays import local_date
from tovholder.letters.backends import site_url
from tovholder.letters.models import Letter
from tovholder.letters.services import Recipient, letter_queue
from tovholder.letters.tokens import looks_like_token, new_token, token_hash
from tovholder.organisations.models import Membership, Municipality, Unit, User

CHILD_CONSENT_AGE = 15
RENEWAL_NOTICE_DAYS = 30
MAX_SCAN_BYTES = 10 * 1024 * 1024
SCAN_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/tiff"}
BASIS_FAMILY = "family"
BASIS_SYSTEM = "system"
Q = ConsentRequest.Status
R = ConsentRound.Status


class ConsentClosed(ValidationError):
    """The request can no longer be answered (case closed, already answered, lapsed)."""


# --- Who must consent -------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    key: str
    capacity: str
    name: str
    channel: str
    holder: CustodyHolder | None = None


def required_people(case: Case, day: dt.date) -> list[Person]:
    """Every custody holder now, and the child if 15 or older on `day`."""
    people = [
        Person(key=f"holder:{h.pk}", capacity=Capacity.CUSTODY_HOLDER, name=h.name, holder=h,
               channel=ConsentRequest.Channel.DIGITAL if h.has_digital_post else ConsentRequest.Channel.PAPER)
        for h in case.child.custody_holders.filter(ended_at__isnull=True)
    ]
    if case.child.age_on(day) >= CHILD_CONSENT_AGE:
        people.append(Person(key="child", capacity=Capacity.CHILD, name=case.child.full_name,
                             channel=ConsentRequest.Channel.DIGITAL))
    return people


def fifteen_cutoff(day: dt.date) -> dt.date:
    """The latest birth date of a child who is 15 on `day` (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - CHILD_CONSENT_AGE)
    except ValueError:
        return dt.date(day.year - CHILD_CONSENT_AGE, 2, 28)


def consent_lapses_on(municipality: Municipality, given_on: dt.date) -> dt.date:
    """The day a consent given on `given_on` lapses: the municipality's validity, at most a year."""
    try:
        anniversary = given_on.replace(year=given_on.year + 1)
    except ValueError:  # given on 29 February
        anniversary = dt.date(given_on.year + 1, 3, 1)
    return min(given_on + dt.timedelta(days=municipality.consent_validity_days), anniversary)


# --- Texts ------------------------------------------------------------------------------------

@transaction.atomic
def consent_text_publish(
    *, actor: Actor, municipality: Municipality, body_template: str, parties: list[dict], contact: str,
    valid_from: dt.date, basis: str = "administrator",
) -> ConsentText:
    """A new version of a municipality's consent text. Consents already given keep theirs."""
    kinds = {p.get("kind") for p in parties}
    if not parties or not kinds <= {"committee", "bua", "paediatric_ward", "gp_practice"}:
        raise ValidationError("Parterne skal være en eller flere af: koordinationsudvalget, BUA, "
                              "børneafdelingen og egen læge.")
    if any(not str(p.get("label", "")).strip() for p in parties):
        raise ValidationError("Hver part skal have et navn.")
    if "{barn}" not in body_template:
        raise ValidationError("Teksten skal nævne barnet ({barn}).")
    Municipality.objects.select_for_update().get(pk=municipality.pk)
    last = ConsentText.objects.filter(municipality=municipality).order_by("-version").first()
    text = ConsentText(
        municipality=municipality, version=(last.version + 1) if last else 1, body_template=body_template,
        parties=[{"kind": p["kind"], "label": str(p["label"]).strip()} for p in parties],
        contact=contact.strip(), valid_from=valid_from, created_by=actor.label[:150],
    )
    text.full_clean()
    text.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, obj=text,
                 summary=f"Samtykketekst version {text.version} for {municipality}")
    return text


def consent_text_current(*, municipality: Municipality, day: dt.date | None = None) -> ConsentText:
    """The version in force on `day`; the municipality's first version is made from the
    defaults (seed 001, appendix 3) when it has none."""
    day = day or timezone.localdate()
    text = (ConsentText.objects.filter(municipality=municipality, valid_from__lte=day)
            .order_by("-version").first())
    if text is None:
        text = ConsentText.objects.filter(municipality=municipality).order_by("version").first()
    if text is None:
        text = consent_text_publish(
            actor=Actor(system="consent:default_text"), municipality=municipality,
            body_template=texts.DEFAULT_TEMPLATE, parties=texts.default_parties(municipality),
            contact=texts.default_contact(municipality), valid_from=dt.date(2000, 1, 1), basis=BASIS_SYSTEM,
        )
    return text


def declaration_for(request: ConsentRequest) -> str:
    return texts.render_text(request.text, child_name=request.case.child.full_name)


# --- Requests and their letters ---------------------------------------------------------------

def _referrer_name(case: Case) -> str:
    if case.referrer_unit is None:
        return "en fagperson"
    if case.referrer_unit.kind == Unit.Kind.GP_PRACTICE:
        return f"egen læge ({case.referrer_unit.name})"
    return case.referrer_unit.name


def _recipient(request: ConsentRequest) -> Recipient:
    if request.capacity == Capacity.CHILD:
        return Recipient.young_person(request.case.child)
    recipient = Recipient.holder(request.custody_holder)
    return Recipient(kind=recipient.kind, name=recipient.name, channel=request.channel,
                     custody_holder=request.custody_holder)


def _send(actor: Actor, request: ConsentRequest, *, step: str, subject: str, body: str) -> Letter:
    """One letter about one request; `step` makes it unique (never sent twice)."""
    paper = request.channel == ConsentRequest.Channel.PAPER
    attachments = ()
    if paper and step in ("request", "reminder", "renewal"):
        pdf = declaration_pdf(declaration=declaration_for(request), person_name=request.person_name,
                              capacity_label=request.get_capacity_display(), reference=request.case.reference)
        attachments = (("samtykkeerklaering.pdf", "application/pdf", pdf),)
    with_link = "[[LINK]]" in body
    return letter_queue(
        actor=actor, case=request.case, recipient=_recipient(request), subject=subject, body=body,
        reason=f"consent_{step}", link_kind="consent" if with_link else "", link_ref=request.pk if with_link else None,
        dedupe_key=f"consent:{request.pk}:{step}", attachments=attachments,
    )


def _send_request_letter(actor: Actor, request: ConsentRequest) -> Letter:
    case = request.case
    paper = request.channel == ConsentRequest.Channel.PAPER
    if request.round.kind == ConsentRound.Kind.RENEWAL:
        previous = _valid_round(case, timezone.localdate())
        expires = previous.expires_on if previous else request.answer_due
        subject, body = texts.renewal_letter(
            municipality=case.municipality.name, child_name=case.child.full_name, expires=expires,
            due=request.answer_due, capacity=request.capacity, paper=paper)
        return _send(actor, request, step="renewal", subject=subject, body=body)
    subject, body = texts.request_letter(
        municipality=case.municipality.name, referrer=_referrer_name(case), child_name=case.child.full_name,
        due=request.answer_due, capacity=request.capacity, paper=paper)
    return _send(actor, request, step="request", subject=subject, body=body)


def _ensure_requests(actor: Actor, consent_round: ConsentRound, case: Case, *, send: bool = True,
                     at: dt.datetime | None = None) -> list[ConsentRequest]:
    """Give every person required today a request in the round (and their letter); cancel
    requests of custody holders who no longer hold custody. Returns the new requests."""
    at = at or timezone.now()
    day = local_date(at)
    people = required_people(case, day)
    existing = {r.person_key: r for r in consent_round.requests.defer("scan")}
    added = []
    for person in people:
        if person.key in existing:
            continue
        request = ConsentRequest(
            round=consent_round, case=case, capacity=person.capacity, custody_holder=person.holder,
            person_key=person.key, person_name=person.name, channel=person.channel, text=consent_round.text,
            requested_at=at, answer_due=day + dt.timedelta(days=case.municipality.consent_answer_days),
        )
        request.full_clean(exclude=["round", "case", "text", "custody_holder"])
        request.save()
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=BASIS_SYSTEM, case=case, obj=request,
                     summary=f"Samtykke anmodet fra {person.name} ({request.get_capacity_display().lower()}), "
                             f"svarfrist {request.answer_due:%d.%m.%Y}")
        if send:
            _send_request_letter(actor, request)
        added.append(request)
    still = {p.key for p in people}
    for key, request in existing.items():
        if key.startswith("holder:") and key not in still and request.status == Q.PENDING:
            request.status = Q.CANCELLED
            request.version += 1
            request.save(update_fields=["status", "version"])
            audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=BASIS_SYSTEM, case=case,
                         obj=request, summary=f"{request.person_name} har ikke længere forældremyndighed: "
                                              "samtykke ikke længere påkrævet")
    return added


def _new_round(actor: Actor, case: Case, kind: str, *, at: dt.datetime | None = None) -> ConsentRound:
    at = at or timezone.now()
    number = (case.consent_rounds.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    consent_round = ConsentRound(case=case, number=number, kind=kind, started_at=at,
                                 text=consent_text_current(municipality=case.municipality, day=local_date(at)))
    consent_round.full_clean(exclude=["case", "text"])
    consent_round.save()
    label = "Samtykke anmodet" if kind == ConsentRound.Kind.INITIAL else "Fornyelse af samtykke anmodet"
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=BASIS_SYSTEM, case=case, obj=consent_round,
                 summary=f"{label} (tekst version {consent_round.text.version})")
    return consent_round


@transaction.atomic
def consent_request_start(*, actor: Actor, case: Case) -> ConsentRound:
    """Called by the inbox right after it opens a case: work out who must consent and send
    each of them their request. Calling it again sends requests only to people who became
    required since (a custody holder added later); nothing is sent twice."""
    case = lock_case(case)
    if case.stage != Stage.AWAITING_CONSENT:
        raise ValidationError("Forløbet afventer ikke samtykke.")
    consent_round = case.consent_rounds.filter(kind=ConsentRound.Kind.INITIAL).first()
    if consent_round is None:
        consent_round = _new_round(actor, case, ConsentRound.Kind.INITIAL)
    elif consent_round.status != R.OPEN:
        raise ValidationError("Anmodningen om samtykke er allerede afsluttet.")
    _ensure_requests(actor, consent_round, case)
    case_refresh_deadline(case=case)
    return consent_round


@transaction.atomic
def consent_renewal_start(*, actor: Actor, case: Case, basis: str = BASIS_SYSTEM) -> ConsentRound:
    """Ask the family to renew (30 days before expiry by the sweep, or by staff)."""
    case = lock_case(case)
    if not case.is_open or case.stage == Stage.AWAITING_CONSENT:
        raise ValidationError("Samtykket kan kun fornys i et igangværende forløb.")
    current = case.consent_rounds.filter(status=R.OPEN).first()
    if current is not None:
        return current
    consent_round = _new_round(actor, case, ConsentRound.Kind.RENEWAL)
    _ensure_requests(actor, consent_round, case)
    case_refresh_deadline(case=case)
    return consent_round


# --- Completion and closing -------------------------------------------------------------------

def _valid_round(case: Case, day: dt.date) -> ConsentRound | None:
    return (ConsentRound.objects.filter(case=case, status=R.COMPLETE, expires_on__gt=day)
            .order_by("-expires_on").first())


def _try_complete(actor: Actor, consent_round: ConsentRound, case: Case, *, at: dt.datetime | None = None,
                  send: bool = True) -> bool:
    if consent_round.status != R.OPEN:
        return False
    if _ensure_requests(actor, consent_round, case, at=at, send=send):
        return False  # someone became required (the child turned 15): wait for them
    requests = list(consent_round.requests.exclude(status=Q.CANCELLED).defer("scan"))
    if not requests or any(r.status != Q.GIVEN for r in requests):
        return False
    at = at or timezone.now()
    consent_round.status = R.COMPLETE
    consent_round.completed_at = at
    consent_round.expires_on = min(r.expires_on for r in requests)
    consent_round.save(update_fields=["status", "completed_at", "expires_on"])
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=BASIS_SYSTEM, case=case, obj=consent_round,
                 summary=f"Samtykke komplet; gælder til {consent_round.expires_on:%d.%m.%Y}")
    if consent_round.kind == ConsentRound.Kind.INITIAL and case.stage == Stage.AWAITING_CONSENT:
        case_transition(actor=actor, basis=BASIS_SYSTEM, case=case, to=Stage.AWAITING_COMMITTEE, at=at,
                        summary="Samtykke komplet: klar til koordinationsudvalget")
    elif consent_round.kind == ConsentRound.Kind.RENEWAL:
        notify.tell_staff(actor=actor, case=case, users=_lead_or_keepers(case), url=_case_url(case),
                          text=f"Samtykket er fornyet og gælder nu til {consent_round.expires_on:%d.%m.%Y}.")
    return True


def _case_url(case: Case) -> str:
    return reverse("cases:detail", args=[case.pk])


def _team(case: Case) -> list[User]:
    return [m.user for m in CaseTeamMember.objects.filter(case=case, ended_at__isnull=True).select_related("user")]


def _inbox_keepers(case: Case) -> list[User]:
    members = Membership.objects.active().filter(
        unit__kind=Unit.Kind.SINGLE_ENTRY, unit__municipality=case.municipality_id,
        role=Membership.Role.INBOX_KEEPER).select_related("user")
    return [m.user for m in members]


def _lead_or_keepers(case: Case) -> list[User]:
    lead = (CaseTeamMember.objects.filter(case=case, role=TeamRole.LEAD, ended_at__isnull=True)
            .select_related("user").first())
    return [lead.user] if lead else _inbox_keepers(case)


def _team_or_keepers(case: Case) -> list[User]:
    return _team(case) or _inbox_keepers(case)


def _end_rounds(case: Case, *, status: str, at: dt.datetime, complete_too: bool = False) -> None:
    """End the round being collected (and, on withdrawal, the consent in force too);
    pending requests in them end with it."""
    rounds = ConsentRound.objects.filter(case=case, status__in=[R.OPEN, R.COMPLETE] if complete_too else [R.OPEN])
    pending_status = Q.LAPSED if status == R.LAPSED else Q.CANCELLED
    ConsentRequest.objects.filter(round__in=rounds, status=Q.PENDING).update(status=pending_status)
    rounds.update(status=status, closed_at=at)


def _close_case(actor: Actor, case: Case, *, reason: str, tell_referrer: bool, at: dt.datetime) -> None:
    """Close the case for lack of consent: the referrer (MedCom reply in the referral's
    thread) and the family are told."""
    if not case.is_open:
        return
    case_transition(actor=actor, basis=BASIS_SYSTEM, case=case, to=Stage.CLOSED, closed_reason=reason, at=at,
                    summary=f"Afsluttet: {ClosedReason(reason).label}")
    name = case.child.full_name
    if tell_referrer:
        notify.tell_referrer(actor=actor, case=case, reason="no_consent",
                             text=texts.referrer_no_consent_text(municipality=case.municipality.name,
                                                                 child_name=name))
    subject, body = texts.closed_letter(municipality=case.municipality.name, child_name=name, reason=reason)
    notify.tell_family(actor=actor, case=case, subject=subject, body=body, reason=f"consent_closed_{reason}")


# --- Answers ----------------------------------------------------------------------------------

def _locked_request(request: ConsentRequest | int) -> tuple[Case, ConsentRequest]:
    pk = request.pk if isinstance(request, ConsentRequest) else request
    case_id = ConsentRequest.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise ConsentRequest.DoesNotExist
    case = lock_case(case_id)  # the case first, always: the same order as every other service
    locked = (ConsentRequest.objects.select_for_update(of=("self",)).select_related("round", "text", "custody_holder")
              .defer("scan").get(pk=pk))
    locked.case = case
    return case, locked


@transaction.atomic
def consent_answer(
    *,
    actor: Actor,
    request: ConsentRequest | int,
    give: bool,
    how: str = How.DIGITAL,
    basis: str = BASIS_FAMILY,
    registered_by: User | None = None,
    signed_on: dt.date | None = None,
    scan: tuple[str, str, bytes] | None = None,
    expected_version: int | None = None,
    at: dt.datetime | None = None,
) -> ConsentRequest:
    """Record one person's answer. The same answer twice is a no-op (double click)."""
    case, req = _locked_request(request)
    if expected_version is not None and req.version != expected_version:
        raise StaleCase("Samtykket er ændret af en anden, mens du arbejdede. Indlæs siden igen.")
    wanted = Q.GIVEN if give else Q.REFUSED
    if req.status == wanted:
        return req
    if not case.is_open:
        raise ConsentClosed("Sagen er afsluttet, så der skal ikke længere svares på samtykket.")
    if req.status != Q.PENDING or req.round.status != R.OPEN:
        raise ConsentClosed("Der er allerede svaret på denne anmodning, eller den er ikke længere aktuel.")
    at = at or timezone.now()
    req.status = wanted
    req.answered_at = at
    req.answered_how = how
    req.registered_by = registered_by
    req.signed_on = signed_on
    if scan is not None:
        req.scan_name, req.scan_content_type, req.scan = scan[0][:200], scan[1][:100], scan[2]
    if give:
        req.expires_on = consent_lapses_on(case.municipality, signed_on or local_date(at))
    req.version += 1
    req.save()
    verb = "givet" if give else "afvist"
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=req,
                 summary=f"Samtykke {verb} af {req.person_name} ({req.get_capacity_display().lower()}), "
                         f"{How(how).label.lower()}, tekst version {req.text.version}")
    consent_round = req.round
    if give:
        subject, body = texts.receipt_letter(municipality=case.municipality.name,
                                             declaration=declaration_for(req), expires=req.expires_on)
        _send(actor, req, step="receipt", subject=subject, body=body)
        _try_complete(actor, consent_round, case, at=at)
    elif consent_round.kind == ConsentRound.Kind.INITIAL:
        _end_rounds(case, status=R.REFUSED, at=at)
        _close_case(actor, case, reason=ClosedReason.CONSENT_REFUSED, tell_referrer=True, at=at)
    else:
        # A refused renewal: the consent in force runs to its end, then the case closes.
        _end_rounds(case, status=R.REFUSED, at=at)
        notify.tell_staff(actor=actor, case=case, users=_lead_or_keepers(case), url=_case_url(case),
                          text=f"{req.person_name} har ikke fornyet samtykket. Forløbet kan kun behandles, "
                               "indtil det nuværende samtykke udløber.")
    case_refresh_deadline(case=lock_case(case))
    return req


@transaction.atomic
def consent_register_paper(
    *, actor: Actor, basis: str, request: ConsentRequest | int, give: bool, signed_on: dt.date,
    scan: tuple[str, str, bytes], expected_version: int | None = None,
) -> ConsentRequest:
    """Staff register an answer that came on paper, with the scanned copy."""
    name, content_type, content = scan
    if not content:
        raise ValidationError("Vedhæft den scannede erklæring.")
    if len(content) > MAX_SCAN_BYTES:
        raise ValidationError("Den scannede erklæring må højst fylde 10 MB.")
    if content_type not in SCAN_TYPES:
        raise ValidationError("Den scannede erklæring skal være PDF, JPEG, PNG eller TIFF.")
    if signed_on > timezone.localdate():
        raise ValidationError("Underskriftsdatoen kan ikke ligge i fremtiden.")
    if actor.user is None:
        raise ValidationError("Et papirsvar registreres af en medarbejder.")
    current = ConsentRequest.objects.filter(pk=getattr(request, "pk", request)).values_list("requested_at", flat=True).first()
    if current is not None and signed_on < local_date(current) - dt.timedelta(days=1):
        raise ValidationError("Underskriftsdatoen ligger før anmodningen blev sendt.")
    return consent_answer(actor=actor, request=request, give=give, how=How.PAPER, basis=basis,
                          registered_by=actor.user, signed_on=signed_on, scan=scan,
                          expected_version=expected_version)


# --- Withdrawal -------------------------------------------------------------------------------

@transaction.atomic
def consent_withdraw(
    *, actor: Actor, request: ConsentRequest | int, how: str = How.DIGITAL, basis: str = BASIS_FAMILY,
    note: str = "", expected_version: int | None = None,
) -> ConsentRequest:
    """Withdraw a given consent, in one step. Every consent of the case ends at once and
    the case closes; the team is told. Withdrawing twice is a no-op."""
    case, req = _locked_request(request)
    if req.status == Q.WITHDRAWN:
        return req
    if expected_version is not None and req.version != expected_version:
        raise StaleCase("Samtykket er ændret af en anden, mens du arbejdede. Indlæs siden igen.")
    if req.status != Q.GIVEN:
        raise ConsentClosed("Der er ikke noget givet samtykke at trække tilbage.")
    at = timezone.now()
    req.status = Q.WITHDRAWN
    req.withdrawn_at = at
    req.withdrawn_how = how
    req.withdrawn_by = actor.user
    req.withdrawal_note = note[:300]
    req.version += 1
    req.save(update_fields=["status", "withdrawn_at", "withdrawn_how", "withdrawn_by", "withdrawal_note",
                            "version"])
    ConsentRequest.objects.filter(case=case, person_key=req.person_key, status=Q.GIVEN).update(
        status=Q.WITHDRAWN, withdrawn_at=at, withdrawn_how=how, withdrawn_by=actor.user)
    _end_rounds(case, status=R.WITHDRAWN, at=at, complete_too=True)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, basis=basis, case=case, obj=req,
                 summary=f"Samtykke trukket tilbage af {req.person_name} ({How(how).label.lower()})"
                         + (f": {note[:120]}" if note else ""))
    # Tell the people on the case before closing it, while their roles are current.
    notify.tell_staff(
        actor=actor, case=case, users=_team_or_keepers(case), url=_case_url(case),
        text=f"{req.person_name} har trukket samtykket tilbage. Der må ikke behandles mere i forløbet; "
             "historikken kan stadig læses.")
    if case.is_open:
        _close_case(actor, case, reason=ClosedReason.CONSENT_WITHDRAWN, tell_referrer=False, at=at)
    return req


@transaction.atomic
def consent_withdraw_on_request(
    *, actor: Actor, basis: str, request: ConsentRequest | int, note: str, expected_version: int | None = None,
) -> ConsentRequest:
    """Staff withdraw a consent because the person asked them to (phone, letter, meeting)."""
    if not note.strip():
        raise ValidationError("Skriv, hvordan og hvornår personen bad om at trække samtykket tilbage.")
    return consent_withdraw(actor=actor, request=request, how=How.STAFF, basis=basis, note=note.strip(),
                            expected_version=expected_version)


# --- Personal links ---------------------------------------------------------------------------

def link_lifetime(municipality: Municipality) -> dt.timedelta:
    """A link works while it may be needed: to answer (with the reminder) and to withdraw
    for as long as the consent can last."""
    return dt.timedelta(days=municipality.consent_answer_days + municipality.consent_reminder_days
                        + min(municipality.consent_validity_days, 366) + 1)


def consent_link_mint(letter: Letter) -> str:
    """The letters' link minter for "consent": a fresh token for the letter's request."""
    request = ConsentRequest.objects.select_related("case__municipality").defer("scan").get(pk=letter.link_ref)
    token = new_token()
    ConsentLink.objects.create(request=request, token_hash=token_hash(token),
                               expires_at=timezone.now() + link_lifetime(request.case.municipality))
    return site_url(reverse("consent:link", args=[token]))


def request_for_token(token: str) -> ConsentRequest | None:
    """The request a personal link opens, or None (wrong, unknown or expired link)."""
    if not looks_like_token(token):
        return None
    link = (ConsentLink.objects.filter(token_hash=token_hash(token), expires_at__gt=timezone.now())
            .select_related("request__case__child", "request__case__municipality", "request__round",
                            "request__text__municipality", "request__custody_holder")
            .defer("request__scan").first())
    if link is None:
        return None
    ConsentLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    return link.request


def family_actor(request: ConsentRequest) -> Actor:
    who = f"holder:{request.custody_holder_id}" if request.custody_holder_id else f"child:{request.case.child_id}"
    return Actor(system=f"family:{who}")


# --- The background sweep ---------------------------------------------------------------------

SWEEP = Actor.job("consent_sweep")


def consent_sweep(*, limit: int = 200) -> int:
    """Birthdays, reminders, lapses, expiry notices and expiry: each step claims its row
    with a conditional UPDATE or re-checks under the case lock, so running twice (or two
    workers at once) does everything exactly once."""
    today = timezone.localdate()
    done = 0
    for pk in (ConsentRound.objects.filter(status=R.OPEN, case__child__birth_date__lte=fifteen_cutoff(today))
               .exclude(requests__person_key="child").values_list("pk", flat=True)[:limit]):
        done += _sweep_birthday(pk)
    for pk in (ConsentRequest.objects.filter(status=Q.PENDING, reminded_at__isnull=True, answer_due__lt=today,
                                             round__status=R.OPEN).values_list("pk", flat=True)[:limit]):
        done += _sweep_remind(pk)
    for pk in (ConsentRound.objects.filter(status=R.OPEN, requests__status=Q.PENDING,
                                           requests__final_due__lt=today)
               .values_list("pk", flat=True).distinct()[:limit]):
        done += _sweep_lapse(pk)
    for pk in (ConsentRound.objects.filter(status=R.COMPLETE, renewal_requested_at__isnull=True,
                                           expires_on__lte=today + dt.timedelta(days=RENEWAL_NOTICE_DAYS))
               .exclude(case__stage=Stage.CLOSED).values_list("pk", flat=True)[:limit]):
        done += _sweep_renewal(pk)
    for pk in (ConsentRound.objects.filter(status=R.COMPLETE, expiry_handled_at__isnull=True,
                                           expires_on__lte=today).values_list("pk", flat=True)[:limit]):
        done += _sweep_expiry(pk)
    return done


def _locked_round(pk: int) -> tuple[Case, ConsentRound]:
    case = lock_case(ConsentRound.objects.values_list("case_id", flat=True).get(pk=pk))
    return case, ConsentRound.objects.select_for_update(of=("self",)).select_related("text").get(pk=pk)


@transaction.atomic
def _sweep_birthday(pk: int) -> int:
    case, consent_round = _locked_round(pk)
    if consent_round.status != R.OPEN:
        return 0
    added = _ensure_requests(SWEEP, consent_round, case)
    if added:
        case_refresh_deadline(case=case)
    return len(added)


@transaction.atomic
def _sweep_remind(pk: int) -> int:
    case = lock_case(ConsentRequest.objects.values_list("case_id", flat=True).get(pk=pk))
    now = timezone.now()
    final_due = local_date(now) + dt.timedelta(days=case.municipality.consent_reminder_days)
    claimed = ConsentRequest.objects.filter(
        pk=pk, status=Q.PENDING, reminded_at__isnull=True, round__status=R.OPEN,
    ).update(reminded_at=now, final_due=final_due)
    if claimed != 1:
        return 0
    req = ConsentRequest.objects.select_related("round", "custody_holder").defer("scan").get(pk=pk)
    req.case = case
    subject, body = texts.reminder_letter(
        municipality=case.municipality.name, child_name=case.child.full_name, due=final_due,
        capacity=req.capacity, paper=req.channel == ConsentRequest.Channel.PAPER)
    _send(SWEEP, req, step="reminder", subject=subject, body=body)
    audit_record(actor=SWEEP, action=AuditEvent.Action.CHANGE, basis=BASIS_SYSTEM, case=case, obj=req,
                 summary=f"Påmindelse om samtykke sendt til {req.person_name}; ny frist {final_due:%d.%m.%Y}")
    case_refresh_deadline(case=case)
    return 1


@transaction.atomic
def _sweep_lapse(pk: int) -> int:
    case, consent_round = _locked_round(pk)
    today = timezone.localdate()
    if consent_round.status != R.OPEN:
        return 0
    if not consent_round.requests.filter(status=Q.PENDING, final_due__lt=today).exists():
        return 0
    now = timezone.now()
    if consent_round.kind == ConsentRound.Kind.INITIAL:
        _end_rounds(case, status=R.LAPSED, at=now)
        audit_record(actor=SWEEP, action=AuditEvent.Action.CHANGE, basis=BASIS_SYSTEM, case=case,
                     obj=consent_round, summary="Intet svar på samtykke inden fristen efter påmindelse")
        _close_case(SWEEP, case, reason=ClosedReason.NO_CONSENT, tell_referrer=True, at=now)
        return 1
    valid = _valid_round(case, today)
    _end_rounds(case, status=R.LAPSED, at=now)
    audit_record(actor=SWEEP, action=AuditEvent.Action.CHANGE, basis=BASIS_SYSTEM, case=case, obj=consent_round,
                 summary="Intet svar på fornyelse af samtykke inden fristen")
    if valid is None:
        _close_case(SWEEP, case, reason=ClosedReason.NO_CONSENT, tell_referrer=True, at=now)
    else:
        notify.tell_staff(actor=SWEEP, case=case, users=_lead_or_keepers(case), url=_case_url(case),
                          text=f"Familien har ikke svaret på fornyelsen af samtykket. Det nuværende samtykke "
                               f"udløber {valid.expires_on:%d.%m.%Y}; derefter afsluttes forløbet.")
    case_refresh_deadline(case=case)
    return 1


@transaction.atomic
def _sweep_renewal(pk: int) -> int:
    case, consent_round = _locked_round(pk)
    claimed = ConsentRound.objects.filter(pk=pk, status=R.COMPLETE, renewal_requested_at__isnull=True).update(
        renewal_requested_at=timezone.now())
    if claimed != 1 or not case.is_open:
        return 0
    later = ConsentRound.objects.filter(case=case, number__gt=consent_round.number).exists()
    if later:
        return 0  # already renewed (or being renewed) by hand
    consent_renewal_start(actor=SWEEP, case=case)
    notify.tell_staff(actor=SWEEP, case=case, users=_lead_or_keepers(case), url=_case_url(case),
                      text=f"Samtykket udløber {consent_round.expires_on:%d.%m.%Y}. Familien er bedt om at "
                           "forny det.")
    return 1


@transaction.atomic
def _sweep_expiry(pk: int) -> int:
    case, consent_round = _locked_round(pk)
    claimed = ConsentRound.objects.filter(pk=pk, status=R.COMPLETE, expiry_handled_at__isnull=True).update(
        expiry_handled_at=timezone.now())
    if claimed != 1 or not case.is_open:
        return 0
    today = timezone.localdate()
    if _valid_round(case, today) is not None:
        return 1  # renewed in time: nothing lapses
    audit_record(actor=SWEEP, action=AuditEvent.Action.CHANGE, basis=BASIS_SYSTEM, case=case, obj=consent_round,
                 summary=f"Samtykket er udløbet ({consent_round.expires_on:%d.%m.%Y})")
    if case.consent_rounds.filter(status=R.OPEN).exists():
        notify.tell_staff(actor=SWEEP, case=case, users=_lead_or_keepers(case), url=_case_url(case),
                          text="Samtykket er udløbet og endnu ikke fornyet. Intet må behandles i forløbet, "
                               "før familien har fornyet det.")
    else:
        refused = case.consent_rounds.filter(kind=ConsentRound.Kind.RENEWAL).order_by("-number").first()
        reason = (ClosedReason.CONSENT_REFUSED if refused and refused.status == R.REFUSED
                  else ClosedReason.NO_CONSENT)
        notify.tell_staff(actor=SWEEP, case=case, users=_team_or_keepers(case), url=_case_url(case),
                          text="Samtykket er udløbet uden at være fornyet. Forløbet er afsluttet.")
        _close_case(SWEEP, case, reason=reason, tell_referrer=True, at=timezone.now())
    case_refresh_deadline(case=case)
    return 1
