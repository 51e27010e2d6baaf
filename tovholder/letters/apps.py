from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "tovholder.letters"
    verbose_name = "Digital Post"

    def ready(self) -> None:
        from tovholder.cases import notify
        from tovholder.cases.panels import register_panel
        from tovholder.letters.panels import letters_panel
        from tovholder.letters.services import family_letters_send, letters_deliver
        from tovholder.worker.jobs import register_job

        notify.register("family", family_letters_send)
        register_job("letters_deliver", letters_deliver)
        register_panel(90, letters_panel)
