from django.apps import AppConfig


class CommitteeConfig(AppConfig):
    name = "tovholder.committee"
    verbose_name = "Koordinationsudvalget"

    def ready(self) -> None:
        from tovholder.cases.panels import register_panel
        from tovholder.committee.jobs import committee_schedule
        from tovholder.committee.panels import committee_panel
        from tovholder.worker.jobs import register_job

        register_panel(40, committee_panel)
        register_job("committee_schedule", committee_schedule)
