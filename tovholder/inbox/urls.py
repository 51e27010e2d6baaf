from django.urls import path

from tovholder.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("henvendelse/<int:item_id>/", views.item_detail, name="item"),
    path("henvendelse/<int:item_id>/opret-forloeb/", views.item_open_case, name="item_open_case"),
    path("henvendelse/<int:item_id>/knyt-til-forloeb/", views.item_attach, name="item_attach"),
    path("henvendelse/<int:item_id>/afvis/", views.item_reject, name="item_reject"),
    path("henvendelse/<int:item_id>/videresend/", views.item_forward, name="item_forward"),
    path("henvendelse/<int:item_id>/set/", views.item_noted, name="item_noted"),
    path("traad/<int:thread_id>/", views.thread_detail, name="thread"),
    path("traad/<int:thread_id>/svar/", views.thread_reply, name="thread_reply"),
    path("bilag/<int:segment_id>/", views.attachment, name="attachment"),
    path("karantaene/", views.quarantine_list, name="quarantine"),
    path("karantaene/<int:arrival_id>/", views.quarantine_detail, name="quarantine_detail"),
    path("karantaene/<int:arrival_id>/afslut/", views.quarantine_resolve, name="quarantine_resolve"),
    path("karantaene/<int:arrival_id>/behandl-igen/", views.quarantine_retry, name="quarantine_retry"),
    path("udgaaende/<int:outbound_id>/", views.outbound_resolve, name="outbound_resolve"),
    path("registrer/", views.register_contact, name="register"),
    path("henvis/", views.web_referral, name="referral"),
    path("mine-henvisninger/", views.my_referrals, name="my_referrals"),
    path("oversigt/", views.directory, name="directory"),
]
