"""`taizhang sweep`: the table of what each rule found and where it ran, one rule, JSON, errors, escalation."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from rules.models import Alert, AlertStatus

from .rule_fixtures import make_pack
from .test_sweep import OVER5, OVER5_PY, build_ledger

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ledger(world, project_type, valid_data):
    return build_ledger(world, project_type, valid_data)


def _sweep(*args: str) -> str:
    out = io.StringIO()
    call_command("sweep", "--today", "2026-06-01", *args, stdout=out)
    return out.getvalue()


def test_the_table_shows_each_rule_where_it_ran_and_what_it_found(world, ledger):
    make_pack(world.city, [OVER5, OVER5_PY])
    lines = _sweep().splitlines()
    assert lines[0].split() == ["规则", "执行方式", "命中", "新增", "更新", "解除", "耗时(ms)"]
    db_row, py_row = lines[1], lines[2]
    assert db_row.split()[:6] == ["test-pack/CZ-01", "数据库", "2", "2", "0", "0"]
    assert py_row.startswith("test-pack/CZ-01P") and "Python：表单中列表里的字段“资金来源.金额”" in py_row
    assert py_row.split()[-5:-1] == ["2", "2", "0", "0"]
    float(db_row.split()[-1])  # the time in ms
    assert len(lines) == 3
    again = _sweep().splitlines()
    assert again[1].split()[2:6] == ["2", "0", "2", "0"]  # refreshed, not duplicated
    assert Alert.objects.count() == 4


def test_one_rule_by_code(world, ledger):
    make_pack(world.city, [OVER5, OVER5_PY])
    lines = _sweep("--rule", "CZ-01P").splitlines()
    assert len(lines) == 2 and lines[1].startswith("test-pack/CZ-01P")
    assert set(Alert.objects.values_list("rule__code", flat=True)) == {"CZ-01P"}


def test_json_output(world, ledger):
    make_pack(world.city, [OVER5, OVER5_PY])
    report = json.loads(_sweep("--json"))
    assert report["escalated"] is None
    by_rule = {r["rule"]: r for r in report["rules"]}
    assert set(by_rule) == {"test-pack/CZ-01", "test-pack/CZ-01P"}
    fast, slow = by_rule["test-pack/CZ-01"], by_rule["test-pack/CZ-01P"]
    assert {k: fast[k] for k in ("fired", "opened", "refreshed", "resolved", "in_database", "reasons")} == {
        "fired": 2,
        "opened": 2,
        "refreshed": 0,
        "resolved": 0,
        "in_database": True,
        "reasons": [],
    }
    assert slow["in_database"] is False and slow["reasons"] == ["表单中列表里的字段“资金来源.金额”"]
    assert isinstance(fast["seconds"], float)


def test_no_rules_and_an_unknown_rule(world):
    assert _sweep().splitlines()[-1] == "没有生效的定时规则。"
    with pytest.raises(CommandError, match="没有生效的规则“NOPE”"):
        _sweep("--rule", "NOPE")


def test_an_unknown_rule_exits_with_an_error_from_the_command_line(world):
    """The real command in a child process, against this test's database: message on stderr, exit status 1."""
    db = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "taizhang.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "taizhang.manage", "sweep", "--rule", "NOPE"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "没有生效的规则“NOPE”" in result.stderr and result.stdout == ""


def test_escalate_after_the_sweep(world, ledger):
    make_pack(world.city, [{**OVER5, "escalate_after_days": 2}])
    out = _sweep("--escalate")
    assert out.splitlines()[-1] == "升级预警：0 条"  # just fired: not yet due
    Alert.objects.update(fired_at=timezone.now() - timedelta(days=3))
    out = _sweep("--escalate")
    assert out.splitlines()[-1] == "升级预警：2 条"
    assert {a.org for a in Alert.objects.filter(status=AlertStatus.OPEN)} == {
        world.district_a,
        world.district_b,
    }
    assert json.loads(_sweep("--escalate", "--json"))["escalated"] == 0  # the clock restarted
