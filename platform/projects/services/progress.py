"""Milestones, the WBS, check-ins and daily reports; overall progress rolls up from them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from accounts import permissions
from accounts.models import User
from audit.services import audit_record, snapshot
from core.errors import ValidationFailed
from forms import services as form_services
from forms.models import Form
from rules import engine as rules_engine

from ..models import CheckIn, DailyReport, Milestone, Project, Task
from .money import _date, _text

_ONE = Decimal("1")


def _fraction(value: Any, label: str, errors: dict, key: str) -> Decimal | None:
    """A completion share: 0–1, or 0–100 written with %."""
    text = str(value).strip()
    try:
        number = Decimal(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except (InvalidOperation, ValueError):
        errors[key] = [f"{label}：应为 0–1 之间的小数或百分数"]
        return None
    if isinstance(value, float) or not 0 <= number <= 1:
        errors[key] = [f"{label}：应为 0–1 之间的小数或百分数"]
        return None
    return number.quantize(Decimal("0.0001"))


def _weight(value: Any, errors: dict) -> Decimal | None:
    """A positive weight (权重); floats are refused like every other number here."""
    try:
        share = Decimal(str(value))
        if isinstance(value, float | bool) or not share.is_finite() or share <= 0 or share > 10000:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["weight"] = ["权重：应为 0 到 10000 之间的正数"]
        return None
    return share.quantize(Decimal("0.0001"))


def _weighted(items: list[tuple[Decimal, Decimal]]) -> Decimal:
    total = sum((w for w, _ in items), Decimal(0))
    if not total:
        return Decimal(0)
    return (sum((w * p for w, p in items), Decimal(0)) / total).quantize(Decimal("0.0001"))


def progress_rollup(project: Project) -> Project:
    """Parents' percent from children by weight, then the project's progress from the top-level tasks
    (or, with no tasks, from milestones done by weight). Call with the project row locked."""
    tasks = list(project.tasks.all())
    children: dict[int | None, list[Task]] = {}
    for task in tasks:
        children.setdefault(task.parent_id, []).append(task)

    def percent(task: Task) -> Decimal:
        kids = children.get(task.pk)
        if kids:
            value = _weighted([(k.weight, percent(k)) for k in kids])
            if value != task.percent:
                task.percent = value
                task.save(update_fields=["percent"])
        return task.percent

    if tasks:
        overall = _weighted([(t.weight, percent(t)) for t in children.get(None, [])])
    else:
        overall = _weighted(
            [(m.weight, _ONE if m.actual_date else Decimal(0)) for m in project.milestones.all()]
        )
    project.progress = overall
    project.version += 1
    project.save(update_fields=["progress", "version", "updated_at"])
    rules_engine.on_save(project, operation="进度填报")
    return project


def planned_progress(project: Project, today: date) -> Decimal | None:
    """Where the project should be by now, as the share of its planned duration that has elapsed."""
    if not project.planned_start or not project.planned_end or project.planned_end <= project.planned_start:
        return None
    elapsed = (today - project.planned_start).days
    span = (project.planned_end - project.planned_start).days
    return min(_ONE, max(Decimal(0), Decimal(elapsed) / Decimal(span))).quantize(Decimal("0.0001"))


def days_late(project: Project, today: date) -> int:
    """Days past the planned completion (0 when on time or done), or past the oldest overdue milestone."""
    from .typed import project_stages  # deferred: typed imports this module's siblings at load time

    if project.stage == project_stages(project)[-1]["code"]:
        return 0
    late = [
        (today - m.planned_date).days
        for m in project.milestones.all()
        if m.actual_date is None and m.planned_date < today
    ]
    if project.planned_end and project.planned_end < today and project.progress < _ONE:
        late.append((today - project.planned_end).days)
    return max(late, default=0)


@transaction.atomic
def milestone_add(
    *, actor: User | None, project: Project, name: str, planned_date: Any, weight: Any = "1", order: int = 0
) -> Milestone:
    permissions.check(actor, "project.edit", project)
    errors: dict[str, list[str]] = {}
    name = _text(name, "节点名称", errors, "name", limit=100)
    day = _date(planned_date, "计划日期", errors, "planned_date")
    share = _weight(weight, errors)
    if errors:
        raise ValidationFailed("里程碑信息未通过校验。", fields=errors)
    row = Milestone.objects.create(project=project, name=name, planned_date=day, weight=share, order=order)
    audit_record(
        actor=actor,
        action="milestone.add",
        obj=row,
        org=project.org,
        after=snapshot(row, ("name", "planned_date", "weight", "project")),
    )
    return row


@transaction.atomic
def milestone_complete(*, actor: User | None, milestone: Milestone, actual_date: Any) -> Milestone:
    permissions.check(actor, "project.edit", milestone.project)
    errors: dict[str, list[str]] = {}
    day = _date(actual_date, "实际完成日期", errors, "actual_date")
    if errors:
        raise ValidationFailed("日期无效。", fields=errors)
    project = Project.objects.select_for_update().get(pk=milestone.project_id)
    milestone.actual_date = day
    milestone.save(update_fields=["actual_date"])
    progress_rollup(project)
    audit_record(
        actor=actor, action="milestone.complete", obj=milestone, org=project.org, after={"actual_date": day}
    )
    return milestone


@transaction.atomic
def task_save(
    *,
    actor: User | None,
    project: Project,
    code: str,
    name: str,
    parent_code: str = "",
    weight: Any = "1",
    percent: Any = None,
    planned_start: Any = None,
    planned_end: Any = None,
    actual_start: Any = None,
    actual_end: Any = None,
) -> Task:
    """Create or update one WBS node by its code, then roll progress up."""
    permissions.check(actor, "project.edit", project)
    errors: dict[str, list[str]] = {}
    code = _text(code, "WBS 编码", errors, "code", limit=32)
    name = _text(name, "任务名称", errors, "name", limit=200)
    dates = {}
    for key, value, label in (
        ("planned_start", planned_start, "计划开始"),
        ("planned_end", planned_end, "计划完成"),
        ("actual_start", actual_start, "实际开始"),
        ("actual_end", actual_end, "实际完成"),
    ):
        dates[key] = _date(value, label, errors, key) if value not in (None, "") else None
    share = _fraction(percent, "完成比例", errors, "percent") if percent not in (None, "") else None
    task_weight = _weight(weight, errors)
    parent = project.tasks.filter(code=parent_code).first() if parent_code else None
    if parent_code and parent is None:
        errors["parent_code"] = [f"上级任务：没有编码为“{parent_code}”的任务"]
    if errors:
        raise ValidationFailed("任务信息未通过校验。", fields=errors)
    project = Project.objects.select_for_update().get(pk=project.pk)
    task, created = Task.objects.get_or_create(project=project, code=code, defaults={"name": name})
    task.name, task.parent, task.weight = name, parent, task_weight
    if share is not None:
        task.percent = share
    for key, value in dates.items():
        if value is not None:
            setattr(task, key, value)
    task.save()
    progress_rollup(project)
    audit_record(
        actor=actor,
        action="task.create" if created else "task.update",
        obj=task,
        org=project.org,
        after=snapshot(
            task,
            (
                "code",
                "name",
                "parent",
                "weight",
                "percent",
                "planned_start",
                "planned_end",
                "actual_start",
                "actual_end",
            ),
        ),
    )
    return task


@transaction.atomic
def checkin_record(
    *,
    actor: User | None,
    milestone: Milestone,
    note: str,
    photo=None,
    latitude: Any = None,
    longitude: Any = None,
) -> CheckIn:
    """关键节点打卡 at a milestone: a note, optionally a photo and where it was taken."""
    project = milestone.project
    permissions.check(actor, "project.edit", project)
    errors: dict[str, list[str]] = {}
    note = _text(note, "说明", errors, "note", limit=500)
    coords = {}
    for key, value, low, high, label in (
        ("latitude", latitude, -90, 90, "纬度"),
        ("longitude", longitude, -180, 180, "经度"),
    ):
        if value in (None, ""):
            coords[key] = None
            continue
        try:
            number = Decimal(str(value))
            if isinstance(value, float) or not low <= number <= high:
                raise InvalidOperation
            coords[key] = number.quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            errors[key] = [f"{label}：应在 {low} 到 {high} 之间"]
    if photo is not None and not str(getattr(photo, "content_type", "")).startswith("image/"):
        errors["photo"] = ["现场照片：只能上传图片"]
    if errors:
        raise ValidationFailed("打卡信息未通过校验。", fields=errors)
    row = CheckIn.objects.create(project=project, milestone=milestone, note=note, created_by=actor, **coords)
    if photo is not None:
        row.photo.save(photo.name, photo, save=True)
    audit_record(
        actor=actor,
        action="checkin.record",
        obj=row,
        org=project.org,
        after={"milestone": milestone.name, "note": note, "photo": bool(photo), **coords},
    )
    return row


@transaction.atomic
def daily_report_submit(*, actor: User | None, project: Project, day: Any, data: dict) -> DailyReport:
    """每日简报 on the type's daily-report form; one per person, project and day."""
    permissions.check(actor, "project.edit", project)
    errors: dict[str, list[str]] = {}
    day = _date(day, "日期", errors, "date")
    forms = project.type_version.effective.get("forms", {}) if project.type_version_id else {}
    if "每日简报" not in forms:
        errors["form"] = ["该项目类型没有配置每日简报表单"]
    if errors:
        raise ValidationFailed("每日简报无法提交。", fields=errors)
    if DailyReport.objects.filter(project=project, date=day, created_by=actor).exists():
        raise ValidationFailed("今天已提交过简报。", fields={"date": [f"{day} 的简报已提交"]})
    form = Form.objects.get(code=forms["每日简报"])
    submission = form_services.submission_save(
        actor=actor, form=form, org=project.org, data=data, submit=True
    )
    report = DailyReport.objects.create(project=project, date=day, submission=submission, created_by=actor)
    audit_record(
        actor=actor,
        action="daily_report.submit",
        obj=report,
        org=project.org,
        after={"date": day, "submission": submission.pk},
    )
    return report
