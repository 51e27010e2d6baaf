"""Handover through the pages, the child's statement, cancelling, and the demo functions."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.pathway.helpers import hold, lead_actor, pathway_case, schedule
from tovholder.pathway.models import Meeting, Pathway
from tovholder.pathway.services import child_statement_record, handover_propose, meeting_cancel

pytestmark = pytest.mark.django_db


def test_the_receiver_accepts_a_handover_on_their_page_and_becomes_lead(world, login):
    case = pathway_case(world, participants=())
    handover = handover_propose(actor=lead_actor(world), basis="lead", case=case, to_user=world.user("maria"),
                                to_unit=world.unit("706:ppr"), note="PPR overtager koordineringen.")
    assert login("karen").get(f"/handleplan/overdragelse/{handover.pk}/").status_code == 404
    client = login("maria")
    page = client.get(f"/handleplan/overdragelse/{handover.pk}/").content.decode()
    assert "PPR overtager koordineringen." in page
    response = client.post(f"/handleplan/overdragelse/{handover.pk}/", {"decision": "accept"})
    assert response.status_code == 302
    assert Pathway.objects.get(case=case).lead_user.username == "maria"
    assert client.get(f"/handleplan/forloeb/{case.pk}/moede/nyt/").status_code == 200
    assert login("lars").get(f"/handleplan/forloeb/{case.pk}/moede/nyt/").status_code == 404
    assert client.get(f"/handleplan/overdragelse/{handover.pk}/").status_code == 404  # answered


def test_the_childs_written_statement_secures_the_childs_voice(world):
    case = pathway_case(world)
    meeting = schedule(world, case, at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(ValidationError) as err:
        hold(world, case, meeting, child_voice="statement", child_voice_text="")
    assert "child_voice_text" in err.value.message_dict
    child_statement_record(actor=lead_actor(world), basis="lead", meeting=meeting,
                           text="Jeg kan godt lide idræt, men frikvartererne er svære.")
    version = hold(world, case, meeting, child_voice="statement", child_voice_text="")
    assert version.content["child_voice"]["statement"].startswith("Jeg kan godt lide idræt")


def test_cancelling_a_meeting_tells_the_family_with_a_calendar_cancellation(world, sent):
    case = pathway_case(world)
    meeting = schedule(world, case)
    meeting_cancel(actor=lead_actor(world), basis="lead", meeting=meeting, reason="Læreren er syg")
    assert Meeting.objects.get(pk=meeting.pk).status == "cancelled"
    ics = sent.family[-1]["attachments"][0][2].decode()
    assert "METHOD:CANCEL" in ics and "SEQUENCE:1" in ics
    schedule(world, case)  # a new start meeting can be called


def test_a_second_scheduled_meeting_waits_for_the_first(world):
    case = pathway_case(world)
    schedule(world, case)
    with pytest.raises(ValidationError):
        schedule(world, case)


def test_the_demo_functions_give_a_case_versions_and_a_next_meeting(world):
    from tests.pathway.helpers import consented_case
    from tovholder.pathway.demo import demo_full_pathway

    case = consented_case(world)
    versions = demo_full_pathway(world.demo, case)
    assert [v.number for v in versions] == [1, 2]
    pathway = Pathway.objects.get(case=case)
    assert pathway.meetings.filter(status="scheduled").count() == 1
    assert versions[1].content["goals"][0]["ratings"][-1]["score"] == 6


@pytest.mark.parametrize("step", [0, 5])
def test_it_refuses_an_intervention_outside_the_graduated_care_steps_and_writes_nothing(world, step):
    from django.core.exceptions import ValidationError

    from tovholder.pathway.models import Intervention
    from tovholder.pathway.services import intervention_add

    case = pathway_case(world)
    with pytest.raises(ValidationError) as exc:
        intervention_add(actor=lead_actor(world), basis="lead", case=case, sector="ppr",
                         description="Udredning", kind="assessing", step=step)
    assert "Trinnet skal være 1, 2, 3 eller 4" in str(exc.value)
    assert not Intervention.objects.filter(pathway__case=case).exists()


def test_every_sectors_interventions_with_their_status_are_in_the_next_plan_version_and_its_pdf(world):
    from tovholder.pathway.pdf import plan_pdf
    from tovholder.pathway.services import intervention_add

    case = pathway_case(world)
    for sector, text, kind, step, status in [("ppr", "PPR-udredning", "assessing", 2, "planned"),
                                             ("health_visitors", "Samtaler med sundhedsplejen", "supporting", 1,
                                              "planned"),
                                             ("bua", "Udredning i BUA", "assessing", 3, "planned")]:
        intervention_add(actor=lead_actor(world), basis="lead", case=case, sector=sector, description=text,
                         kind=kind, step=step, status=status)
    version = hold(world, case, schedule(world, case))
    listed = {(i["description"], i["step"], i["status"]) for i in version.content["interventions"]}
    assert {("PPR-udredning", 2, "planned"), ("Samtaler med sundhedsplejen", 1, "planned"),
            ("Udredning i BUA", 3, "planned")} <= {(d, s, st) for d, s, st in listed}
    pdf = plan_pdf(version)
    assert pdf.startswith(b"%PDF")


def test_the_plan_reaches_the_referring_gp_as_text_after_each_meeting(world, sent):
    case = pathway_case(world)
    version = hold(world, case, schedule(world, case))
    plans = [s for s in sent.referrer if s["reason"] == "plan"]
    assert len(plans) == 1
    text = plans[0]["text"]
    assert f"version {version.number}" in text and "Fast morgenaftale" in text and "Skole: Lars Nielsen" in text
    assert f"Næste møde: {version.next_meeting_on:%d.%m.%Y}." in text and "Indsatsansvarlig: Lars Nielsen" in text
    assert "(0–10: 3)" in text
