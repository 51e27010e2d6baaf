from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "tovholder.consent"
    verbose_name = "Samtykke"

    def ready(self) -> None:
        from tovholder.cases.panels import register_panel
        from tovholder.consent.milestones import consent_milestones
        from tovholder.consent.panels import consent_panel
        from tovholder.consent.services import consent_link_mint, consent_sweep
        from tovholder.deadlines.milestones import register_provider
        from tovholder.letters.links import register_link_minter
        from tovholder.worker.jobs import register_job

        register_provider(consent_milestones)
        register_link_minter("consent", consent_link_mint)
        register_job("consent_sweep", consent_sweep)
        register_panel(20, consent_panel)
