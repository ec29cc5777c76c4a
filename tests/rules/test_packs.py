"""Policy rule packs: parsing with file:line problems, checksums, signatures, tests that gate the load, type-checks
against every project type in scope, supersession, permissions, diff and impact preview."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import Conflict, PermissionDenied, ValidationFailed
from rules.models import Alert, AlertStatus, Article, PackStatus, Regulation, RulePack
from rules.packs import PackInvalid, checksum, pack_parse
from rules.packs_sign import sign
from rules.services.packs import pack_diff, pack_load, pack_preview, pack_test

from .conftest import EXAMPLE_PACKS
from .rule_fixtures import line_of, pack_text

pytestmark = pytest.mark.django_db


def failures_of(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# -- parsing ----------------------------------------------------------------------------------------------------------
def test_parse_reports_every_problem_at_its_file_and_line():
    text = pack_text(
        when="超支率 >", extra="  - code: R1\n    name: 重复\n    when: 预算 > 0\n    severity: 紧急\n"
    )
    with pytest.raises(PackInvalid) as caught:
        pack_parse(text, filename="bad.yaml")
    shown = [str(p) for p in caught.value.problems]
    assert f"bad.yaml:{line_of(text, 'when: 超支率 >')}: rules[0].when: 表达式第1行第5列：" in shown[0]
    assert any(
        s.startswith(f"bad.yaml:{line_of(text, '紧急')}: rules[1].severity: 级别必须是") for s in shown
    )
    assert any("rules[1].code: 规则编码“R1”与 rules[0] 重复" in s for s in shown)


def test_yaml_syntax_and_encoding_errors_point_at_the_line():
    text = pack_text().replace(b"  name: \xe6\xb5\x8b", b"  name: [\xe6\xb5\x8b", 1)
    with pytest.raises(PackInvalid) as caught:
        pack_parse(text, filename="p.yaml")
    assert str(caught.value.problems[0]).startswith("p.yaml:")
    assert "YAML 语法错误" in caught.value.problems[0].message
    with pytest.raises(PackInvalid) as caught:
        pack_parse(b"pack:\n  name: \xff\n", filename="gbk.yaml")
    assert str(caught.value.problems[0]) == "gbk.yaml:2: 文件不是 UTF-8 编码"


def test_checksum_is_sha256_of_the_exact_bytes(world):
    text = pack_text()
    assert pack_parse(text).spec.checksum == hashlib.sha256(text).hexdigest() == checksum(text)
    assert checksum(text + b"\n") != checksum(text)
    pack = pack_load(actor=None, org=world.city, source=text, filename="t.yaml")
    assert pack.checksum == hashlib.sha256(text).hexdigest()
    assert pack.source == text.decode("utf-8")


# -- embedded tests ---------------------------------------------------------------------------------------------------
def test_record_values_are_written_as_dsl_literals():
    from rules.context import context_for
    from rules.packs_run import build_record

    ctx = context_for(
        None,
        extra=(("超支率", "if 预算 > 0 and 已支出 > 预算 then (已支出 - 预算) / 预算 else 0", "percent"),),
    )
    record, problems = build_record(
        {
            "预算": "100万",
            "实际进度": "5%",
            "计划完工日期": "2026-03-01",
            "阶段": "实施",
            "支出": [{"金额": "60万", "支付日期": "2026-04-10"}, {"金额": 500000}],
        },
        ctx,
        today=date(2026, 5, 1),
    )
    assert problems == []
    assert record["预算"] == Decimal("1000000")
    assert record["实际进度"] == Decimal("0.05")
    assert record["计划完工日期"] == date(2026, 3, 1)
    assert record["支出"][0] == {"金额": Decimal("600000"), "支付日期": date(2026, 4, 10)}
    assert record["已支出"] == Decimal("1100000")  # the list's total, as the money services keep it
    assert record["超支率"] == Decimal("0.1")
    assert record["合同金额"] == Decimal(0) and record["合同"] == []


def test_record_refuses_unknown_names_wrong_types_and_given_indicators():
    from rules.context import context_for
    from rules.packs_run import build_record

    ctx = context_for(None, extra=(("超支率", "已支出 / 预算", "percent"),))
    _record, problems = build_record(
        {"预箅": "100万", "超支率": "6%", "计划完工日期": "30天", "已支出": "很多"},
        ctx,
        today=date(2026, 1, 1),
    )
    messages = dict(problems)
    assert messages[".预箅"] == "未知名称「预箅」；是不是要写「预算」？"
    assert "计算指标" in messages[".超支率"]
    assert "是时长，这里应为日期" in messages[".计划完工日期"]
    assert "不是数值的写法" in messages[".已支出"]


def test_failed_expectation_points_at_the_expect_line():
    text = pack_text(expect="false")
    report = pack_test(source=text, filename="t.yaml")
    assert not report.ok and report.failed == 1
    (problem,) = report.failures()
    assert problem.line == line_of(text, "expect: {R1: false}")
    assert problem.path == "tests[0].expect.R1"
    assert "期望不触发，实际触发（超支率=6%）" in problem.message


def test_rule_reading_today_needs_a_fixed_today():
    text = pack_text(when="今天() - 计划完工日期 > 30天", record="{计划完工日期: 2026-01-31}")
    report = pack_test(source=text)
    assert "请在测试中写 today" in report.failures()[0].message
    fixed = text.replace(b"    record:", b"    today: 2026-03-15\n    record:")
    assert pack_test(source=fixed).ok


def test_test_naming_an_unknown_type_fails():
    text = pack_text().replace(b"    record:", b"    type: nosuch\n    record:")
    report = pack_test(source=text, filename="t.yaml")
    assert "项目类型“nosuch”不存在" in report.failures()[0].message


def test_example_packs_pass_their_tests_on_the_four_types(world, example_types):
    for name in ("czj-zijin.yaml", "jindu.yaml"):
        report = pack_test(source=(EXAMPLE_PACKS / name).read_bytes(), filename=name, org=world.city)
        assert report.ok, [str(p) for p in report.failures()]
        targets = {case.target for case in report.cases}
        assert {"laojiu", "daolu", "xiaoshe", "zhihui"} <= {
            t.split("（")[1].split()[0] for t in targets if "（" in t
        }
        assert "未指定类型的项目" in targets


def test_example_packs_load_and_share_the_regulation(world, example_types):
    regulator = world.users["regulator"]
    czj = pack_load(
        actor=regulator,
        org=world.city,
        source=(EXAMPLE_PACKS / "czj-zijin.yaml").read_bytes(),
        filename="czj",
    )
    jindu = pack_load(
        actor=regulator, org=world.city, source=(EXAMPLE_PACKS / "jindu.yaml").read_bytes(), filename="jindu"
    )
    assert czj.regulation == jindu.regulation
    assert str(czj.regulation) == "《政府投资条例》" and czj.regulation.number == "国务院令第712号"
    numbers = set(Article.objects.filter(regulation=czj.regulation).values_list("number", flat=True))
    assert numbers == {"第二十二条", "第二十三条", "第三十四条", "第二十四条", "第二十五条", "第二十七条"}
    rules = {r.code: r for r in czj.rules.all()}
    assert list(rules) == ["CZ-01", "CZ-02", "CZ-03", "CZ-04", "CZ-05"]
    assert rules["CZ-02"].block == ["支出登记"] and rules["CZ-02"].severity == "严重"
    assert rules["CZ-02"].article.number == "第三十四条" and rules["CZ-01"].escalate_after_days == 3
    assert rules["CZ-05"].types == ["laojiu"] and rules["CZ-03"].on_schedule is False
    assert all(r.verdict == "" or r.verdict.startswith("在 Python 中执行：") for r in rules.values())
    assert czj.tests_passed == 14 and czj.loaded_by == regulator
    assert AuditEvent.objects.filter(action="rulepack.load", object_id=str(czj.pk)).exists()


# -- loading ----------------------------------------------------------------------------------------------------------
def test_new_version_supersedes_the_old_and_keeps_its_alerts(world):
    v1 = pack_load(actor=None, org=world.city, source=pack_text("1"), filename="v1.yaml")
    old_rule = v1.rules.get(code="R1")
    project = world.projects_a[0]
    now = timezone.now()
    alert = Alert.objects.create(
        rule=old_rule,
        rule_key=old_rule.key,
        project=project,
        org=project.org,
        severity="预警",
        message="旧版本的预警",
        fired_at=now,
        last_fired_at=now,
    )
    v2 = pack_load(actor=None, org=world.city, source=pack_text("2", when="超支率 > 6%", expect="false"))
    v1.refresh_from_db()
    assert v1.status == PackStatus.SUPERSEDED and v2.status == PackStatus.ACTIVE
    assert v2.supersedes == v1
    alert.refresh_from_db()
    assert alert.rule == old_rule and alert.status == AlertStatus.OPEN
    assert v2.rules.get(code="R1").key == old_rule.key  # the same open alert is refreshed by the new version
    event = AuditEvent.objects.filter(action="rulepack.load").latest("id")
    assert event.before["active"] == "t-zijin v1" and event.after["version"] == "2"


def test_same_version_again_is_a_conflict(world):
    pack_load(actor=None, org=world.city, source=pack_text("1"))
    with pytest.raises(Conflict) as caught:
        pack_load(actor=None, org=world.city, source=pack_text("1"))
    assert caught.value.status == 409
    with pytest.raises(ValidationFailed) as caught:
        pack_load(actor=None, org=world.city, source=pack_text("1", when="超支率 > 4%"), filename="x.yaml")
    (where,) = caught.value.fields
    assert where.startswith("x.yaml:5: pack.version") and "新的版本号" in caught.value.fields[where][0]
    assert RulePack.objects.count() == 1
    assert [e.after["error"] for e in failures_of("rulepack.load_failed")] == [
        "already_loaded",
        "validation_failed",
    ]


def test_failed_tests_refuse_the_load_and_keep_the_old_version(world):
    v1 = pack_load(actor=None, org=world.city, source=pack_text("1"))
    bad = pack_text("2", when="超支率 > 10%")
    with pytest.raises(ValidationFailed) as caught:
        pack_load(actor=world.users["regulator"], org=world.city, source=bad, filename="v2.yaml")
    key = f"v2.yaml:{line_of(bad, 'expect: {R1: true}')}: tests[0].expect.R1"
    assert "期望触发，实际未触发" in caught.value.fields[key][0]
    v1.refresh_from_db()
    assert v1.status == PackStatus.ACTIVE and not RulePack.objects.filter(version="2").exists()
    (event,) = failures_of("rulepack.load_failed")
    assert event.after["version"] == "2" and event.actor == world.users["regulator"]
    assert any("超支6%" in reason for reason in event.after["reasons"])


def test_a_rule_that_does_not_check_on_one_type_in_scope_refuses_the_load(world, example_types):
    extra = "  - code: R2\n    name: 户数\n    types: [laojiu, daolu]\n    when: 改造户数 > 1000\n"
    text = pack_text(extra=extra)
    with pytest.raises(ValidationFailed) as caught:
        pack_load(actor=None, org=world.city, source=text, filename="t.yaml")
    (where,) = caught.value.fields
    assert where == f"t.yaml:{line_of(text, '改造户数 > 1000')}: rules[1].when"
    (message,) = caught.value.fields[where]
    assert message.startswith("项目类型“道路新建”（daolu v1") and "改造户数" in message
    assert not RulePack.objects.exists()


def test_a_rule_without_types_may_read_only_the_ledger(world, example_types):
    with pytest.raises(ValidationFailed) as caught:
        pack_load(
            actor=None,
            org=world.city,
            source=pack_text(extra="  - code: R2\n    name: 户数\n    when: 改造户数 > 1000\n"),
        )
    messages = [m for ms in caught.value.fields.values() for m in ms]
    assert any(m.startswith("未指定类型的项目：") and "请写 types" in m for m in messages)
    loaded = pack_load(
        actor=None,
        org=world.city,
        source=pack_text(
            extra="  - code: R2\n    name: 户数\n    types: [laojiu]\n    when: 改造户数 > 1000\n"
        ),
    )
    assert loaded.rules.get(code="R2").types == ["laojiu"]


def test_placeholders_and_blocks_are_checked(world):
    extra = (
        "  - code: R2\n    name: 合同\n    when: 合同金额 > 预算\n    message: '{合同额:万元}'\n"
        "    block: [支出登记]\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        pack_load(actor=None, org=world.city, source=pack_text(extra=extra))
    messages = [m for ms in caught.value.fields.values() for m in ms]
    assert any("提示语中的 {合同额}：未知名称「合同额」；是不是要写「合同金额」" in m for m in messages)
    assert any("“支出登记”只改变 已支出、支出，本规则不读取它们，阻止不会生效" in m for m in messages)


def test_the_policy_library_is_never_rewritten_by_a_pack(world):
    pack_load(actor=None, org=world.city, source=pack_text())
    other = (
        pack_text().replace(b"t-zijin", b"t-other").replace("不得超过预算".encode(), "可以超过预算".encode())
    )
    with pytest.raises(ValidationFailed) as caught:
        pack_load(actor=None, org=world.city, source=other, filename="o.yaml")
    (where,) = caught.value.fields
    assert where.endswith("pack.regulation.articles.第一条")
    assert Regulation.objects.get().articles.get().text == "项目支出不得超过预算。"


# -- signatures -------------------------------------------------------------------------------------------------------
def forged(signature: bytes) -> bytes:
    """The same signature file with one bit of the signature flipped."""
    document = json.loads(signature)
    raw = bytearray(base64.b64decode(document["signature"]))
    raw[0] ^= 1
    document["signature"] = base64.b64encode(bytes(raw)).decode()
    return json.dumps(document).encode()


def test_signed_pack_loads_where_signatures_are_required(world, settings, signing_key):
    pem, key_id = signing_key
    settings.TAIZHANG_RULEPACK_SIGNING["required_for"] = ["330100"]
    text = pack_text()
    pack = pack_load(actor=None, org=world.district_a, source=text, signature=sign(text, pem, key_id=key_id))
    assert pack.signed_by == "test-key"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "缺少签名文件"),
        ("changed", "文件在签名后被修改过"),
        ("forged", "签名无效"),
        ("unknown", "未在本系统登记"),
    ],
)
def test_bad_or_missing_signatures_are_refused(world, settings, signing_key, case, message):
    pem, key_id = signing_key
    settings.TAIZHANG_RULEPACK_SIGNING["required_for"] = ["330000"]  # the province: its whole tree
    text = pack_text()
    signature = {
        "missing": None,
        "changed": sign(pack_text(when="超支率 > 4%"), pem, key_id=key_id),
        "forged": forged(sign(text, pem, key_id=key_id)),
        "unknown": sign(text, pem, key_id="other-key"),
    }[case]
    with pytest.raises(ValidationFailed) as caught:
        pack_load(actor=None, org=world.bureau_a, source=text, filename="t.yaml", signature=signature)
    assert message in caught.value.fields["t.yaml.sig"][0]
    assert not RulePack.objects.exists()
    assert failures_of("rulepack.load_failed")[0].after["reasons"][0].startswith("t.yaml.sig: ")


def test_signatures_are_required_only_below_the_listed_orgs_but_always_verified(world, settings, signing_key):
    pem, _key_id = signing_key
    settings.TAIZHANG_RULEPACK_SIGNING["required_for"] = ["330106"]  # 西湖区 only
    assert pack_load(actor=None, org=world.district_b, source=pack_text()).signed_by == ""
    with pytest.raises(ValidationFailed):
        pack_load(actor=None, org=world.district_b, source=pack_text("2"), signature=sign(b"x", pem))


# -- permissions ------------------------------------------------------------------------------------------------------
def test_clerk_cannot_load_and_the_attempt_is_recorded(world):
    with pytest.raises(PermissionDenied):
        pack_load(actor=world.users["clerk_a"], org=world.bureau_a, source=pack_text())
    (event,) = failures_of("rulepack.load_failed")
    assert event.after["error"] == "permission_denied" and event.actor == world.users["clerk_a"]


def test_regulator_loads_for_its_subtree_only(world):
    regulator = world.users["regulator"]
    assert pack_load(actor=regulator, org=world.district_a, source=pack_text()).org == world.district_a
    with pytest.raises(PermissionDenied):
        pack_load(actor=regulator, org=world.province, source=pack_text())


# -- diff and preview -------------------------------------------------------------------------------------------------
def test_diff_lists_changes_field_by_field():
    a = pack_text("1")
    b = pack_text(
        "2",
        when="超支率>6%",
        expect="false",
        extra="  - code: R2\n    name: 合同\n    when: 合同金额 > 预算\n",
    )
    lines = [str(change) for change in pack_diff(a, b)]
    assert "~ 规则包 t-zijin：版本 “1” → “2”" in lines
    assert "~ 规则 R1 超支预警：条件 “超支率 > 5%” → “超支率>6%”" in lines
    assert "+ 规则 R2 合同（新增）" in lines
    assert any(line.startswith("~ 测试 超支6%：期望") for line in lines)
    assert [str(c) for c in pack_diff(b, a) if c.kind == "rule" and c.change == "removed"] == [
        "- 规则 R2 合同（删除）"
    ]
    assert pack_diff(a, pack_text("1", when="超支率>5%")) == []  # the same condition, spaced differently


def test_preview_lists_projects_that_would_newly_fire_or_stop(world):
    from projects.models import Project

    v1 = pack_load(actor=None, org=world.city, source=pack_text("1", when="已支出 > 预算", expect="true"))
    over, was_over, _fine = [*world.projects_a, *world.projects_b]
    Project.objects.filter(pk=over.pk).update(spent_total=Decimal("1200000.00"))
    rule = v1.rules.get(code="R1")
    now = timezone.now()
    Alert.objects.create(
        rule=rule,
        rule_key=rule.key,
        project=was_over,
        org=was_over.org,
        severity="预警",
        message="旧",
        fired_at=now,
        last_fired_at=now,
    )
    preview = pack_preview(
        actor=world.users["regulator"],
        org=world.city,
        source=pack_text("2", when="已支出 > 预算 * 1.1", expect="false"),
        today=date(2026, 5, 1),
    )
    (impact,) = preview.rules
    assert preview.active_version == "1" and impact.change == "修改"
    assert [p.id for p in impact.newly] == [over.pk]
    assert [p.id for p in impact.stopping] == [was_over.pk]
    assert impact.firing == 1 and impact.kept == 0
    assert RulePack.objects.count() == 1  # a preview writes nothing


@pytest.mark.django_db(transaction=True)
def test_the_record_of_a_refused_load_commits(world):
    with pytest.raises(ValidationFailed):
        pack_load(actor=None, org=world.city, source=pack_text(expect="false"), filename="t.yaml")
    (event,) = failures_of("rulepack.load_failed")
    assert event.after["file"] == "t.yaml" and not RulePack.objects.exists()
