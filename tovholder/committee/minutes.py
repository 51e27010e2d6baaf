"""The short minute the committee sends after each case: drafted from the decision.

Plain text in Danish, written to the family (it goes to the custody holders, the child if
15+, and to the GP as a MedCom reply). It says the conclusion, who the lead professional
is and how to reach them, and what happens next and by when. No CPR number.
"""

from __future__ import annotations

import datetime as dt

from django.utils import formats, translation

from tovholder.cases.models import Case
from tovholder.committee.models import CommitteeDecision, CommitteeMeeting, DecisionKind
from tovholder.deadlines.clocks import Rules
from tovholder.deadlines.workdays import local_date
from tovholder.organisations.models import Unit


def _date(day) -> str:
    return formats.date_format(day, "l \\d. j. F Y")


def _contact_due(decision: CommitteeDecision, rules: Rules) -> dt.date:
    """By when the family hears from whoever acts next, when the decision is not a joint
    pathway (that one has its own start-meeting clock).

    Rule: as many working days after the decision as the municipality promises for the
    committee itself (`committee_working_days`, 8 by default), on the municipality's own
    working-day calendar (public holidays, and Christmas Eve, New Year's Eve and
    Grundlovsdag when its offices close). The same promise of pace, no new setting.
    """
    return rules.calendar.add_working_days(local_date(decision.decided_at), rules.committee_working_days)


def _contact(decision: CommitteeDecision) -> str:
    user, unit = decision.lead_user, decision.unit
    parts = [str(user)]
    if user.title:
        parts.append(user.title)
    if unit is not None and unit.name not in user.title:
        parts.append(unit.name)
    phone = user.phone or (unit.phone if unit else "")
    line = ", ".join(parts)
    if phone:
        return f"{line}. Telefon: {phone}"
    email = (unit.email if unit else "") or user.email
    return f"{line}. E-mail: {email}" if email else line


def _reach(unit: Unit) -> str:
    """The unit's phone and e-mail ("telefon …, e-mail …"); empty when it has neither."""
    bits = []
    if unit.phone:
        bits.append(f"telefon {unit.phone}")
    if unit.email:
        bits.append(f"e-mail {unit.email}")
    return ", ".join(bits)


def _unit_contact(unit: Unit, entry: Unit | None) -> str:
    """The unit and how to reach it; through the single entry when the unit has no phone or
    e-mail of its own here (schools often have none)."""
    reach = _reach(unit)
    if reach:
        return f"{unit.name}, {reach}"
    via = _reach(entry) if entry is not None else ""
    return f"{unit.name} (kontakt dem gennem kommunens indgang: {via})" if via else unit.name


def _entry(case: Case) -> Unit | None:
    return Unit.objects.filter(municipality_id=case.municipality_id, kind=Unit.Kind.SINGLE_ENTRY).first()


def _entry_line(first: str, entry: Unit | None) -> str:
    """The family may come back to the single entry."""
    reach = _reach(entry) if entry is not None else ""
    where = f"kommunens indgang ({reach})" if reach else "kommunens indgang"
    return f"Hvis bekymringen for {first} fortsætter, kan I, skolen eller jeres læge henvende jer til {where} igen."


def draft_minute(*, decision: CommitteeDecision, case: Case, meeting: CommitteeMeeting, rules: Rules) -> str:
    # Families read Danish whatever language the chair's screen is in.
    with translation.override("da"):
        return _draft(decision=decision, case=case, meeting=meeting, rules=rules)


