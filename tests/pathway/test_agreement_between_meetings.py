"""An agreement added to the living plan between meetings (e.g. from BUA's advice)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.pathway.helpers import hold, lead_actor, pathway_case, schedule
from tovholder.audit.models import AuditEvent
from tovholder.pathway.models import Agreement, Sector
from tovholder.pathway.services import agreement_add

pytestmark = pytest.mark.django_db


def test_it_adds_an_agreement_to_the_current_plan_between_meetings(world, login):
    case = pathway_case(world)
    hold(world, case, schedule(world, case, at=timezone.now() - timezone.timedelta(hours=2)))
    agreement = agreement_add(actor=lead_actor(world), basis="lead", case=case, what="Samtale med BUA om angst",
                              how="Efter råd fra Samrum", responsible=Sector.PPR, responsible_name="Maria Vestergaard",
                              due_on=timezone.localdate() + timezone.timedelta(days=14))
    assert agreement.status == Agreement.Status.OPEN
    assert AuditEvent.objects.filter(object_type="pathway.Agreement", object_id=str(agreement.pk)).exists()
    page = login("lars").get(reverse("pathway:plan", args=[case.pk])).content.decode()
    assert "Samtale med BUA om angst" in page


def test_an_agreement_added_before_the_start_meeting_joins_the_first_plan_version(world):
    case = pathway_case(world)
    agreement_add(actor=lead_actor(world), basis="lead", case=case, what="Sparring med BUA før opstart",
                  responsible=Sector.PPR)
    version = hold(world, case, schedule(world, case, at=timezone.now() - timezone.timedelta(hours=2)))
    assert "Sparring med BUA før opstart" in [a["what"] for a in version.content["agreements"]]
