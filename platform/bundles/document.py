"""A parsed bundle: its plain data, where each piece was written, and the checks on the format itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .problems import Problem
from .yamlio import join_path, parse_yaml

__all__ = ["FORMAT_VERSION", "RESERVED", "Bundle", "bundle_parse", "structure_problems"]

FORMAT_VERSION = 1
#: Top-level keys kept for configuration that has no loader yet; a bundle using them is refused, not ignored.
# Top-level keys that belong elsewhere, and where: a type's approval flows live in its config; rules come in packs.
RESERVED = {
    "flows": "审批流程请写在项目类型的 config.flows 中（每个审批环节一个流程）",
    "rules": "预警规则以政策规则包发布：用 taizhang pack test/load 加载规则包文件",
    "rule_packs": "政策规则包是单独的文件：用 taizhang pack test/load 加载",
}
_TYPE_NAMES = {
    "object": "映射（键: 值）",
    "array": "列表",
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "null": "空值",
}


@dataclass(frozen=True)
class Bundle:
    """One bundle file as data. ``lines`` maps data paths to 1-based lines (empty for a bundle built in memory)."""

    data: dict[str, Any]
    filename: str = "<bundle>"
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def org(self) -> str | None:
        value = self.data.get("org")
        return value if isinstance(value, str) else None

    @property
    def forms(self) -> list[dict[str, Any]]:
        items = self.data.get("forms")
        return items if isinstance(items, list) else []

    @property
    def project_types(self) -> list[dict[str, Any]]:
        items = self.data.get("project_types")
        return items if isinstance(items, list) else []

    def line_of(self, path: str) -> int | None:
        """The line of ``path`` or, when it was not written (a missing key), of its nearest written parent."""
        probe = path
        while True:
            if probe in self.lines:
                return self.lines[probe]
            if not probe:
                return None
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""

    def problem(self, path: str, message: str) -> Problem:
        return Problem(self.filename, self.line_of(path), path, message)


def bundle_parse(text: str, *, filename: str = "<bundle>") -> Bundle:
    """Parse YAML text into a :class:`Bundle`; raises :class:`~bundles.problems.BundleInvalid` on YAML errors
    (syntax, duplicate keys, unsupported tags) or when the document is not a mapping. The format is checked by
    :func:`bundles.bundle_validate`."""
    from .problems import BundleInvalid

    parsed = parse_yaml(text, filename=filename)
    if not isinstance(parsed.data, dict):
        raise BundleInvalid(
            [Problem(filename, 1, "", "配置包的顶层应为映射（taizhang_bundle: 1、org、forms …）")]
        )
    return Bundle(data=parsed.data, filename=filename, lines=parsed.lines)


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads((Path(__file__).with_name("bundle.schema.json")).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def _pointer(parts: Any) -> str:
    path = ""
    for part in parts:
        path = join_path(path, part)
    return path


def _message(error: ValidationError) -> tuple[str, str]:
    """(path, Chinese message) for one format error; the path points at the offending key where there is one."""
    path = _pointer(error.absolute_path)
    kind, value = error.validator, error.validator_value
    if kind == "required":
        missing = [name for name in value if name not in (error.instance or {})]
        return path, f"缺少必填项“{missing[0] if missing else value}”"
    if kind == "additionalProperties":
        allowed = set((error.schema.get("properties") or {}).keys())
        extra = sorted(k for k in error.instance if k not in allowed)
        where = join_path(path, extra[0]) if extra else path
        return where, f"未知的键“{'、'.join(extra)}”；可用：{'、'.join(sorted(allowed))}"
    if kind == "type":
        return path, f"应为{_TYPE_NAMES.get(value, value)}"
    if kind == "const":
        return path, f"必须是 {value}"
    if kind == "enum":
        return path, f"必须是 {'、'.join(map(str, value))} 之一"
    if kind == "pattern":
        return path, "编码须为 2–64 位字母、数字、下划线或连字符"
    if kind == "minLength":
        return path, "不能为空"
    if kind == "maxLength":
        return path, f"不能超过 {value} 个字"
    return path, error.message


def structure_problems(bundle: Bundle) -> list[Problem]:
    """Problems with the bundle format itself (the JSON Schema ``bundle.schema.json``), reserved keys, duplicates."""
    found: list[Problem] = []
    for error in sorted(
        _validator().iter_errors(bundle.data), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        path, message = _message(error)
        found.append(bundle.problem(path, message))
    for key, what in RESERVED.items():
        if key in bundle.data:
            found.append(bundle.problem(key, f"配置包中不能有顶层的“{key}”：{what}"))
    for section in ("forms", "project_types"):
        seen: dict[str, int] = {}
        items = bundle.data.get(section)
        for i, item in enumerate(items if isinstance(items, list) else []):
            code = item.get("code") if isinstance(item, dict) else None
            if not isinstance(code, str):
                continue
            if code in seen:
                found.append(
                    bundle.problem(f"{section}[{i}].code", f"编码“{code}”与 {section}[{seen[code]}] 重复")
                )
            else:
                seen[code] = i
    return found
