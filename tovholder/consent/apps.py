from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "tovholder.consent"
    verbose_name = "Samtykke"
