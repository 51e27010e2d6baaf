from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "tovholder.insight"
    verbose_name = "Indsigt"
