"""The Celery app. Tasks are another interface onto the services: they receive ids and call a service."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings.dev")

app = Celery("taizhang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
