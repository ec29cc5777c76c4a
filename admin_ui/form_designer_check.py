"""The form designer's checks and preview, on an unsaved definition: nothing here writes.

``definition_report`` answers the designer's ``check/``: the publish-time problems of
:meth:`forms.core.definition.FormDefinition.check` (each with its path and the field it belongs to) and, for every DSL
expression of the UI schema, the diagnostics of ``dsl.diagnose`` — the one checker — with line, column and end column
so the page can mark the exact span. ``preview_html`` renders the staff fill page's fields (``forms.render`` and the
``forms/_field.html`` template) for the edited definition with the sample values typed into the preview, with the live
state (visible, required, computed) of ``forms.flow.live_state`` evaluated against an unsaved version.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

import dsl
from forms.core.definition import FormDefinition
from forms.core.dsl_adapter import catalogue_for
from forms.core.fields import FIELD_TYPES
from forms.flow import live_state
from forms.models import Form, FormVersion
from forms.render import OFFPAGE_PREFIX, Renderer, parse_post, shown

from .endpoints import diagnostic

__all__ = ["definition_report", "field_catalogue", "plain", "preview_html", "preview_state"]

_FIELD_PATH = re.compile(r"^(?:schema/properties|ui_schema/fields)/([^/]+)")
_DSL_KEY = re.compile(
    r"^ui_schema/fields/([^/]+)(?:/item/fields/([^/]+))?/(visible_if|required_if|computed)$"
)
_VALIDATION = re.compile(r"^ui_schema/validations/(\d+)")
MAX_SAMPLE_ROWS = 50


def plain(value: Any) -> Any:
    """JSON read with exact Decimals, made storable: integral numbers as ints, others as floats (schema bounds)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def field_catalogue() -> list[dict[str, Any]]:
    """Every registered field type with its Chinese name and the property a new field starts from."""
    return [
        {
            "name": kind.name,
            "zh": kind.zh,
            "widget": kind.widget,
            "template": copy.deepcopy(dict(kind.template)),
        }
        for kind in FIELD_TYPES.values()
    ]


def _expressions(
    schema: Mapping[str, Any], ui: Mapping[str, Any]
) -> Iterator[tuple[str, str, Any, bool, Any]]:
    """(path, field, source, is-condition, catalogue schema) for every DSL expression of the UI schema."""
    props = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
    fields = ui.get("fields") if isinstance(ui.get("fields"), Mapping) else {}
    for name, conf in fields.items():
        if not isinstance(conf, Mapping):
            continue
        for key in ("visible_if", "required_if", "computed"):
            if key in conf:
                yield f"ui_schema/fields/{name}/{key}", name, conf[key], key != "computed", schema
        item = conf.get("item") if isinstance(conf.get("item"), Mapping) else {}
        rows = item.get("fields") if isinstance(item.get("fields"), Mapping) else {}
        prop = props.get(name) if isinstance(props.get(name), Mapping) else {}
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        for row_name, row_conf in rows.items():
            if isinstance(row_conf, Mapping) and "computed" in row_conf:
                path = f"ui_schema/fields/{name}/item/fields/{row_name}/computed"
                yield path, name, row_conf["computed"], False, items
    validations = ui.get("validations") if isinstance(ui.get("validations"), list) else []
    for index, rule in enumerate(validations):
        if isinstance(rule, Mapping) and "rule" in rule:
            yield f"ui_schema/validations/{index}/rule", "", rule["rule"], True, schema


def _whole(message: str, code: str) -> dict[str, Any]:
    """A diagnostic covering the start of the expression (empty text, unreadable catalogue)."""
    return {"line": 1, "column": 1, "end_line": 1, "end_column": 2, "code": code, "message": message}


def _errors_of(source: Any, condition: bool, scope: Any) -> list[dict[str, Any]]:
    if not isinstance(source, str) or not source.strip():
        return [_whole(_("表达式不能为空"), "empty")]
    try:
        catalogue = catalogue_for(scope if isinstance(scope, Mapping) else {})
        found = dsl.diagnose(source, catalogue, expect=dsl.BOOL if condition else None)
    except Exception as error:  # a malformed schema the catalogue cannot read: check() reports why
        return [_whole(str(error), "catalogue")]
    return [diagnostic(e) for e in found]


def _diagnostics(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"path": path, "field": name, "source": source, "errors": _errors_of(source, condition, scope)}
        for path, name, source, condition, scope in _expressions(schema, ui)
    ]


