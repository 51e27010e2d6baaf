"""The background loop's jobs: reminders, deadline sweeps, the outbox.

Each part of the domain registers its jobs in AppConfig.ready(). A job takes no
arguments, does a bounded amount of work, and returns how many items it handled.
Jobs must be idempotent and claim work rows atomically (a conditional UPDATE that must
change exactly one row), so several workers can run side by side and running a job
twice never sends anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], int]


_jobs: dict[str, Job] = {}


def register_job(name: str, run: Callable[[], int]) -> None:
    _jobs[name] = Job(name, run)


def all_jobs() -> list[Job]:
    return list(_jobs.values())


def run_all_once() -> dict[str, int]:
    """Run every job once; a failing job is logged and does not stop the others."""
    done: dict[str, int] = {}
    for job in all_jobs():
        try:
            done[job.name] = job.run()
        except Exception:
            log.exception("job %s failed", job.name)
            done[job.name] = 0
    return done
