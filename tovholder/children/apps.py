from django.apps import AppConfig


class ChildrenConfig(AppConfig):
    name = "tovholder.children"
    verbose_name = "Børn og familier"
