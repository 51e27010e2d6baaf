"""Calendar invitations for meetings: RFC 5545 iCalendar, written by hand (it is small).

Times are written in UTC ("Z"), which every calendar converts to local time, so no
VTIMEZONE block is needed and DST cannot go wrong. Text values are escaped (backslash,
semicolon, comma, newline) and lines folded at 75 octets without splitting a UTF-8
character.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

PRODID = "-//Tovholder//Faelles forloeb//DA"


def escape_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets (RFC 5545 3.1)."""
    out: list[str] = []
    current = b""
    limit = 75
    for ch in line:
        encoded = ch.encode("utf-8")
        if len(current) + len(encoded) > limit:
            out.append(current.decode("utf-8"))
            current = b""
            limit = 74  # continuation lines start with one space
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def meeting_ics(meeting, *, method: str = "REQUEST", now: dt.datetime | None = None,
                professionals_only: bool = False) -> bytes:
    """The invitation (or cancellation, method="CANCEL") for one meeting. The copy e-mailed to
    professionals (`professionals_only`) lists no family member: e-mail is not a secure channel."""
    pathway = meeting.pathway
    lead = pathway.lead_user
    summary = f"{meeting.get_kind_display()} — fælles forløb {pathway.case.reference}"
    description_lines = [f"{meeting.get_kind_display()} i det fælles forpligtende forløb.", "", "Dagsorden:"]
    description_lines += [f"- {item}" for item in meeting.agenda]
    description_lines += ["", f"Indsatsansvarlig: {lead.get_full_name()}"
                          + (f", tlf. {lead.phone}" if lead.phone else "")]
    if meeting.video_link:
        description_lines += ["", f"Video: {meeting.video_link}"]
    location = meeting.place or meeting.video_link
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{meeting.uid}",
        f"SEQUENCE:{meeting.sequence}",
        f"DTSTAMP:{utc(now or timezone.now())}",
        f"DTSTART:{utc(meeting.starts_at)}",
        f"DTEND:{utc(meeting.ends_at)}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(chr(10).join(description_lines))}",
        f"LOCATION:{escape_text(location)}",
        f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}",
    ]
    if meeting.video_link:
        lines.append(f"URL:{meeting.video_link}")
    if lead.email:
        lines.append(f"ORGANIZER;CN={_param(lead.get_full_name())}:mailto:{lead.email}")
    for p in meeting.participants.all():
        if professionals_only and p.sector in ("child", "parents"):
            continue
        if p.email:
            lines.append(f"ATTENDEE;CN={_param(p.name)};ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:{p.email}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")


def _param(value: str) -> str:
    """A parameter value: quoted, without the characters a quoted value may not hold."""
    return '"' + value.replace('"', "'").replace("\n", " ").replace("\r", " ") + '"'
