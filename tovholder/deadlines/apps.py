from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    name = "tovholder.deadlines"
    verbose_name = "Tidsfrister"
