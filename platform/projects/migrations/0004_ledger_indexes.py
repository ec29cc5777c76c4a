"""Indexes for the unified ledger (统一项目台账), PostgreSQL only.

- `project_search_trgm_idx`: a trigram GIN index on UPPER(search_text), the exact expression Django's
  `search_text__icontains` compiles to, so "contains" searches (Chinese, code, pinyin, initials) stop
  scanning every project. Needs the `pg_trgm` extension (trusted since PostgreSQL 13: the database owner
  may create it).
- `project_stage_year_idx`: the ledger's most common filter pair.
- `project_updated_idx`: the default order (更新时间, newest first), so a wide first page reads the index
  instead of sorting the whole scope.

They live only in this migration (not in `Meta.indexes`) because the trigram index is PostgreSQL-specific and
SQLite, the zero-setup default, must still migrate; on SQLite this migration does nothing.
"""

from django.db import migrations

INDEXES = (
    ("project_search_trgm_idx", "USING gin (UPPER(search_text) gin_trgm_ops)"),
    ("project_stage_year_idx", "(stage, year)"),
    ("project_updated_idx", "(updated_at DESC, id DESC)"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON projects_project {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("projects", "0003_importjob")]

    operations = [migrations.RunPython(create, drop)]
