"""Progress of a project: milestones (形象进度), the task breakdown (WBS), check-ins (关键节点打卡), daily reports."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Milestone(models.Model):
    """A key node (关键节点) with planned and actual dates; `weight` counts toward overall progress."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="milestones"
    )
    name = models.CharField(_("节点名称"), max_length=100)
    planned_date = models.DateField(_("计划日期"))
    actual_date = models.DateField(_("实际完成日期"), null=True, blank=True)
    weight = models.DecimalField(_("权重"), max_digits=7, decimal_places=4, default=Decimal("1"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("里程碑")
        verbose_name_plural = _("里程碑")
        ordering = ["order", "planned_date", "id"]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    """One node of the work breakdown (WBS); percent complete rolls up to parents by weight."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="tasks"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级任务"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    code = models.CharField(_("WBS 编码"), max_length=32)
    name = models.CharField(_("任务名称"), max_length=200)
    weight = models.DecimalField(_("权重"), max_digits=7, decimal_places=4, default=Decimal("1"))
    planned_start = models.DateField(_("计划开始"), null=True, blank=True)
    planned_end = models.DateField(_("计划完成"), null=True, blank=True)
    actual_start = models.DateField(_("实际开始"), null=True, blank=True)
    actual_end = models.DateField(_("实际完成"), null=True, blank=True)
    percent = models.DecimalField(_("完成比例"), max_digits=5, decimal_places=4, default=Decimal("0"))

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["project", "code"], name="task_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CheckIn(models.Model):
    """关键节点打卡: someone was at the site at a milestone, with a note, an optional photo and location."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="check_ins"
    )
    milestone = models.ForeignKey(
        Milestone, verbose_name=_("节点"), on_delete=models.CASCADE, related_name="check_ins"
    )
    note = models.CharField(_("说明"), max_length=500)
    photo = models.FileField(_("现场照片"), upload_to="checkins/%Y/%m/", null=True, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    checked_at = models.DateTimeField(_("打卡时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("打卡人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("节点打卡")
        verbose_name_plural = _("节点打卡")
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.milestone} {self.checked_at:%Y-%m-%d %H:%M}"


class DailyReport(models.Model):
    """每日简报: the type's daily-report form filled for one project and day."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="daily_reports"
    )
    date = models.DateField(_("日期"))
    submission = models.ForeignKey(
        "forms.Submission", verbose_name=_("填报记录"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("每日简报")
        verbose_name_plural = _("每日简报")
        ordering = ["-date", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "date", "created_by"], name="daily_unique")]

    def __str__(self) -> str:
        return f"{self.project} {self.date}"
