"""The catalogue of error codes: one entry per mistake, with both messages, a fix and examples.

The table itself is data (``codes.json``, one object per code). Every diagnostic the DSL produces is raised
through a code listed there, so the wording lives in one place, the
documentation (``docs/dsl-errors.md``) is generated from the same table (a test keeps them in sync), and the
examples double as fixtures: a test feeds every ``bad`` example to the checker and expects exactly its code.

Scheme: ``E`` + three digits; the hundreds digit is the family — 1 syntax, 2 names, 3 types, 4 functions,
5 limits, 6 evaluation, 7 ambiguity. Codes are stable: never renumber, only add.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CODES", "Code", "codes_markdown", "render"]


@dataclass(frozen=True, slots=True)
class Code:
    """One error code: message templates (``str.format`` fields), how to fix it, and a bad/good example."""

    code: str
    family: str
    zh: str
    en: str
    fix_zh: str
    fix_en: str
    bad: str = ""
    good: str = ""


_FAMILIES = {
    "1": "syntax",
    "2": "name",
    "3": "type",
    "4": "function",
    "5": "limit",
    "6": "eval",
    "7": "ambiguity",
}


def _load() -> dict[str, Code]:
    rows = json.loads((Path(__file__).with_name("codes.json")).read_text(encoding="utf-8"))
    return {row["code"]: Code(family=_FAMILIES[row["code"][1]], **row) for row in rows}


CODES: dict[str, Code] = _load()


def render(code: str, lang: str, fields: dict[str, object]) -> str:
    """Fill the ``lang`` template of ``code``; fields missing from ``fields`` render as an ellipsis."""
    entry = CODES[code]
    template = entry.zh if lang == "zh" else entry.en
    values: defaultdict[str, object] = defaultdict(lambda: "…", fields)
    return template.format_map(values)


def codes_markdown() -> str:
    """The body of ``docs/dsl-errors.md``, generated from :data:`CODES` so the two never drift apart."""
    titles = {
        "syntax": "语法 Syntax (E1xx)",
        "name": "名称 Names (E2xx)",
        "type": "类型 Types (E3xx)",
        "function": "函数 Functions (E4xx)",
        "limit": "限制 Limits (E5xx)",
        "eval": "求值 Evaluation (E6xx)",
        "ambiguity": "歧义 Ambiguity (E7xx)",
    }
    lines = [
        "# DSL 错误代码 / DSL error codes",
        "",
        "<!-- Generated from dsl/codes.py by dsl.codes.codes_markdown(); tests/dsl/test_errors.py keeps it in sync. -->",
        "",
        "每个错误都带有代码、行号、列号和中英文说明。代码的第一位数字表示类别。",
        "Every error carries a code, a line, a column and a message in Chinese and English; the first digit is the"
        " family.",
        "",
    ]
    family = ""
    for entry in CODES.values():
        if entry.family != family:
            family = entry.family
            lines += [f"## {titles[family]}", ""]
        lines += [
            f"### {entry.code} — {render(entry.code, 'zh', {})}",
            "",
            f"*{render(entry.code, 'en', {})}*",
            "",
            f"- 怎么改：{entry.fix_zh}",
            f"- How to fix: {entry.fix_en}",
        ]
        if entry.bad or entry.good:
            lines.append(f"- 错误写法 / wrong: {_code_span(entry.bad)}")
            lines.append(f"- 正确写法 / right: {_code_span(entry.good)}")
        lines.append("")
    return "\n".join(lines)


def _code_span(text: str) -> str:
    if not text:
        return "(空 / empty)"
    return f"`` {text} ``" if "`" in text else f"`{text}`"
