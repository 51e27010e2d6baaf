from django.urls import path

from tovholder.pathway import views

app_name = "pathway"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("mine-frister/", views.digest, name="digest"),
    path("stemme/<slug:token>/", views.child_voice, name="child_voice"),
    path("overdragelse/<int:handover_id>/", views.handover_answer, name="handover"),
    path("forloeb/<int:case_id>/", views.pathway_detail, name="detail"),
    path("forloeb/<int:case_id>/moede/nyt/", views.meeting_new, name="meeting_new"),
    path("forloeb/<int:case_id>/moede/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("forloeb/<int:case_id>/moede/<int:meeting_id>/kalender.ics", views.meeting_ics, name="meeting_ics"),
    path("forloeb/<int:case_id>/moede/<int:meeting_id>/aflys/", views.meeting_cancel, name="meeting_cancel"),
    path("forloeb/<int:case_id>/moede/<int:meeting_id>/barnets-stemme/", views.child_statement,
         name="child_statement"),
    path("forloeb/<int:case_id>/moede/<int:meeting_id>/handleplan/", views.meeting_record, name="meeting_record"),
    path("forloeb/<int:case_id>/plan/", views.plan_current, name="plan"),
    path("forloeb/<int:case_id>/plan/sammenlign/", views.plan_compare, name="plan_compare"),
    path("forloeb/<int:case_id>/plan/<int:number>/", views.plan_version, name="plan_version"),
    path("forloeb/<int:case_id>/plan/<int:number>/handleplan.pdf", views.plan_pdf, name="plan_pdf"),
    path("forloeb/<int:case_id>/indsats/ny/", views.intervention_new, name="intervention_new"),
    path("forloeb/<int:case_id>/indsats/<int:intervention_id>/", views.intervention_edit, name="intervention_edit"),
    path("forloeb/<int:case_id>/forklaring/", views.explain, name="explain"),
    path("forloeb/<int:case_id>/overdragelse/", views.handover_new, name="handover_new"),
]
