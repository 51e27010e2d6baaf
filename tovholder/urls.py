from django.urls import include, path

from tovholder.api import api

urlpatterns = [
    path("", include("tovholder.web.urls")),
    path("", include("tovholder.cases.urls")),
    path("api/", api.urls),
]
