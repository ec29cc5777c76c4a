"""The generated-form page as a reusable flow: render a version with data, handle a POST, save through a callback.

Form filling, project creation from a type's 立项 form and stage forms all use it, so rows, uploads, live state
and error display behave the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from accounts import permissions
from accounts.models import User
from core.errors import ValidationFailed
from orgs.models import Org

from . import services
from .core.state import form_state
from .models import FormVersion
from .render import OFFPAGE_PREFIX, Renderer, parse_post


@dataclass
class FillPage:
    """What the fill template shows besides the form itself."""

    title: str
    version: FormVersion
    live_url: str
    readonly: bool = False
    allow_draft: bool = True
    submit_label: str = gettext_lazy("提交")
    subtitle: str = ""
    extra: dict = field(default_factory=dict)


def live_state(version: FormVersion, data: dict):
    return form_state(services.definition_of(version), services.typed_data(version, data))


def picker_choices(user) -> dict[str, list[tuple[str, str]]]:
    """Options for the org, user and 行政区划 pickers: what this user may see in the org tree."""
    orgs = permissions.visible(user, "org.view", Org.objects.order_by("path"))
    users = permissions.visible(user, "user.view", User.objects.filter(is_active=True).order_by("username"))
    regions = orgs.exclude(division_code="")
    return {
        "org": [(o.code, "　" * (o.depth - 1) + o.name) for o in orgs[:500]],
        "user": [(u.username, f"{u} ({u.username})") for u in users[:500]],
        "division": [(o.division_code, o.name) for o in regions[:500]],
    }


def fill_render(
    request, page: FillPage, data: dict, errors: dict, *, pages: dict | None = None, status: int = 200
) -> HttpResponse:
    version = page.version
    renderer = Renderer(
        version.schema,
        version.ui_schema,
        data=data,
        state=live_state(version, data),
        errors=errors,
        pages=pages,
        choices=picker_choices(request.user),
    )
    return render(
        request,
        "forms/fill.html",
        {
            "page": page,
            "form": version.form,
            "version": version,
            "sections": renderer.sections(),
            "error_count": sum(len(v) for v in errors.values()),
            "offpage_prefix": OFFPAGE_PREFIX,
            "readonly": page.readonly,
            **page.extra,
        },
        status=status,
    )


def _row_op(op: str, data: dict, pages: dict) -> None:
    """Add, remove or page through rows of a repeating group, in memory (nothing is saved)."""
    kind, _, arg = op.partition(":")
    if kind == "add" and arg:
        data.setdefault(arg, []).append({})
        pages[arg] = 10**6  # clamp to the last page, where the new row is
    elif kind == "remove" and "[" in arg:
        group, index = arg.rstrip("]").split("[", 1)
        rows = data.get(group) or []
        if index.isdigit() and int(index) < len(rows):
            del rows[int(index)]
    elif kind == "page" and ":" in arg:
        group, number = arg.split(":", 1)
        pages[group] = int(number) if number.isdigit() else 1


def _uploads(request, version: FormVersion, org, data: dict, errors: dict) -> None:
    """Store each uploaded file and put its reference into the data (top-level file fields)."""
    props = version.schema.get("properties", {})
    for name, upload in request.FILES.items():
        prop = props.get(name)
        if not prop or prop.get("x-field") != "file":
            continue
        try:
            data[name] = services.attachment_upload(
                actor=request.user,
                org=org,
                upload=upload,
                field_label=str(prop.get("title") or name),
                max_size=prop.get("x-max-size"),
                accept=prop.get("x-accept"),
            )
        except ValidationFailed as exc:
            errors.setdefault(name, []).append(exc.message)


def fill_post(request, page: FillPage, *, org, save: Callable[[dict, bool], HttpResponse]) -> HttpResponse:
    """Handle a POST of the fill page: row operations re-render; draft/submit call `save(data, submit)`."""
    version = page.version
    data, errors = parse_post(version.schema, version.ui_schema, request.POST)
    _uploads(request, version, org, data, errors)
    op = request.POST.get("op", "")
    pages: dict[str, int] = {}
    if op.startswith(("add:", "remove:", "page:")):
        _row_op(op, data, pages)
        return fill_render(request, page, data, {}, pages=pages)
    submit = op != "draft" or not page.allow_draft
    if errors and submit:
        return fill_render(request, page, data, errors, status=400)
    try:
        return save(data, submit)
    except ValidationFailed as exc:
        return fill_render(request, page, data, exc.fields, status=400)
