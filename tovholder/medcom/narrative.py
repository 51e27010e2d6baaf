"""Narrative text (``Resource.text``) for the resources we write.

MedCom requires a human-readable narrative on every resource. Ours are short
Danish summaries; all content is XML-escaped, and line breaks become ``<br/>``.
"""

from __future__ import annotations

import uuid
from html import escape
from typing import Any

XHTML_NS = "http://www.w3.org/1999/xhtml"

# Namespace for the deterministic resource ids we derive (uuid5): the same inputs
# always give the same ids, so a rebuilt message or acknowledgement is identical.
ID_NAMESPACE = uuid.UUID("6f1c7e5e-3b0a-4c59-9a53-2d8f0f3b7a11")


def derived_id(*parts: str) -> str:
    """A stable UUID for a resource, derived from the given parts."""
    return str(uuid.uuid5(ID_NAMESPACE, "\x1f".join(parts)))


# Control characters cannot appear in XML at all; a narrative simply leaves them out.
_CONTROL = {code: None for code in range(0x20) if chr(code) not in "\t\n"}


def _line(text: str) -> str:
    clean = text.translate(_CONTROL)
    return "<br/>".join(escape(part, quote=False) for part in clean.split("\n"))


def narrative(*paragraphs: str | tuple[str, str]) -> dict[str, Any]:
    """``{"status": "generated", "div": …}`` with one ``<p>`` per paragraph.

    A paragraph is plain text, or a (label, text) pair rendered as "<b>label</b>: text".
    """
    parts = []
    for paragraph in paragraphs:
        if isinstance(paragraph, tuple):
            label, text = paragraph
            parts.append(f"<p><b>{escape(label, quote=False)}</b>: {_line(text)}</p>")
        else:
            parts.append(f"<p>{_line(paragraph)}</p>")
    return {"status": "generated", "div": f'<div xmlns="{XHTML_NS}">{"".join(parts)}</div>'}
