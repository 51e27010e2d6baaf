"""The child's voice before a meeting, written by the family through their own link.

The meeting invitation (Digital Post) carries each recipient's personal link. Opening it
shows what the meeting is and a box to write in: the child — or the family with the child —
says what matters before the meeting, and the lead finds it on the meeting page and in the
meeting record. A page opened with the link shows nothing already written (a parent's link
must not show what a 15-year-old wrote). Links expire when the meeting begins.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from tovholder.audit.actor import Actor
from tovholder.letters.backends import site_url
from tovholder.letters.tokens import looks_like_token, new_token, token_hash
from tovholder.pathway.models import ChildVoiceLink, Meeting

LINK_KIND = "child_voice"


def child_voice_link_mint(letter) -> str:
    """The letters' link minter for "child_voice": a fresh token for the letter's meeting."""
    meeting = Meeting.objects.get(pk=letter.link_ref)
    recipient = f"holder:{letter.custody_holder_id}" if letter.custody_holder_id else f"child:{letter.child_id}"
    token = new_token()
    ChildVoiceLink.objects.create(meeting=meeting, recipient=recipient, token_hash=token_hash(token),
                                  expires_at=meeting.starts_at)
    return site_url(reverse("pathway:child_voice", args=[token]))


def link_for_token(token: str) -> ChildVoiceLink | None:
    """The link a token opens, or None (wrong, unknown or expired)."""
    if not looks_like_token(token):
        return None
    link = (ChildVoiceLink.objects.filter(token_hash=token_hash(token), expires_at__gt=timezone.now())
            .select_related("meeting__pathway__case__child", "meeting__pathway__lead_user").first())
    if link is not None:
        ChildVoiceLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    return link


def family_actor(link: ChildVoiceLink) -> Actor:
    return Actor(system=f"family:{link.recipient}")
