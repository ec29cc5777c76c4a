"""`taizhang pack test|load|diff|preview|sign|keygen`: human-readable Chinese output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rules.models import PackStatus, RulePack

from .conftest import EXAMPLE_PACKS
from .test_packs import line_of, pack_text

CZJ = EXAMPLE_PACKS / "czj-zijin.yaml"
JINDU = EXAMPLE_PACKS / "jindu.yaml"


def _command(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("pack", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as error:
        code = error.returncode
        err.write(str(error))
    return code, out.getvalue(), err.getvalue()


def _taizhang(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "taizhang.manage", "pack", *args], capture_output=True, text=True, timeout=120
    )


def _write(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


@pytest.mark.django_db
@pytest.mark.parametrize("path", [CZJ, JINDU], ids=lambda p: p.name)
def test_pack_test_prints_a_table_and_passes_on_the_examples(world, example_types, path):
    code, out, err = _command("test", str(path), "--org", "330100")
    assert (code, err) == (0, ""), err
    assert "测试" in out.splitlines()[1] and "适用于" in out.splitlines()[1]
    assert "项目类型“智慧城市信息化”（zhihui v1" in out
    assert "失败 0" in out.splitlines()[-1]


@pytest.mark.django_db
def test_pack_test_failure_exits_1_with_file_line_problems(tmp_path):
    text = pack_text(expect="false")
    path = _write(tmp_path, "bad.yaml", text)
    code, out, err = _command("test", path)
    assert code == 1
    assert "失败" in out
    assert (
        f"{path}:{line_of(text, 'expect:')}: tests[0].expect.R1: 测试“超支6%”（未指定类型的项目）：期望不触发，实际触发"
        in err
    )
    assert err.rstrip().endswith("共运行 1 个测试，通过 0，失败 1")
    broken = _write(tmp_path, "broken.yaml", b"pack: [\n")
    code, _out, err = _command("test", broken)
    assert code == 1 and f"{broken}:2: YAML 语法错误" in err


@pytest.mark.django_db
def test_pack_load_as_a_user_then_reload_is_refused(world, example_types):
    code, out, err = _command("load", str(CZJ), "--org", "330100", "--user", "regulator")
    assert (code, err) == (0, ""), err
    assert "已在杭州市载入 杭州市财政资金支出监管规则 v2026.1：5 条规则，14 个测试全部通过" in out
    assert "CZ-02" in out and "数据库" in out
    code, _out, err = _command("load", str(CZJ), "--org", "330100")
    assert code == 1 and "已在杭州市载入（内容相同）" in err
    code, _out, err = _command("load", str(JINDU), "--org", "330100", "--user", "clerk_a")
    assert code == 1 and "您没有“管理政策规则包”的权限" in err
    assert RulePack.objects.filter(status=PackStatus.ACTIVE).count() == 1


@pytest.mark.django_db
def test_pack_load_refused_prints_each_problem(world, tmp_path):
    text = pack_text(when="超支率 > 10%")
    path = _write(tmp_path, "t.yaml", text)
    code, _out, err = _command("load", path, "--org", "330100")
    assert code == 1
    assert f"{path}:{line_of(text, 'expect:')}: tests[0].expect.R1: 测试“超支6%”" in err
    assert "规则包未通过检查，未载入；原有版本继续有效（1 处问题）" in err
    code, _out, err = _command("load", path, "--org", "nosuch")
    assert code == 1 and "机构“nosuch”不存在" in err


@pytest.mark.django_db
def test_keygen_sign_and_load_with_the_signature_beside_the_file(world, settings, tmp_path):
    key = str(tmp_path / "czj.key")
    code, out, _err = _command("keygen", key)
    assert code == 0 and "密钥编号：ed25519:" in out
    public = (tmp_path / "czj.key.pub").read_text().strip()
    settings.TAIZHANG_RULEPACK_SIGNING = {"required_for": ["330100"], "keys": {"hz-czj": public}}
    path = _write(tmp_path, "t.yaml", pack_text())
    code, _out, err = _command("load", path, "--org", "330106")
    assert code == 1 and "缺少签名文件" in err
    code, out, _err = _command("sign", path, "--key", key, "--key-id", "hz-czj")
    assert code == 0 and f"已签名：{path}.sig（密钥 hz-czj）" in out
    assert json.loads(Path(f"{path}.sig").read_text())["algorithm"] == "Ed25519"
    code, out, err = _command("load", path, "--org", "330106")
    assert (code, err) == (0, ""), err
    assert "签名密钥 hz-czj" in out
    assert _command("keygen", key)[0] == 1  # never overwrites a key silently


@pytest.mark.django_db
def test_pack_preview_prints_the_impact(world, tmp_path):
    from decimal import Decimal

    from projects.models import Project

    over = world.projects_a[0]
    Project.objects.filter(pk=over.pk).update(spent_total=Decimal("1500000.00"))
    path = _write(tmp_path, "t.yaml", pack_text(when="已支出 > 预算"))
    code, out, err = _command("preview", path, "--org", "330100", "--today", "2026-05-01")
    assert (code, err) == (0, ""), err
    assert "（尚未载入过）" in out and "按 2026-05-01" in out
    assert f"R1 新触发：{over.code} {over.name}（西湖区住建局）" in out


def test_pack_diff_exit_codes(tmp_path):
    a = _write(tmp_path, "a.yaml", pack_text("1"))
    b = _write(tmp_path, "b.yaml", pack_text("2", when="超支率 > 6%", expect="false"))
    same = _taizhang("diff", a, a)
    assert same.returncode == 0 and "两个规则包的内容相同" in same.stdout
    differ = _taizhang("diff", a, b)
    assert differ.returncode == 1, differ.stderr
    assert "~ 规则 R1 超支预警：条件 “超支率 > 5%” → “超支率 > 6%”" in differ.stdout
    broken = _write(tmp_path, "c.yaml", b"pack: [\n")
    assert _taizhang("diff", a, broken).returncode == 2
