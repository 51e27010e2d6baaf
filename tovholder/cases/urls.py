from django.urls import path

from tovholder.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.home, name="home"),
    path("forloeb/<int:case_id>/", views.case_detail, name="detail"),
    path("forloeb/<int:case_id>/revisionsspor/", views.case_audit, name="audit"),
    path("beskeder/<int:notice_id>/laest/", views.notice_read, name="notice_read"),
]
