"""The DSL's value types.

Types are small immutable values compared by structure, so a checker can ask ``t == NUMBER`` and a catalogue built
twice from the same schema yields equal types. Each type carries its Chinese and English display names because every
type error is shown to administrators in Chinese first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

__all__ = [
    "ANY",
    "BOOL",
    "DATE",
    "DURATION",
    "NULL",
    "NUMBER",
    "STRING",
    "DslType",
    "ListType",
    "ObjectType",
    "unify",
]


class DslType:
    """A scalar type, or the base of the compound ones (:class:`ListType`, :class:`ObjectType`).

    ``kind`` is a stable lowercase tag (``number``, ``string``, ``bool``, ``date``, ``duration``, ``null``, ``any``,
    ``list``, ``object``) that other evaluators (ORM, JavaScript) can switch on without importing these classes.
    """

    __slots__ = ("_en", "_zh", "kind")

    def __init__(self, kind: str, zh: str, en: str) -> None:
        self.kind = kind
        self._zh = zh
        self._en = en

    @property
    def zh(self) -> str:
        """Chinese display name, as shown in diagnostics (数值, 文本, 列表〈数值〉 …)."""
        return self._zh

    @property
    def en(self) -> str:
        """English display name (number, text, list<number> …)."""
        return self._en

    def accepts(self, other: DslType) -> bool:
        """True when a value of type ``other`` may stand where ``self`` is required.

        ``null`` fits anywhere (SQL semantics: every type is nullable) and ``any`` fits both ways; it is what an
        empty list literal holds and what the checker assigns after an error so one mistake is reported once.
        """
        if other.kind in ("null", "any") or self.kind == "any":
            return True
        return self == other

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DslType) and type(other) is type(self) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(self.kind)

    def __repr__(self) -> str:
        return self.kind.upper()

    def __str__(self) -> str:
        return self._en


NUMBER = DslType("number", "数值", "number")
STRING = DslType("string", "文本", "text")
BOOL = DslType("bool", "是/否", "boolean")
DATE = DslType("date", "日期", "date")
DURATION = DslType("duration", "时长", "duration")
NULL = DslType("null", "空值", "null")
ANY = DslType("any", "任意", "any")


class ListType(DslType):
    """A list whose items all have type ``item`` (``ANY`` for the empty list literal)."""

    __slots__ = ("item",)

    def __init__(self, item: DslType) -> None:
        super().__init__("list", f"列表〈{item.zh}〉", f"list<{item.en}>")
        self.item = item

    def accepts(self, other: DslType) -> bool:
        if other.kind in ("null", "any"):
            return True
        return isinstance(other, ListType) and (
            self.item.accepts(other.item) or other.item.accepts(self.item)
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ListType) and other.item == self.item

    def __hash__(self) -> int:
        return hash(("list", self.item))

    def __repr__(self) -> str:
        return f"ListType({self.item!r})"


class ObjectType(DslType):
    """A record with named, typed fields (a JSON object); only reachable through dotted paths."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, DslType]) -> None:
        super().__init__("object", "对象", "object")
        self._fields = tuple(fields.items())

    @property
    def fields(self) -> Mapping[str, DslType]:
        """The object's fields, in declaration order (read-only)."""
        return MappingProxyType(dict(self._fields))

    def field(self, name: str) -> DslType | None:
        for key, value in self._fields:
            if key == name:
                return value
        return None

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._fields)

    def accepts(self, other: DslType) -> bool:
        return other.kind in ("null", "any") or self == other

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectType) and other._fields == self._fields

    def __hash__(self) -> int:
        return hash(("object", self._fields))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v!r}" for k, v in self._fields)
        return f"ObjectType({{{inner}}})"


def unify(a: DslType, b: DslType) -> DslType | None:
    """The common type of two values that must agree (if branches, list items, coalesce arguments), or None.

    ``null`` and ``any`` give way to the other side, so ``[null, 1]`` is a list of numbers.
    """
    if a.kind in ("null", "any"):
        return b if not (a.kind == "any" and b.kind == "null") else a
    if b.kind in ("null", "any"):
        return a
    if isinstance(a, ListType) and isinstance(b, ListType):
        item = unify(a.item, b.item)
        return None if item is None else ListType(item)
    return a if a == b else None
