"""Letters to the family: queue them (inside the caller's transaction) and deliver them
(the background job). `family_letters_send` is the `tovholder.cases.notify` handler for
"family": one letter per custody holder, and one to the child from 15."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.audit.models import AuditEvent
from tovholder.audit.services import audit_record
from tovholder.cases.models import Case
from tovholder.children.models import Child, CustodyHolder
from tovholder.letters.backends import get_backend
from tovholder.letters.links import mint_link
from tovholder.letters.models import (
    LINK_PLACEHOLDER,
    NAME_PLACEHOLDER,
    Channel,
    Letter,
    LetterAttachment,
    RecipientKind,
)

log = logging.getLogger(__name__)

CHILD_OWN_LETTERS_AGE = 15
MAX_ATTEMPTS = 3
# A claim older than this belonged to a worker that died mid-delivery: take it again.
STALE_CLAIM = dt.timedelta(minutes=10)
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class Recipient:
    kind: str
    name: str
    channel: str
    custody_holder: CustodyHolder | None = None
    child: Child | None = None

    @classmethod
    def holder(cls, holder: CustodyHolder) -> Recipient:
        return cls(kind=RecipientKind.CUSTODY_HOLDER, name=holder.name, custody_holder=holder,
                   channel=Channel.DIGITAL if holder.has_digital_post else Channel.PAPER)

    @classmethod
    def young_person(cls, child: Child) -> Recipient:
        # From 15 a young person has their own Digital Post mailbox.
        return cls(kind=RecipientKind.CHILD, name=child.full_name, child=child, channel=Channel.DIGITAL)


def family_recipients(case: Case, *, day: dt.date | None = None, include_child: bool = True) -> list[Recipient]:
    """The custody holders of the case's child now, and the child if 15 or older on `day`."""
    day = day or timezone.localdate()
    child = case.child
    recipients = [Recipient.holder(h) for h in child.custody_holders.filter(ended_at__isnull=True)]
    if include_child and child.age_on(day) >= CHILD_OWN_LETTERS_AGE:
        recipients.append(Recipient.young_person(child))
    return recipients


@transaction.atomic
def letter_queue(
    *,
    actor: Actor,
    case: Case,
    recipient: Recipient,
    subject: str,
    body: str,
    reason: str,
    basis: str = "system",
    link_kind: str = "",
    link_ref: int | None = None,
    dedupe_key: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> Letter:
    """Queue one letter. With a `dedupe_key`, queueing the same letter again returns the
    first one (a double click or a job run twice sends nothing twice)."""
    if dedupe_key:
        existing = Letter.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    if LINK_PLACEHOLDER in body and not link_kind:
        raise ValidationError("Et brev med personligt link skal angive, hvem der laver linket.")
    for _name, _type, content in attachments:
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise ValidationError("Bilaget er for stort til Digital Post.")
    letter = Letter(
        case=case, recipient_kind=recipient.kind, custody_holder=recipient.custody_holder,
        child=recipient.child, recipient_name=recipient.name, channel=recipient.channel,
        subject=subject[:200], body=body.replace(NAME_PLACEHOLDER, recipient.name), reason=reason,
        link_kind=link_kind, link_ref=link_ref, dedupe_key=dedupe_key or None, created_by=actor.label[:150],
    )
    letter.full_clean(exclude=["dedupe_key"] if dedupe_key else None)
    try:
        with transaction.atomic():
            letter.save()
    except IntegrityError:
        if dedupe_key:  # someone queued the same letter at the same moment
            return Letter.objects.get(dedupe_key=dedupe_key)
        raise
    LetterAttachment.objects.bulk_create(
        LetterAttachment(letter=letter, filename=name[:200], content_type=ctype[:100], size=len(content),
                         content=content)
        for name, ctype, content in attachments
    )
    channel = "papir" if letter.channel == Channel.PAPER else "Digital Post"
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, basis=basis, case=case, obj=letter,
                 summary=f"Brev til {recipient.name} ({channel}): {subject}")
    return letter


@transaction.atomic
def family_letters_send(
    *, actor: Actor, case: Case, subject: str, body: str, reason: str, include_child: bool = True,
    attachments: Sequence[tuple[str, str, bytes]] = (), link_kind: str = "", link_ref: int | None = None,
) -> list[Letter]:
    """The `notify.tell_family` handler: the same letter to each custody holder (paper when
    they have no Digital Post) and, when include_child, to the child if 15+ today."""
    return [
        letter_queue(actor=actor, case=case, recipient=r, subject=subject, body=body, reason=reason,
                     attachments=attachments, link_kind=link_kind, link_ref=link_ref)
        for r in family_recipients(case, include_child=include_child)
    ]


def _release_stale_claims(now: dt.datetime) -> None:
    Letter.objects.filter(status=Letter.Status.QUEUED, claimed_at__lt=now - STALE_CLAIM).update(claimed_at=None)


def letters_deliver(*, limit: int = 50) -> int:
    """The background job: hand queued letters to the backend, one claimed row at a time."""
    now = timezone.now()
    _release_stale_claims(now)
    ids = list(
        Letter.objects.filter(status=Letter.Status.QUEUED, claimed_at__isnull=True)
        .order_by("id").values_list("id", flat=True)[:limit]
    )
    done = 0
    for letter_id in ids:
        claimed = Letter.objects.filter(
            pk=letter_id, status=Letter.Status.QUEUED, claimed_at__isnull=True
        ).update(claimed_at=timezone.now())
        if claimed != 1:
            continue  # another worker has it
        try:
            _deliver_one(letter_id)
            done += 1
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            # Only the id and the kind of error: messages may carry personal data.
            log.warning("letter %s not delivered: %s", letter_id, type(exc).__name__)
            Letter.objects.filter(pk=letter_id).update(
                claimed_at=None, attempts=F("attempts") + 1, last_error=type(exc).__name__[:300],
            )
            Letter.objects.filter(pk=letter_id, attempts__gte=MAX_ATTEMPTS).update(status=Letter.Status.FAILED)
    return done


@transaction.atomic
def _deliver_one(letter_id: int) -> None:
    letter = Letter.objects.select_for_update(of=("self",)).select_related("case").get(pk=letter_id)
    if letter.status != Letter.Status.QUEUED:
        return
    body = letter.body
    if letter.link_kind:
        body = body.replace(LINK_PLACEHOLDER, mint_link(letter))
    delivery = get_backend().send(letter, body=body, attachments=list(letter.attachments.all()))
    letter.status = Letter.Status.SENT
    letter.sent_at = timezone.now()
    letter.external_ref = delivery.reference[:200]
    letter.read_token_hash = delivery.read_token_hash
    letter.read_expires_at = delivery.read_expires_at
    letter.last_error = ""
    letter.save(update_fields=["status", "sent_at", "external_ref", "read_token_hash", "read_expires_at",
                               "last_error"])
    how = "til print (papirpost)" if letter.channel == Channel.PAPER else "med Digital Post"
    audit_record(actor=Actor.job("letters_deliver"), action=AuditEvent.Action.CHANGE, basis="system",
                 case=letter.case, obj=letter, summary=f"Brev sendt {how} til {letter.recipient_name}")


def letter_for_read_token(token_hash_value: str) -> Letter | None:
    return (
        Letter.objects.select_related("case", "case__child", "case__municipality")
        .filter(Q(read_expires_at__gt=timezone.now()), read_token_hash=token_hash_value,
                status=Letter.Status.SENT)
        .first()
    )
