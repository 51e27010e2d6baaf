from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "tovholder.worker"
    verbose_name = "Baggrundsarbejde"
