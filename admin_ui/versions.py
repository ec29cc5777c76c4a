"""Versions in the studio: what publishing a draft would change, and which records it touches.

The form designer and the project type designer both show, before the confirmation, a human-readable diff of the
draft against the published version (``bundles.diff``: fields added/removed/changed, stages, indicators, flows) and
the records the change reaches. Published versions are immutable and records pin theirs, so "affected" means: the
records that stay on an older version (and may be migrated), the approvals in progress on the type (they keep the
flow they started with), and what new records will use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _

from bundles.diff import form_changes, type_changes
from forms.models import Form, FormVersion, Submission
from projects import config as cfg
from projects.models import Project, ProjectType, ProjectTypeVersion
from workflow.models import FlowInstance, InstanceStatus

__all__ = [
    "form_preview",
    "opened_version",
    "type_effective",
    "type_preview",
    "version_numbers",
    "version_rows",
]


def version_rows(parent: Form | ProjectType) -> list[dict[str, Any]]:
    """Every version of a form or type, newest first, for the versions list."""
    rows = []
    for v in parent.versions.select_related("created_by", "published_by").order_by("-number"):
        rows.append(
            {
                "number": v.number,
                "status": v.status,
                "status_label": v.get_status_display(),
                "published_at": v.published_at.isoformat() if v.published_at else None,
                "published_by": str(v.published_by) if v.published_by else "",
                "created_by": str(v.created_by) if v.created_by else "",
            }
        )
    return rows


def _form_entry(version: FormVersion | None, schema: Any = None, ui: Any = None) -> dict[str, Any]:
    if version is None:
        return {"schema": schema or {}, "ui_schema": ui or {}}
    return {"schema": version.schema, "ui_schema": version.ui_schema}


def form_preview(form: Form, schema: Mapping[str, Any], ui_schema: Mapping[str, Any]) -> dict[str, Any]:
    """Changes of ``schema``/``ui_schema`` against the published version, and the records they reach."""
    published = form.published()
    changes = form_changes(_form_entry(published), {"schema": schema, "ui_schema": ui_schema})
    counts = dict(
        Submission.objects.filter(form_version__form=form)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    projects = Project.objects.filter(form_version__form=form).count()
    affected = [
        _("已提交的填报记录 %(n)d 条、草稿 %(d)d 条保留在原版本，可在迁移时批量升级。")
        % {"n": counts.get(Submission.Status.SUBMITTED, 0), "d": counts.get(Submission.Status.DRAFT, 0)},
        _("使用此表单立项的项目 %(n)d 个不受影响（仍按原版本显示和校验）。") % {"n": projects},
        _("发布后新填报和新立项使用新版本。"),
    ]
    return {
        "published": published.number if published else None,
        "changes": changes,
        "affected": affected,
        "counts": {
            "submitted": counts.get(Submission.Status.SUBMITTED, 0),
            "drafts": counts.get(Submission.Status.DRAFT, 0),
            "projects": projects,
        },
    }


def type_effective(ptype: ProjectType, config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The configuration projects would run on with ``config`` as the draft, and each key's origin.

    For an override: the base's published effective configuration merged with ``config`` (origin per key:
    继承 / 修改 / 新增); for an own type: ``config`` itself (every key 本级).
    """
    if ptype.base_id:
        base = ptype.base.published()
        effective, origin = cfg.merge(base.effective if base else {}, config)
    else:
        effective, origin = dict(config), {key: "本级" for key in config}
    return cfg.normalise(effective), origin


def type_preview(ptype: ProjectType, config: Mapping[str, Any]) -> dict[str, Any]:
    """Changes of the effective configuration against the published version, and the records they reach."""
    published = ptype.published()
    effective, _origin = type_effective(ptype, config)
    changes = type_changes(published.effective if published else {}, effective)
    by_version = dict(
        Project.objects.filter(type_version__type=ptype)
        .values_list("type_version__number")
        .annotate(n=Count("pk"))
        .values_list("type_version__number", "n")
    )
    running = FlowInstance.objects.filter(
        type_version__type=ptype, status__in=(InstanceStatus.RUNNING, InstanceStatus.RETURNED)
    ).count()
    total = sum(by_version.values())
    affected = [
        _("该类型现有项目 %(n)d 个，保留各自的类型版本（%(v)s）。")
        % {
            "n": total,
            "v": "、".join(f"v{num}：{n}" for num, n in sorted(by_version.items())) or _("无"),
        },
        _("进行中的审批 %(n)d 件按发起时的流程继续。") % {"n": running},
        _("发布后新建的项目使用新版本。"),
    ]
    overrides = ProjectType.objects.filter(base=ptype).count()
    if overrides:
        affected.append(_("有 %(n)d 个下级机构继承了此类型，它们再次发布时将继承新版本。") % {"n": overrides})
    return {
        "published": published.number if published else None,
        "changes": changes,
        "affected": affected,
        "counts": {"projects": total, "running_approvals": running, "overrides": overrides},
    }


def opened_version(parent: Form | ProjectType) -> FormVersion | ProjectTypeVersion | None:
    """The version an editor opens: the draft, else the newest published, else the newest."""
    return parent.draft() or parent.published() or parent.versions.order_by("-number").first()


def version_numbers(parents: list[Any]) -> dict[int, dict[str, int | None]]:
    """For each form or type of ``parents`` (one model), its published and draft numbers — one query for a list."""
    if not parents:
        return {}
    model = parents[0].versions.model
    parent_field = "form_id" if model is FormVersion else "type_id"
    numbers: dict[int, dict[str, int | None]] = {p.pk: {"published": None, "draft": None} for p in parents}
    rows = model.objects.filter(**{f"{parent_field}__in": list(numbers)}).values_list(
        parent_field, "status", "number"
    )
    for parent_id, status, number in rows:
        slot = numbers[parent_id]
        if status == model.Status.DRAFT:
            slot["draft"] = number
        elif status == model.Status.PUBLISHED and (slot["published"] or 0) < number:
            slot["published"] = number
    return numbers
