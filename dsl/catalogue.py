"""The catalogue: which names an expression may use, their types, and how to read them from a record.

A catalogue is what makes the DSL safe to hand to administrators: the checker refuses any name it does not list, and
the compiler reads values only through it. ``forms/`` builds one from a published form's JSON Schema; ``rules/``
extends it with computed indicators; the Django side stores opaque storage hints in ``Field.meta``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dsl.types import ANY, BOOL, DATE, NUMBER, STRING, DslType, ListType, ObjectType

__all__ = ["Catalogue", "Field", "Getter", "default_getter"]

Getter = Callable[[Any, tuple[str, ...]], Any]


@dataclass(frozen=True, slots=True)
class Field:
    """One name an expression may read.

    ``name`` is the dotted name as written (``合同.金额``); ``path`` the keys into the record (defaults to the name
    split at dots); ``label`` a human title; ``meta`` opaque hints for other back ends (e.g. a column name), passed
    through untouched. ``meta`` takes no part in hashing.
    """

    name: str
    type: DslType
    path: tuple[str, ...] = ()
    label: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.path:
            object.__setattr__(self, "path", tuple(self.name.split(".")))
        else:
            object.__setattr__(self, "path", tuple(self.path))
        if not isinstance(self.meta, MappingProxyType):
            object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))


def default_getter(record: Any, path: tuple[str, ...]) -> Any:
    """Nested dict lookup: a missing key or a null on the way gives None; a list on the way maps over its items.

    Lists met on the way are flattened, so ``支出.明细.金额`` through two levels of lists is one flat list; a list
    stored at the end of the path is returned as it is.
    """
    value = record
    for index, key in enumerate(path):
        if value is None:
            return None
        if isinstance(value, list | tuple):
            out: list[Any] = []
            for item in value:
                _collect(item, path[index:], out)
            return out
        value = value.get(key)
    return value


def _collect(value: Any, path: tuple[str, ...], out: list[Any]) -> None:
    if not path or value is None:
        out.append(value)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, path, out)
    else:
        _collect(value.get(path[0]), path[1:], out)


class Catalogue:
    """An immutable set of :class:`Field` s, addressable by dotted name, plus the record accessor.

    Fields whose type is an object or a list of objects make their sub-fields addressable too (``合同.金额``,
    ``支出.金额``); a path through a list has a list type. ``getter(record, path)`` replaces the default nested
    dict lookup, for records that are model instances or that need decryption.
    """

    __slots__ = ("_fields", "_index", "_words", "getter")

    def __init__(self, fields: Iterable[Field] = (), *, getter: Getter | None = None) -> None:
        self._fields: tuple[Field, ...] = tuple(fields)
        self.getter: Getter | None = getter
        index: dict[str, Field] = {}
        for item in self._fields:
            for expanded in _expand(item):
                index.setdefault(expanded.name, expanded)
        for item in self._fields:  # explicitly listed fields win over expanded ones
            index[item.name] = item
        self._index = index
        self._words: frozenset[str] | None = None

    @classmethod
    def from_json_schema(cls, schema: Mapping[str, Any], *, getter: Getter | None = None) -> Catalogue:
        """Build a catalogue from a JSON Schema (draft 2020-12) object's ``properties``.

        ``number``/``integer`` → 数值, ``string`` with ``format: date`` → 日期, other strings and enums → 文本,
        ``boolean`` → 是/否, ``object`` → 对象 (sub-fields reachable by dots), ``array`` → 列表. A ``["number",
        "null"]`` type list is simply a number (every type is nullable). ``x-title`` or ``title`` becomes the label;
        enum values are kept in ``meta["enum"]`` so the checker can suggest the right spelling of a value.
        """
        return cls(_fields_from_schema((), schema, schema, through_list=False), getter=getter)

    def lookup(self, name: str) -> Field | None:
        """The field called ``name`` (dotted), including sub-fields reached through objects and lists."""
        return self._index.get(name)

    def names(self) -> list[str]:
        """Every addressable dotted name, in declaration order."""
        return list(self._index)

    def fields(self) -> tuple[Field, ...]:
        """The fields given to the constructor (not the expanded sub-fields)."""
        return self._fields

    def extend(self, fields: Iterable[Field]) -> Catalogue:
        """A new catalogue with ``fields`` added (computed indicators); a field of the same name is replaced."""
        added = tuple(fields)
        names = {f.name for f in added}
        return Catalogue((*(f for f in self._fields if f.name not in names), *added), getter=self.getter)

    def words(self) -> frozenset[str]:
        """Every name segment (the text between dots): the vocabulary for splitting Chinese written without spaces."""
        if self._words is None:
            self._words = frozenset(segment for name in self._index for segment in name.split("."))
        return self._words

    def __iter__(self) -> Iterator[Field]:
        return iter(self._index.values())

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __repr__(self) -> str:
        return f"Catalogue({len(self._index)} names)"


def _expand(item: Field) -> Iterator[Field]:
    """``item`` and, for objects and lists of objects, every sub-field reachable by dots."""
    yield item
    inner = item.type
    through_list = False
    while isinstance(inner, ListType):
        inner = inner.item
        through_list = True
    if not isinstance(inner, ObjectType):
        return
    for key, sub in inner.fields.items():
        sub_type: DslType = ListType(_flat(sub)) if through_list else sub
        yield from _expand(
            Field(f"{item.name}.{key}", sub_type, (*item.path, key), None, {"parent": item.name})
        )


def _flat(kind: DslType) -> DslType:
    while isinstance(kind, ListType):
        kind = kind.item
    return kind


def _fields_from_schema(
    prefix: tuple[str, ...], schema: Mapping[str, Any], root: Mapping[str, Any], *, through_list: bool
) -> Iterator[Field]:
    """Fields for ``schema``'s properties and, recursively, for the properties of nested objects and arrays."""
    for key, prop in (_resolve(schema, root).get("properties") or {}).items():
        path = (*prefix, key)
        resolved = _resolve(prop, root)
        kind = _type_from_schema(resolved, root)
        meta: dict[str, Any] = {}
        if "enum" in resolved:
            meta["enum"] = tuple(v for v in resolved["enum"] if v is not None)
        label = resolved.get("x-title") or resolved.get("title")
        yield Field(".".join(path), ListType(_flat(kind)) if through_list else kind, path, label, meta)
        inner = resolved
        crosses = through_list
        while _schema_type(inner) == "array" and isinstance(inner.get("items"), Mapping):
            inner = _resolve(inner["items"], root)
            crosses = True
        if _schema_type(inner) == "object" or "properties" in inner:
            yield from _fields_from_schema(path, inner, root, through_list=crosses)


