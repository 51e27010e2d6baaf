"""The case audit: one case's whole history — its facts, milestones and deadlines, the
people who had a role, every contact (letters, messages, meetings, decisions, referrals)
and every event of the audit trail — as tables for the page and the export."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from tovholder.audit.models import AuditEvent
from tovholder.cases.models import Case, CaseTeamMember
from tovholder.deadlines.milestones import case_milestones
from tovholder.insight.tables import Column, Table

log = logging.getLogger(__name__)
# The report lists at most this many events (the audit page pages through all of them).
MAX_EVENTS = 5000


def _when(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%d.%m.%Y %H:%M")
    return value.strftime("%d.%m.%Y")


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def facts(case: Case) -> Table:
    rows = [
        [_("Reference"), case.reference],
        [_("Kommune"), case.municipality.name],
        [_("Fase"), case.get_stage_display()],
        [_("Årsag til afslutning"), case.get_closed_reason_display() if case.closed_reason else ""],
        [_("Henvisningsvej"), case.get_referral_channel_display()],
        [_("Henviser"), case.referrer_unit.name if case.referrer_unit else ""],
        [_("Genhenvisning"), _("ja") if case.is_re_referral else _("nej")],
        [_("Oprettet"), _when(case.opened_at)],
        [_("Samtykke komplet"), _when(case.consent_completed_at)],
        [_("Afgjort i koordinationsudvalget"), _when(case.committee_decided_at)],
        [_("Afsluttet"), _when(case.closed_at)],
        [_("Undtaget fra tidsfrister"), case.exemption_reason if case.exempt_from_deadlines else _("nej")],
    ]
    return Table(key="forloeb", title=_("Forløbet"), description=_("Forløbets stamdata og datoer."),
                 columns=[Column("what", _("Oplysning"), "label"), Column("value", _("Værdi"), "text")],
                 rows=[[str(a), str(b)] for a, b in rows])


def milestones(case: Case, today: dt.date) -> Table:
    rows = []
    for m in case_milestones(case, today):
        rows.append([m.label, _when(m.due), _when(m.met_on), m.status_label(today), m.explanation])
    return Table(key="frister", title=_("Milepæle og tidsfrister"),
                 description=_("Hver milepæl med frist, dato for opfyldelse, status i dag og en evt. skriftlig "
                               "forklaring på en overskredet frist."),
                 columns=[Column("clock", _("Milepæl"), "label"), Column("due", _("Frist"), "text"),
                          Column("met", _("Opfyldt"), "text"), Column("status", _("Status"), "text"),
                          Column("explanation", _("Forklaring"), "text")],
                 rows=rows)


def roles(case: Case) -> Table:
    rows = [[str(m.user), m.unit.name, m.get_role_display(), _when(m.started_at), _when(m.ended_at)]
            for m in CaseTeamMember.objects.filter(case=case).select_related("user", "unit").order_by("started_at", "pk")]
    return Table(key="roller", title=_("Roller i forløbet"),
                 description=_("Alle, der har haft en rolle i forløbet, også dem, hvis rolle er ophørt."),
                 columns=[Column("who", _("Hvem"), "label"), Column("unit", _("Enhed"), "text"),
                          Column("role", _("Rolle"), "text"), Column("from", _("Fra"), "text"),
                          Column("to", _("Til"), "text")],
                 rows=rows)


def _contacts_sources(case: Case) -> list[tuple[str, Callable[[], list[tuple]]]]:
    """(name, rows()) per kind of contact; each row is (moment, kind, with whom, what)."""
    sources = []
    Letter = _model("letters.Letter")
    if Letter is not None:
        sources.append((_("breve"), lambda: [
            (x.sent_at or x.created_at, _("Brev"), x.recipient_name, f"{x.subject} ({x.get_status_display()})")
            for x in Letter.objects.filter(case=case)]))
    ConsentRequest = _model("consent.ConsentRequest")
    if ConsentRequest is not None:
        sources.append((_("samtykker"), lambda: [
            (x.requested_at, _("Anmodning om samtykke"), x.person_name,
             f"{x.get_channel_display()}: {x.get_status_display()}") for x in ConsentRequest.objects.filter(case=case)]))
    Thread = _model("inbox.Thread")
    if Thread is not None:
        sources.append((_("indgangen"), lambda: [
            (x.started_at, _("Henvendelse/tråd i indgangen"), x.referrer_label, x.get_channel_display())
            for x in Thread.objects.filter(case=case).select_related("referrer_unit")]))
    Outbound = _model("inbox.OutboundMessage")
    if Outbound is not None:
        sources.append((_("udgående beskeder"), lambda: [
            (x.created_at, _("MedCom-besked sendt"), x.receiver_name, f"{x.reason} ({x.get_status_display()})")
            for x in Outbound.objects.filter(case=case)]))
    AgendaItem = _model("committee.AgendaItem")
    Decision = _model("committee.CommitteeDecision")
    if AgendaItem is not None and Decision is not None:
        sources.append((_("udvalget"), lambda: [
            (x.decided_at, _("Koordinationsudvalgets afgørelse"), _("Koordinationsudvalget"), x.get_kind_display())
            for x in Decision.objects.filter(item__case=case)]))
    Meeting = _model("pathway.Meeting")
    if Meeting is not None:
        sources.append((_("møder"), lambda: [
            (x.starts_at, x.get_kind_display(), f"{x.participants.count()} {_('inviterede')}", x.get_status_display())
            for x in Meeting.objects.filter(pathway__case=case)]))
    Subject = _model("consultation.ConsultationSubject")
    if Subject is not None:
        sources.append((_("sparring"), lambda: [
            (x.consultation.asked_at, _("Sparring"), x.consultation.advising_unit.name,
             x.consultation.get_status_display())
            for x in Subject.objects.filter(case=case).select_related("consultation__advising_unit")]))
    Referral = _model("consultation.Referral")
    if Referral is not None:
        sources.append((_("henvisninger"), lambda: [
            (x.sent_at or x.created_at, _("Henvisning videre"), x.receiver_unit.name, x.get_status_display())
            for x in Referral.objects.filter(case=case).select_related("receiver_unit")]))
    Admission = _model("consultation.Admission")
    if Admission is not None:
        sources.append((_("indlæggelser"), lambda: [
            (x.admitted_on, _("Indlæggelse"), x.unit.name, _when(x.discharged_on))
            for x in Admission.objects.filter(case=case).select_related("unit")]))
    return sources


def contacts(case: Case) -> Table:
    rows: list[tuple] = []
    unreadable = []
    for name, read in _contacts_sources(case):
        try:
            rows += read()
        except (FieldError, DatabaseError, AttributeError):
            log.warning("case audit: %s could not be read", name)
            unreadable.append(str(name))

    def key(row):
        moment = row[0]
        if isinstance(moment, dt.datetime):
            return moment
        if isinstance(moment, dt.date):
            return dt.datetime.combine(moment, dt.time.min, tzinfo=timezone.get_current_timezone())
        return dt.datetime.min.replace(tzinfo=dt.UTC)

    rows.sort(key=key)
    return Table(key="kontakter", title=_("Kontakter"),
                 description=_("Breve, anmodninger om samtykke, beskeder, udvalgets afgørelser, møder, sparring, "
                               "henvisninger og indlæggelser i tidsorden."),
                 columns=[Column("when", _("Tidspunkt"), "label"), Column("kind", _("Hvad"), "text"),
                          Column("with", _("Med hvem"), "text"), Column("what", _("Detaljer"), "text")],
                 rows=[[_when(a), str(b), str(c), str(d)] for a, b, c, d in rows],
                 not_recorded=", ".join(unreadable))


def events(case: Case) -> Table:
    qs = (AuditEvent.objects.filter(case=case).select_related("user", "unit").order_by("at", "pk")[:MAX_EVENTS])
    rows = [[_when(e.at), str(e.user) if e.user else e.actor, e.unit.name if e.unit else "", e.get_action_display(),
             e.basis, e.summary + (f" ({e.criterion})" if e.criterion else "")] for e in qs]
    return Table(key="haendelser", title=_("Hændelser (revisionsspor)"),
                 description=_("Alt, der er læst, oprettet, ændret, søgt og eksporteret i forløbet, med hvem, "
                               "hvornår og på hvilket grundlag."),
                 columns=[Column("when", _("Tidspunkt"), "label"), Column("who", _("Hvem"), "text"),
                          Column("unit", _("Enhed"), "text"), Column("action", _("Handling"), "text"),
                          Column("basis", _("Grundlag"), "text"), Column("what", _("Hvad"), "text")],
                 rows=rows)


def case_audit_report(case: Case) -> list[Table]:
    today = timezone.localdate()
    return [facts(case), milestones(case, today), roles(case), contacts(case), events(case)]
