"""Money of a project: budget lines by year and fund source, expenditures against them, contracts. Decimal only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FundSource(models.TextChoices):
    CENTRAL = "中央财政", _("中央财政")
    PROVINCE = "省级财政", _("省级财政")
    CITY = "市级财政", _("市级财政")
    DISTRICT = "区县财政", _("区县财政")
    BOND = "专项债券", _("专项债券")
    SELF = "自筹资金", _("自筹资金")
    SOCIAL = "社会资本", _("社会资本")
    OTHER = "其他", _("其他")


class BudgetLine(models.Model):
    """Budget allocated to a project for one year from one fund source (资金来源)."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="budget_lines"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    fund_source = models.CharField(_("资金来源"), max_length=16, choices=FundSource.choices)
    amount = models.DecimalField(_("金额（元）"), max_digits=18, decimal_places=2)
    subject = models.CharField(_("预算科目"), max_length=100, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("预算明细")
        verbose_name_plural = _("预算明细")
        ordering = ["year", "id"]
        indexes = [models.Index(fields=["fund_source", "project"], name="budgetline_source_idx")]

    def __str__(self) -> str:
        return f"{self.year} {self.fund_source} {self.amount}"


class Expenditure(models.Model):
    """One payment (支出) with its voucher, charged to a budget line.

    Where the project type has a 支出审批 flow, a recorded payment waits (``approval`` = pending) and counts toward
    the project's totals only once approved (payable); without a flow it counts at once.
    """

    class Approval(models.TextChoices):
        NONE = "", _("无需审批")
        PENDING = "pending", _("审批中")
        APPROVED = "approved", _("已批准，可支付")
        WITHDRAWN = "withdrawn", _("已撤回")

    COUNTED = (Approval.NONE, Approval.APPROVED)

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="expenditures"
    )
    budget_line = models.ForeignKey(
        BudgetLine,
        verbose_name=_("预算明细"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expenditures",
    )
    contract = models.ForeignKey(
        "projects.Contract",
        verbose_name=_("合同"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expenditures",
    )
    voucher_no = models.CharField(_("凭证号"), max_length=50)
    paid_on = models.DateField(_("支付日期"))
    payee = models.CharField(_("收款人"), max_length=200)
    amount = models.DecimalField(_("金额（元）"), max_digits=18, decimal_places=2)
    note = models.CharField(_("摘要"), max_length=500, blank=True)
    approval = models.CharField(
        _("审批状态"), max_length=16, choices=Approval.choices, default="", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("支出")
        verbose_name_plural = _("支出")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "voucher_no"], name="expenditure_unique_voucher")
        ]

    def __str__(self) -> str:
        return f"{self.voucher_no} {self.amount}"


class Contract(models.Model):
    """A contract (合同) the project signed: amount and counterparty."""

    class Kind(models.TextChoices):
        WORKS = "施工", _("施工")
        GOODS = "货物", _("货物")
        SERVICES = "服务", _("服务")

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("项目"), on_delete=models.CASCADE, related_name="contracts"
    )
    code = models.CharField(_("合同编号"), max_length=64)
    name = models.CharField(_("合同名称"), max_length=200)
    kind = models.CharField(_("合同类别"), max_length=8, choices=Kind.choices)
    counterparty = models.CharField(_("相对方"), max_length=200)
    counterparty_uscc = models.CharField(_("相对方统一社会信用代码"), max_length=18, blank=True)
    amount = models.DecimalField(_("合同金额（元）"), max_digits=18, decimal_places=2)
    signed_on = models.DateField(_("签订日期"))
    procurement = models.CharField(_("采购方式"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("合同")
        verbose_name_plural = _("合同")
        ordering = ["signed_on", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "code"], name="contract_unique_code")]

    def __str__(self) -> str:
        return self.name
