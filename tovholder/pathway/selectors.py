"""Reads of the pathway: the overview of a municipality's pathways, and comparing two plan
versions."""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.safestring import SafeString, mark_safe

from tovholder.access import committee_municipalities, visible_cases_q
from tovholder.cases.models import Case
from tovholder.organisations.models import Membership, Unit, User
from tovholder.pathway.models import Meeting, Pathway


def overview_municipalities(user: User) -> tuple[list[int], list[int]]:
    """(municipalities where the user sits on the committee, where the user leads a unit)."""
    committee = committee_municipalities(user)
    leading = list(
        Membership.objects.active().filter(user=user, role=Membership.Role.LEADER,
                                           unit__kind__in=list(Unit.MUNICIPAL_KINDS))
        .values_list("unit__municipality_id", flat=True)
    )
    return committee, [m for m in leading if m not in committee]


def overview_pathways(user: User) -> QuerySet[Pathway]:
    """Every active pathway of the user's municipalities the user may see, most urgent first.
    Committee members see all of their municipality's; a unit leader sees those their
    access allows (e.g. a principal: own pupils). One query whatever the number of rows."""
    committee, leading = overview_municipalities(user)
    visible = Q(case__municipality_id__in=committee)
    if leading:
        visible |= Q(case__municipality_id__in=leading, case__in=Case.objects.filter(visible_cases_q(user)))
    next_meeting = Meeting.objects.filter(pathway=OuterRef("pk"), status=Meeting.Status.SCHEDULED).order_by("starts_at")
    return (
        Pathway.objects.filter(visible, closed_on__isnull=True)
        .select_related("case__child", "case__municipality", "lead_user", "lead_unit")
        .annotate(next_meeting_at=Subquery(next_meeting.values("starts_at")[:1]))
        .order_by("case__next_deadline", "case__opened_at", "pk")
    )


# ---- Comparing two versions -------------------------------------------------------------------

def word_diff(old: str, new: str) -> SafeString:
    """The new text with removed words struck through and added words marked (also
    announced in words by the template's legend, not by colour alone)."""
    a, b = (old or "").split(), (new or "").split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape(" ".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            out.append(f"<del>{html.escape(' '.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{html.escape(' '.join(b[j1:j2]))}</ins>")
    return mark_safe(" ".join(x for x in out if x) or "—")


@dataclass
class FieldChange:
    label: str
    old: str
    new: str
    diff: SafeString

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass
class RowChange:
    change: str  # "added", "removed", "changed", "same"
    label: str
    fields: list[FieldChange]

    @property
    def change_label(self) -> str:
        return {"added": "Ny", "removed": "Fjernet", "changed": "Ændret", "same": "Uændret"}[self.change]


def _d(iso) -> str:
    """An ISO date of the content as people read it."""
    import datetime as dt

    return dt.date.fromisoformat(iso).strftime("%d.%m.%Y") if iso else ""


AGREE = {"yes": "Ja", "partly": "Delvist", "no": "Nej"}


def _fc(label: str, old, new) -> FieldChange:
    old, new = str(old or ""), str(new or "")
    return FieldChange(label, old, new, word_diff(old, new))


def _rows(old: list[dict], new: list[dict], label, fields: list[tuple[str, callable]]) -> list[RowChange]:
    before = {r["id"]: r for r in old}
    after = {r["id"]: r for r in new}
    out = []
    for key in list(before) + [k for k in after if k not in before]:
        a, b = before.get(key), after.get(key)
        changes = [_fc(name, get(a) if a else "", get(b) if b else "") for name, get in fields]
        kind = "added" if a is None else "removed" if b is None else (
            "changed" if any(c.changed for c in changes) else "same")
        out.append(RowChange(kind, label(b or a), changes))
    return out


def _latest_score(goal: dict, number: int) -> str:
    for r in reversed(goal.get("ratings", [])):
        if r["version"] <= number:
            return f"{r['score']}/10"
    return ""


def plan_diff(a: dict, b: dict) -> dict:
    """What changed from version a to version b, section by section."""
    na, nb = a["number"], b["number"]
    texts = [
        _fc("Mødetype", a["meeting"]["kind_label"], b["meeting"]["kind_label"]),
        _fc("Mødedato", _d(a["meeting"]["held_on"]), _d(b["meeting"]["held_on"])),
        _fc("Indsatsansvarlig", a["lead"]["name"], b["lead"]["name"]),
        _fc("Deltagere", ", ".join(p["name"] for p in a["participants"] if p["attended"]),
            ", ".join(p["name"] for p in b["participants"] if p["attended"])),
        _fc("Barnets stemme", a["child_voice"]["text"] or a["child_voice"]["statement"],
            b["child_voice"]["text"] or b["child_voice"]["statement"]),
        _fc("Hvad fungerer?", a["what_works"], b["what_works"]),
        _fc("Hvad er svært?", a["what_is_hard"], b["what_is_hard"]),
        _fc("Forventningsafstemning", a["expectations"], b["expectations"]),
        _fc("Forældrene enige?", AGREE.get(a["parents_agree"], ""), AGREE.get(b["parents_agree"], "")),
        _fc("Dato for næste møde", _d(a["next_meeting_on"]), _d(b["next_meeting_on"])),
    ]
    goals = _rows(a["goals"], b["goals"], lambda g: g["child_words"] or g["our_words"], [
        ("Barnets ord", lambda g: g["child_words"]),
        ("Vores mål", lambda g: g["our_words"]),
        ("Vurdering", lambda g, n=None: ""),
    ])
    # The rating column compares each goal's score at version a with its score at version b.
    amap, bmap = {g["id"]: g for g in a["goals"]}, {g["id"]: g for g in b["goals"]}
    for row, key in zip(goals, list(amap) + [k for k in bmap if k not in amap], strict=True):
        old = _latest_score(amap[key], na) if key in amap else ""
        new = _latest_score(bmap[key], nb) if key in bmap else ""
        row.fields[2] = _fc("Vurdering", old, new)
        if row.change == "same" and old != new:
            row.change = "changed"
    agreements = _rows(a["agreements"], b["agreements"], lambda r: r["what"], [
        ("Hvad", lambda r: r["what"]), ("Hvordan", lambda r: r["how"]),
        ("Hvem", lambda r: r["responsible_label"] + (f": {r['responsible_name']}" if r["responsible_name"] else "")),
        ("Senest", lambda r: _d(r["due_on"])), ("Status", lambda r: r["status_label"]),
    ])
    interventions = _rows(a["interventions"], b["interventions"], lambda r: r["description"], [
        ("Sektor", lambda r: r["sector_label"]), ("Art", lambda r: r["kind_label"]),
        ("Trin", lambda r: r["step"]), ("Start", lambda r: _d(r["start_on"])),
        ("Slut", lambda r: _d(r["end_on"])), ("Status", lambda r: r["status_label"]),
    ])
    return {"texts": texts, "goals": goals, "agreements": agreements, "interventions": interventions}


def todays_digest(*, user, today) -> dict | None:
    """Today's unread digest of a lead professional as counts, for the home page (no names)."""
    from tovholder.pathway.models import LeadDigest
    from tovholder.pathway.services import digest_counts

    items = (LeadDigest.objects.filter(user=user, day=today, read_at__isnull=True)
             .values_list("items", flat=True).first())
    return digest_counts(items) if items else None
