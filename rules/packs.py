"""Policy rule packs as files: a regulator's YAML parsed into a :class:`~rules.spec.PackSpec`, with its checksum.

A pack file (format in ``docs/rule-packs.md``) declares the pack, the regulation it rests on, its own indicators,
its rules and embedded tests. Parsing is pure: no database, and every problem is reported the way bundle problems
are, ``file:line: path: message`` in Chinese, all of them at once. What needs the project types in scope (the
type-check, the tests under each type) lives in :mod:`rules.packs_check` and :mod:`rules.packs_run`; signatures in
:mod:`rules.packs_sign`; comparing two packs in :mod:`rules.packs_diff`; the types in an org's scope in
:mod:`rules.packs_scope`; the policy library in :mod:`rules.packs_library`; loading in :mod:`rules.services.packs`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bundles.problems import BundleInvalid, Problem
from bundles.yamlio import parse_yaml

from .packs_read import FORMAT_VERSION, MESSAGE_FORMATS, TRIGGERS, PackTestCase, Reader, line_of, literal
from .spec import PackSpec

__all__ = [
    "FORMAT_VERSION",
    "MESSAGE_FORMATS",
    "TRIGGERS",
    "PackFile",
    "PackInvalid",
    "PackTestCase",
    "checksum",
    "literal",
    "pack_parse",
]


class PackInvalid(BundleInvalid):
    """A pack that cannot be parsed, type-checked, tested or loaded; carries every problem found."""

    def __init__(self, problems: Any) -> None:
        super().__init__(problems)
        self.args = (f"规则包有 {len(self.problems)} 处问题",)


@dataclass(frozen=True)
class PackFile:
    """A parsed pack file: the spec, and where each data path was written (to point problems at their line)."""

    spec: PackSpec
    filename: str
    lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest written parent."""
        return line_of(self.lines, path)

    def problem(self, path: str, message: str, *, offset: int = 0) -> Problem:
        line = self.line_of(path)
        return Problem(self.filename, None if line is None else line + offset, path, message)

    def rule_path(self, code: str) -> str:
        return next((f"rules[{i}]" for i, r in enumerate(self.spec.rules) if r.code == code), "rules")


def checksum(source: bytes | str) -> str:
    """SHA-256 (hex) of the exact file bytes: what is stored, signed, and compared on reload."""
    return hashlib.sha256(source.encode("utf-8") if isinstance(source, str) else source).hexdigest()


def pack_parse(source: bytes | str, *, filename: str = "<pack>") -> PackFile:
    """Parse and check a pack file's format; raises :class:`PackInvalid` with every problem found.

    Checked here: YAML, keys and types, codes, severities, triggers, roles, operations, article references, DSL
    syntax of every condition and indicator, message placeholders' syntax, and each test's shape. Whether names
    exist and types agree depends on the project types, and is checked by :mod:`rules.packs_check`.
    """
    filename = filename or "<pack>"
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = source[: error.start].count(b"\n") + 1
            raise PackInvalid([Problem(filename, line, "", "文件不是 UTF-8 编码")]) from None
    else:
        text = source.removeprefix("\ufeff")
    try:
        parsed = parse_yaml(text, filename=filename)
    except BundleInvalid as error:
        raise PackInvalid(error.problems) from None
    reader = Reader(filename, parsed.lines)
    spec = reader.document(parsed.data, text, checksum(source))
    if reader.problems:
        raise PackInvalid(reader.problems)
    return PackFile(spec=spec, filename=filename, lines=parsed.lines)
