from django.apps import AppConfig


class CommitteeConfig(AppConfig):
    name = "tovholder.committee"
    verbose_name = "Koordinationsudvalget"
