from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "tovholder.cases"
    verbose_name = "Forløb"

    def ready(self) -> None:
        from tovholder.cases.milestones import committee_milestone
        from tovholder.deadlines.milestones import register_provider

        register_provider(committee_milestone)
