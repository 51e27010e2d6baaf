from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "tovholder.inbox"
    verbose_name = "Én indgang"

    def ready(self) -> None:
        from tovholder.cases import notify
        from tovholder.cases.panels import register_panel
        from tovholder.deadlines.milestones import register_provider
        from tovholder.inbox.jobs import register_jobs
        from tovholder.inbox.panels import inbox_milestone, thread_panel
        from tovholder.inbox.services import referrer_tell

        notify.register("referrer", referrer_tell)
        register_panel(15, thread_panel)
        register_provider(inbox_milestone)
        register_jobs()
        from django.db.models.signals import post_delete, post_save

        from tovholder.inbox.models import EntryAlias
        from tovholder.inbox.routing import clear_cache
        from tovholder.organisations.models import Unit

        # A cache, not a state change: the routing table must follow the units and aliases.
        for model in (Unit, EntryAlias):
            post_save.connect(clear_cache, sender=model, dispatch_uid=f"inbox-routing-{model.__name__}-save")
            post_delete.connect(clear_cache, sender=model, dispatch_uid=f"inbox-routing-{model.__name__}-delete")
        from django.apps import apps

        if apps.is_installed("tovholder.consultation"):
            from tovholder.inbox.hooks import consultation_referral_reply, register_thread_listener

            register_thread_listener(consultation_referral_reply)
