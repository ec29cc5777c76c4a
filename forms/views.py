"""Staff pages: pick a form, fill it (live conditional fields and computed values over HTMX), save or submit."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.views.decorators.http import require_POST

from accounts import permissions
from accounts.models import User
from core.errors import ValidationFailed
from orgs.models import Org

from . import selectors, services
from .core.state import form_state
from .models import Form, FormVersion, Submission
from .render import OFFPAGE_PREFIX, Renderer, parse_post, shown


@login_required
def form_index(request):
    """Forms the user may fill here, with their drafts."""
    permissions.require(request.user, "project.edit")
    forms = [f for f in selectors.form_list(user=request.user, action="project.edit") if f.published()]
    drafts = selectors.submission_list(user=request.user, action="project.edit").filter(
        status=Submission.Status.DRAFT, created_by=request.user
    )[:20]
    return render(request, "forms/index.html", {"forms": forms, "drafts": drafts})


def _state(version: FormVersion, data: dict):
    return form_state(services.definition_of(version), services.typed_data(version, data))


def _choices(user) -> dict[str, list[tuple[str, str]]]:
    """Options for the org, user and 行政区划 pickers: what this user may see in the org tree."""
    orgs = permissions.visible(user, "org.view", Org.objects.order_by("path"))
    users = permissions.visible(user, "user.view", User.objects.filter(is_active=True).order_by("username"))
    regions = orgs.exclude(division_code="")
    return {
        "org": [(o.code, "　" * (o.depth - 1) + o.name) for o in orgs[:500]],
        "user": [(u.username, f"{u} ({u.username})") for u in users[:500]],
        "division": [(o.division_code, o.name) for o in regions[:500]],
    }


def _page(
    request,
    form: Form,
    version: FormVersion,
    data: dict,
    errors: dict,
    *,
    submission=None,
    pages: dict | None = None,
    status: int = 200,
):
    state = _state(version, data)
    renderer = Renderer(
        version.schema,
        version.ui_schema,
        data=data,
        state=state,
        errors=errors,
        pages=pages,
        choices=_choices(request.user),
    )
    return render(
        request,
        "forms/fill.html",
        {
            "form": form,
            "version": version,
            "sections": renderer.sections(),
            "submission": submission,
            "error_count": sum(len(v) for v in errors.values()),
            "offpage_prefix": OFFPAGE_PREFIX,
            "readonly": submission is not None and submission.status == Submission.Status.SUBMITTED,
        },
        status=status,
    )


def _row_op(op: str, data: dict, pages: dict) -> None:
    """Add, remove or page through rows of a repeating group, in memory (nothing is saved)."""
    kind, _, arg = op.partition(":")
    if kind == "add" and arg:
        rows = data.setdefault(arg, [])
        rows.append({})
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


def _handle(request, form: Form, version: FormVersion, *, submission: Submission | None):
    data, errors = parse_post(version.schema, version.ui_schema, request.POST)
    org = submission.org if submission else request.user.org
    _uploads(request, version, org, data, errors)
    op = request.POST.get("op", "")
    pages: dict[str, int] = {}
    if op.startswith(("add:", "remove:", "page:")):
        _row_op(op, data, pages)
        return _page(request, form, version, data, {}, submission=submission, pages=pages)
    submit = op == "submit"
    if errors and submit:
        return _page(request, form, version, data, errors, submission=submission, status=400)
    try:
        saved = services.submission_save(
            actor=request.user, form=form, org=org, data=data, submit=submit, submission=submission
        )
    except ValidationFailed as exc:
        return _page(request, form, version, data, exc.fields, submission=submission, status=400)
    messages.success(request, "已提交。" if submit else "草稿已保存，可稍后继续填写。")
    return redirect("forms:submission", pk=saved.pk)


@login_required
def form_fill(request, code: str):
    form = selectors.form_get(user=request.user, code=code, action="project.edit")
    version = form.published()
    if version is None:
        raise ValidationFailed("表单尚未发布，不能填报。")
    if request.method == "POST":
        return _handle(request, form, version, submission=None)
    return _page(request, form, version, {}, {})


@login_required
def submission_edit(request, pk: int):
    submission = selectors.submission_get(user=request.user, pk=pk)
    version = submission.form_version
    if request.method == "POST":
        permissions.require(request.user, "project.edit", submission)
        return _handle(request, version.form, version, submission=submission)
    data = services.typed_data(version, submission.data)
    return _page(request, version.form, version, data, {}, submission=submission)


@login_required
@require_POST
def form_live(request, code: str, number: int):
    """The HTMX round-trip: current input → which fields show, which are required, computed values."""
    form = selectors.form_get(user=request.user, code=code, action="project.edit")
    version = form.versions.get(number=number)
    data, _errors = parse_post(version.schema, version.ui_schema, request.POST)
    state = _state(version, data)
    payload = {
        "visible": state.visible,
        "required": state.required,
        "computed": {k: shown(v) for k, v in state.computed.items()},
    }
    body = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False)
    return HttpResponse(f'<div id="form-state" hidden data-state="{escape(body)}"></div>')
