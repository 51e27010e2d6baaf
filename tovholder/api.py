"""The JSON API. Each part of the domain contributes a router; OpenAPI at /api/openapi.json."""

from ninja import NinjaAPI

from tovholder.cases.api import router as cases_router

api = NinjaAPI(
    title="Tovholder API",
    version="1",
    description="Fælles forpligtende forløb og handleplan — JSON API for the same services as the pages.",
    urls_namespace="api",
    docs_url="/docs",
)
api.add_router("/", cases_router)
