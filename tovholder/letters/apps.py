from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "tovholder.letters"
    verbose_name = "Digital Post"