def definition_report(schema: Any, ui: Any) -> dict[str, Any]:
    """Problems (path, field, message, line/column for DSL) and per-expression diagnostics of the edited definition."""
    definition = FormDefinition(schema, ui)
    problems = []
    for problem in definition.check():
        match = _FIELD_PATH.match(problem.path)
        problems.append({**problem.to_dict(), "field": match.group(1) if match else ""})
    diagnostics = _diagnostics(schema, ui) if isinstance(schema, Mapping) and isinstance(ui, Mapping) else []
    names = []
    if isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping):
        try:
            names = definition.catalogue().names()
        except Exception:  # malformed properties: check() has said why
            names = []
    return {"ok": not problems, "problems": problems, "diagnostics": diagnostics, "names": names}


def _lenient(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> tuple[FormDefinition | None, int]:
    """A definition the preview can evaluate: broken expressions are left out (shown as always visible)."""
    definition = FormDefinition(schema, ui)
    problems = definition.check()
    if not problems:
        return definition, 0
    fixed = copy.deepcopy(dict(ui))
    dropped: set[int] = set()
    for problem in problems:
        key, rule = _DSL_KEY.match(problem.path), _VALIDATION.match(problem.path)
        if key:
            conf = fixed.get("fields", {}).get(key.group(1), {})
            if key.group(2):
                conf = conf.get("item", {}).get("fields", {}).get(key.group(2), {})
            if key.group(3) != "computed":
                conf.pop(key.group(3), None)
            else:
                conf["computed"] = "null"
        elif rule:
            dropped.add(int(rule.group(1)))
    if dropped and isinstance(fixed.get("validations"), list):
        fixed["validations"] = [r for i, r in enumerate(fixed["validations"]) if i not in dropped]
    second = FormDefinition(schema, fixed)
    return (second if not second.check() else None), len(problems)


def _sample(pairs: Any) -> QueryDict:
    query = QueryDict(mutable=True)
    for pair in pairs if isinstance(pairs, list) else []:
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair):
            query.appendlist(pair[0][:200], pair[1][:2000])
    return query


def _row_op(op: str, data: dict, props: Mapping[str, Any]) -> None:
    """Add or remove a row of a repeating group in the sample values (the fill page's buttons)."""
    kind, _sep, arg = op.partition(":")
    if kind == "add" and isinstance(props.get(arg), Mapping) and len(data.get(arg) or []) < MAX_SAMPLE_ROWS:
        data.setdefault(arg, []).append({})
    elif kind == "remove" and "[" in arg:
        group, index = arg.rstrip("]").split("[", 1)
        rows = data.get(group) or []
        if index.isdigit() and int(index) < len(rows):
            del rows[int(index)]


def _version(form: Form, definition: FormDefinition) -> FormVersion:
    """An unsaved version holding the edited definition, so the fill page's own machinery can run on it."""
    return FormVersion(form=form, number=0, schema=definition.schema, ui_schema=definition.ui_schema)


def preview_state(form: Form, schema: Any, ui: Any, pairs: Any, op: str = "") -> dict[str, Any]:
    """Sample values → typed data and the live state (visible, required, computed) under the edited definition."""
    schema = schema if isinstance(schema, Mapping) else {}
    ui = ui if isinstance(ui, Mapping) else {}
    props = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
    try:
        data, errors = parse_post(schema, ui, _sample(pairs))
    except Exception:  # a property the coercers cannot read yet: show the page without the sample values
        data, errors = {}, {}
    _row_op(op, data, props)
    definition, problem_count = _lenient(schema, ui)
    state = None
    if definition is not None:
        try:
            state = live_state(_version(form, definition), data)
        except Exception:  # still unreadable: render without live state
            state = None
    return {"data": data, "errors": errors, "state": state, "problems": problem_count}


def preview_html(form: Form, schema: Any, ui: Any, pairs: Any, op: str = "") -> dict[str, Any]:
    """The staff page's fields for the edited definition and sample values, and the live state as JSON."""
    found = preview_state(form, schema, ui, pairs, op)
    state = found["state"]
    try:
        sections = Renderer(
            schema,
            ui,
            data=found["data"],
            state=state,
            errors={},
            choices={"org": [], "user": [], "division": []},
        ).sections()
        body = render_to_string(
            "admin_ui/form_preview.html",
            {
                "sections": sections,
                "form": form,
                "offpage_prefix": OFFPAGE_PREFIX,
                "problems": found["problems"],
            },
        )
    except Exception as error:  # the definition is mid-edit and cannot be drawn yet
        body = render_to_string("admin_ui/form_preview.html", {"broken": str(error)[:300], "form": form})
    live = (
        {
            "visible": state.visible,
            "required": state.required,
            "computed": {k: shown(v) for k, v in state.computed.items()},
        }
        if state is not None
        else None
    )
    return {"html": body, "state": live, "problems": found["problems"]}
