"""Personal links in letters, minted at delivery.

A part of the domain that puts a personal link in a letter (consent) queues the letter
with `link_kind` and `link_ref` and `LINK_PLACEHOLDER` in its body, and registers a minter
in its AppConfig.ready(). At delivery the job calls the minter, which creates a fresh
token, stores its hash, and returns the full URL; the URL goes into the delivered letter
only, never into the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from tovholder.letters.models import Letter

Minter = Callable[["Letter"], str]
_minters: dict[str, Minter] = {}


def register_link_minter(kind: str, minter: Minter) -> None:
    _minters[kind] = minter


def mint_link(letter: Letter) -> str:
    try:
        minter = _minters[letter.link_kind]
    except KeyError:
        raise ImproperlyConfigured(f"no link minter for {letter.link_kind!r}") from None
    return minter(letter)
