"""The live state of a form being filled: which fields show, which are required, what computed fields hold.

Each HTMX round-trip sends the current inputs and renders this state, so the browser never re-implements the DSL:
one evaluator, on the server, decides visibility, requiredness and computed values, and validation uses the very
same evaluation (:class:`forms.core.validation.FormValidator`).

Scope: ``visible_if`` and ``required_if`` are top-level (a group's rows show when the group shows); ``computed``
works at the top level and inside repeating groups, where the expression is relative to its row (``数量 * 单价``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from forms.core.definition import FormDefinition
from forms.core.errors import FieldError
from forms.core.validation import validator_for

__all__ = ["FormState", "form_state"]


@dataclass(frozen=True, slots=True)
class FormState:
    """Paths are machine paths (``预算明细[0].小计``); ``data`` is the input with computed values filled in."""

    visible: dict[str, bool]
    required: dict[str, bool]
    computed: dict[str, Any]
    data: dict[str, Any]
    errors: list[FieldError] | None = field(default=None)


def form_state(
    definition: FormDefinition,
    data: Mapping[str, Any] | None,
    *,
    today: date | None = None,
    errors: bool = False,
) -> FormState:
    """Evaluate visibility, requiredness and computed values for ``data``; with ``errors=True`` also validate."""
    validator = validator_for(definition)
    raw = dict(data) if isinstance(data, Mapping) else {}
    clean, _record, visible, required = validator.state(raw, today=today)
    visible = dict(visible)
    required = dict(required)
    computed: dict[str, Any] = {}
    for name, prop in definition.properties().items():
        kind = prop.get("x-field") if isinstance(prop, Mapping) else None
        if kind == "computed":
            computed[name] = clean.get(name)
        elif kind == "group":
            _group_state(name, prop, clean.get(name), visible, required, computed)
    found = validator.validate(raw, today=today) if errors else None
    return FormState(visible, required, computed, clean, found)


def _group_state(
    name: str,
    prop: Mapping[str, Any],
    rows: Any,
    visible: dict[str, bool],
    required: dict[str, bool],
    computed: dict[str, Any],
) -> None:
    items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
    row_props = items.get("properties") if isinstance(items.get("properties"), Mapping) else {}
    row_required = set(items.get("required") or ())
    shown = visible.get(name, True)
    for index, row in enumerate(rows if isinstance(rows, list) else []):
        for row_name, row_prop in row_props.items():
            path = f"{name}[{index}].{row_name}"
            visible[path] = shown
            required[path] = shown and row_name in row_required
            if isinstance(row_prop, Mapping) and row_prop.get("x-field") == "computed":
                computed[path] = row.get(row_name) if isinstance(row, Mapping) else None
