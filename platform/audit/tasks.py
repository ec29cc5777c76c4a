"""Scheduled verification of the audit chain: a break is logged as an error for the operators."""

from __future__ import annotations

import logging

from celery import shared_task

from .services import audit_verify

log = logging.getLogger(__name__)


@shared_task(name="audit.verify")
def audit_verify_task() -> dict:
    report = audit_verify()
    if not report.ok:
        log.error("audit chain broken at event %s: %s", report.first_bad_id, report.reason)
    return report.as_dict()
