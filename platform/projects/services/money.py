"""Budget lines, expenditures and contracts. Totals are recomputed under the project's row lock, so two clerks
recording at the same moment both land and the ledger's totals always equal the sum of the rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from accounts import permissions
from accounts.models import User
from audit.services import audit_record, snapshot
from core.errors import ValidationFailed
from rules import engine as rules_engine

from ..models import BudgetLine, Contract, Expenditure, FundSource, Project

_MAX = Decimal("9999999999999999.99")


def _amount(value: Any, label: str, errors: dict, key: str = "amount") -> Decimal | None:
    if isinstance(value, float | bool):
        errors[key] = [f"{label}：金额必须以字符串或整数传入，不能是浮点数"]
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        errors[key] = [f"{label}：不是有效的金额"]
        return None
    if not amount.is_finite() or amount <= 0 or amount > _MAX:
        errors[key] = [f"{label}：必须大于 0 且不超过 {_MAX}"]
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors[key] = [f"{label}：最多保留两位小数（分）"]
        return None
    return amount.quantize(Decimal("0.01"))


def _date(value: Any, label: str, errors: dict, key: str) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[key] = [f"{label}：日期格式应为 YYYY-MM-DD"]
        return None


def _text(value: Any, label: str, errors: dict, key: str, *, limit: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors[key] = [f"{label}：不能为空"]
    elif len(text) > limit:
        errors[key] = [f"{label}：不能超过 {limit} 个字"]
    return text


def _locked(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


def recompute_totals(project: Project) -> Project:
    """Set the ledger's totals from the rows (call with the project row locked)."""
    project.allocated_total = project.budget_lines.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
    project.spent_total = project.expenditures.filter(approval__in=Expenditure.COUNTED).aggregate(
        s=Sum("amount")
    )["s"] or Decimal("0.00")
    project.contract_total = project.contracts.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
    project.version += 1
    project.save(update_fields=["allocated_total", "spent_total", "contract_total", "version", "updated_at"])
    return project


@transaction.atomic
def budget_line_add(
    *,
    actor: User | None,
    project: Project,
    year: Any,
    fund_source: str,
    amount: Any,
    subject: str = "",
    note: str = "",
) -> BudgetLine:
    """Allocate budget to the project for one year from one fund source."""
    permissions.check(actor, "project.edit", project)
    errors: dict[str, list[str]] = {}
    value = _amount(amount, "金额", errors)
    if fund_source not in FundSource.values:
        errors["fund_source"] = [f"资金来源：必须是 {'、'.join(FundSource.values)} 之一"]
    if not str(year).isdigit() or not 2000 <= int(year) <= 2100:
        errors["year"] = ["年度：应为 2000–2100 之间的年份"]
    if errors:
        raise ValidationFailed("预算明细未通过校验。", fields=errors)
    project = _locked(project)
    line = BudgetLine.objects.create(
        project=project,
        year=int(year),
        fund_source=fund_source,
        amount=value,
        subject=subject[:100],
        note=note[:200],
    )
    recompute_totals(project)
    audit_record(
        actor=actor,
        action="budget_line.add",
        obj=line,
        org=project.org,
        after=snapshot(line, ("year", "fund_source", "amount", "subject", "project")),
    )
    rules_engine.on_save(project, operation="预算下达", actor=actor)
    return line


@transaction.atomic
def expenditure_record(
    *,
    actor: User | None,
    project: Project,
    voucher_no: str,
    paid_on: Any,
    payee: str,
    amount: Any,
    budget_line: BudgetLine | None = None,
    contract: Contract | None = None,
    note: str = "",
) -> Expenditure:
    """Record one payment against the project (and a budget line); totals stay exact under concurrency."""
    permissions.check(actor, "project.edit", project)
    errors: dict[str, list[str]] = {}
    value = _amount(amount, "金额", errors)
    day = _date(paid_on, "支付日期", errors, "paid_on")
    voucher = _text(voucher_no, "凭证号", errors, "voucher_no", limit=50)
    payee = _text(payee, "收款人", errors, "payee", limit=200)
    if budget_line is not None and budget_line.project_id != project.pk:
        errors["budget_line"] = ["预算明细：不属于本项目"]
    if contract is not None and contract.project_id != project.pk:
        errors["contract"] = ["合同：不属于本项目"]
    if errors:
        raise ValidationFailed("支出信息未通过校验。", fields=errors)
    project = _locked(project)
    if _needs_approval(
        project
    ):  # it counts only once approved; a blocking rule must not wait for the approval
        rules_engine.preflight(
            project, operation="支出登记", adjust=_pending_payment(value, day, payee, voucher)
        )
    if Expenditure.objects.filter(project=project, voucher_no=voucher).exists():
        raise ValidationFailed("凭证号重复。", fields={"voucher_no": [f"凭证号：“{voucher}”已登记"]})
    try:
        with transaction.atomic():
            row = Expenditure.objects.create(
                project=project,
                budget_line=budget_line,
                contract=contract,
                voucher_no=voucher,
                paid_on=day,
                payee=payee,
                amount=value,
                note=str(note)[:500],
                created_by=actor,
                approval=Expenditure.Approval.PENDING if _needs_approval(project) else "",
            )
    except IntegrityError:
        raise ValidationFailed(
            "凭证号重复。", fields={"voucher_no": [f"凭证号：“{voucher}”已登记"]}
        ) from None
    recompute_totals(project)
    audit_record(
        actor=actor,
        action="expenditure.record",
        obj=row,
        org=project.org,
        after=snapshot(
            row, ("voucher_no", "paid_on", "payee", "amount", "budget_line", "contract", "project")
        ),
    )
    if row.approval == Expenditure.Approval.PENDING:
        from workflow.services import flow_start

        flow_start(
            actor=actor,
            project=project,
            transition="支出审批",
            subject={"expenditure": row.pk, "amount": str(value)},
            title=f"{project.name}：支出审批（{payee} {value} 元，凭证 {voucher}）",
        )
        return row
    rules_engine.on_save(project, operation="支出登记", actor=actor)
    return row


