"""What /healthz reports: can we reach the database and the task broker?"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection
from kombu import Connection


def _mask(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any failure to reach the database is what we report
        return {"ok": False, "vendor": connection.vendor, "error": type(exc).__name__}


def broker() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith("memory"):
        return {"ok": True, "mode": "in-process", "url": url}
    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "mode": "broker", "url": _mask(url)}
    except Exception as exc:  # any failure to reach the broker is what we report
        return {"ok": False, "mode": "broker", "url": _mask(url), "error": type(exc).__name__}


def report() -> dict:
    checks = {"database": database(), "broker": broker()}
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "fail", **checks}
