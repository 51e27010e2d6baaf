from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from tovholder.demo.families import load_families
from tovholder.demo.region import DEMO_PASSWORD, build_region
from tovholder.organisations.models import Region


class Command(BaseCommand):
    help = "Load the demo region (municipalities, units, staff, families, cases) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when data exists.")

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
        self.stdout.write(
            f"Demo loaded: {len(demo.municipalities)} municipalities, {len(demo.units)} units, "
            f"{len(demo.users)} staff, {len(cases)} cases. Password for every login: {DEMO_PASSWORD}"
        )
