from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "tovholder.insight"
    verbose_name = "Indsigt"

    def ready(self) -> None:
        from tovholder.cases.panels import register_panel
        from tovholder.insight.facts import facts_refresh_job
        from tovholder.insight.views import case_audit_panel
        from tovholder.worker.jobs import register_job

        register_job("insight_facts", facts_refresh_job)
        register_panel(900, case_audit_panel)
