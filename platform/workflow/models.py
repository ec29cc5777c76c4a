"""Approval runtime: flow instances, approver tasks, their history, delegations, holidays and change requests.

An instance snapshots the flow definition it started with (``definition``), so editing the type later never
changes a running approval. Every action locks the instance row first, then re-reads its tasks: two approvers at
the same moment, a double click or a withdrawal racing an approval are serialised and the loser gets a 409.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class InstanceStatus(models.TextChoices):
    RUNNING = "running", _("审批中")
    RETURNED = "returned", _("已退回申请人")
    APPROVED = "approved", _("已通过")
    WITHDRAWN = "withdrawn", _("已撤回")


class FlowInstance(models.Model):
    """One approval of one request (a stage move, an expenditure, a change) of one project."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="approvals"
    )
    transition = models.CharField(_("审批环节"), max_length=16)
    flow_code = models.CharField(_("流程编码"), max_length=64)
    flow_name = models.CharField(_("流程名称"), max_length=200)
    definition = models.JSONField(_("流程定义（启动时快照）"))
    type_version = models.ForeignKey(
        "projects.ProjectTypeVersion",
        verbose_name=_("项目类型版本"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject = models.JSONField(_("申请事项"), default=dict)
    title = models.CharField(_("标题"), max_length=300)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=InstanceStatus.choices, default=InstanceStatus.RUNNING
    )
    current_step = models.CharField(_("当前步骤"), max_length=64, blank=True)
    returned_from = models.CharField(_("退回发起步骤"), max_length=64, blank=True)
    round = models.PositiveIntegerField(_("轮次"), default=1)
    data = models.JSONField(_("申请数据快照"), default=dict)
    version = models.PositiveIntegerField(_("版本"), default=1)
    started_at = models.DateTimeField(_("发起时间"))
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("审批实例")
        verbose_name_plural = _("审批实例")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["applicant", "-started_at"], name="flowinst_applicant_idx"),
            models.Index(fields=["project", "status"], name="flowinst_project_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "transition", "subject"],
                condition=Q(status__in=["running", "returned"]),
                name="flowinst_one_active_per_subject",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status in (InstanceStatus.RUNNING, InstanceStatus.RETURNED)


class TaskStatus(models.TextChoices):
    WAITING = "waiting", _("待前序处理")
    OPEN = "open", _("待办")
    APPROVED = "approved", _("已同意")
    RETURNED = "returned", _("已退回")
    TRANSFERRED = "transferred", _("已转办")
    SKIPPED = "skipped", _("自动跳过")
    CANCELLED = "cancelled", _("已取消")


class ApprovalTask(models.Model):
    """One approver's part in one step of one round. ``seq`` orders 依次 steps; ``blocked_by`` holds a task until the
    task it waits for (a 加签 before it, or the previous approver of a 依次 step) is approved."""

    instance = models.ForeignKey(
        FlowInstance, verbose_name=_("审批"), on_delete=models.CASCADE, related_name="tasks"
    )
    step = models.CharField(_("步骤"), max_length=64)
    step_name = models.CharField(_("步骤名称"), max_length=200)
    round = models.PositiveIntegerField(_("轮次"))
    seq = models.PositiveIntegerField(_("顺序"), default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        related_name="approval_tasks",
    )
    delegated_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("委托人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("加签人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    blocked_by = models.ForeignKey(
        "self", verbose_name=_("等待"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    opened_at = models.DateTimeField(_("到达时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("办理时限"), null=True, blank=True)
    acted_at = models.DateTimeField(_("办理时间"), null=True, blank=True)
    comment = models.TextField(_("意见"), blank=True)
    attachment = models.FileField(_("附件"), upload_to="approvals/%Y/%m/", blank=True)
    snapshot = models.JSONField(_("办理时所见数据"), default=dict, blank=True)
    timed_out = models.BooleanField(_("已超时处理"), default=False)
    reminded_at = models.DateTimeField(_("最近催办"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("审批任务")
        verbose_name_plural = _("审批任务")
        ordering = ["instance", "round", "seq", "id"]
        indexes = [
            models.Index(fields=["assignee", "status", "opened_at"], name="task_inbox_idx"),
            models.Index(fields=["status", "due_at"], name="task_due_idx"),
            models.Index(fields=["instance", "round", "step"], name="task_step_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.instance.title} · {self.step_name} · {self.assignee}"


class FlowEvent(models.Model):
    """The instance's history, as its timeline shows it: who did what at which step, with comment and attachment."""

    class Action(models.TextChoices):
        SUBMIT = "submit", _("提交")
        RESUBMIT = "resubmit", _("重新提交")
        APPROVE = "approve", _("同意")
        RETURN = "return", _("退回")
        TRANSFER = "transfer", _("转办")
        ADD_SIGNER = "add_signer", _("加签")
        WITHDRAW = "withdraw", _("撤回")
        URGE = "urge", _("催办")
        SKIP = "skip", _("自动跳过")
        NO_APPROVER = "no_approver", _("审批人为空")
        TIMEOUT = "timeout", _("超时")
        ESCALATE = "escalate", _("超时升级")
        STEP = "step", _("进入步骤")
        FINISH = "finish", _("审批通过")

    instance = models.ForeignKey(
        FlowInstance, verbose_name=_("审批"), on_delete=models.CASCADE, related_name="events"
    )
    task = models.ForeignKey(
        ApprovalTask,
        verbose_name=_("任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    action = models.CharField(_("动作"), max_length=16, choices=Action.choices)
    step = models.CharField(_("步骤"), max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)
    attachment = models.CharField(_("附件"), max_length=300, blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("审批记录")
        verbose_name_plural = _("审批记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.note}"


class Delegation(models.Model):
    """An approver on leave hands everything they would receive between two dates to a delegate."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("委托人"),
        on_delete=models.CASCADE,
        related_name="delegations",
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("代理人"), on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    note = models.CharField(_("事由"), max_length=200, blank=True)
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审批委托")
        verbose_name_plural = _("审批委托")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="delegation_dates_ordered"
            ),
            models.CheckConstraint(condition=~Q(user=models.F("delegate")), name="delegation_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.delegate}（{self.starts_on}—{self.ends_on}）"


class Holiday(models.Model):
    """A day the administrator's holiday calendar marks as a holiday (or, with ``workday``, a 调休 working day)."""

    day = models.DateField(_("日期"), unique=True)
    name = models.CharField(_("名称"), max_length=50)
    workday = models.BooleanField(_("调休上班"), default=False)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日安排")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class ChangeRequest(models.Model):
    """A requested change to a project (budget, schedule, scope) that takes effect only when 变更审批 approves it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("审批中")
        APPLIED = "applied", _("已生效")
        WITHDRAWN = "withdrawn", _("已撤回")

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="change_requests"
    )
    changes = models.JSONField(_("变更内容"))
    reason = models.TextField(_("变更理由"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    applied_at = models.DateTimeField(_("生效时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("变更申请")
        verbose_name_plural = _("变更申请")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.project} 变更：{self.reason[:30]}"
