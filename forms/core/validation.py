"""Server-side validation of submitted form data: JSON Schema keywords, then the form's DSL rules.

``validator_for(definition)`` returns a :class:`FormValidator` cached by the definition's content hash, so the work
of preparing a form — normalising the schema, compiling the fast predicate, building the reference validator,
compiling DSL — is done once per published version, never per request.

One submission is validated in this order:

1. the payload bounds (:func:`forms.core.safety.payload_problem`): an oversized or malformed payload gets one
   error and nothing else runs;
2. ``None`` values are dropped (an empty input means "not filled") and submitted values of computed fields are
   discarded (the server computes them);
3. computed fields are evaluated, then ``visible_if``; hidden fields are removed, so their values are not validated
   and they are never required;
4. the fast predicate; only if it says invalid, the reference jsonschema validator for the detailed errors;
5. requiredness of conditional fields (``required`` in the schema or ``required_if``, and visible);
6. ``validations[]`` rules: an error when a rule is *false* (a rule that is null because a field is empty or invalid
   does not fire, as in SQL).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from jsonschema import ValidationError

from forms.core import dsl_adapter
from forms.core.definition import FormDefinition
from forms.core.errors import DefinitionError, FieldError
from forms.core.fastpath import LocalErrors, compile_predicate
from forms.core.formats import FORMAT_MESSAGES
from forms.core.keywords import normalise_schema, reference_validator
from forms.core.safety import (
    LIMITS,
    PAYLOAD_HAS_NULLS,
    PAYLOAD_UNSAFE,
    SafetyLimits,
    payload_problem,
    payload_scan,
)

__all__ = ["FieldError", "FormValidator", "clear_validator_cache", "message_for", "validator_for"]

_TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是或否",
    "array": "列表",
    "object": "对象",
    "null": "空",
}


class FormValidator:
    """Validates data for one form definition. Thread-safe and reusable; obtain it with :func:`validator_for`."""

    def __init__(self, definition: FormDefinition, limits: SafetyLimits = LIMITS) -> None:
        analysis = definition.analysis()
        if analysis.problems:
            raise DefinitionError(analysis.problems)
        self.definition = definition
        self.limits = limits
        schema = normalise_schema(definition.schema)
        self._visible_if = dict(analysis.visible_if)
        self._required_if = dict(analysis.required_if)
        self._conditional = tuple(dict.fromkeys([*self._visible_if, *self._required_if]))
        self._schema_required = frozenset(schema.get("required") or ())
        effective = dict(schema)
        if "required" in schema:
            effective["required"] = [r for r in schema["required"] if r not in self._conditional]
        self.schema = effective
        self._reference = reference_validator(effective)
        self._fast = compile_predicate(effective, self._reference)
        self._explain = LocalErrors(effective, self._reference)
        self._computed = analysis.computed
        self._computed_names = frozenset(name for name, _ in analysis.computed)
        self._groups = tuple(g for g in analysis.groups if g.computed)
        self._row_computed = {g.name: frozenset(n for n, _ in g.computed) for g in self._groups}
        self._row_readers = {g.name: dsl_adapter.record_reader(g.catalogue) for g in self._groups}
        self._rules = analysis.validations
        expressions = [
            *self._visible_if.values(),
            *self._required_if.values(),
            *(c for _, c in self._computed),
            *(c for c, _, _ in self._rules),
        ]
        reads = set().union(*(c.reads for c in expressions)) if expressions else set()
        paths = set().union(*(c.paths for c in expressions)) if expressions else set()
        self._reader = dsl_adapter.record_reader(definition.catalogue(), reads - self._computed_names, paths)
        self._uses_dsl = bool(expressions)
        self._drop_top = self._computed_names
        order = (
            list(definition.ui_schema.get("order") or []) if isinstance(definition.ui_schema, Mapping) else []
        )
        order += [name for name in definition.properties() if name not in order]
        self._order = {name: index for index, name in enumerate(order)}

    # -- public --------------------------------------------------------------------------------------------------

    def validate(self, data: Any, *, today: date | None = None) -> list[FieldError]:
        """Every problem with ``data`` (numbers as Decimal/int), as Chinese :class:`FieldError` s; [] when valid."""
        state = self._prepare(data, today)
        if isinstance(state, FieldError):
            return [state]
        clean, record, hidden = state
        errors: list[FieldError] = []
        if not self._fast(clean):
            errors.extend(self._schema_errors(clean))
        if self._uses_dsl:
            errors.extend(self._dsl_errors(clean, record, hidden, today))
        if len(errors) > 1:
            order = self._order
            errors.sort(key=lambda e: order.get(_top(e.path), len(order)))
        if len(errors) > self.limits.max_errors:
            left = len(errors) - self.limits.max_errors
            errors = [
                *errors[: self.limits.max_errors],
                FieldError("", "", f"还有 {left} 处错误未列出", "too_many_errors"),
            ]
        return errors

    def is_valid(self, data: Any, *, today: date | None = None) -> bool:
        return not self.validate(data, today=today)

    def compute(self, data: Mapping[str, Any], *, today: date | None = None) -> dict[str, Any]:
        """``data`` with computed fields (top level and in group rows) filled in by the server, nulls dropped."""
        state = self._prepare(data, today, hide=False)
        if isinstance(state, FieldError):
            return dict(data) if isinstance(data, Mapping) else {}
        return state[0]

    def state(
        self, data: Any, *, today: date | None = None
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, bool], dict[str, bool]]:
        """For :mod:`forms.core.state`: (data with computed values, DSL record, visible, required) per top field."""
        prepared = self._prepare(data if isinstance(data, dict) else {}, today, hide=False)
        if isinstance(prepared, FieldError):
            prepared = self._prepare({}, today, hide=False)
            assert not isinstance(prepared, FieldError)
        clean, record, _ = prepared
        visible = {name: True for name in self.definition.properties()}
        for name, compiled in self._visible_if.items():
            visible[name] = dsl_adapter.evaluate(compiled, record, today) is True
        required = {}
        for name in self.definition.properties():
            wanted = name in self._schema_required
            if not wanted and name in self._required_if:
                wanted = dsl_adapter.evaluate(self._required_if[name], record, today) is True
            required[name] = wanted and visible[name]
        return clean, record, visible, required

    # -- steps ---------------------------------------------------------------------------------------------------

    def _prepare(
        self, data: Any, today: date | None, *, hide: bool = True
    ) -> FieldError | tuple[dict[str, Any], dict[str, Any], frozenset[str]]:
        scan = payload_scan(data, self.limits)
        if scan == PAYLOAD_UNSAFE:
            problem = payload_problem(data, self.limits) or ("", "提交的数据无效", "payload_invalid")
            path, message, code = problem
            return FieldError(path, self._label(path) if path else "", message, code)
        if data.__class__ is not dict:
            return FieldError("", "", "提交的数据应为对象（字段名 → 值）", "type")
        # the scan saw every value: prune (a second walk, and a copy) only when there is something to drop
        clean = (
            _prune(data, self._drop_top)
            if scan == PAYLOAD_HAS_NULLS or _any_in(self._drop_top, data)
            else data
        )
        if not self._uses_dsl:
            return clean, {}, frozenset()
        if self._groups:
            clean = self._compute_rows(clean, today)
        record = self._reader(clean)
        if self._computed:
            clean = clean.copy() if clean is data else clean
            for name, compiled in self._computed:
                value = dsl_adapter.evaluate(compiled, record, today)
                record[name] = value
                if value is not None:
                    clean[name] = dsl_adapter.to_json_value(value)
        hidden: frozenset[str] = frozenset()
        if hide and self._visible_if:
            hidden = frozenset(
                name
                for name, c in self._visible_if.items()
                if dsl_adapter.evaluate(c, record, today) is not True
            )
            if hidden:
                # clean is ours unless nothing was dropped or computed: the caller's data is never mutated
                clean = clean.copy() if clean is data else clean
                for name in hidden:
                    clean.pop(name, None)
                    record.pop(name, None)
        return clean, record, hidden

    def _compute_rows(self, data: dict[str, Any], today: date | None) -> dict[str, Any]:
        out = dict(data)
        for group in self._groups:
            rows = data.get(group.name)
            if rows.__class__ is not list:
                continue
            read = self._row_readers[group.name]
            new_rows = []
            for row in rows:
                if row.__class__ is not dict:
                    new_rows.append(row)
                    continue
                row_record = read(row)
                row_out = {k: v for k, v in row.items() if k not in self._row_computed[group.name]}
                for name, compiled in group.computed:
                    value = dsl_adapter.evaluate(compiled, row_record, today)
                    row_record[name] = value
                    if value is not None:
                        row_out[name] = dsl_adapter.to_json_value(value)
                new_rows.append(row_out)
            out[group.name] = new_rows
        return out

    def _dsl_errors(
        self, clean: Mapping[str, Any], record: Mapping[str, Any], hidden: frozenset[str], today: date | None
    ) -> Iterable[FieldError]:
        for name in self._conditional:
            if name in hidden or name in clean:
                continue
            code = "required"
            wanted = name in self._schema_required
            if not wanted and name in self._required_if:
                wanted = dsl_adapter.evaluate(self._required_if[name], record, today) is True
                code = "required_if"
            if wanted:
                yield FieldError(name, self.definition.label(name), "必填", code)
        for compiled, message, targets in self._rules:
            if dsl_adapter.evaluate(compiled, record, today) is False:
                if not targets:
                    yield FieldError("", "", message, "rule")
                for target in targets:
                    if target not in hidden:
                        yield FieldError(target, self.definition.label(target), message, "rule")

    def _schema_errors(self, data: Mapping[str, Any]) -> list[FieldError]:
        out: list[FieldError] = []
        seen_required: set[str] = set()
        for error, prefix in self._explain.errors(data):
            out.extend(self._convert(error, seen_required, prefix))
            if len(out) > self.limits.max_errors:
                break
        return out

    def _convert(
        self, error: ValidationError, seen_required: set[str], prefix: tuple[Any, ...] = ()
    ) -> list[FieldError]:
        keys = [*prefix, *error.absolute_path]
        keyword = str(error.validator)
        if keyword == "required" and isinstance(error.instance, dict):
            base = _path(keys)
            if base in seen_required:
                return []
            seen_required.add(base)
            return [
                self._error([*keys, name], "必填", "required")
                for name in error.validator_value
                if name not in error.instance
            ]
        if keyword == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties") or {}
            return [
                self._error([*keys, name], "不是表单中的字段", "additionalProperties")
                for name in error.instance
                if name not in allowed
            ]
        return [self._error(keys, message_for(error), keyword)]

    def _error(self, keys: Sequence[Any], message: str, code: str) -> FieldError:
        return FieldError(_path(keys), self._label_keys(keys), message, code)

    def _label(self, path: str) -> str:
        return path

    def _label_keys(self, keys: Sequence[Any]) -> str:
        """``预算明细[3].金额`` with titles for names and 1-based row numbers for people."""
        node: Any = self.schema
        text = ""
        for key in keys:
            if isinstance(key, int):
                text += f"[{key + 1}]"
                node = node.get("items") if isinstance(node, Mapping) else None
                continue
            props = node.get("properties") if isinstance(node, Mapping) else None
            sub = props.get(key) if isinstance(props, Mapping) else None
            title = sub.get("title") if isinstance(sub, Mapping) else None
            label = title if isinstance(title, str) and title else str(key)
            text = f"{text}.{label}" if text else label
            node = sub
        return text


def _path(keys: Sequence[Any]) -> str:
    text = ""
    for key in keys:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text = f"{text}.{key}" if text else str(key)
    return text


def _top(path: str) -> str:
    for index, char in enumerate(path):
        if char in ".[":
            return path[:index]
    return path


def _any_in(names: frozenset[str], data: dict[str, Any]) -> bool:
    """Whether ``data`` has one of ``names`` (a loop over the few names, not a set built from 40 keys)."""
    for name in names:  # noqa: SIM110
        if name in data:
            return True
    return False


def _prune(value: Any, drop: frozenset[str] = frozenset()) -> Any:
    """Remove None-valued keys from every object (an empty input is "not filled"), and ``drop`` keys at the top.

    Returns the same object when nothing changes, so a clean submission is not copied.
    """
    if value.__class__ is dict:
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None or key in drop:
                changed = True
                continue
            if item.__class__ is dict or item.__class__ is list:
                new = _prune(item)
                changed = changed or new is not item
                out[key] = new
            else:
                out[key] = item
        return out if changed else value
    if value.__class__ is list:
        new_items = [_prune(item) if item.__class__ in (dict, list) else item for item in value]
        return new_items if any(a is not b for a, b in zip(new_items, value, strict=True)) else value
    return value


def _number(value: Any) -> str:
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def _choices(schema: Mapping[str, Any], values: Sequence[Any]) -> str:
    labels = schema.get("x-enum-labels") if isinstance(schema.get("x-enum-labels"), Mapping) else {}
    shown = [str(labels.get(v, v)) if isinstance(v, str) else _number(v) for v in values]
    return "、".join(shown)


def message_for(error: ValidationError) -> str:
    """The Chinese message for one jsonschema error (custom ``x-`` keywords already carry theirs)."""
    keyword, value, schema = error.validator, error.validator_value, error.schema
    schema = schema if isinstance(schema, Mapping) else {}
    if keyword == "type":
        names = [value] if isinstance(value, str) else list(value)
        return "应为" + "或".join(_TYPE_NAMES.get(n, str(n)) for n in names)
    if keyword == "enum":
        return f"必须是 {_choices(schema, value)} 之一" if len(value) <= 12 else "不是可选项"
    if keyword == "const":
        return f"必须等于 {_choices(schema, [value])}"
    if keyword == "minimum":
        return f"必须大于或等于 {_number(value)}"
    if keyword == "maximum":
        return f"必须小于或等于 {_number(value)}"
    if keyword == "exclusiveMinimum":
        return f"必须大于 {_number(value)}"
    if keyword == "exclusiveMaximum":
        return f"必须小于 {_number(value)}"
    if keyword == "multipleOf":
        return f"必须是 {_number(value)} 的整数倍"
    if keyword == "minLength":
        return "必填" if value == 1 else f"至少需要 {value} 个字"
    if keyword == "maxLength":
        return f"不能超过 {value} 个字"
    if keyword == "pattern":
        custom = schema.get("x-pattern-message")
        return custom if isinstance(custom, str) and custom else "格式不正确"
    if keyword == "format":
        return FORMAT_MESSAGES.get(str(value), "格式不正确")
    if keyword == "minItems":
        return f"至少需要 {value} 项"
    if keyword == "maxItems":
        return f"最多 {value} 项"
    if keyword == "uniqueItems":
        return "不能有重复项"
    if keyword == "minProperties":
        return f"至少需要填写 {value} 项"
    if keyword == "maxProperties":
        return f"最多填写 {value} 项"
    if keyword == "dependentRequired":
        return "缺少与之相关的必填项"
    if keyword in ("x-field", "x-scale", "x-max-size", "x-accept"):
        return error.message
    if keyword in ("anyOf", "oneOf"):
        return "不符合任何一种允许的填写方式"
    if keyword == "not":
        return "不允许这个值"
    if keyword == "false":
        return "不允许填写"
    return f"不符合要求（{keyword}）"


# -- the cache -------------------------------------------------------------------------------------------------------

_CACHE_SIZE = 512
_cache: OrderedDict[str, FormValidator] = OrderedDict()
_lock = threading.Lock()


def validator_for(definition: FormDefinition) -> FormValidator:
    """The validator for ``definition``, built once per content hash and kept in an LRU of 512 versions.

    Raises :class:`DefinitionError` for a definition that does not pass :meth:`FormDefinition.check`.
    """
    key = definition.content_hash
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    built = FormValidator(definition)
    with _lock:
        found = _cache.setdefault(key, built)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return found


def clear_validator_cache() -> None:
    """Empty the cache (tests; a process that reloads field types)."""
    with _lock:
        _cache.clear()
