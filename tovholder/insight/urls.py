from django.urls import path

from tovholder.insight import views

app_name = "insight"
urlpatterns = [
    path("", views.home, name="home"),
    path("eksport/<slug:table>.<str:fmt>", views.export, name="export"),
    path("relationel-koordinering/", views.survey, name="survey"),
    path("relationel-koordinering/eksport/<slug:table>.<str:fmt>", views.survey_export, name="survey_export"),
    path("relationel-koordinering/besvar/", views.survey_rounds, name="survey_rounds"),
    path("relationel-koordinering/besvar/<int:round_id>/", views.survey_answer, name="survey_answer"),
    path("relationel-koordinering/opsaetning/", views.survey_manage, name="survey_manage"),
]
urlpatterns += [
    path("forloeb/<int:case_id>/", views.case_audit, name="case_audit"),
    path("forloeb/<int:case_id>/eksport.<str:fmt>", views.case_audit_export, name="case_audit_export"),
]
