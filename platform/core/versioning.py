"""Configuration that is edited as a draft and then published as an immutable version (forms, project types).

Two abstract models hold the shared behaviour: the parent finds its published version and its draft, the
version refuses to change its content once published — records pinned to it must stay reproducible.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

DRAFT, PUBLISHED = "draft", "published"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停用")


class VersionedParent(models.Model):
    """Something configured in versions reachable as `self.versions` (number, status)."""

    class Meta:
        abstract = True

    def published(self):
        """The newest published version, which new records use."""
        return self.versions.filter(status=PUBLISHED).order_by("-number").first()

    def draft(self):
        """The one editable draft, if any."""
        return self.versions.filter(status=DRAFT).first()

    def draft_or_new(self, parent_field: str, **fields):
        """The draft, or an unsaved new one numbered after the newest version."""
        draft = self.draft()
        if draft is not None:
            return draft
        latest = self.versions.order_by("-number").first()
        return self.versions.model(
            **{parent_field: self}, number=(latest.number + 1) if latest else 1, **fields
        )


class FrozenWhenPublished(models.Model):
    """A numbered version, edited as a draft, published by someone; its `frozen_fields` never change after."""

    Status = VersionStatus

    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    content_hash = models.CharField(_("内容哈希"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    frozen_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values("status", *self.frozen_fields).first()
            if (
                stored
                and stored["status"] != DRAFT
                and any(stored[name] != getattr(self, name) for name in self.frozen_fields)
            ):
                raise TypeError(
                    f"已发布的{self._meta.verbose_name}不可修改 / a published version is immutable"
                )
        super().save(*args, **kwargs)
