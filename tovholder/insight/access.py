"""Who may see insight, for which area, and how exactly.

Insight shows aggregates only — never a child — but small numbers about a small
municipality can still point at a child. The policy (README of this app, "Adgang"):

- a municipality's figures, exact: the members and the chair of its coordination
  committee (they see every case that reached the committee anyway) and administrators
  of a unit in the municipality;
- a municipality's figures with counts of 1–4 shown as "<5": leaders of the
  municipality's own units (school principals, the heads of PPR, health visitors and
  family counselling);
- the whole region's figures, with counts of 1–4 shown as "<5": committee chairs and
  administrators of any municipality in the region (the region view compares
  municipalities; a chair must not get exact small counts about another municipality's
  children). A superuser sees everything exactly.
Everyone else gets 404, as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from tovholder.organisations.models import Membership, Municipality, Region, Unit, User

MUNICIPALITY = "municipality"
REGION = "region"


@dataclass(frozen=True)
class Area:
    kind: str
    pk: int
    label: str
    exact: bool
    municipality_ids: tuple[int, ...]
    municipality_code: str = ""

    @property
    def code(self) -> str:
        """The value of the `omraade` query parameter (no personal data)."""
        return f"region-{self.pk}" if self.kind == REGION else self.municipality_code

    @property
    def is_region(self) -> bool:
        return self.kind == REGION


def insight_areas(user: User) -> list[Area]:
    """Every area the user may see, municipalities first, each once with its best access."""
    if not user.is_authenticated or not user.is_active:
        return []
    municipalities: dict[int, bool] = {}
    regions: dict[int, bool] = {}
    if user.is_superuser:
        municipalities = {pk: True for pk in Municipality.objects.values_list("pk", flat=True)}
        regions = {pk: True for pk in Region.objects.values_list("pk", flat=True)}
    memberships = Membership.objects.active().filter(user=user).select_related("unit", "unit__municipality")
    for m in memberships:
        unit = m.unit
        mun = unit.municipality_id
        if m.role == Membership.Role.ADMINISTRATOR:
            if mun is not None:
                municipalities[mun] = True
            regions.setdefault(unit.region_id, False)
        elif unit.kind == Unit.Kind.COMMITTEE and m.role in (Membership.Role.COMMITTEE_MEMBER,
                                                              Membership.Role.COMMITTEE_CHAIR):
            municipalities[mun] = True
            if m.role == Membership.Role.COMMITTEE_CHAIR:
                regions.setdefault(unit.region_id, False)
        elif m.role == Membership.Role.LEADER and mun is not None and unit.kind in Unit.MUNICIPAL_KINDS:
            municipalities.setdefault(mun, False)
    areas: list[Area] = []
    rows = {pk: (name, code) for pk, name, code in
            Municipality.objects.filter(pk__in=municipalities).values_list("pk", "name", "code")}
    for pk in sorted(municipalities, key=lambda p: rows[p][0]):
        name, code = rows[pk]
        areas.append(Area(MUNICIPALITY, pk, f"{name} Kommune", municipalities[pk], (pk,), code))
    if regions:
        members: dict[int, list[int]] = {}
        for pk, region_id in Municipality.objects.filter(region_id__in=regions).order_by("name").values_list(
                "pk", "region_id"):
            members.setdefault(region_id, []).append(pk)
        for region in Region.objects.filter(pk__in=regions).order_by("name"):
            areas.append(Area(REGION, region.pk, f"{region.name} (hele regionen)", regions[region.pk],
                              tuple(members.get(region.pk, ()))))
    return areas


def require_insight(user: User, code: str | None = None) -> tuple[Area, list[Area]]:
    """The area asked for (or the user's first), or 404 when the user may not see it."""
    areas = insight_areas(user)
    if not areas:
        raise Http404
    if not code:
        return areas[0], areas
    for area in areas:
        if area.code == code:
            return area, areas
    raise Http404


def may_answer_survey(user: User, municipality: Municipality) -> Unit | None:
    """Respondents of a municipality's survey: staff of its own units and of the region's
    units that work with it (GP practices, BUA, paediatric wards). Returns the unit they
    answer from."""
    if not user.is_authenticated or not user.is_active:
        return None
    for m in Membership.objects.active().filter(user=user).select_related("unit").order_by("pk"):
        unit = m.unit
        if unit.municipality_id == municipality.pk or (unit.municipality_id is None
                                                         and unit.region_id == municipality.region_id):
            return unit
    return None


def may_manage_survey(user: User, municipality: Municipality) -> bool:
    """Committee chairs and administrators of the municipality open rounds and set wording."""
    if user.is_superuser:
        return True
    return Membership.objects.active().filter(user=user, unit__municipality=municipality).filter(
        role__in=[Membership.Role.COMMITTEE_CHAIR, Membership.Role.ADMINISTRATOR]).exists()
