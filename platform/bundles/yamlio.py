"""Reading and writing bundle YAML: exact numbers, line numbers for every data path, deterministic output.

PyYAML's own loader is not used to build the data: the document is *composed* (nodes keep their marks) and
turned into plain data here, so every data path (``forms[0].schema.properties.项目总投资``) gets the line it was
written on, duplicate keys are caught instead of silently overwritten, and numbers with a fraction become
``Decimal`` — money and thresholds must never pass through ``float``.

The loader resolves fewer plain scalars than YAML 1.1 does: only ``true``/``false``, ``null``/``~``, decimal
integers without a leading zero and decimal fractions. ``yes``, ``on``, ``2024-01-05`` and ``0571`` stay text, as a
Chinese administrator writing an org code or a date means them. The dumper resolves the full YAML 1.1 set, so it
quotes anything another YAML reader could mistake for a non-string: its output reads back the same everywhere.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from .problems import BundleInvalid, Problem

__all__ = ["LINE_WIDTH", "Parsed", "dump_yaml", "join_path", "parse_yaml"]

LINE_WIDTH = 120

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _Loader(yaml.SafeLoader):
    """Composes nodes with a deliberately small set of implicit types (see the module docstring)."""

    yaml_implicit_resolvers: dict = {}


_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?
            |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def join_path(path: str, key: str | int) -> str:
    """``forms`` + 0 → ``forms[0]``; ``forms[0]`` + ``schema`` → ``forms[0].schema``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Parsed:
    """The plain data of one YAML document and, for each data path, the 1-based line that wrote it."""

    __slots__ = ("data", "lines")

    def __init__(self, data: Any, lines: dict[str, int]) -> None:
        self.data = data
        self.lines = lines


def parse_yaml(text: str, *, filename: str) -> Parsed:
    """Compose ``text`` and build plain data (dict, list, str, int, Decimal, bool, None) with a line map.

    Raises :class:`BundleInvalid` with every problem found (a syntax error stops at the first, as YAML must).
    """
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        what = error.problem or error.context or "无法解析"
        raise BundleInvalid([Problem(filename, line, "", f"YAML 语法错误：{what}")]) from None
    except yaml.YAMLError as error:  # e.g. a reader error on a control character
        raise BundleInvalid([Problem(filename, None, "", f"YAML 无法读取：{error}")]) from None
    if node is None:
        raise BundleInvalid([Problem(filename, 1, "", "文件为空")])
    builder = _Builder(filename)
    data = builder.build(node, "")
    if builder.problems:
        raise BundleInvalid(builder.problems)
    return Parsed(data, builder.lines)


class _Builder:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: dict[str, int] = {}
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node, path: str, message: str) -> None:
        self.problems.append(Problem(self.filename, node.start_mark.line + 1, path, message))

    def build(self, node: yaml.Node, path: str) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, join_path(path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                self.problem(key_node, path, "键必须是文本（如需数字作键，请加引号）")
                continue
            key = key_node.value
            where = join_path(path, key)
            if key in out:
                self.problem(key_node, where, f"键“{key}”重复")
                continue
            self.lines[where] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, where)
        return out

    def scalar(self, node: yaml.Node, path: str) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == _INT:
            try:
                return int(value.replace("_", ""), 10)
            except ValueError:
                self.problem(node, path, f"“{value}”不是十进制整数")
                return None
        if tag == _FLOAT:
            try:
                number = Decimal(value.replace("_", ""))
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                self.problem(node, path, f"“{value}”不是有限的十进制数")
                return None
            return number
        self.problem(node, path, f"不支持的 YAML 标签 {tag}（配置包只用文本、数字、是/否、空值、列表和映射）")
        return None


class _Dumper(yaml.SafeDumper):
    """Block style, two-space indented lists, no aliases; Decimals written as the exact text they hold."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return text if "." in text else f"{text}.0"


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    return dumper.represent_scalar(_FLOAT, _decimal_text(value))


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar(_STR, value, style="|" if "\n" in value else None)


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.Node:
    # Never expected (the loader makes Decimals), but a float from elsewhere must not be written inexactly.
    return _represent_decimal(dumper, Decimal(repr(value)))


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(float, _represent_float)


def dump_yaml(data: Any) -> str:
    """Deterministic YAML text: keys in the order given (callers put them in canonical order), UTF-8 text
    unescaped, a fixed line width, exact decimals."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=LINE_WIDTH,
        indent=2,
        explicit_start=False,
    )
