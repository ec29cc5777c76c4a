"""What the PostgreSQL benchmarks share: a fresh database of their own, Django set up against it, section banners."""

from __future__ import annotations


def banner(text: str) -> None:
    """A section heading in the printed report (Markdown, so tables paste into the README)."""
    print(f"\n## {text}")


def recreate_database(db: str, admin_url: str) -> None:
    """Drop and create the benchmark's own database (never the test or the demo database)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {db}")


def setup_django() -> None:
    import django

    django.setup()
