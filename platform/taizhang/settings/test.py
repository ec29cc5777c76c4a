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

# A second database, SQLite, for the tests that check rules compiled to SQL (rules.sql) on both vendors
# (tests/rules/test_sql_property.py). pytest-django creates it — in memory — only for tests that ask for it with
# @pytest.mark.django_db(databases=["default", "sqlite"]).
DATABASES["sqlite"] = {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": str(BASE_DIR / "var" / "test-rules-sql.sqlite3"),
    "TEST": {"NAME": None},
}
