"""The local outbox for the demo: the letters as the family received them, with the
recipient's "read online" link (which leads on to a consent link)."""

from django.core.management.base import BaseCommand

from tovholder.letters.backends import delivered_copy
from tovholder.letters.models import Letter


class Command(BaseCommand):
    help = "List delivered letters in the local outbox with each recipient's read link (demo)."

    def add_arguments(self, parser):
        parser.add_argument("--case", type=int, help="Only the letters of this case (its id).")
        parser.add_argument("--limit", type=int, default=20)

    def handle(self, *args, **options):
        letters = Letter.objects.filter(status=Letter.Status.SENT).select_related("case").order_by("-sent_at")
        if options["case"]:
            letters = letters.filter(case_id=options["case"])
        for letter in letters[: options["limit"]]:
            copy = delivered_copy(letter) or {}
            self.stdout.write(
                f"{letter.sent_at:%Y-%m-%d %H:%M}  {letter.case.reference}  {letter.recipient_name} "
                f"({letter.get_channel_display()}): {letter.subject}\n    {copy.get('read_url') or '(papir)'}"
            )
