"""Project types: configuration that turns into projects. Versioned; a lower org may override an upper type."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.versioning import FrozenWhenPublished, VersionedParent


class ProjectType(VersionedParent):
    """A kind of project offered at `org` and its subtree (老旧小区改造, 道路新建 …).

    An override has `base`: the type of an upper org it adapts. Its versions hold only the changes; the
    effective configuration (inherited + changed) is materialised when a version is published.
    """

    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("所属机构"), on_delete=models.PROTECT, related_name="project_types"
    )
    code = models.CharField(_("类型编码"), max_length=64, unique=True)
    name = models.CharField(_("类型名称"), max_length=100)
    base = models.ForeignKey(
        "self",
        verbose_name=_("继承自"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="overrides",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("项目类型")
        verbose_name_plural = _("项目类型")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ProjectTypeVersion(FrozenWhenPublished):
    """One version of a type's configuration; immutable once published.

    `config` is what the administrator wrote (for an override: only the changes); `effective` is the
    merged configuration projects actually run on, and `origin` records which keys were inherited, changed or added.
    """

    type = models.ForeignKey(
        ProjectType, verbose_name=_("项目类型"), on_delete=models.PROTECT, related_name="versions"
    )
    config = models.JSONField(_("配置"), default=dict)
    effective = models.JSONField(_("生效配置"), default=dict)
    origin = models.JSONField(_("继承情况"), default=dict, blank=True)
    base_version = models.ForeignKey(
        "self",
        verbose_name=_("继承的上级版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("项目类型版本")
        verbose_name_plural = _("项目类型版本")
        constraints = [
            models.UniqueConstraint(fields=["type", "number"], name="ptv_unique_number"),
            models.UniqueConstraint(
                fields=["type"], condition=models.Q(status="draft"), name="ptv_one_draft"
            ),
        ]
        ordering = ["type", "-number"]

    frozen_fields = ("config", "effective")

    def __str__(self) -> str:
        return f"{self.type.name} v{self.number}"
