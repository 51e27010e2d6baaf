from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tovholder.inbox import conf
from tovholder.inbox.dropfolder import import_folder


class Command(BaseCommand):
    help = ("Import a folder of MedCom message files (*.json, *.xml) through the same intake as "
            "POST /api/medcom/messages; processed files move to done/ or failed/.")

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="?", help="The drop folder (default: MEDCOM_DROP_DIR).")

    def handle(self, *args, **options):
        folder = Path(options["folder"]) if options["folder"] else conf.drop_dir()
        if folder is None or not folder.is_dir():
            raise CommandError("Give a folder, or set MEDCOM_DROP_DIR.")
        results = import_folder(folder)
        for r in results:
            self.stdout.write(f"{r.name}: {r.ack_code or 'kvittering modtaget'} → {r.moved_to}/")
        self.stdout.write(f"{len(results)} file(s) imported.")
