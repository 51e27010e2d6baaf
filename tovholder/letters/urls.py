from django.urls import path

from tovholder.letters import views

app_name = "letters"
urlpatterns = [
    path("forloeb/<int:case_id>/", views.case_letter_list, name="case_letters"),
    path("<int:letter_id>/", views.letter_detail, name="detail"),
    path("<int:letter_id>/bilag/<int:attachment_id>/", views.letter_attachment, name="attachment"),
    # The recipient's own link (no login): the letter as delivered, and its attachments.
    path("post/<slug:token>/", views.family_read, name="family_read"),
    path("post/<slug:token>/bilag/<int:attachment_id>/", views.family_attachment, name="family_attachment"),
]
