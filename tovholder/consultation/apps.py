from django.apps import AppConfig


class ConsultationConfig(AppConfig):
    name = "tovholder.consultation"
    verbose_name = "Sparring og henvisning"
