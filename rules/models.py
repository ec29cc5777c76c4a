"""Regulations, rule packs, rules, alerts and their history, and in-app notifications.

A rule pack is loaded at an org and governs that org's subtree. Packs are immutable once loaded: a new version is a
new row that supersedes the old one, whose rules and alerts stay for the record. Alerts are keyed by ``rule_key``
(org, pack code, rule code), not by the rule row, so a re-firing under a new pack version updates the same open alert.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Regulation(models.Model):
    """A regulation in the policy library (法规政策库): 《政府投资条例》, its issuer, number and articles."""

    title = models.CharField(_("名称"), max_length=200, unique=True)
    issuer = models.CharField(_("发布机关"), max_length=200, blank=True)
    number = models.CharField(_("文号"), max_length=100, blank=True)
    issued_on = models.DateField(_("发布日期"), null=True, blank=True)
    effective_on = models.DateField(_("施行日期"), null=True, blank=True)
    url = models.CharField(_("来源"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("收录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("法规政策")
        verbose_name_plural = _("法规政策库")
        ordering = ["title"]

    def __str__(self) -> str:
        return f"《{self.title.strip('《》')}》"


class Article(models.Model):
    """One article (条) of a regulation, with its text, which alerts link to."""

    regulation = models.ForeignKey(
        Regulation, verbose_name=_("法规"), on_delete=models.CASCADE, related_name="articles"
    )
    number = models.CharField(_("条款"), max_length=50)
    text = models.TextField(_("条文"), blank=True)

    class Meta:
        verbose_name = _("条款")
        verbose_name_plural = _("条款")
        ordering = ["regulation", "id"]
        constraints = [models.UniqueConstraint(fields=["regulation", "number"], name="article_unique_number")]

    def __str__(self) -> str:
        return f"{self.regulation}{self.number}"


class PackStatus(models.TextChoices):
    ACTIVE = "active", _("生效中")
    SUPERSEDED = "superseded", _("已被新版本取代")
    WITHDRAWN = "withdrawn", _("已停用")


class RulePack(models.Model):
    """A versioned, checksummed bundle of rules issued by a regulator, loaded at an org for its subtree."""

    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("适用机构"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("规则包编码"), max_length=64)
    version = models.CharField(_("版本"), max_length=32)
    name = models.CharField(_("名称"), max_length=200)
    issuer = models.CharField(_("发布机关"), max_length=200)
    effective_on = models.DateField(_("生效日期"))
    description = models.TextField(_("说明"), blank=True)
    regulation = models.ForeignKey(
        Regulation,
        verbose_name=_("依据"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="packs",
    )
    citation = models.CharField(_("依据条款"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=PackStatus.choices, default=PackStatus.ACTIVE)
    checksum = models.CharField(_("校验和（SHA-256）"), max_length=64)
    signed_by = models.CharField(_("签名密钥"), max_length=100, blank=True)
    source = models.TextField(_("原文"))
    tests_passed = models.PositiveIntegerField(_("通过的测试用例"), default=0)
    supersedes = models.ForeignKey(
        "self", verbose_name=_("取代"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("加载人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    loaded_at = models.DateTimeField(_("加载时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("政策规则包")
        verbose_name_plural = _("政策规则包")
        ordering = ["org", "code", "-loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["org", "code", "version"], name="rulepack_unique_version"),
            models.UniqueConstraint(
                fields=["org", "code"], condition=Q(status="active"), name="rulepack_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Severity(models.TextChoices):
    INFO = "提示", _("提示")
    WARNING = "预警", _("预警")
    SEVERE = "严重", _("严重")


SEVERITY_RANK = {Severity.INFO: 1, Severity.WARNING: 2, Severity.SEVERE: 3}


class Rule(models.Model):
    """One alert rule of a pack: a DSL condition over a project, with what to do when it holds.

    ``types`` limits the project type codes it applies to (empty: every type); ``block`` lists the operations it
    forbids while the condition holds (see ``rules.engine.OPERATIONS``); ``notify`` the role codes told when it
    fires; ``escalate_after_days`` how long an open alert may stay unacknowledged before it goes up one org level.
    """

    pack = models.ForeignKey(
        RulePack, verbose_name=_("规则包"), on_delete=models.CASCADE, related_name="rules"
    )
    code = models.CharField(_("规则编码"), max_length=64)
    name = models.CharField(_("名称"), max_length=200)
    condition = models.TextField(_("条件（DSL）"))
    severity = models.CharField(_("级别"), max_length=8, choices=Severity.choices, default=Severity.WARNING)
    message = models.CharField(_("提示语模板"), max_length=500)
    types = models.JSONField(_("适用项目类型"), default=list, blank=True)
    on_save = models.BooleanField(_("保存时检查"), default=True)
    on_schedule = models.BooleanField(_("定时巡检"), default=True)
    raise_alert = models.BooleanField(_("产生预警"), default=True)
    block = models.JSONField(_("阻止的操作"), default=list, blank=True)
    notify = models.JSONField(_("通知角色"), default=list, blank=True)
    email = models.BooleanField(_("发送邮件"), default=False)
    escalate_after_days = models.PositiveSmallIntegerField(_("未确认升级（天）"), null=True, blank=True)
    article = models.ForeignKey(
        Article,
        verbose_name=_("依据条款"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rules",
    )
    verdict = models.CharField(_("执行方式"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")
        ordering = ["pack", "position"]
        constraints = [models.UniqueConstraint(fields=["pack", "code"], name="rule_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def key(self) -> str:
        """Stable across pack versions: alerts of this rule at this org keep their identity when a pack is updated."""
        return f"{self.pack.org_id}/{self.pack.code}/{self.code}"


class AlertStatus(models.TextChoices):
    OPEN = "open", _("待确认")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    RECTIFYING = "rectifying", _("整改中")
    CLOSED = "closed", _("已核销")
    RESOLVED = "resolved", _("已自动解除")


OPEN_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.RECTIFYING)


class Alert(models.Model):
    """A finding of a rule on a project: one open alert per rule × project; re-firing updates it.

    ``org`` is the unit currently responsible (the project's org, or higher after escalation). ``trace`` is the
    explanation (``dsl.Trace.to_dict()``) and ``values`` the figures quoted in ``message``, both from the last firing.
    """

    rule = models.ForeignKey(Rule, verbose_name=_("规则"), on_delete=models.PROTECT, related_name="alerts")
    rule_key = models.CharField(_("规则标识"), max_length=200)
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="alerts"
    )
    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+"
    )
    severity = models.CharField(_("级别"), max_length=8, choices=Severity.choices)
    status = models.CharField(_("状态"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    message = models.CharField(_("预警信息"), max_length=1000)
    trace = models.JSONField(_("计算过程"), default=dict)
    values = models.JSONField(_("取值"), default=dict)
    versions = models.JSONField(_("生效版本"), default=dict)
    fired_at = models.DateTimeField(_("首次触发"))
    last_fired_at = models.DateTimeField(_("最近触发"))
    fire_count = models.PositiveIntegerField(_("触发次数"), default=1)
    escalation_level = models.PositiveSmallIntegerField(_("升级次数"), default=0)
    escalated_at = models.DateTimeField(_("最近升级"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    cause = models.TextField(_("原因分析"), blank=True)
    action = models.TextField(_("整改措施"), blank=True)
    deadline = models.DateField(_("整改期限"), null=True, blank=True)
    evidence = models.FileField(_("整改佐证材料"), upload_to="alerts/%Y/%m/", blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核销人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-last_fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_key", "project"],
                condition=Q(status__in=["open", "acknowledged", "rectifying"]),
                name="alert_one_open_per_rule_project",
            )
        ]
        indexes = [
            models.Index(fields=["project", "status"], name="alert_project_status_idx"),
            models.Index(fields=["org", "status"], name="alert_org_status_idx"),
            models.Index(fields=["status", "fired_at"], name="alert_status_fired_idx"),
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AlertEvent(models.Model):
    """One step in an alert's closed loop (触发、再次触发、确认、整改、核销、退回、自动解除、升级), shown as its timeline."""

    class Kind(models.TextChoices):
        FIRED = "fired", _("触发")
        REFIRED = "refired", _("再次触发")
        ACKNOWLEDGED = "acknowledged", _("确认")
        RECTIFIED = "rectified", _("提交整改")
        CLOSED = "closed", _("核销关闭")
        REJECTED = "rejected", _("整改退回")
        RESOLVED = "resolved", _("条件消除，自动解除")
        ESCALATED = "escalated", _("超时未确认，升级")

    alert = models.ForeignKey(Alert, verbose_name=_("预警"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("预警记录")
        verbose_name_plural = _("预警记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """An in-app message to one user (预警 fired, escalated, 整改 submitted …); e-mail goes through Django's backend."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    alert = models.ForeignKey(
        Alert, verbose_name=_("预警"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.CharField(_("内容"), max_length=1000)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread_idx")]

    def __str__(self) -> str:
        return self.text
