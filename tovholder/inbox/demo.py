"""The single entry in the demo region (for the lead to wire into `demo_load`).

- `medcom_test_receivers_add`: MedCom's own test messages (shared/medcom) are addressed to
  real-world organisations (Aabenraa's health visitors, two GP practices, MedCom's test
  systems). The demo — and the tests — register those addresses as aliases of one demo
  entry, the way a municipality registers an old address of its own. Then every MedCom
  sample is received with `ok` and lands in that entry's inbox; a receiver that is
  neither an entry nor an alias is still refused.
- `demo_inbox_load`: a morning's inbox for the demo: MedCom referrals from the demo GP
  practices (one with a PDF, one two working days old, so it shows as overdue), one of
  MedCom's samples, a web referral from a school, a phone call, and one referral handled
  into a case (with its receipt in the outbox).
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.inbox.models import EntryAlias
from tovholder.medcom import Org, Patient, TextSegment, build_care_communication, serialize
from tovholder.medcom.codes import SOR_ENDPOINT_PREFIX
from tovholder.organisations.models import Unit

SETUP = Actor(system="demo")

# (name, SOR id, EAN) of every receiver in MedCom's sample messages.
MEDCOM_TEST_RECEIVERS = [
    ("Sundhedsplejen, Aabenraa kommune (MedCom-testmodtager)", "330461000016004", "5790001353308"),
    ("Arden Lægehus (MedCom-testmodtager)", "382871000016004", "5790001387419"),
    ("MedCom XDIS91 (MedCom-testmodtager)", "325251000016005", "5790000121526"),
    ("2100 Lægehuset Østerbro (MedCom-testmodtager)", "1017421000016003", "5790002408496"),
]


def samples_dir() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "medcom"


def medcom_test_receivers_add(*, entry: Unit) -> list[EntryAlias]:
    from tovholder.inbox.services import entry_alias_add

    existing = set(EntryAlias.objects.values_list("sor_id", flat=True))
    return [
        entry_alias_add(actor=SETUP, entry=entry, name=name, sor_id=sor, gln=gln,
                        note="MedCom's testbeskeder (shared/medcom) er adresseret hertil.")
        for name, sor, gln in MEDCOM_TEST_RECEIVERS if sor not in existing
    ]


def gp_referral(
    *, sender: Unit, entry: Unit, cpr: str, given: str, family: str, text: str, author: str,
    author_phone: str = "86 34 10 10", now: dt.datetime | None = None, thread_id: str | None = None,
    attachments: tuple = (), fmt: str = "json",
) -> tuple[bytes, str]:
    """A MedCom CareCommunication from a unit (a GP practice) to an entry: (body, content type)."""
    from tovholder.medcom import AttachmentSegment, content_type_for

    now = now or timezone.now()
    header_id = str(uuid.uuid4())
    segments = [TextSegment(identifier=f"urn:uuid:{uuid.uuid4()}", timestamp=now, author_name=author,
                            author_role="Praktiserende læge", author_phone=author_phone, text=text)]
    for title, content_type, data in attachments:
        segments.append(AttachmentSegment(identifier=f"urn:uuid:{uuid.uuid4()}", timestamp=now, title=title,
                                          content_type=content_type, data=data))
    bundle = build_care_communication(
        activity="new-message", sender=Org(name=sender.name, sor=sender.sor_id, ean=sender.gln),
        receiver=Org(name=entry.name, sor=entry.sor_id, ean=entry.gln),
        sender_endpoint=SOR_ENDPOINT_PREFIX + sender.sor_id, receiver_endpoint=SOR_ENDPOINT_PREFIX + entry.sor_id,
        patient=Patient(cpr=cpr, is_replacement_cpr=False, family=family, given=tuple(given.split())),
        thread_id=thread_id or f"urn:uuid:{uuid.uuid4()}", category="psychiatry-social-disability",
        topic="Bekymring for barnets trivsel", priority=None, new_segments=segments,
        bundle_id=str(uuid.uuid4()), header_id=header_id, now=now,
    )
    return serialize(bundle, fmt), content_type_for(fmt)


def demo_inbox_load(demo) -> None:
    """A morning's work in Syddjurs' inbox, delivered through the real intake."""
    from tovholder.demo.families import synthetic_cpr
    from tovholder.inbox.models import InboxItem
    from tovholder.inbox.services import (
        CustodyHolderInput,
        contact_register,
        inbox_item_open_case,
        medcom_receive,
        web_referral_submit,
    )

    entry = demo.units["706:single_entry"]
    medcom_test_receivers_add(entry=entry)
    now = timezone.now()
    referrals = [
        ("gp:0", synthetic_cpr(dt.date(2014, 6, 3), 61, "f"), "Sara", "Holm", "Anne Mortensen",
         "Sara på 11 år har i tre måneder haft ondt i maven om morgenen og har meget fravær. Forældrene "
         "og jeg ønsker en drøftelse i koordinationsudvalget; skolen er orienteret.", 3,
         (("Skema over fravær", "application/pdf", _demo_pdf()),)),
        ("gp:1", synthetic_cpr(dt.date(2011, 2, 17), 62, "m"), "Oliver", "Bak", "Peter Kjær",
         "Oliver på 14 år er trist, isolerer sig og spiser dårligt. Forældrene er bekymrede og har givet "
         "tilsagn til, at sagen drøftes.", 0, ()),
        ("gp:0", synthetic_cpr(dt.date(2016, 9, 12), 63, "f"), "Lea", "Winther", "Anne Mortensen",
         "Lea på 9 år har angst for at gå i skole. Henvises til drøftelse i koordinationsudvalget.", 0, ()),
    ]
    keeper = demo.users["ida"]
    for unit_key, cpr, given, family, author, text, working_days_ago, attachments in referrals:
        sent = _working_days_before(now, working_days_ago, entry.municipality)
        body, content_type = gp_referral(sender=demo.units[unit_key], entry=entry, cpr=cpr, given=given,
                                         family=family, text=text, author=author, now=sent,
                                         attachments=attachments)
        reception = medcom_receive(body=body, content_type=content_type, channel="http", source="demo")
        if working_days_ago:
            InboxItem.objects.filter(message__arrival=reception.arrival).update(received_at=sent)
    sample = samples_dir() / "receive" / "Bundle-R-Tek-J-dublicate-7283eae8-0427-4bb0-8486-06b4febd416c.xml"
    if sample.exists():
        medcom_receive(body=sample.read_bytes(), content_type="application/fhir+xml", channel="folder",
                       source=sample.name)
    lars = demo.users["lars"]
    web_referral_submit(
        actor=Actor(user=lars, unit=demo.units["706:school:0"]), referrer_unit=demo.units["706:school:0"],
        municipality=demo.municipalities["706"], cpr=synthetic_cpr(dt.date(2012, 11, 30), 64, "m"),
        given_name="Magnus", family_name="Lykke",
        text="Magnus i 7. klasse har voldsomme udbrud og har slået en kammerat. Vi har prøvet en AKT-indsats "
             "og har talt med PPR. Forældrene ønsker hjælp.", phone=lars.phone)
    contact_register(
        actor=Actor(user=keeper, unit=entry), entry=entry, kind=InboxItem.Kind.PHONE,
        received_at=now - dt.timedelta(hours=3), referrer_name="Hanne Juul",
        referrer_organisation="Børneafdelingen, Regionshospitalet Randers", referrer_phone="78 42 00 00",
        cpr=synthetic_cpr(dt.date(2015, 4, 8), 65, "f"), given_name="Ella", family_name="Nørgaard",
        text="Ella var indlagt i sidste uge med smerter uden somatisk årsag. Afdelingen foreslår en drøftelse "
             "i koordinationsudvalget. Mor er orienteret.")
    # One referral handled: a case awaiting consent, and its receipt waiting in the outbox.
    item = InboxItem.objects.filter(municipality=entry.municipality, thread__patient_given="Lea").first()
    if item is not None:
        inbox_item_open_case(
            actor=Actor(user=keeper, unit=entry), item=item, cpr=item.thread.patient_cpr, given_name="Lea",
            family_name="Winther", custody_holders=[
                CustodyHolderInput(name="Maria Winther", relation="mother", email="maria@example.dk"),
                CustodyHolderInput(name="Jens Winther", relation="father", email="jens@example.dk")])


def _working_days_before(moment: dt.datetime, count: int, municipality) -> dt.datetime:
    """The same time of day `count` working days earlier (so the inbox shows it overdue)."""
    from tovholder.deadlines.workdays import calendar_for

    calendar = calendar_for(municipality)
    day = timezone.localtime(moment)
    while count:
        day -= dt.timedelta(days=1)
        if calendar.is_working_day(day.date()):
            count -= 1
    return day


def _demo_pdf() -> bytes:
    """A tiny, valid one-page PDF (so the demo attachment opens)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, "Fravaer uge 1-12 (demo)")
    return bytes(pdf.output())
