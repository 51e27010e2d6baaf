from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "tovholder.inbox"
    verbose_name = "Én indgang"
