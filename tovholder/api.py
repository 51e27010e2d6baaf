"""The JSON API. Each part of the domain contributes a router; OpenAPI at /api/openapi.json."""

from ninja import NinjaAPI

from tovholder.cases.api import router as cases_router
from tovholder.committee.api import router as committee_router
from tovholder.consent.api import router as consent_router
from tovholder.consultation.api import router as consultation_router
from tovholder.inbox.api import router as inbox_router
from tovholder.insight.api import router as insight_router
from tovholder.letters.api import router as letters_router
from tovholder.pathway.api import router as pathway_router

api = NinjaAPI(
    title="Tovholder API",
    version="1",
    description="Fælles forpligtende forløb og handleplan — JSON API for the same services as the pages.",
    urls_namespace="api",
    docs_url="/docs",
)
api.add_router("/", cases_router)
api.add_router("/", inbox_router)
api.add_router("/", consent_router)
api.add_router("/", letters_router)
api.add_router("/", committee_router)
api.add_router("/", pathway_router)
api.add_router("/", consultation_router)
api.add_router("/", insight_router)
