"""`taizhang audit verify|export` from the command line."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_verify_command_reports_intact_chain(world):
    out = io.StringIO()
    call_command("audit", "verify", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["ok"] is True and report["checked"] > 10


def test_export_command_writes_json_lines_and_records_itself(world):
    out = io.StringIO()
    call_command("audit", "export", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[-1]["action"] == "audit.export"
    assert all({"hash", "prev_hash", "occurred_at", "action"} <= line.keys() for line in lines)
