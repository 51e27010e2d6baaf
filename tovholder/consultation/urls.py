from django.urls import path

from tovholder.consultation import views

app_name = "consultation"
urlpatterns = [
    path("", views.home, name="home"),
    path("spoerg/", views.ask, name="ask"),
    path("<int:consultation_id>/", views.detail, name="detail"),
    path("<int:consultation_id>/svar/", views.reply, name="reply"),
    path("<int:consultation_id>/bilag/<int:attachment_id>/", views.attachment, name="attachment"),
    path("<int:consultation_id>/aflys/", views.booking_cancel, name="booking_cancel"),
    path("<int:consultation_id>/aftale/", views.to_agreement, name="to_agreement"),
    path("tider/", views.slots, name="slots"),
    path("tider/ny/", views.series_new, name="series_new"),
    path("tider/<int:slot_id>/", views.slot_detail, name="slot_detail"),
    path("tider/<int:slot_id>/book/", views.book, name="book"),
    path("tider/<int:slot_id>/aflys/", views.slot_cancel, name="slot_cancel"),
    path("forloeb/<int:case_id>/henvisning/ny/", views.referral_new, name="referral_new"),
    path("forloeb/<int:case_id>/henvisning/<int:referral_id>/", views.referral_detail, name="referral_detail"),
    path("forloeb/<int:case_id>/henvisning/<int:referral_id>/send/", views.referral_send, name="referral_send"),
    path("forloeb/<int:case_id>/henvisning/<int:referral_id>/svar/", views.referral_answer, name="referral_answer"),
    path("forloeb/<int:case_id>/naeste-skridt/<int:follow_up_id>/", views.follow_up_done, name="follow_up_done"),
    path("forloeb/<int:case_id>/indlaeggelse/", views.admission_new, name="admission_new"),
]
