"""Moving records from one published version of a form to the next.

Records pin the version they were entered under; when an administrator publishes a new version, existing records
are migrated by an explicit, checked mapping, previewed against the new version before anything is written. The
guarantee is that nothing is lost: every field of the old record that the new version does not take up is kept
under ``_legacy``.

Mapping, per field of the **new** version:

* ``{"from": "旧字段"}`` — rename (the value moves; the old key is consumed);
* ``{"default": value}`` — a constant, used when nothing else supplies the field;
* ``{"computed": "DSL over the OLD record"}`` — e.g. ``"预算 * 10000"`` or ``"if 类别 = \\"住建\\" then \\"建设\\" else 类别"``.

A new field with no mapping takes the old field of the same name, if there is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from forms.core import dsl_adapter
from forms.core.definition import FormDefinition
from forms.core.dsl_adapter import Compiled
from forms.core.errors import DefinitionError, DefinitionProblem, FieldError
from forms.core.keywords import reference_validator
from forms.core.validation import validator_for

__all__ = [
    "LEGACY_KEY",
    "MigrationPlan",
    "MigrationPreview",
    "Step",
    "migrate_record",
    "plan_migration",
    "preview",
]

LEGACY_KEY = "_legacy"


@dataclass(frozen=True, slots=True)
class Step:
    """How one new field gets its value: ``kind`` is ``same``, ``from``, ``default`` or ``computed``."""

    target: str
    kind: str
    source: str | None = None
    default: Any = None
    expr: Compiled | None = None


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """A checked plan from ``old`` to ``new``; ``consumed`` are the old fields taken up (the rest go to _legacy)."""

    old: FormDefinition
    new: FormDefinition
    steps: tuple[Step, ...]
    consumed: frozenset[str]


@dataclass(frozen=True, slots=True)
class MigrationPreview:
    """How many records would migrate cleanly, and the errors of the others (by index in the input)."""

    passed: int
    failed: list[tuple[int, list[FieldError]]] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:  # preview(...)["passed"] reads like the issue's {passed, failed}
        return getattr(self, key)


def plan_migration(
    old: FormDefinition, new: FormDefinition, mapping: Mapping[str, Mapping[str, Any]] | None = None
) -> MigrationPlan:
    """Check ``mapping`` and build the plan; raises :class:`DefinitionError` listing every problem."""
    mapping = mapping or {}
    problems: list[DefinitionProblem] = []
    for which, definition in (("old", old), ("new", new)):
        problems.extend(
            DefinitionProblem(f"{which}/{p.path}", p.message, p.code, p.line, p.column)
            for p in definition.check()
        )
    if problems:
        raise DefinitionError(problems)
    old_props, new_props = old.properties(), new.properties()
    old_catalogue = old.catalogue()
    steps: list[Step] = []
    consumed: set[str] = set()
    for target in mapping:
        if target not in new_props:
            problems.append(DefinitionProblem(f"mapping/{target}", f"新版本中没有字段「{target}」"))
    for target, prop in new_props.items():
        if prop.get("x-field") == "computed":
            continue  # recomputed by the new version itself
        rule = mapping.get(target)
        where = f"mapping/{target}"
        if rule is None:
            if target in old_props:
                steps.append(Step(target, "same", source=target))
                consumed.add(target)
            continue
        if not isinstance(rule, Mapping) or len(set(rule) & {"from", "default", "computed"}) != 1:
            problems.append(DefinitionProblem(where, "映射应为 {from}、{default} 或 {computed} 之一"))
            continue
        if "from" in rule:
            source = rule["from"]
            if source not in old_props:
                problems.append(DefinitionProblem(f"{where}/from", f"旧版本中没有字段「{source}」"))
                continue
            steps.append(Step(target, "from", source=source))
            consumed.add(source)
        elif "default" in rule:
            default = rule["default"]
            checker = reference_validator({**_subschema(new, target), "$defs": new.schema.get("$defs", {})})
            if default is not None and not checker.is_valid(default):
                problems.append(
                    DefinitionProblem(f"{where}/default", f"默认值不符合新版本中「{target}」的定义")
                )
                continue
            steps.append(Step(target, "default", default=default))
        else:
            compiled, errors = dsl_adapter.check_expression(rule["computed"], old_catalogue, boolean=False)
            for error in errors:
                problems.append(
                    DefinitionProblem(
                        f"{where}/computed", error.message, error.code, error.line, error.column
                    )
                )
            if compiled is None:
                if not errors:
                    problems.append(DefinitionProblem(f"{where}/computed", "表达式应为非空文本"))
                continue
            wanted = new.catalogue().lookup(target)
            if wanted is not None and not wanted.type.accepts(compiled.type):
                problems.append(
                    DefinitionProblem(
                        f"{where}/computed",
                        f"表达式的类型是{compiled.type.zh}，新字段「{target}」是{wanted.type.zh}",
                    )
                )
                continue
            steps.append(Step(target, "computed", expr=compiled))
    if problems:
        raise DefinitionError(problems)
    return MigrationPlan(old, new, tuple(steps), frozenset(consumed))


def _subschema(definition: FormDefinition, name: str) -> dict[str, Any]:
    return dict(definition.properties()[name])


def migrate_record(
    plan: MigrationPlan, data: Mapping[str, Any], *, today: date | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """The record under the new version, and its errors (evaluation failures, then validation by the new version).

    Old fields not taken up go under ``_legacy`` (merged with any ``_legacy`` the record already had), so running a
    second migration later still loses nothing.
    """
    data = dict(data)
    legacy: dict[str, Any] = dict(data.pop(LEGACY_KEY, None) or {})
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    record: dict[str, Any] | None = None
    for step in plan.steps:
        if step.kind in ("same", "from"):
            if data.get(step.source) is not None:  # type: ignore[arg-type]
                out[step.target] = data[step.source]  # type: ignore[index]
        elif step.kind == "default":
            if step.default is not None:
                out[step.target] = step.default
        elif step.expr is not None:
            if record is None:
                record = dsl_adapter.record_reader(plan.old.catalogue())(data)
            value = dsl_adapter.evaluate(step.expr, record, today)
            if value is not None:
                out[step.target] = dsl_adapter.to_json_value(value)
            elif any(data.get(name) is not None for name in step.expr.reads):
                errors.append(
                    FieldError(
                        step.target, plan.new.label(step.target), "无法由旧数据计算（结果为空）", "migration"
                    )
                )
    for key, value in data.items():
        if key not in plan.consumed and value is not None:
            legacy[key] = value
    validator = validator_for(plan.new)
    out = validator.compute(out, today=today)
    errors.extend(validator.validate(out, today=today))
    if legacy:
        out[LEGACY_KEY] = legacy
    return out, errors


def preview(
    plan: MigrationPlan, records: Iterable[Mapping[str, Any]], *, today: date | None = None
) -> MigrationPreview:
    """Migrate ``records`` in memory and report which would pass the new version's validation."""
    passed = 0
    failed: list[tuple[int, list[FieldError]]] = []
    for index, record in enumerate(records):
        _, errors = migrate_record(plan, record, today=today)
        if errors:
            failed.append((index, errors))
        else:
            passed += 1
    return MigrationPreview(passed, failed)


def unmapped(plan: MigrationPlan) -> Sequence[str]:
    """Old fields that will be kept only under ``_legacy`` (shown to the administrator before publishing)."""
    return [name for name in plan.old.properties() if name not in plan.consumed]
