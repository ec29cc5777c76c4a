"""Celery tasks for ledger imports: another interface onto the services. They take a job id, bind a task context
for the audit trail and call the service, which is idempotent (a job already past the step is left alone)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from core import context

from . import services


def _context(job_id: int, step: str) -> context.RequestContext:
    return context.RequestContext(
        request_id=f"import-{job_id}-{step}-{context.new_request_id()[:8]}", channel="task"
    )


@shared_task(
    name="projects.import_validate",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def import_validate_task(job_id: int) -> str | None:
    """Validate every row of an uploaded import job (no writes besides the job itself)."""
    with context.bind(_context(job_id, "validate")):
        job = services.import_job_validate(job_id=job_id)
    return job.status if job is not None else None


@shared_task(name="projects.import_run")
def import_run_task(job_id: int) -> str | None:
    """Import a confirmed job's projects in one transaction. Not retried automatically: a failure is recorded on
    the job, and a half-started job is never run twice."""
    with context.bind(_context(job_id, "run")):
        job = services.import_job_run(job_id=job_id)
    return job.status if job is not None else None
