"""The Taizhang Django project: settings, URLs, the Celery app and the `taizhang` command."""

from .celery import app as celery_app

__all__ = ("celery_app",)
