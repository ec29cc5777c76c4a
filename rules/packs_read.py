"""Reading a pack file's plain data into a :class:`~rules.spec.PackSpec`, collecting every format problem.

The YAML itself is read by ``bundles.yamlio`` (exact decimals, a line for every data path); this module checks the
pack format on that data — keys, types, codes, severities, triggers, roles, operations, article references, DSL
syntax, message placeholders, test shapes — and builds the spec. Names and types are checked later, per project type
(:mod:`rules.packs_check`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import dsl
from accounts.roles import BUILTIN_ROLES
from bundles.problems import Problem
from bundles.yamlio import join_path
from projects.config import INDICATOR_FORMATS, LEDGER_FIELDS, LEDGER_LISTS

from .spec import OPERATIONS, SEVERITIES, PackSpec, RuleSpec, TestCase, placeholders

__all__ = [
    "FORMAT_VERSION",
    "MESSAGE_FORMATS",
    "TRIGGERS",
    "PackTestCase",
    "line_of",
    "literal",
    "placeholders",
]

FORMAT_VERSION = 1
#: How a message may quote a value: ``{超支率}``, ``{超支率:%}``, ``{预算:万元}``, ``{预算:元}`` (see rules.alerting).
MESSAGE_FORMATS = ("", "%", "万元", "元")
#: Trigger words → the RuleSpec flag they set.
TRIGGERS = {"保存": "on_save", "定时": "on_schedule", "save": "on_save", "schedule": "on_schedule"}
_ROLE_BY_NAME = {role.name: code for code, role in BUILTIN_ROLES.items()}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_CITE_SPLIT = re.compile(r"[、,，;；\s]+")
_RESERVED_NAMES = {name for name, _kind, _column in LEDGER_FIELDS} | {name for name, _ in LEDGER_LISTS}
_EXPECT_WORDS = {"触发": True, "不触发": False}

_TOP_KEYS = ("taizhang_pack", "pack", "indicators", "rules", "tests")
_PACK_KEYS = ("code", "name", "issuer", "version", "effective", "description", "regulation", "cites")
_REGULATION_KEYS = ("title", "issuer", "number", "date", "effective", "url", "articles")
_INDICATOR_KEYS = ("name", "expr", "format", "label")
_RULE_KEYS = (
    "code",
    "name",
    "when",
    "severity",
    "message",
    "types",
    "triggers",
    "notify",
    "email",
    "block",
    "escalate_after",
    "article",
    "alert",
)
_TEST_KEYS = ("name", "type", "today", "record", "expect")


@dataclass(frozen=True)
class PackTestCase(TestCase):
    """An embedded test; ``today`` fixes 今天() for rules and indicators that read the date."""

    today: date | None = None


def literal(text: str, *, today: date | None = None) -> tuple[Any, dsl.DslType]:
    """A value written as a DSL constant (``100万``, ``5%``, ``2026-03-01``, ``30天``, ``"文本"``, ``[1, 2]``).

    Raises :class:`dsl.DslError` for anything that reads a name.
    """
    checked = dsl.check(text, dsl.Catalogue([]))
    return dsl.compile(checked).evaluate({}, today=today or date.today()), checked.type


class Reader:
    """Reads the plain data into a PackSpec, collecting problems instead of stopping at the first."""

    def __init__(self, filename: str, lines: dict[str, int]) -> None:
        self.filename = filename
        self.lines = lines
        self.problems: list[Problem] = []

    # -- helpers ------------------------------------------------------------------------------------------------
    def line_of(self, path: str) -> int | None:
        return line_of(self.lines, path)

    def fail(self, path: str, message: str, *, offset: int = 0) -> None:
        line = self.line_of(path)
        self.problems.append(Problem(self.filename, None if line is None else line + offset, path, message))

    def mapping(
        self, value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict:
        if not isinstance(value, dict):
            self.fail(path, "应为映射（键: 值）")
            return {}
        for key in value:
            if key not in allowed:
                self.fail(join_path(path, key), f"未知的键“{key}”；可用：{'、'.join(allowed)}")
        for key in required:
            if value.get(key) in (None, ""):
                self.fail(join_path(path, key) if key in value else path, f"缺少必填项“{key}”")
        return value

    def text(self, value: Any, path: str, *, limit: int, required: bool = False) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.fail(path, "应为文本")
            return ""
        out = str(value).strip()
        if len(out) > limit:
            self.fail(path, f"不能超过 {limit} 个字")
        if required and not out:
            self.fail(path, "不能为空")
        return out

    def texts(self, value: Any, path: str) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(path, "应为列表")
            return []
        return [self.text(item, join_path(path, i), limit=64, required=True) for i, item in enumerate(value)]

    def flag(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(path, "应为 true 或 false")
            return default
        return value

    def day(self, value: Any, path: str) -> date | None:
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(path, f"“{value}”不是日期（应写作 2026-01-01）")
            return None

    def syntax(self, source: str, path: str) -> None:
        try:
            dsl.parse(source)
        except dsl.DslError as error:
            self.fail(
                path, f"表达式第{error.line}行第{error.column}列：{error.message}", offset=error.line - 1
            )

    # -- sections -----------------------------------------------------------------------------------------------
    def document(self, data: Any, text: str, digest: str) -> PackSpec:
        top = self.mapping(data, "", _TOP_KEYS, ("pack", "rules"))
        if "taizhang_pack" in top and top["taizhang_pack"] != FORMAT_VERSION:
            self.fail("taizhang_pack", f"不支持的规则包格式版本；本系统读取 taizhang_pack: {FORMAT_VERSION}")
        head = self.mapping(
            top.get("pack"), "pack", _PACK_KEYS, ("code", "name", "issuer", "version", "effective")
        )
        code = self.text(head.get("code"), "pack.code", limit=64)
        if code and not _CODE.match(code):
            self.fail("pack.code", "编码须为 1–64 位字母、数字、点、下划线或连字符")
        regulation = self.regulation(head.get("regulation"))
        articles = regulation.get("articles", {})
        citation = self.text(head.get("cites"), "pack.cites", limit=300)
        self.citations(citation, articles, "pack.cites")
        indicators = self.indicators(top.get("indicators"))
        rules = self.rules(top.get("rules"), articles, indicators)
        tests = self.tests(top.get("tests"), {r.code for r in rules})
        return PackSpec(
            code=code,
            name=self.text(head.get("name"), "pack.name", limit=200),
            issuer=self.text(head.get("issuer"), "pack.issuer", limit=200),
            version=self.text(head.get("version"), "pack.version", limit=32),
            effective_on=self.day(head.get("effective"), "pack.effective"),
            description=self.text(head.get("description"), "pack.description", limit=20000),
            regulation=regulation,
            citation=citation,
            rules=rules,
            tests=tests,
            indicators=indicators,
            checksum=digest,
            source=text,
        )

    def regulation(self, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        where = "pack.regulation"
        reg = self.mapping(value, where, _REGULATION_KEYS, ("title",))
        articles: dict[str, str] = {}
        raw = reg.get("articles")
        if raw is not None and not isinstance(raw, dict):
            self.fail(f"{where}.articles", "应为映射（条款: 条文），如 第二十三条: “……”")
        for number, body in (raw or {}).items() if isinstance(raw, dict) else ():
            path = f"{where}.articles.{number}"
            self.text(number, path, limit=50)
            articles[number] = self.text(body, path, limit=20000)
        return {
            "title": self.text(reg.get("title"), f"{where}.title", limit=200),
            "issuer": self.text(reg.get("issuer"), f"{where}.issuer", limit=200),
            "number": self.text(reg.get("number"), f"{where}.number", limit=100),
            "issued_on": self.day(reg.get("date"), f"{where}.date"),
            "effective_on": self.day(reg.get("effective"), f"{where}.effective"),
            "url": self.text(reg.get("url"), f"{where}.url", limit=500),
            "articles": articles,
        }

    def citations(self, text: str, articles: Mapping[str, str], path: str) -> None:
        for part in (p for p in _CITE_SPLIT.split(text) if p):
            if part not in articles:
                known = "、".join(articles) or "（无）"
                self.fail(path, f"条款“{part}”不在 pack.regulation.articles 中；已列出：{known}")

    def indicators(self, value: Any) -> tuple[tuple[str, str, str], ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail("indicators", "应为列表")
            return ()
        out: list[tuple[str, str, str]] = []
        for i, item in enumerate(value):
            where = f"indicators[{i}]"
            entry = self.mapping(item, where, _INDICATOR_KEYS, ("name", "expr"))
            name = self.text(entry.get("name"), f"{where}.name", limit=100)
            expr = self.text(entry.get("expr"), f"{where}.expr", limit=4000)
            fmt = self.text(entry.get("format"), f"{where}.format", limit=20) or "number"
            if name in _RESERVED_NAMES:
                self.fail(f"{where}.name", f"“{name}”是台账字段，不能用作指标名称")
            elif name and name in {n for n, _e, _f in out}:
                self.fail(f"{where}.name", f"指标“{name}”重复")
            if fmt not in INDICATOR_FORMATS:
                self.fail(f"{where}.format", f"显示格式必须是 {'、'.join(INDICATOR_FORMATS)} 之一")
            if expr:
                self.syntax(expr, f"{where}.expr")
            if name and expr:
                out.append((name, expr, fmt))
        return tuple(out)

    def rules(
        self, value: Any, articles: Mapping[str, str], indicators: tuple[tuple[str, str, str], ...]
    ) -> tuple[RuleSpec, ...]:
        if not isinstance(value, list) or not value:
            self.fail("rules", "应为列表，且至少有一条规则")
            return ()
        out: list[RuleSpec] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(value):
            rule = self.rule(item, f"rules[{i}]", articles, indicators)
            if rule is None:
                continue
            if rule.code in seen:
                self.fail(f"rules[{i}].code", f"规则编码“{rule.code}”与 rules[{seen[rule.code]}] 重复")
            seen.setdefault(rule.code, i)
            out.append(rule)
        return tuple(out)

    def rule(
        self, item: Any, where: str, articles: Mapping[str, str], indicators: tuple[tuple[str, str, str], ...]
    ) -> RuleSpec | None:
        entry = self.mapping(item, where, _RULE_KEYS, ("code", "name", "when"))
        code = self.text(entry.get("code"), f"{where}.code", limit=64)
        if code and not _CODE.match(code):
            self.fail(f"{where}.code", "编码须为 1–64 位字母、数字、点、下划线或连字符")
        when = self.text(entry.get("when"), f"{where}.when", limit=4000)
        if when:
            self.syntax(when, f"{where}.when")
        severity = self.text(entry.get("severity"), f"{where}.severity", limit=8) or "预警"
        if severity not in SEVERITIES:
            self.fail(f"{where}.severity", f"级别必须是 {'、'.join(SEVERITIES)} 之一")
        message = self.text(entry.get("message"), f"{where}.message", limit=500)
        for name, fmt in placeholders(message):
            if fmt not in MESSAGE_FORMATS:
                self.fail(f"{where}.message", f"“{{{name}:{fmt}}}”的格式只能是 %、万元、元 之一（或不写）")
        flags = {"on_save": False, "on_schedule": False}
        triggers = self.texts(entry.get("triggers", ["保存", "定时"]), f"{where}.triggers")
        for word in triggers:
            if word in TRIGGERS:
                flags[TRIGGERS[word]] = True
            else:
                self.fail(f"{where}.triggers", f"触发方式“{word}”未知；可用：保存、定时")
        if not triggers:
            self.fail(f"{where}.triggers", "至少要有一个触发方式（保存、定时）")
        notify = [self.role(r, f"{where}.notify") for r in self.texts(entry.get("notify"), f"{where}.notify")]
        block = self.texts(entry.get("block"), f"{where}.block")
        for operation in block:
            if operation not in OPERATIONS:
                self.fail(f"{where}.block", f"操作“{operation}”未知；可阻止：{'、'.join(OPERATIONS)}")
        raise_alert = self.flag(entry.get("alert"), f"{where}.alert", True)
        if not raise_alert and not block:
            self.fail(f"{where}.alert", "规则既不产生预警（alert: false）也不阻止任何操作（block），没有作用")
        article = self.text(entry.get("article"), f"{where}.article", limit=50)
        if article and article not in articles:
            self.fail(f"{where}.article", f"条款“{article}”不在 pack.regulation.articles 中")
        if not (code and when and entry.get("name")):
            return None
        return RuleSpec(
            code=code,
            name=self.text(entry.get("name"), f"{where}.name", limit=200),
            when=when,
            severity=severity,
            message=message,
            types=tuple(self.texts(entry.get("types"), f"{where}.types")),
            on_save=flags["on_save"],
            on_schedule=flags["on_schedule"],
            raise_alert=raise_alert,
            block=tuple(block),
            notify=tuple(dict.fromkeys(n for n in notify if n)),
            email=self.flag(entry.get("email"), f"{where}.email", False),
            escalate_after_days=self.days(entry.get("escalate_after"), f"{where}.escalate_after"),
            article=article,
            indicators=indicators,
        )

    def role(self, word: str, path: str) -> str:
        if word in BUILTIN_ROLES:
            return word
        if word in _ROLE_BY_NAME:
            return _ROLE_BY_NAME[word]
        choices = "、".join(f"{code}（{role.name}）" for code, role in BUILTIN_ROLES.items())
        self.fail(path, f"角色“{word}”未知；可用：{choices}")
        return ""

    def days(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            days = value
        else:
            try:
                amount, kind = literal(str(value))
            except dsl.DslError:
                kind, amount = None, None
            if kind != dsl.DURATION or amount.seconds or amount.microseconds:
                self.fail(path, f"“{value}”不是整天数的时长（应写作 3天）")
                return None
            days = amount.days
        if not 1 <= days <= 365:
            self.fail(path, "升级时限应在 1天 到 365天 之间")
            return None
        return days

    def tests(self, value: Any, codes: set[str]) -> tuple[TestCase, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail("tests", "应为列表")
            return ()
        out: list[TestCase] = []
        names: set[str] = set()
        for i, item in enumerate(value):
            where = f"tests[{i}]"
            entry = self.mapping(item, where, _TEST_KEYS, ("name", "record", "expect"))
            name = self.text(entry.get("name"), f"{where}.name", limit=200)
            if name in names:
                self.fail(f"{where}.name", f"测试名称“{name}”重复")
            names.add(name)
            record = entry.get("record")
            if record is not None and not isinstance(record, dict):
                self.fail(f"{where}.record", "应为映射（名称: 取值），如 {预算: 100万, 已支出: 106万}")
            expect = self.expect(entry.get("expect"), f"{where}.expect", codes)
            today = None
            if entry.get("today") is not None:
                try:
                    today, kind = literal(str(entry["today"]))
                except dsl.DslError:
                    kind = None
                if kind != dsl.DATE:
                    self.fail(f"{where}.today", f"“{entry['today']}”不是日期（应写作 2026-03-01）")
                    today = None
            out.append(
                PackTestCase(
                    name=name,
                    record=record if isinstance(record, dict) else {},
                    expect=expect,
                    type=self.text(entry.get("type"), f"{where}.type", limit=64),
                    line=self.line_of(where) or 0,
                    today=today,
                )
            )
        return tuple(out)

    def expect(self, value: Any, path: str, codes: set[str]) -> dict[str, bool]:
        if not isinstance(value, dict) or not value:
            if value is not None:
                self.fail(path, "应为映射（规则编码: true/false），且至少写一条")
            return {}
        out: dict[str, bool] = {}
        for code, wanted in value.items():
            where = join_path(path, code)
            if code not in codes:
                self.fail(where, f"没有编码为“{code}”的规则")
            if isinstance(wanted, str) and wanted in _EXPECT_WORDS:
                wanted = _EXPECT_WORDS[wanted]
            if not isinstance(wanted, bool):
                self.fail(where, "应为 true（触发）或 false（不触发）")
                continue
            out[code] = wanted
        return out


def line_of(lines: Mapping[str, int], path: str) -> int | None:
    probe = path
    while True:
        if probe in lines:
            return lines[probe]
        if not probe:
            return None
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
