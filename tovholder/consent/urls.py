from django.urls import path

from tovholder.consent import views

app_name = "consent"
urlpatterns = [
    # Staff
    path("afventer/", views.waiting, name="waiting"),
    path("tekst/<str:code>/", views.text_edit, name="text_edit"),
    path("forloeb/<int:case_id>/anmod/", views.request_start, name="request_start"),
    path("forloeb/<int:case_id>/forny/", views.renewal_start, name="renewal_start"),
    path("anmodning/<int:request_id>/papirsvar/", views.paper_answer, name="paper_answer"),
    path("anmodning/<int:request_id>/tilbagetraek/", views.staff_withdraw, name="staff_withdraw"),
    path("anmodning/<int:request_id>/scanning/", views.scan, name="scan"),
    # The family's own link (no login; the token is the credential)
    path("<slug:token>/", views.link, name="link"),
    path("<slug:token>/svar/", views.link_answer, name="link_answer"),
    path("<slug:token>/tilbagetraek/", views.link_withdraw, name="link_withdraw"),
]
