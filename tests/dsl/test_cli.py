"""The command line, called in-process through ``dsl.cli.main`` and from outside with ``python -m dsl``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dsl.cli import main

from .conftest import PROJECT_SCHEMA

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(PROJECT_SCHEMA, ensure_ascii=False), encoding="utf-8")
    data = tmp_path / "data.json"
    record = {
        "预算": 1000000,
        "实际支出": 1073100.50,
        "类别": "住建",
        "开工日期": "2026-01-01",
        "支出": [{"金额": 0.1, "日期": "2026-01-15"}, {"金额": 0.2, "日期": "2026-02-01"}],
    }
    data.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return {"schema": schema, "data": data}


def test_check_prints_the_inferred_type(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--schema", str(files["schema"]), '预算>=100万且类别="住建"']) == 0
    assert capsys.readouterr().out.strip() == "是/否"
    assert main(["check", "--schema", str(files["schema"]), "--lang", "en", "今天() - 开工日期"]) == 0
    assert capsys.readouterr().out.strip() == "duration"


def test_check_prints_diagnostics_and_exits_1(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--schema", str(files["schema"]), "预箅 > 1"]) == 1
    out = capsys.readouterr().out
    assert "E201" in out and "预算" in out and "^^" in out


def test_check_json_lists_positions_and_codes(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--json", "--schema", str(files["schema"]), "预算 => 1"]) == 1
    (problem,) = json.loads(capsys.readouterr().out)
    assert {k: problem[k] for k in ("line", "column", "end_column", "code")} == {
        "line": 1,
        "column": 4,
        "end_column": 6,
        "code": "E106",
    }
    assert problem["message"].startswith("没有 =>")
    assert main(["check", "--json", "1 + 1"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_eval_prints_json_with_exact_decimals_dates_and_durations(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["eval", "--schema", str(files["schema"]), "--data", str(files["data"]), "--today", "2026-03-02"]
    assert main([*args, "sum(支出.金额)"]) == 0
    assert json.loads(capsys.readouterr().out) == "0.3"
    assert main([*args, "今天() - 开工日期"]) == 0
    assert json.loads(capsys.readouterr().out) == "P60D"
    assert main([*args, "开工日期 + 30天"]) == 0
    assert json.loads(capsys.readouterr().out) == "2026-01-31"
    assert main([*args, "实际支出 / 预算 > 1.07 且 备注 为空"]) == 0
    assert json.loads(capsys.readouterr().out) is True
    assert main([*args, "备注"]) == 0
    assert json.loads(capsys.readouterr().out) is None


def test_eval_explain_prints_the_trace(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    args = ["eval", "--schema", str(files["schema"]), "--data", str(files["data"]), "--explain"]
    assert main([*args, "实际支出 / 预算 > 5%"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "true"
    assert out[1] == "实际支出 / 预算 > 5% (0.05) → 是"


def test_eval_without_schema_infers_the_catalogue(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["eval", "--data", str(files["data"]), "--today", "2026-01-11", "今天() - 开工日期 = 10天"]) == 0
    )
    assert capsys.readouterr().out.strip() == "true"


def test_eval_reports_errors_in_english_on_request(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--lang", "en", "--data", str(files["data"]), "预箅 > 1"]) == 1
    assert "unknown name" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "1"]) == 2
    assert main(["frobnicate"]) == 2


def test_python_dash_m_dsl_works_from_outside(files: dict[str, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dsl", "eval", "--data", str(files["data"]), "预算 * 5%"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "50000.00"


def test_importing_dsl_never_imports_django() -> None:
    code = "import dsl, dsl.cli, sys; assert not any(m.startswith('django') for m in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
