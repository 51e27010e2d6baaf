from django.urls import include, path

from tovholder.api import api

urlpatterns = [
    path("", include("tovholder.web.urls")),
    path("", include("tovholder.cases.urls")),
    path("indgang/", include("tovholder.inbox.urls")),
    path("samtykke/", include("tovholder.consent.urls")),
    path("breve/", include("tovholder.letters.urls")),
    path("udvalg/", include("tovholder.committee.urls")),
    path("handleplan/", include("tovholder.pathway.urls")),
    path("sparring/", include("tovholder.consultation.urls")),
    path("indsigt/", include("tovholder.insight.urls")),
    path("api/", api.urls),
]
