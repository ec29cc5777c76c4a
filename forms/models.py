"""Forms, their immutable published versions, and submissions pinned to a version."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.versioning import FrozenWhenPublished, VersionedParent


class Purpose(models.TextChoices):
    INITIATION = "立项申请", _("立项申请")
    PROGRESS = "进度报告", _("进度报告")
    EXPENDITURE = "支出登记", _("支出登记")
    ACCEPTANCE = "验收申请", _("验收申请")
    DAILY = "每日简报", _("每日简报")
    OTHER = "其他", _("其他")


class Form(VersionedParent):
    """A configurable form offered at `org` and below. Its content lives in versions."""

    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("所属机构"), on_delete=models.PROTECT, related_name="forms"
    )
    code = models.CharField(_("表单编码"), max_length=64, unique=True)
    name = models.CharField(_("表单名称"), max_length=100)
    purpose = models.CharField(_("用途"), max_length=16, choices=Purpose.choices, default=Purpose.OTHER)
    project_type_code = models.CharField(_("项目类型编码"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("表单")
        verbose_name_plural = _("表单")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class FormVersion(FrozenWhenPublished):
    """One version of a form's JSON Schema + UI schema. A draft is editable; a published version never changes."""

    form = models.ForeignKey(Form, verbose_name=_("表单"), on_delete=models.PROTECT, related_name="versions")
    schema = models.JSONField(_("数据结构（JSON Schema）"))
    ui_schema = models.JSONField(_("界面结构"), default=dict)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("表单版本")
        verbose_name_plural = _("表单版本")
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="formversion_unique_number"),
            models.UniqueConstraint(
                fields=["form"], condition=models.Q(status="draft"), name="formversion_one_draft"
            ),
        ]
        ordering = ["form", "-number"]

    frozen_fields = ("schema", "ui_schema")

    def __str__(self) -> str:
        return f"{self.form.name} v{self.number}"


class Submission(models.Model):
    """Data entered on a form, pinned to the version it was validated against. Drafts may be incomplete."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")

    form_version = models.ForeignKey(
        FormVersion, verbose_name=_("表单版本"), on_delete=models.PROTECT, related_name="submissions"
    )
    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("填报单位"), on_delete=models.PROTECT, related_name="submissions"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    data = models.JSONField(_("数据"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("修改版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("填报记录")
        verbose_name_plural = _("填报记录")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.form_version} #{self.pk}"


class Attachment(models.Model):
    """A file uploaded for a form field, kept through Django's storage; the data holds its key."""

    org = models.ForeignKey("orgs.Org", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("文件"), upload_to="attachments/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("类型"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.name
