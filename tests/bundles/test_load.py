"""Loading and exporting against the database, through the API and the `taizhang bundle` command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from bundles import BundleInvalid, bundle_parse
from bundles.services import bundle_export, bundle_load

from .conftest import EXAMPLE_FILES, EXAMPLES


def _load(text: str, name: str = "t.yaml", **kwargs):
    return bundle_load(actor=None, bundle=bundle_parse(text, filename=name), **kwargs)


def _command(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("bundle", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as error:
        code = error.returncode
        err.write(str(error))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_validates_and_loads_into_the_city(world, config_admin, path):
    from forms.models import Form
    from projects.models import ProjectType

    code, out, err = _command("validate", str(path))
    assert (code, err) == (0, ""), err
    assert "通过校验" in out
    report = bundle_load(
        actor=config_admin, bundle=bundle_parse(path.read_text(encoding="utf-8"), filename=path.name)
    )
    assert [item.action for item in report.items] == ["created"] * 4
    ptype = ProjectType.objects.get(code=report.items[-1].code)
    assert ptype.org == world.city and ptype.published().number == 1
    assert Form.objects.filter(org=world.city).count() == 3


def test_loading_the_same_bundle_twice_is_a_no_op_and_a_change_makes_version_2(world, laojiu_text):
    from audit.models import AuditEvent
    from projects.models import ProjectType

    _load(laojiu_text)
    events = AuditEvent.objects.count()
    again = _load(laojiu_text)
    assert {item.action for item in again.items} == {"unchanged"}
    assert AuditEvent.objects.count() == events + 1  # only the bundle.load event itself
    changed = _load(laojiu_text.replace("超支预警线: 0.05", "超支预警线: 0.08"))
    assert [(i.code, i.action, i.version) for i in changed.items if i.action != "unchanged"] == [
        ("laojiu", "new_version", 2)
    ]
    version = ProjectType.objects.get(code="laojiu").published()
    assert version.number == 2 and version.config["thresholds"]["超支预警线"] == "0.08"


def test_a_changed_form_gets_a_new_version(world, laojiu_text):
    _load(laojiu_text)
    report = _load(
        laojiu_text.replace(
            "maxLength: 2000}\n      required: [项目名称", "maxLength: 1000}\n      required: [项目名称"
        )
    )
    assert [(i.code, i.action, i.version) for i in report.items if i.action != "unchanged"] == [
        ("laojiu-lixiang", "new_version", 2)
    ]


def test_an_invalid_second_item_leaves_nothing_of_the_first(world, laojiu_text):
    from forms.models import Form

    broken = laojiu_text.replace("expr: 已支出 / 预算", "expr: 已支出 / 预算额", 1)
    with pytest.raises(BundleInvalid) as caught:
        _load(broken)
    assert [p.path for p in caught.value.problems] == ["project_types[0].config.indicators[0].expr"]
    assert not Form.objects.filter(code__startswith="laojiu-").exists()


def test_a_service_failing_midway_rolls_back_the_whole_load(world, laojiu_text, monkeypatch):
    from core.errors import ValidationFailed
    from forms.models import Form
    from projects import services as type_services
    from projects.models import ProjectType

    def refuse(**kwargs):
        raise ValidationFailed(
            "项目类型配置有 1 处问题，未发布。", fields={"thresholds.超支预警线": ["阈值不合理"]}
        )

    monkeypatch.setattr(type_services, "project_type_publish", refuse)
    code, _out, err = _command("load", str(EXAMPLES / "laojiu.yaml"))
    assert code == 1
    assert "project_types[0].config.thresholds.超支预警线: 阈值不合理" in err
    assert "examples/bundles/laojiu.yaml:" in err
    assert not Form.objects.filter(code__startswith="laojiu-").exists()
    assert not ProjectType.objects.filter(code="laojiu").exists()


def test_the_validate_command_reports_file_line_and_path(world, tmp_path, laojiu_text):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        laojiu_text.replace("验收申请: laojiu-yanshou", "验收申请: nothing-here"), encoding="utf-8"
    )
    code, _out, err = _command("validate", str(broken))
    assert code == 1
    line = next(i for i, text in enumerate(broken.read_text().splitlines(), 1) if "nothing-here" in text)
    assert f"{broken}:{line}: project_types[0].config.forms.验收申请: 表单“nothing-here”不存在或未发布" in err
    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("taizhang_bundle: 1\nforms: [\n", encoding="utf-8")
    code, _out, err = _command("validate", str(syntax))
    assert code == 1 and f"{syntax}:3: YAML 语法错误" in err


def test_export_load_into_an_empty_database_export_is_byte_identical(world, laojiu_text):
    with transaction.atomic():
        _load(laojiu_text)
        first = bundle_export(type_code="laojiu")
        transaction.set_rollback(True)
    from forms.models import Form

    assert not Form.objects.filter(code__startswith="laojiu-").exists()  # the database is empty again
    _load(first, "first.yaml")
    second = bundle_export(type_code="laojiu")
    assert second == first
    assert "超支预警线: 0.05\n" in first and "进度滞后预警线: 0.10\n" in first


def test_export_of_an_org_through_the_command(world):
    for path in EXAMPLE_FILES:
        _load(path.read_text(encoding="utf-8"), path.name)
    code, out, _err = _command("export", "--org", "330100")
    assert code == 0
    exported = bundle_parse(out, filename="org.yaml")
    assert sorted(t["code"] for t in exported.project_types) == ["daolu", "laojiu", "xiaoshe", "zhihui"]
    assert len(exported.forms) == 12
    report = _load(out, "org.yaml")
    assert {item.action for item in report.items} == {"unchanged"}


def test_the_diff_command_exit_codes(tmp_path, laojiu_text):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text(laojiu_text, encoding="utf-8")
    b.write_text(laojiu_text.replace("超支预警线: 0.05", "超支预警线: 0.080"), encoding="utf-8")
    assert _command("diff", str(a), str(a))[0] == 0
    code, out, _err = _command("diff", str(a), str(b))
    assert code == 1 and "~ 阈值 超支预警线：0.05 → 0.080" in out


def test_loading_needs_the_config_permission(world, laojiu_text):
    from core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        bundle_load(actor=world.users["clerk_a"], bundle=bundle_parse(laojiu_text, filename="t.yaml"))
