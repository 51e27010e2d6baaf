"""Every URL pattern and API path, tried with every persona (see tests/support/routes.py)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.support.routes import PERSONAS, Route
from tovholder.api import api


def all_routes() -> list[Route]:
    routes: list[Route] = []
    root = Path(__file__).resolve().parents[1]
    for info in pkgutil.iter_modules([str(root)]):
        if (root / info.name / "routes.py").exists():
            routes.extend(getattr(importlib.import_module(f"tests.{info.name}.routes"), "ROUTES", []))
    return routes


def url_names(resolver=None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            if p.namespace == "api":
                continue  # the API is walked through its OpenAPI operations below
            names |= url_names(p, ns)
        elif isinstance(p, URLPattern):
            assert p.name, f"URL pattern {p.pattern} has no name"
            names.add(namespace + p.name)
    return names


def api_operations() -> set[str]:
    schema = api.get_openapi_schema()
    ops = {"GET /api/openapi.json", "GET /api/docs"}
    for path, methods in schema["paths"].items():
        for method in methods:
            ops.add(f"{method.upper()} {path}")
    return ops


def test_it_has_a_route_for_every_url_and_api_operation():
    listed = {r.name for r in all_routes()}
    missing = (url_names() | api_operations()) - listed
    assert not missing, f"URLs without an access test: {sorted(missing)}"
    stale = listed - (url_names() | api_operations())
    assert not stale, f"Routes listed that do not exist: {sorted(stale)}"


def _path(route: Route, world, params: dict) -> str:
    if route.is_api:
        path = route.name.split(" ", 1)[1]
        return re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), path)
    return reverse(route.name, kwargs=params)


def _call(client, route: Route, world, params: dict, data: dict | None):
    path = _path(route, world, params)
    if route.method == "GET":
        return client.get(path, data or {})
    kwargs = {"content_type": route.content_type} if route.content_type else {}
    return getattr(client, route.method.lower())(path, data or {}, **kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("route", all_routes(), ids=lambda r: r.name)
def test_it_answers_every_persona_as_the_policy_says(route: Route, world, login):
    anonymous = route.anonymous if route.anonymous is not None else (401 if route.is_api else 302)
    # Objects the route needs are built once; every persona then tries the same URL.
    params = route.params(world)
    data = route.data(world) if route.data else None
    response = _call(login(None), route, world, params, data)
    assert response.status_code == anonymous, f"anonymous on {route.name}: {response.status_code}"
    if route.public:
        return
    for persona in PERSONAS:
        expected = route.allowed.get(persona, route.others)
        response = _call(login(persona), route, world, params, data)
        assert response.status_code == expected, (
            f"{persona} on {route.name}: got {response.status_code}, expected {expected}"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in all_routes() if r.method == "GET" and not r.public and not r.is_api],
                         ids=lambda r: r.name)
def test_an_outsider_posting_to_a_page_gets_404_too(route: Route, world, login):
    """Pages that take a form on the same URL check access on POST as on GET: whoever may not
    read the page may not submit it either (and learns nothing from the answer)."""
    from urllib.parse import urlencode

    params = route.params(world)
    query = route.data(world) if route.data else {}  # a GET route's data is its query string
    path = _path(route, world, params) + (f"?{urlencode(query)}" if query else "")
    for persona in PERSONAS:
        if route.allowed.get(persona, route.others) != 404:
            continue
        response = login(persona).post(path, {})
        assert response.status_code in (404, 405), f"{persona} POST {route.name}: got {response.status_code}"
