from django.core.management.base import BaseCommand, CommandError

from tovholder.insight.trial import (
    TRIAL_END,
    TRIAL_START,
    TrialAlreadyLoaded,
    trial_load,
    trial_loaded,
)


class Command(BaseCommand):
    help = ("Load the Syddjurs trial (seed 001: 18 referrals, 1 April – 10 November 2022) into the demo "
            "database through the real services, with its relational coordination survey. Its own "
            "municipality-period (Syddjurs, 2022) and its own staff, whose roles end with the trial; safe to "
            "run on the demo database, and only once.")

    def handle(self, *args, **options):
        if trial_loaded():
            self.stdout.write("The trial is already loaded; nothing done.")
            return
        try:
            cases = trial_load()
            from tovholder.insight.rollup import rollup_rebuild

            rollup_rebuild()
        except TrialAlreadyLoaded:
            self.stdout.write("The trial is already loaded; nothing done.")
            return
        except ImportError as exc:
            raise CommandError("time_machine is needed (pip install -e '.[dev]').") from exc
        self.stdout.write(
            f"Trial loaded: {len(cases)} cases in Syddjurs. See /indsigt/?omraade=706"
            f"&fra={TRIAL_START:%Y-%m-%d}&til={TRIAL_END:%Y-%m-%d} and /indsigt/relationel-koordinering/"
            "?omraade=706 (as karen, the committee chair)."
        )
