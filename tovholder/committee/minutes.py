"""The short minute the committee sends after each case: drafted from the decision.

Plain text in Danish, written to the family (it goes to the custody holders, the child if
15+, and to the GP as a MedCom reply). It says the conclusion, who the lead professional
is and how to reach them, and what happens next and by when. No CPR number.
"""

from __future__ import annotations

from django.utils import formats, translation

from tovholder.cases.models import Case
from tovholder.committee.models import CommitteeDecision, CommitteeMeeting, DecisionKind
from tovholder.deadlines.clocks import Rules


def _date(day) -> str:
    return formats.date_format(day, "l \\d. j. F Y")


def _contact(decision: CommitteeDecision) -> str:
    user, unit = decision.lead_user, decision.unit
    parts = [str(user)]
    if user.title:
        parts.append(user.title)
    if unit is not None and unit.name not in user.title:
        parts.append(unit.name)
    phone = user.phone or (unit.phone if unit else "")
    line = ", ".join(parts)
    return f"{line}. Telefon: {phone}" if phone else line


def _unit_contact(decision: CommitteeDecision) -> str:
    unit = decision.unit
    if unit is None:
        return ""
    bits = [unit.name]
    if unit.phone:
        bits.append(f"telefon {unit.phone}")
    if unit.email:
        bits.append(f"e-mail {unit.email}")
    return ", ".join(bits)


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
        lines += [
            f"Udvalget har besluttet, at sagen overgår til almindelig kommunal sagsbehandling hos {decision.unit.name}.",
            "",
            f"Konklusion: {conclusion}" if conclusion else "",
            "",
            f"Det sker nu: {decision.unit.name} kontakter jer. I kan også selv kontakte dem: {_unit_contact(decision)}.",
        ]
    elif kind == DecisionKind.EVERYDAY_SUPPORT:
        where = decision.unit.name if decision.unit else "barnets skole eller dagtilbud"
        lines += [
            f"Udvalget vurderer, at {first} bedst hjælpes i hverdagen, og giver råd tilbage til {where}.",
            "",
            f"Konklusion og råd: {conclusion}" if conclusion else "",
            "",
            f"Det sker nu: {where} følger op sammen med jer. Hvis bekymringen for {first} fortsætter, "
            "kan I, skolen eller jeres læge henvende jer igen.",
        ]
    elif kind == DecisionKind.REFERRED_ON:
        lines += [
            f"Udvalget anbefaler, at {first} henvises videre til {decision.referred_to}.",
            "",
            f"Konklusion: {conclusion}" if conclusion else "",
            "",
            "Det sker nu: Henvisningen sker via jeres egen læge, som modtager dette referat. "
            "Kontakt lægen, hvis I har spørgsmål.",
        ]
    elif kind == DecisionKind.CONTINUE:
        lines += [
            f"Den indsatsansvarlige bragte forløbet tilbage til udvalget. Forløbet for {first} fortsætter.",
            "",
            f"Konklusion: {conclusion}" if conclusion else "",
        ]
        if decision.lead_user_id:
            lines += ["", f"Indsatsansvarlig (tovholder): {_contact(decision)}."]
    lines += ["", f"Med venlig hilsen\nKoordinationsudvalget, {case.municipality.name} Kommune"]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
