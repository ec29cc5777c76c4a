"""Staff pages: pick a form, fill it (live conditional fields and computed values over HTMX), save or submit."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import permissions
from core.errors import ValidationFailed

from . import selectors, services
from .flow import FillPage, fill_post, fill_render, live_state
from .models import Form, FormVersion, Submission
from .render import parse_post, shown


@login_required
def form_index(request):
    """Forms the user may fill here, with their drafts."""
    permissions.require(request.user, "project.edit")
    forms = [f for f in selectors.form_list(user=request.user, action="project.edit") if f.published()]
    drafts = selectors.submission_list(user=request.user, action="project.edit").filter(
        status=Submission.Status.DRAFT, created_by=request.user
    )[:20]
    return render(request, "forms/index.html", {"forms": forms, "drafts": drafts})


def _fill_page(request, form: Form, version: FormVersion, submission: Submission | None) -> FillPage:
    readonly = submission is not None and submission.status == Submission.Status.SUBMITTED
    subtitle = (
        _("记录 #%(pk)s · %(status)s") % {"pk": submission.pk, "status": submission.get_status_display()}
        if submission
        else ""
    )
    return FillPage(
        title=form.name,
        version=version,
        readonly=readonly,
        subtitle=subtitle,
        live_url=reverse("forms:live", args=[form.code, version.number]),
    )


def _handle(request, form: Form, version: FormVersion, *, submission: Submission | None):
    org = submission.org if submission else request.user.org

    def save(data: dict, submit: bool):
        saved = services.submission_save(
            actor=request.user, form=form, org=org, data=data, submit=submit, submission=submission
        )
        messages.success(request, _("已提交。") if submit else _("草稿已保存，可稍后继续填写。"))
        return redirect("forms:submission", pk=saved.pk)

    return fill_post(request, _fill_page(request, form, version, submission), org=org, save=save)


@login_required
def form_fill(request, code: str):
    form = selectors.form_get(user=request.user, code=code, action="project.edit")
    version = form.published()
    if version is None:
        raise ValidationFailed(_("表单尚未发布，不能填报。"))
    if request.method == "POST":
        return _handle(request, form, version, submission=None)
    return fill_render(request, _fill_page(request, form, version, None), {}, {})


@login_required
def submission_edit(request, pk: int):
    submission = selectors.submission_get(user=request.user, pk=pk)
    version = submission.form_version
    if request.method == "POST":
        permissions.require(request.user, "project.edit", submission)
        return _handle(request, version.form, version, submission=submission)
    data = services.typed_data(version, submission.data)
    return fill_render(request, _fill_page(request, version.form, version, submission), data, {})


@login_required
@require_POST
def form_live(request, code: str, number: int):
    """The HTMX round-trip: current input → which fields show, which are required, computed values."""
    form = selectors.form_get(user=request.user, code=code, action="project.edit")
    version = form.versions.get(number=number)
    data, _errors = parse_post(version.schema, version.ui_schema, request.POST)
    state = live_state(version, data)
    payload = {
        "visible": state.visible,
        "required": state.required,
        "computed": {k: shown(v) for k, v in state.computed.items()},
    }
    body = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False)
    return HttpResponse(f'<div id="form-state" hidden data-state="{escape(body)}"></div>')
