from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tovholder.web"
    verbose_name = "Web"
