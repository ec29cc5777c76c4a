"""Helpers for rule tests: a pack written straight to the database (bypassing pack files), and a typed project."""

from __future__ import annotations

import copy
import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

import yaml

# The rules most tests need, as ``rules.models.Rule`` fields: a 超支 warning, and a rule that stops payments at 10%.
OVERSPEND = {
    "code": "CZ-01",
    "name": "超支预警",
    "condition": "超支率 > 5%",
    "severity": "预警",
    "message": "{项目名称}超支{超支率:%}",
    "notify": ["staff", "regulator"],
}
BLOCK_PAYMENTS = {
    "code": "CZ-02",
    "name": "严重超支禁止支出",
    "condition": "超支率 > 10%",
    "severity": "严重",
    "message": "超支{超支率:%}，暂停登记新的支出",
    "block": ["支出登记"],
}


def make_pack(
    org: Any,
    rules: list[dict],
    *,
    indicators: list[dict] | None = None,
    code: str = "test-pack",
    version: str = "1",
) -> Any:
    """An active pack at ``org`` with ``rules`` (dicts of ``rules.models.Rule`` fields; ``condition`` required)."""
    from rules.engine import clear_caches
    from rules.models import Rule, RulePack

    source = yaml.safe_dump(
        {"pack": {"code": code}, "indicators": indicators or [], "rules": rules}, allow_unicode=True
    )
    pack = RulePack.objects.create(
        org=org,
        code=code,
        version=version,
        name=f"测试规则包{code}",
        issuer="杭州市财政局",
        effective_on=date(2026, 1, 1),
        checksum=hashlib.sha256(source.encode()).hexdigest(),
        source=source,
    )
    for position, fields in enumerate(rules):
        fields = dict(fields)
        fields.setdefault("name", fields["code"])
        fields.setdefault("message", fields["name"])
        Rule.objects.create(pack=pack, position=position, **fields)
    clear_caches()
    return pack


def laojiu_project(
    world: Any,
    project_type: Any,
    valid_data: dict,
    *,
    budget: str = "1000000.00",
    org: Any = None,
    **changes: Any,
) -> Any:
    """A 老旧小区改造 project at 西湖区住建局 created through the service (so rules run as in production)."""
    from projects import services

    data = copy.deepcopy(valid_data)
    data["项目总投资"] = Decimal(budget)
    data["资金来源"] = [{"来源": "中央补助", "金额": Decimal(budget)}]
    data.update(changes)
    return services.project_create_from_type(
        actor=world.users["clerk_a"], org=org or world.bureau_a, ptype=project_type, data=data
    )


def pay(world: Any, project: Any, amount: str, voucher: str = "", **kw: Any) -> Any:
    from projects import services

    return services.expenditure_record(
        actor=world.users["clerk_a"],
        project=project,
        voucher_no=voucher or f"V{amount}-{id(kw)}",
        paid_on="2026-05-01",
        payee="杭州某建设有限公司",
        amount=amount,
        **kw,
    )


# A small pack file for pack tests: one 超支 rule with an embedded test, its parts replaceable.
PACK = """\
pack:
  code: t-zijin
  name: 测试资金规则
  issuer: 杭州市财政局
  version: "{version}"
  effective: 2026-01-01
  regulation:
    title: 测试用法规（虚构）
    issuer: 测试机关
    articles:
      第一条: 项目支出不得超过预算。
  cites: 第一条
indicators:
  - {{name: 超支率, expr: "if 预算 > 0 and 已支出 > 预算 then (已支出 - 预算) / 预算 else 0", format: percent}}
rules:
  - code: R1
    name: 超支预警
    when: {when}
    severity: 预警
    message: "{{项目名称}}超支{{超支率:%}}"
    notify: [staff, regulator]
    article: 第一条
{extra}tests:
  - name: 超支6%
    record: {record}
    expect: {{R1: {expect}}}
"""


def pack_text(
    version: str = "1",
    when: str = "超支率 > 5%",
    expect: str = "true",
    extra: str = "",
    record: str = "{预算: 100万, 已支出: 106万}",
) -> bytes:
    return PACK.format(version=version, when=when, expect=expect, extra=extra, record=record).encode("utf-8")


def line_of(text: bytes, needle: str) -> int:
    for number, line in enumerate(text.decode("utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)
