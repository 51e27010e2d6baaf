from django.urls import path

from tovholder.committee import views

app_name = "committee"
urlpatterns = [
    path("", views.agenda, name="agenda"),
    path("indstillinger/", views.committee_settings, name="settings"),
    path("moede/nyt/", views.meeting_add, name="meeting_add"),
    path("moede/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("moede/<int:meeting_id>/fremmoede/", views.meeting_attendance, name="attendance"),
    path("moede/<int:meeting_id>/aflys/", views.meeting_cancel, name="meeting_cancel"),
    path("moede/<int:meeting_id>/godkend/", views.meeting_approve, name="approve"),
    path("moede/<int:meeting_id>/sag/<int:item_id>/", views.item_take, name="take"),
    path("sag/<int:item_id>/", views.item_detail, name="item"),
    path("sag/<int:item_id>/viden/", views.item_note, name="note"),
    path("sag/<int:item_id>/undtag/", views.item_exempt, name="exempt"),
    path("referat/<int:minute_id>/", views.minute_edit, name="minute"),
    path("forloeb/<int:case_id>/tilbage/", views.case_return, name="return"),
]
