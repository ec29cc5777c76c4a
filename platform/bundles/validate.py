"""The checks publishing would make, run on a bundle without writing anything (pure: no Django, no database).

Forms are checked by ``forms.core.FormDefinition.check`` and types by ``projects.config.problems`` — the very
functions ``form_publish`` and ``project_type_publish`` call — so a bundle that validates is one whose load will not
be refused for a reason its author could have fixed. What already exists in the database (published forms a type
may use, the published upper type an override adapts) comes in as :class:`Available`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from forms.core import FormDefinition
from projects import config as cfg

from .canonical import inexact_numbers
from .document import Bundle, structure_problems
from .problems import Problem
from .yamlio import join_path

__all__ = ["Available", "bundle_check", "pointer_to_path", "type_order"]


@dataclass(frozen=True)
class Available:
    """Published configuration outside the bundle that its entries may refer to.

    ``forms``: code → (schema, ui_schema) of forms published at the target org or above;
    ``types``: code → effective configuration of published types (the bases of overrides).
    """

    forms: Mapping[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    types: Mapping[str, dict[str, Any]] = field(default_factory=dict)


def pointer_to_path(root: Any, pointer: str, prefix: str) -> str:
    """``schema/properties/资金来源/items/properties/金额`` → ``forms[0].schema.properties.资金来源.items…``.

    Segments are read against the data, so a list index becomes ``[2]`` and a key that looks like a number stays
    a key.
    """
    path, node = prefix, root
    for part in [p for p in pointer.split("/") if p != ""]:
        if isinstance(node, list) and part.isdigit():
            index = int(part)
            path = join_path(path, index)
            node = node[index] if index < len(node) else None
        else:
            path = join_path(path, part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return path


def _form_problems(bundle: Bundle, index: int, entry: Mapping[str, Any]) -> list[Problem]:
    where = f"forms[{index}]"
    found = [
        bundle.problem(p, "数值位数过多，无法精确保存（最多约 15 位有效数字）")
        for p in inexact_numbers(entry, where)
    ]
    if found:
        return found
    definition = FormDefinition(entry["schema"], entry.get("ui_schema") or {})
    for problem in definition.check():
        path = pointer_to_path(entry, problem.path, where)
        detail = f"（表达式第{problem.line}行第{problem.column}列）" if problem.line is not None else ""
        found.append(bundle.problem(path, f"{problem.message}{detail}"))
    return found


def type_order(bundle: Bundle) -> list[int]:
    """Indexes of the bundle's project types with every in-bundle base before the types that override it."""
    entries = bundle.project_types
    by_code = {t.get("code"): i for i, t in enumerate(entries) if isinstance(t, Mapping)}
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(i: int) -> None:
        if state.get(i) == 2:
            return
        if state.get(i) == 1:
            return  # a cycle; reported by bundle_check
        state[i] = 1
        base = entries[i].get("base") if isinstance(entries[i], Mapping) else None
        if base in by_code and by_code[base] != i:
            visit(by_code[base])
        state[i] = 2
        order.append(i)

    for i in range(len(entries)):
        visit(i)
    return order


def _base_of(
    bundle: Bundle, code: str, available: Available, seen: tuple[str, ...] = ()
) -> dict[str, Any] | None:
    """The effective configuration an override of ``code`` would inherit, from the bundle or the database."""
    for entry in bundle.project_types:
        if (
            isinstance(entry, Mapping)
            and entry.get("code") == code
            and isinstance(entry.get("config"), Mapping)
        ):
            if entry.get("base"):
                if entry["base"] in seen:
                    return None
                parent = _base_of(bundle, entry["base"], available, (*seen, code))
                if parent is None:
                    return None
                return cfg.normalise(cfg.merge(parent, entry["config"])[0])
            return cfg.normalise(entry["config"])
    found = available.types.get(code)
    return copy.deepcopy(dict(found)) if found is not None else None


def _type_problems(
    bundle: Bundle,
    index: int,
    entry: Mapping[str, Any],
    forms: dict[str, tuple[dict[str, Any], dict[str, Any]]],
    available: Available,
) -> list[Problem]:
    where = f"project_types[{index}]"
    config = entry["config"]
    code = entry.get("code", "")
    found = [
        bundle.problem(p, "数值位数过多，无法精确保存（最多约 15 位有效数字）")
        for p in inexact_numbers({k: v for k, v in config.items() if k != "thresholds"}, f"{where}.config")
    ]
    schemas = {c: schema for c, (schema, _ui) in forms.items()}
    base = entry.get("base")
    if base:
        if base == code:
            return [*found, bundle.problem(f"{where}.base", "不能继承自身")]
        inherited = _base_of(bundle, base, available, (code,))
        if inherited is None:
            return [
                *found,
                bundle.problem(f"{where}.base", f"上级项目类型“{base}”不在配置包中，也没有已发布的版本"),
            ]
        effective, _origin = cfg.merge(inherited, config)
        roles = dict(effective.get("forms") or {})
        for role, extension in (config.get("extend_forms") or {}).items():
            ext_where = f"{where}.config.extend_forms.{role}"
            base_form = forms.get(roles.get(role, ""))
            if base_form is None or not isinstance(extension, Mapping):
                found.append(bundle.problem(ext_where, f"没有可扩展的“{role}”表单"))
                continue
            schema, ui = cfg.extend_schema(base_form[0], base_form[1], extension)
            for problem in FormDefinition(schema, ui).check():
                found.append(bundle.problem(ext_where, f"扩展后的表单：{problem}"))
            local = f"{roles[role]}--{code}"[:64]
            schemas[local] = schema
            roles[role] = local
        effective["forms"] = roles
    else:
        effective = dict(config)
    for path, message in cfg.problems(cfg.normalise(effective), form_schemas=schemas):
        found.append(bundle.problem(f"{where}.config.{path}", message))
    return found


def bundle_check(bundle: Bundle, *, available: Available | None = None) -> list[Problem]:
    """Every problem with ``bundle``: its format, each form's definition, each type's configuration.

    Types are checked against the bundle's forms plus ``available.forms``, as publishing checks them against the
    forms published at the org. An entry whose format is wrong is not checked further (its messages would only
    repeat the format error).
    """
    available = available or Available()
    found = structure_problems(bundle)
    broken_entries = {_entry_of(p.path) for p in found}
    forms: dict[str, tuple[dict[str, Any], dict[str, Any]]] = dict(available.forms)
    for i, entry in enumerate(bundle.forms):
        if f"forms[{i}]" in broken_entries or not isinstance(entry, Mapping):
            continue
        found += _form_problems(bundle, i, entry)
        forms[entry["code"]] = (entry["schema"], entry.get("ui_schema") or {})
    for i in type_order(bundle):
        entry = bundle.project_types[i]
        if f"project_types[{i}]" in broken_entries or not isinstance(entry, Mapping):
            continue
        found += _type_problems(bundle, i, entry, forms, available)
    return found


def _entry_of(path: str) -> str:
    """``forms[2].schema.x`` → ``forms[2]``."""
    head = path.split(".", 1)[0]
    return head if "[" in head else path
