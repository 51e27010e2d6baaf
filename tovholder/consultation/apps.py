from django.apps import AppConfig


class ConsultationConfig(AppConfig):
    name = "tovholder.consultation"
    verbose_name = "Sparring og henvisning"

    def ready(self) -> None:
        from tovholder.cases.panels import register_panel
        from tovholder.consultation.panels import consultation_panel
        from tovholder.consultation.referrals import (
            REJECTION_CLOCK,
            REJECTION_CLOCK_LABEL,
            rejection_follow_up_sweep,
            rejection_milestones,
        )
        from tovholder.deadlines.clocks import CLOCK_LABELS
        from tovholder.deadlines.milestones import register_provider
        from tovholder.worker.jobs import register_job

        register_provider(rejection_milestones)
        # The deadlines module labels milestones by clock; ours is not one of the model's
        # clocks, so its label is added here (additive, the model's labels stay as they are).
        CLOCK_LABELS.setdefault(REJECTION_CLOCK, REJECTION_CLOCK_LABEL)
        register_panel(60, consultation_panel)
        register_job("consultation_follow_up_sweep", rejection_follow_up_sweep)
