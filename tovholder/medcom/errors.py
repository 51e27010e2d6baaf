"""Why a message was rejected, in words the sender can act on.

Every check in this package reports a :class:`Problem`; the checks collect all of
them and raise one :class:`MessageRejected`, so the sending end learns everything
that is wrong in a single acknowledgement instead of one fault per round trip.

Texts are Danish and never contain a full CPR number (see :func:`mask_cpr`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# FHIR R4 issue-type codes (http://hl7.org/fhir/issue-type) used in Problem.code;
# they go straight into OperationOutcome.issue.code of a negative acknowledgement.
STRUCTURE = "structure"  # the body cannot be read as FHIR JSON/XML at all
INVALID = "invalid"  # content breaks a rule of the MedCom profile
REQUIRED = "required"  # something mandatory is missing
VALUE = "value"  # a value has the wrong form (date, number, check digit)
CODE_INVALID = "code-invalid"  # an unknown or disallowed code
SECURITY = "security"  # XML constructs we refuse for safety (DTD, entities)
TOO_COSTLY = "too-costly"  # too large or too deeply nested
NOT_SUPPORTED = "not-supported"  # e.g. an unknown content type or message type
EXCEPTION = "exception"  # an unexpected failure on our side while reading the message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a received message.

    ``code`` is a FHIR issue-type code, ``text`` a Danish sentence for a person at
    the sending end, ``location`` a FHIRPath-like pointer (or None).
    """

    code: str
    text: str
    location: str | None = None


class MessageRejected(Exception):
    """The message cannot be accepted; ``problems`` says why (never empty)."""

    def __init__(self, problems: Problem | Iterable[Problem]) -> None:
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("MessageRejected needs at least one problem")
        super().__init__("; ".join(p.text for p in self.problems))


def mask_cpr(value: object) -> str:
    """Show a CPR-like value safely: day and month only, e.g. ``3213xx-xxxx``.

    Day and month are enough for the sender to see what is wrong with a date
    and to find the patient in their own system; year and serial number stay
    hidden so an error text or log line never identifies a person.
    """
    text = str(value).replace("-", "").strip()
    if len(text) < 4:
        return "xxxxxx-xxxx"
    return f"{text[:4]}xx-xxxx"