def _pending_payment(amount: Decimal, day: Any, payee: str, voucher: str) -> Any:
    """The record as it will be once this payment is approved: for checking blocking rules at submission."""

    def adjust(record: dict) -> None:
        record["已支出"] = (record.get("已支出") or Decimal(0)) + amount
        if "支出" in record:
            record["支出"] = [
                *record["支出"],
                {"金额": amount, "支付日期": day, "收款人": payee, "凭证号": voucher},
            ]

    return adjust


def _needs_approval(project: Project) -> bool:
    from workflow.definition import flow_for

    return bool(project.type_version_id and flow_for(project.type_version.effective, "支出审批"))


@transaction.atomic
def expenditure_approve(*, expenditure_id: int, approval: Any) -> Expenditure:
    """支出审批 approved: the payment becomes payable and counts toward the totals; rules run as for any payment."""
    row = Expenditure.objects.select_related("project").get(pk=expenditure_id)
    project = _locked(row.project)
    if row.approval != Expenditure.Approval.PENDING:
        return row
    row.approval = Expenditure.Approval.APPROVED
    row.save(update_fields=["approval"])
    recompute_totals(project)
    audit_record(
        actor=None,
        action="expenditure.approve",
        obj=row,
        org=project.org,
        after={"approval": row.approval, "flow_instance": getattr(approval, "pk", None)},
    )
    rules_engine.on_save(project, operation="支出登记")
    return row


@transaction.atomic
def expenditure_withdraw(*, expenditure_id: int) -> Expenditure:
    """The applicant withdrew the 支出审批: the pending payment is withdrawn and never counts."""
    row = Expenditure.objects.select_related("project").get(pk=expenditure_id)
    if row.approval == Expenditure.Approval.PENDING:
        row.approval = Expenditure.Approval.WITHDRAWN
        row.save(update_fields=["approval"])
        audit_record(
            actor=None,
            action="expenditure.withdraw",
            obj=row,
            org=row.project.org,
            after={"approval": row.approval},
        )
    return row


@transaction.atomic
def contract_record(
    *,
    actor: User | None,
    project: Project,
    code: str,
    name: str,
    kind: str,
    counterparty: str,
    amount: Any,
    signed_on: Any,
    counterparty_uscc: str = "",
    procurement: str = "",
) -> Contract:
    """Record a contract the project signed."""
    permissions.check(actor, "project.edit", project)
    errors: dict[str, list[str]] = {}
    value = _amount(amount, "合同金额", errors)
    day = _date(signed_on, "签订日期", errors, "signed_on")
    code = _text(code, "合同编号", errors, "code", limit=64)
    name = _text(name, "合同名称", errors, "name", limit=200)
    counterparty = _text(counterparty, "相对方", errors, "counterparty", limit=200)
    if kind not in Contract.Kind.values:
        errors["kind"] = [f"合同类别：必须是 {'、'.join(Contract.Kind.values)} 之一"]
    if counterparty_uscc:
        try:
            uscc.validate(counterparty_uscc)
        except StdnumError:
            errors["counterparty_uscc"] = ["相对方统一社会信用代码：格式或校验位不正确"]
    if errors:
        raise ValidationFailed("合同信息未通过校验。", fields=errors)
    project = _locked(project)
    if Contract.objects.filter(project=project, code=code).exists():
        raise ValidationFailed("合同编号重复。", fields={"code": [f"合同编号：“{code}”已登记"]})
    row = Contract.objects.create(
        project=project,
        code=code,
        name=name,
        kind=kind,
        counterparty=counterparty,
        counterparty_uscc=counterparty_uscc,
        amount=value,
        signed_on=day,
        procurement=procurement[:20],
    )
    recompute_totals(project)
    audit_record(
        actor=actor,
        action="contract.record",
        obj=row,
        org=project.org,
        after=snapshot(row, ("code", "name", "kind", "counterparty", "amount", "signed_on", "project")),
    )
    rules_engine.on_save(project, operation="合同登记", actor=actor)
    return row
