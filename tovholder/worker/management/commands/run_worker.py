import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tovholder.worker.jobs import all_jobs, run_all_once

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "The background loop: runs every registered job, sleeps when idle, stops on SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run each job once and exit.")
        parser.add_argument("--idle-seconds", type=float, default=10.0)

    def handle(self, *args, **options):
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        names = ", ".join(j.name for j in all_jobs()) or "(none)"
        self.stdout.write(f"Worker started; jobs: {names}")
        while not self.stopping:
            close_old_connections()
            done = run_all_once()
            if options["once"]:
                self.stdout.write(f"Worker ran once: {done}")
                return
            if not any(done.values()):
                # Sleep in short steps so SIGTERM is honoured promptly.
                slept = 0.0
                while slept < options["idle_seconds"] and not self.stopping:
                    time.sleep(0.5)
                    slept += 0.5
        self.stdout.write("Worker stopped.")

    def _stop(self, *_):
        self.stopping = True
