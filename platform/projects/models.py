"""Project: one government project, owned by an org. Project types, forms and budget lines come later."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
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
    """A project in the ledger. `version` increases on every write, for optimistic concurrency."""

    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("建设单位"), on_delete=models.PROTECT, related_name="projects"
    )
    code = models.CharField(_("项目代码"), max_length=32, unique=True)
    name = models.CharField(_("项目名称"), max_length=200)
    category = models.CharField(
        _("项目类型"), max_length=16, choices=Category.choices, default=Category.CONSTRUCTION
    )
    stage = models.CharField(_("阶段"), max_length=8, choices=Stage.choices, default=Stage.INITIATION)
    budget = models.DecimalField(_("预算（元）"), max_digits=18, decimal_places=2)
    description = models.TextField(_("建设内容及规模"), blank=True)
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

    def __str__(self) -> str:
        return self.name
