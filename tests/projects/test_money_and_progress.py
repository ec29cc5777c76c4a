"""Budget lines, expenditures, contracts and progress through the services, on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import PermissionDenied, ValidationFailed
from projects import services
from projects.models import Expenditure, Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(world, project_type, valid_data):
    return services.project_create_from_type(
        actor=world.users["clerk_a"], org=world.bureau_a, ptype=project_type, data=valid_data
    )


def test_budget_lines_and_expenditures_keep_totals(world, project):
    clerk = world.users["clerk_a"]
    line = services.budget_line_add(
        actor=clerk, project=project, year=2026, fund_source="中央财政", amount="8000000.00"
    )
    services.budget_line_add(
        actor=clerk, project=project, year=2026, fund_source="区县财政", amount="4800000"
    )
    services.expenditure_record(
        actor=clerk,
        project=project,
        budget_line=line,
        voucher_no="PZ-1",
        paid_on="2026-04-01",
        payee="杭州某建设集团",
        amount="1000000.10",
    )
    contract = services.contract_record(
        actor=clerk,
        project=project,
        code="HT-1",
        name="施工总承包",
        kind="施工",
        counterparty="杭州某建设集团",
        counterparty_uscc="913301005000000002",
        amount="11800000.00",
        signed_on="2026-03-15",
    )
    services.expenditure_record(
        actor=clerk,
        project=project,
        contract=contract,
        voucher_no="PZ-2",
        paid_on=date(2026, 5, 1),
        payee="杭州某建设集团",
        amount=2000000,
    )
    project.refresh_from_db()
    assert project.allocated_total == Decimal("12800000.00")
    assert project.spent_total == Decimal("3000000.10")
    assert project.contract_total == Decimal("11800000.00")


@pytest.mark.parametrize(
    "amount, message", [(0.1, "浮点数"), ("-1", "必须大于 0"), ("1.001", "两位小数"), ("abc", "有效的金额")]
)
def test_bad_amounts_are_refused(world, project, amount, message):
    with pytest.raises(ValidationFailed) as err:
        services.expenditure_record(
            actor=world.users["clerk_a"],
            project=project,
            voucher_no="PZ-9",
            paid_on="2026-04-01",
            payee="某",
            amount=amount,
        )
    assert message in err.value.fields["amount"][0]


def test_duplicate_voucher_is_refused(world, project):
    clerk = world.users["clerk_a"]
    services.expenditure_record(
        actor=clerk, project=project, voucher_no="PZ-1", paid_on="2026-04-01", payee="某", amount="1"
    )
    with pytest.raises(ValidationFailed) as err:
        services.expenditure_record(
            actor=clerk, project=project, voucher_no="PZ-1", paid_on="2026-04-02", payee="某", amount="2"
        )
    assert "已登记" in err.value.fields["voucher_no"][0]


def test_other_district_cannot_spend(world, project):
    with pytest.raises(PermissionDenied):
        services.expenditure_record(
            actor=world.users["clerk_b"],
            project=project,
            voucher_no="X",
            paid_on="2026-04-01",
            payee="某",
            amount="1",
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_clerks_lose_nothing(world, project_type, valid_data):
    """Ten clerks × ten expenditures at once on PostgreSQL: every row lands and the total is exact."""
    project = services.project_create_from_type(
        actor=world.users["clerk_a"], org=world.bureau_a, ptype=project_type, data=valid_data
    )
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def clerk(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                services.expenditure_record(
                    actor=world.users["clerk_a"],
                    project=project,
                    voucher_no=f"PZ-{n}-{i}",
                    paid_on="2026-04-01",
                    payee="某",
                    amount=f"{n + 1}.{i:02d}",
                )
        except BaseException as exc:  # reported in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    expected = sum(Decimal(f"{n + 1}.{i:02d}") for n in range(10) for i in range(10))
    project = Project.objects.get(pk=project.pk)
    assert Expenditure.objects.filter(project=project).count() == 100
    assert project.spent_total == expected


def test_wbs_rolls_up_and_schedule_indicators(world, project):
    clerk = world.users["clerk_a"]
    services.task_save(actor=clerk, project=project, code="1", name="基础类改造", weight="3")
    services.task_save(
        actor=clerk, project=project, code="1.1", name="雨污分流", parent_code="1", percent="100%"
    )
    services.task_save(
        actor=clerk, project=project, code="1.2", name="屋面防水", parent_code="1", percent="0.5"
    )
    services.task_save(actor=clerk, project=project, code="2", name="加装电梯", weight="1", percent="0")
    project.refresh_from_db()
    assert project.tasks.get(code="1").percent == Decimal("0.7500")
    assert project.progress == Decimal("0.5625")
    assert services.planned_progress(project, date(2026, 8, 1)) == Decimal("0.5016")
    milestone = services.milestone_add(
        actor=clerk, project=project, name="主体完工", planned_date="2026-07-01"
    )
    assert services.days_late(project, date(2026, 8, 1)) == 31
    services.milestone_complete(actor=clerk, milestone=milestone, actual_date="2026-07-20")
    project.refresh_from_db()
    assert services.days_late(project, date(2026, 8, 1)) == 0


def test_checkin_and_daily_report(world, project, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    clerk = world.users["clerk_a"]
    milestone = services.milestone_add(actor=clerk, project=project, name="开工", planned_date="2026-03-01")
    photo = SimpleUploadedFile("现场.jpg", b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")
    checkin = services.checkin_record(
        actor=clerk,
        milestone=milestone,
        note="施工队进场",
        photo=photo,
        latitude="30.2741",
        longitude="120.1551",
    )
    assert checkin.photo.name and checkin.latitude == Decimal("30.274100")
    with pytest.raises(ValidationFailed):
        services.checkin_record(actor=clerk, milestone=milestone, note="x", latitude="91")
    report = services.daily_report_submit(
        actor=clerk,
        project=project,
        day="2026-03-02",
        data={"今日进展": "完成 3 幢楼雨污管网开挖", "现场人数": 42},
    )
    assert report.submission.data["现场人数"] == 42
    with pytest.raises(ValidationFailed):
        services.daily_report_submit(
            actor=clerk, project=project, day="2026-03-02", data={"今日进展": "重复"}
        )
