"""Project: one row of the unified ledger (统一项目台账), owned by an org, pinned to its type and form versions."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """The default lifecycle; a project type may configure its own stages."""

    INITIATION = "立项", _("立项")
    EXECUTION = "执行", _("执行")
    ACCEPTANCE = "验收", _("验收")
    CLOSED = "结项", _("结项")


class Category(models.TextChoices):
    CONSTRUCTION = "基本建设", _("基本建设")
    RENOVATION = "技术改造", _("技术改造")
    PURCHASE = "单纯购置", _("单纯购置")
    IT = "信息化", _("信息化")
    OTHER = "其他", _("其他")


class Project(models.Model):
    """A project in the ledger.

    `budget` is the approved total (批复预算/总投资); `allocated_total`, `spent_total` and
    `contract_total` are maintained by the money services under a row lock, so ledger pages read
    totals without aggregating expenditures. `version` increases on every write (optimistic locking).
    """

    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("建设单位"), on_delete=models.PROTECT, related_name="projects"
    )
    type_version = models.ForeignKey(
        "projects.ProjectTypeVersion",
        verbose_name=_("项目类型版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    form_version = models.ForeignKey(
        "forms.FormVersion",
        verbose_name=_("立项表单版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    code = models.CharField(_("项目代码"), max_length=32, unique=True)
    name = models.CharField(_("项目名称"), max_length=200)
    category = models.CharField(
        _("项目类型"), max_length=16, choices=Category.choices, default=Category.CONSTRUCTION
    )
    stage = models.CharField(_("阶段"), max_length=16, default=Stage.INITIATION)
    year = models.PositiveSmallIntegerField(_("立项年度"), null=True, blank=True)
    budget = models.DecimalField(_("预算（元）"), max_digits=18, decimal_places=2)
    allocated_total = models.DecimalField(
        _("已下达预算（元）"), max_digits=18, decimal_places=2, default=Decimal("0.00")
    )
    spent_total = models.DecimalField(
        _("已支出（元）"), max_digits=18, decimal_places=2, default=Decimal("0.00")
    )
    contract_total = models.DecimalField(
        _("合同金额（元）"), max_digits=18, decimal_places=2, default=Decimal("0.00")
    )
    planned_start = models.DateField(_("计划开工"), null=True, blank=True)
    planned_end = models.DateField(_("计划完工"), null=True, blank=True)
    progress = models.DecimalField(_("实际进度"), max_digits=5, decimal_places=4, default=Decimal("0"))
    data = models.JSONField(_("立项数据"), default=dict, blank=True)
    description = models.TextField(_("建设内容及规模"), blank=True)
    search_text = models.TextField(_("检索文本"), blank=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_projects",
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["stage"], name="project_stage_idx"),
            models.Index(fields=["year"], name="project_year_idx"),
            models.Index(fields=["org", "-created_at"], name="project_org_created_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One move of a project between lifecycle stages, kept for the project's history."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(_("原阶段"), max_length=16)
    to_stage = models.CharField(_("新阶段"), max_length=16)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("阶段变更")
        verbose_name_plural = _("阶段变更")
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"


class ProjectFormRecord(models.Model):
    """Links a form submission (验收申请, 进度报告 …) to the project it reports on."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="form_records"
    )
    role = models.CharField(_("表单用途"), max_length=16)
    submission = models.OneToOneField(
        "forms.Submission", verbose_name=_("填报记录"), on_delete=models.PROTECT, related_name="project_link"
    )

    class Meta:
        verbose_name = _("项目表单记录")
        verbose_name_plural = _("项目表单记录")

    def __str__(self) -> str:
        return f"{self.project} · {self.role}"
