"""ImportJob: one bulk import of an existing ledger from an Excel file against a project type."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """An uploaded .xlsx, its row-by-row validation and — once an administrator confirms — its import.

    Nothing reaches the ledger until a job that validated with zero errors is confirmed; the import then
    creates every project in one transaction. `errors` holds every problem found, each
    `{"row": Excel row number or None for the whole file, "column": header or "", "message": Chinese}`;
    `report` is the original sheet with a 错误说明 column added beside each offending row.
    `type_version` pins the configuration the file was validated against, so a type republished in
    between makes the job stale rather than importing against rules nobody checked.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("已上传")
        VALIDATING = "validating", _("校验中")
        VALIDATED = "validated", _("校验通过")
        FAILED = "failed", _("校验未通过")
        IMPORTING = "importing", _("导入中")
        DONE = "done", _("已导入")
        ERROR = "error", _("导入失败")
        CANCELLED = "cancelled", _("已取消")

    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("导入单位"), on_delete=models.PROTECT, related_name="import_jobs"
    )
    project_type = models.ForeignKey(
        "projects.ProjectType", verbose_name=_("项目类型"), on_delete=models.PROTECT, related_name="+"
    )
    type_version = models.ForeignKey(
        "projects.ProjectTypeVersion",
        verbose_name=_("项目类型版本"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    upload = models.FileField(_("上传文件"), upload_to="imports/%Y/%m/", max_length=255)
    filename = models.CharField(_("原文件名"), max_length=255)
    sha256 = models.CharField(_("文件哈希"), max_length=64)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    ok_rows = models.PositiveIntegerField(_("通过行数"), default=0)
    failed_rows = models.PositiveIntegerField(_("错误行数"), default=0)
    progress = models.PositiveIntegerField(_("已处理行数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    message = models.TextField(_("说明"), blank=True)
    report = models.FileField(_("错误报告"), upload_to="imports/reports/%Y/%m/", max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    validated_at = models.DateTimeField(_("校验完成时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始导入时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("导入完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("台账导入")
        verbose_name_plural = _("台账导入")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["org", "-created_at"], name="importjob_org_created_idx")]

    def __str__(self) -> str:
        return f"{self.filename}（{self.get_status_display()}）"

    @property
    def running(self) -> bool:
        """Still being worked on by a task: pages keep polling while this is true."""
        return self.status in (self.Status.UPLOADED, self.Status.VALIDATING, self.Status.IMPORTING)

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if not self.running else 0
        return min(100, round(100 * self.progress / self.total_rows))
