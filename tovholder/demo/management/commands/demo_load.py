from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from tovholder.demo.families import FAMILIES, load_families
from tovholder.demo.region import DEMO_PASSWORD, build_region
from tovholder.organisations.models import Region


class Command(BaseCommand):
    help = "Load the demo region (municipalities, units, staff, families, cases in every stage) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when data exists.")
        parser.add_argument("--with-trial", action="store_true",
                            help="Also replay the 2022 Syddjurs trial (18 referrals) for the insight pages "
                                 "(the same as `manage.py insight_load_trial` later).")

    def handle(self, *args, **options):
        if Region.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Demo: the database already has data; nothing loaded.")
                return
            raise SystemExit("The database already has data; the demo loads only into an empty one.")
        csv_path = Path(settings.BASE_DIR).parent / "shared" / "data" / "municipalities.csv"
        with transaction.atomic():
            demo = build_region(csv_path=csv_path)
            cases = load_families(demo)
        self.stdout.write(f"Demo region: {len(demo.municipalities)} municipalities, {len(demo.units)} units, "
                          f"{len(demo.users)} staff, {len(FAMILIES)} families, {len(cases)} cases.")
        self._step("the single entry's morning", "tovholder.inbox.demo", "demo_inbox_load", demo)
        self._step("consultation times and consultations", "tovholder.demo.consultations", "load_consultations", demo)
        if options["with_trial"]:
            self._step("the 2022 Syddjurs trial (insight)", "tovholder.insight.demo", "insight_demo_load", demo)
        self._step("insight figures", "tovholder.insight.demo", "insight_demo_refresh")
        self.stdout.write(f"Demo loaded. Password for every login: {DEMO_PASSWORD}")

    def _step(self, label, module, function, *args):
        from importlib import import_module

        with transaction.atomic():
            getattr(import_module(module), function)(*args)
        self.stdout.write(f"Demo: {label} loaded.")
