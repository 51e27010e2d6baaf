"""Withdrawal: one step from the person's link, or by staff on request. Processing stops
at once, the case closes, the team is told, the history stays readable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.consent.helpers import consent_link, family_actor_give, open_case, requests_of
from tests.support.world import make_case
from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.cases.models import Case, Notice, Stage
from tovholder.consent.gate import processing_allowed
from tovholder.consent.models import ConsentRequest, ConsentRound, How
from tovholder.consent.services import consent_withdraw, consent_withdraw_on_request, family_actor
from tovholder.letters.models import Letter

pytestmark = pytest.mark.django_db


def test_a_parent_withdraws_in_one_step_from_their_link(world, client, told):
    case = open_case(world, parents=2)
    first, second = requests_of(case)
    token = consent_link(first)
    client.post(reverse("consent:link_answer", args=[token]), {"answer": "give"})
    family_actor_give(second)
    assert processing_allowed(Case.objects.get(pk=case.pk))

    page = client.get(reverse("consent:link", args=[token]))
    assert "Træk mit samtykke tilbage" in page.content.decode()
    response = client.post(reverse("consent:link_withdraw", args=[token]))
    assert response.status_code == 302

    first.refresh_from_db()
    assert (first.status, first.withdrawn_how) == (ConsentRequest.Status.WITHDRAWN, How.DIGITAL)
    case.refresh_from_db()
    assert (case.stage, case.closed_reason) == (Stage.CLOSED, "consent_withdrawn")
    assert not processing_allowed(case)
    assert ConsentRound.objects.get(case=case).status == ConsentRound.Status.WITHDRAWN
    assert told.referrer == []  # no more exchange with other parties
    assert Letter.objects.filter(case=case, reason="consent_closed_consent_withdrawn").count() == 2
    after = client.get(reverse("consent:link", args=[token])).content.decode()
    assert "Du trak dit samtykke tilbage" in after
    # Withdrawing again changes nothing.
    client.post(reverse("consent:link_withdraw", args=[token]))
    assert Letter.objects.filter(case=case, reason="consent_closed_consent_withdrawn").count() == 2


def test_the_team_is_told_and_keeps_reading_the_history(world, login):
    case = make_case(world.demo, stage=Stage.ACTIVE, lead="lars", participants=("maria",))
    request = ConsentRequest.objects.filter(case=case).first()
    consent_withdraw(actor=family_actor(request), request=request, how=How.DIGITAL)
    for username in ("lars", "maria"):
        assert Notice.objects.filter(case=case, user=world.user(username), text__contains="trukket").exists()
    assert login("lars").get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert login("lars").get(reverse("cases:audit", args=[case.pk])).status_code == 200
    assert login("karen").get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert AuditEvent.objects.filter(case=case, summary__startswith="Samtykke trukket tilbage").count() == 1


def test_staff_withdraw_on_the_persons_request_with_a_note(world, login):
    case = make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, lead=None)
    request = ConsentRequest.objects.filter(case=case).first()
    ida = Actor(user=world.user("ida"), unit=world.unit("706:single_entry"))
    with pytest.raises(ValidationError):
        consent_withdraw_on_request(actor=ida, basis="inbox", request=request, note="  ")
    url = reverse("consent:staff_withdraw", args=[request.pk])
    form = login("ida").get(url)
    assert form.status_code == 200 and "Træk samtykket tilbage" in form.content.decode()
    response = login("ida").post(url, {"note": "Mor ringede 3. maj kl. 10", "version": request.version})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.withdrawn_how, request.withdrawn_by) == (
        "withdrawn", How.STAFF, world.user("ida"))
    assert request.withdrawal_note == "Mor ringede 3. maj kl. 10"
    assert Case.objects.get(pk=case.pk).closed_reason == "consent_withdrawn"
    # The inbox keeper is told when there is no team yet.
    assert Notice.objects.filter(case=case, user=world.user("ida")).exists()


def test_a_stale_staff_form_says_someone_else_changed_it(world, login):
    case = make_case(world.demo, stage=Stage.AWAITING_COMMITTEE, lead=None)
    request = ConsentRequest.objects.filter(case=case).first()
    response = login("ida").post(reverse("consent:staff_withdraw", args=[request.pk]),
                                 {"note": "Far ringede", "version": request.version - 1})
    assert response.status_code == 200
    assert "ændret af en anden" in response.content.decode()
    assert Case.objects.get(pk=case.pk).is_open


def test_one_parent_withdrawing_during_the_wait_ends_it_for_everyone(world, told):
    case = open_case(world, parents=2)
    first, second = requests_of(case)
    family_actor_give(first)
    consent_withdraw(actor=family_actor(first), request=first, how=How.DIGITAL)
    assert Case.objects.get(pk=case.pk).closed_reason == "consent_withdrawn"
    second.refresh_from_db()
    assert second.status == ConsentRequest.Status.CANCELLED


def test_nothing_to_withdraw_before_consent_is_given(world):
    case = open_case(world, parents=1)
    (request,) = requests_of(case)
    with pytest.raises(ValidationError):
        consent_withdraw(actor=family_actor(request), request=request, how=How.DIGITAL)