def _schema_type(prop: Mapping[str, Any]) -> Any:
    declared = prop.get("type")
    if isinstance(declared, list):
        non_null = [t for t in declared if t != "null"]
        return non_null[0] if len(non_null) == 1 else None
    return declared


def _resolve(prop: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/…``) once; other references are left alone."""
    ref = prop.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        return {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def _type_from_schema(prop: Mapping[str, Any], root: Mapping[str, Any]) -> DslType:
    prop = _resolve(prop, root)
    declared = _schema_type(prop)
    if declared is None and "enum" in prop:
        values = [v for v in prop["enum"] if v is not None]
        if values and all(isinstance(v, str) for v in values):
            declared = "string"
        elif values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            declared = "number"
    if declared is None and "const" in prop and isinstance(prop["const"], str):
        declared = "string"
    if declared in ("number", "integer"):
        return NUMBER
    if declared == "string":
        return DATE if prop.get("format") == "date" else STRING
    if declared == "boolean":
        return BOOL
    if declared == "array":
        items = prop.get("items")
        return ListType(_type_from_schema(items, root) if isinstance(items, Mapping) else ANY)
    if declared == "object" or "properties" in prop:
        return ObjectType(
            {key: _type_from_schema(sub, root) for key, sub in (prop.get("properties") or {}).items()}
        )
    return ANY
