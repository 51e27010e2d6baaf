"""Personal links for people who do not log in (the family): unguessable, single-purpose,
expiring. Only the SHA-256 of a token is stored; the token itself exists only in the
letter that carries it."""

from __future__ import annotations

import hashlib
import secrets

from django.http import HttpResponse

TOKEN_BYTES = 32  # 256 random bits; the brief asks for at least 128


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check before touching the database (43 URL-safe characters)."""
    return 40 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


def private_response(response: HttpResponse) -> HttpResponse:
    """Headers for pages opened with a personal link: the link must not leak through the
    Referer header, caches or search engines. "strict-origin" sends only our origin, never
    the path with the token; "no-referrer" would make browsers send `Origin: null` with the
    page's own forms, which the CSRF check rightly refuses."""
    response["Referrer-Policy"] = "strict-origin"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