def _draft(*, decision: CommitteeDecision, case: Case, meeting: CommitteeMeeting, rules: Rules) -> str:
    child = case.child
    first = child.given_name
    opening = (f"Koordinationsudvalget i {case.municipality.name} Kommune har på mødet {_date(meeting.scheduled_on)} "
               f"drøftet henvendelsen om {child.full_name}.")
    conclusion = decision.conclusion.strip()
    kind = decision.kind
    entry = _entry(case)
    lines = [opening, ""]
    if kind == DecisionKind.PATHWAY:
        due = rules.start_meeting_due(decision.decided_at)
        lines += [
            f"Udvalget har besluttet at igangsætte et fælles forpligtende forløb for {first}.",
            "",
            f"Konklusion: {conclusion}" if conclusion else "",
            "",
            f"Indsatsansvarlig (tovholder): {_contact(decision)}.",
            "",
            f"Det sker nu: Den indsatsansvarlige indkalder jer og {first} til et igangsætningsmøde, "
            f"som holdes senest {_date(due)}. På mødet laver vi sammen den fælles forpligtende handleplan.",
        ]
    elif kind == DecisionKind.ORDINARY_ROUTE:
        unit, due = decision.unit, _contact_due(decision, rules)
        lines += [
            f"Udvalget har besluttet, at sagen overgår til almindelig kommunal sagsbehandling hos {unit.name}.",
            "",
            f"Konklusion: {conclusion}" if conclusion else "",
            "",
            f"Ansvarlig for sagen nu: {_unit_contact(unit, entry)}.",
            "",
            f"Det sker nu: {unit.name} kontakter jer senest {_date(due)} for at aftale, hvad der skal ske. "
            "Hører I ikke fra dem inden da, så kontakt dem selv.",
        ]
    elif kind == DecisionKind.EVERYDAY_SUPPORT:
        unit, due = decision.unit, _contact_due(decision, rules)
        where = unit.name if unit else "barnets skole eller dagtilbud"
        lines += [
            f"Udvalget vurderer, at {first} bedst hjælpes i hverdagen, og giver råd tilbage til {where}.",
            "",
            f"Konklusion og råd: {conclusion}" if conclusion else "",
            "",
            f"Det sker nu: {where[0].upper()}{where[1:]} kontakter jer senest {_date(due)} og aftaler med jer, "
            "hvordan rådene bruges i hverdagen.",
            f"Kontakt: {_unit_contact(unit, entry)}." if unit else "",
            "",
            _entry_line(first, entry),
        ]
    elif kind == DecisionKind.REFERRED_ON:
        unit, due = decision.unit, _contact_due(decision, rules)
        gp = case.referrer_unit if case.referrer_unit and case.referrer_unit.kind == Unit.Kind.GP_PRACTICE else None
        lines += [
            f"Udvalget anbefaler, at {first} henvises videre til {decision.referred_to}.",
            "",
            f"Konklusion: {conclusion}" if conclusion else "",
            "",
        ]
        if unit is not None:
            # A municipal unit prepares what the referral needs (what was tried, PPR's view):
            # missing municipal information is why many referrals to BUA are rejected.
            lines += [
                f"Det sker nu: {unit.name} forbereder henvisningen og sender senest {_date(due)} kommunens "
                "oplysninger (hvad der er prøvet, og PPR's vurdering) til jeres egen læge, som sender henvisningen.",
                f"Kontakt: {_unit_contact(unit, entry)}.",
            ]
        elif gp is not None:
            phone = f" (telefon {gp.phone})" if gp.phone else ""
            lines += [
                f"Det sker nu: Jeres egen læge, {gp.name}{phone}, modtager dette referat og laver henvisningen. "
                f"Udvalget beder lægen sende den senest {_date(due)}. Kontakt lægen om henvisningen.",
            ]
        else:
            lines += [
                "Det sker nu: Jeres egen læge laver henvisningen. Vis lægen dette referat, så henvisningen "
                f"kan sendes senest {_date(due)}.",
            ]
        reach = _reach(entry) if entry is not None else ""
        if reach:
            lines += ["", f"Har I spørgsmål til udvalgets anbefaling, så kontakt kommunens indgang: {reach}."]
    elif kind == DecisionKind.CONTINUE:
        lines += [
            f"Den indsatsansvarlige bragte forløbet tilbage til udvalget. Forløbet for {first} fortsætter.",
            "",
            f"Konklusion: {conclusion}" if conclusion else "",
        ]
        if decision.lead_user_id:
            due = _contact_due(decision, rules)
            lines += [
                "",
                f"Indsatsansvarlig (tovholder): {_contact(decision)}.",
                "",
                f"Det sker nu: {decision.lead_user} kontakter jer senest {_date(due)} om det, udvalget har aftalt, "
                "og om næste møde i forløbet.",
            ]
    lines += ["", f"Med venlig hilsen\nKoordinationsudvalget, {case.municipality.name} Kommune"]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
