"""The test preset: the machine's real PostgreSQL and Redis (override with DATABASE_URL / CELERY_BROKER_URL)."""

import hashlib
import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/taizhang")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False

# One test database per checkout, so a CI clone and a working tree on the same machine never collide.
_checkout = hashlib.sha1(str(BASE_DIR).encode()).hexdigest()[:8]
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TAIZHANG_TEST_DB") or f"test_taizhang_{_checkout}"}
