from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import set_language

from tovholder.web import configuration, views

app_name = "web"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sprog/", set_language, name="set_language"),
    path("konfiguration/", configuration.configuration, name="configuration"),
    path("konfiguration/kommune/<str:code>/", configuration.municipality_settings, name="municipality_settings"),
    path("konfiguration/rolle/ny/", configuration.membership_add, name="membership_add"),
    path("konfiguration/rolle/<int:membership_id>/afslut/", configuration.membership_stop, name="membership_end"),
]
