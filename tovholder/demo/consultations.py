"""Consultation in the demo: BUA's fixed times, an anonymous question, advice on a case,
a referral that was rejected (so the team, the family and the lead's task show it) and
one that was accepted."""

from __future__ import annotations

from tovholder.cases.models import Case
from tovholder.demo.region import DemoRegion


def load_consultations(demo: DemoRegion) -> None:
    from tovholder.consultation.demo import (
        demo_anonymous_consultation,
        demo_consultation_answered,
        demo_referral_accepted,
        demo_referral_rejected,
        demo_samrum_publish,
    )

    demo_samrum_publish(demo)
    demo_anonymous_consultation(demo)
    cases = {c.child.given_name: c for c in Case.objects.filter(stage="active").select_related("child")}
    if "Malthe" in cases:
        demo_consultation_answered(demo, cases["Malthe"])
    if "Sofia" in cases:
        demo_referral_rejected(demo, cases["Sofia"])
    if "Ella" in cases:
        demo_referral_accepted(demo, cases["Ella"])
