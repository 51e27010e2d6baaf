from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "tovholder.organisations"
    verbose_name = "Organisationer"
