"""The single entry's work in the background loop (`manage.py run_worker`)."""

from __future__ import annotations

from tovholder.inbox import conf
from tovholder.worker.jobs import register_job


def deliver() -> int:
    from tovholder.inbox.services import outbox_deliver

    return outbox_deliver()


def resend() -> int:
    from tovholder.inbox.services import outbox_resend_due

    return outbox_resend_due()


def retry_arrivals() -> int:
    from tovholder.inbox.services import arrivals_retry

    return arrivals_retry()


def drop_folder() -> int:
    """Import message files from MEDCOM_DROP_DIR when it is set (as `medcom_import` does)."""
    folder = conf.drop_dir()
    if folder is None or not folder.is_dir():
        return 0
    from tovholder.inbox.dropfolder import import_folder

    return len(import_folder(folder, limit=50))


def register_jobs() -> None:
    register_job("medcom_drop_folder", drop_folder)
    register_job("medcom_retry_arrivals", retry_arrivals)
    register_job("medcom_resend", resend)
    register_job("medcom_deliver", deliver)
