from django.apps import AppConfig


class PathwayConfig(AppConfig):
    name = "tovholder.pathway"
    verbose_name = "Forløb og handleplan"

    def ready(self) -> None:
        from tovholder.cases.panels import register_panel
        from tovholder.deadlines.milestones import register_provider
        from tovholder.letters.links import register_link_minter
        from tovholder.pathway.clocks import pathway_milestones
        from tovholder.pathway.invitations import invitations_send
        from tovholder.pathway.panels import pathway_panel
        from tovholder.pathway.services import deadline_sweep_daily, lead_digest_send
        from tovholder.pathway.voice import LINK_KIND, child_voice_link_mint
        from tovholder.worker.jobs import register_job

        register_provider(pathway_milestones)
        register_link_minter(LINK_KIND, child_voice_link_mint)
        register_panel(40, pathway_panel)
        register_job("pathway_deadline_sweep", deadline_sweep_daily)
        register_job("pathway_lead_digest", lead_digest_send)
        register_job("pathway_calendar_invitations", invitations_send)
