from django.apps import AppConfig


class PathwayConfig(AppConfig):
    name = "tovholder.pathway"
    verbose_name = "Forløb og handleplan"
