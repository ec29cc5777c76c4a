"""`taizhang dsl …` is the DSL's own command line under the project command."""

from __future__ import annotations

import json
import subprocess
import sys


def _taizhang(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "taizhang.manage", *args], capture_output=True, text=True, timeout=120
    )


def test_dsl_check_through_taizhang(tmp_path):
    schema = {"type": "object", "properties": {"预算": {"type": "number"}, "类别": {"type": "string"}}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    ok = _taizhang("dsl", "check", "--schema", str(path), '预算>=100万且类别="住建"')
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip()
    bad = _taizhang("dsl", "check", "--schema", str(path), "--json", "预算 > 30天")
    assert bad.returncode == 1
    diagnostics = json.loads(bad.stdout)
    assert diagnostics[0]["code"].startswith("E3") and diagnostics[0]["line"] == 1


def test_dsl_eval_through_taizhang(tmp_path):
    data = tmp_path / "d.json"
    data.write_text('{"预算": 1000000, "支出": [{"金额": 600000.10}, {"金额": 500000.20}]}', encoding="utf-8")
    result = _taizhang("dsl", "eval", "--data", str(data), "sum(支出.金额) - 预算")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "100000.30"
