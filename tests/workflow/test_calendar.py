"""Working days for SLA timers (weekends, national holidays, 调休 working Saturdays, the administrator's Holiday rows,
local days in Asia/Shanghai), and the holiday calendar the administrator loads (service and `taizhang holidays`)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from core.errors import PermissionDenied, ValidationFailed
from workflow import calendar
from workflow.holidays import holidays_check, holidays_load, holidays_read, holidays_year
from workflow.models import Holiday

pytestmark = pytest.mark.django_db

CST = ZoneInfo("Asia/Shanghai")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "holidays" / "2027.yaml"


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CST)


def local(moment: datetime) -> datetime:
    return moment.astimezone(CST)


# ── working-day arithmetic ──────────────────────────────────────────────────────────────────────────────────────


def test_a_weekend_is_skipped():
    assert local(calendar.add_working_days(at(2026, 6, 5), 1)) == at(2026, 6, 8)  # Fri → Mon
    assert local(calendar.add_working_days(at(2026, 6, 4), 2)) == at(2026, 6, 8)  # Thu → Mon
    assert local(calendar.add_working_days(at(2026, 6, 1), 5)) == at(2026, 6, 8)  # a whole week


def test_days_are_local_days_not_utc_days():
    # Friday 07:00 in Beijing is still Thursday in UTC: the SLA must not end on Saturday.
    opened = at(2026, 6, 5, 7)
    assert opened.astimezone(ZoneInfo("UTC")).date() == date(2026, 6, 4)
    assert local(calendar.add_working_days(opened, 1)) == at(2026, 6, 8, 7)


def test_a_national_holiday_is_skipped():
    # 国庆 2026: 10/1–10/7 off (notice of 2025-11-04).
    assert local(calendar.add_working_days(at(2026, 9, 30), 1)) == at(2026, 10, 8)
    # 春节 2026: 2/15–2/23 off.
    assert local(calendar.add_working_days(at(2026, 2, 13), 2)) == at(2026, 2, 24)


def test_a_tiaoxiu_working_saturday_counts():
    # Saturday 2026-10-10 is worked (调休) after 国庆, Saturday 2026-02-14 before 春节.
    assert local(calendar.add_working_days(at(2026, 10, 9), 1)) == at(2026, 10, 10)
    assert local(calendar.add_working_days(at(2026, 2, 13), 1)) == at(2026, 2, 14)
    assert calendar.is_workday(date(2026, 10, 10)) and not calendar.is_workday(date(2026, 10, 17))


def test_opened_on_a_day_off_the_clock_starts_with_the_next_working_day():
    due = local(calendar.add_working_days(at(2026, 6, 6), 1))  # Saturday → the whole of Monday
    assert due.date() == date(2026, 6, 8) and due.time().hour == 23 and due.time().minute == 59
    due = local(calendar.add_working_days(at(2026, 10, 3), 2))  # inside 国庆 → Thu 10/8 and Fri 10/9
    assert due.date() == date(2026, 10, 9)
    assert calendar.add_working_days(at(2026, 6, 6), 0) == at(2026, 6, 6)
    with pytest.raises(ValueError):
        calendar.add_working_days(at(2026, 6, 6), -1)


def test_the_administrators_rows_override_the_library():
    Holiday.objects.create(day=date(2026, 6, 8), name="三月三（示例）", workday=False)  # a local day off
    assert local(calendar.add_working_days(at(2026, 6, 5), 1)) == at(2026, 6, 9)
    Holiday.objects.create(day=date(2026, 6, 6), name="调休上班", workday=True)  # a Saturday worked
    assert local(calendar.add_working_days(at(2026, 6, 5), 1)) == at(2026, 6, 6)
    Holiday.objects.create(day=date(2026, 10, 2), name="改为上班", workday=True)  # against the library
    assert calendar.is_workday(date(2026, 10, 2))
    assert local(calendar.add_working_days(at(2026, 9, 30), 1)) == at(2026, 10, 2)


def test_a_year_the_library_does_not_know_counts_weekends_until_the_administrator_loads_it():
    if not calendar.official_known(2027):  # chinese-calendar 1.11 stops at 2026
        assert local(calendar.add_working_days(at(2026, 12, 31), 1)) == at(2027, 1, 1)  # a plain Friday
    rows, year = holidays_read(EXAMPLE.read_bytes(), filename=EXAMPLE.name)
    holidays_load(actor=None, rows=rows, year=year)
    assert local(calendar.add_working_days(at(2026, 12, 31), 1)) == at(2027, 1, 4)  # 元旦 1/1–1/3
    assert calendar.is_workday(date(2027, 2, 20))  # the example's 调休 Saturday


def test_working_days_between():
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3  # 10/8, 10/9, Sat 10/10
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2
    assert calendar.working_days_between(date(2026, 6, 5), date(2026, 6, 5)) == 0
    assert calendar.is_workday(date(2026, 6, 6), {date(2026, 6, 6): True})


# ── loading the holiday calendar ────────────────────────────────────────────────────────────────────────────────

ROWS = [
    {"date": "2027-01-01", "name": "元旦", "workday": False},
    {"date": "2027-02-20", "name": "春节调休上班", "workday": "是"},
]


def test_an_administrator_loads_a_year_and_it_is_audited(world, config_admin):
    report = holidays_load(actor=config_admin, rows=ROWS)
    assert report.year == 2027 and report.off == 1 and report.worked == 1
    assert list(Holiday.objects.values_list("day", "workday")) == [
        (date(2027, 1, 1), False),
        (date(2027, 2, 20), True),
    ]
    event = AuditEvent.objects.get(action="holidays.load")
    assert event.object_id == "2027" and event.actor == config_admin and len(event.after["days"]) == 2


def test_only_configuration_administrators_load_holidays(world):
    with pytest.raises(PermissionDenied):
        holidays_load(actor=world.users["clerk_a"], rows=ROWS)
    assert not Holiday.objects.exists()


def test_bad_rows_are_refused_with_every_problem_named():
    rows = [
        {"date": "2027-02-30", "name": "春节", "workday": False},
        {"date": "2027-02-06", "name": "", "workday": False},
        {"date": "2027-02-07", "name": "春节", "workday": "也许"},
        {"date": "2027-02-08", "name": "春节", "workday": False, "备注": "x"},
        {"date": "2027-02-09", "name": "春节", "workday": False},
        {"date": "2027-02-09", "name": "春节", "workday": False},
        "2027-02-10",
    ]
    with pytest.raises(ValidationFailed) as err:
        holidays_check(rows)
    fields = err.value.fields
    assert "无效" in fields["第1条"][0]
    assert "名称不能为空" in fields["第2条"][0]
    assert "workday" in fields["第3条"][0]
    assert "未知的列" in fields["第4条"][0]
    assert "与第5条重复" in fields["第6条"][0]
    assert "第7条" in fields
    with pytest.raises(ValidationFailed) as err:
        holidays_check([{"date": "2027-01-01", "name": "元旦"}, {"date": "2028-01-01", "name": "元旦"}])
    assert "一个年份" in err.value.fields["year"][0]
    with pytest.raises(ValidationFailed) as err:
        holidays_check(ROWS, year=2026)
    assert "不在 2026 年" in err.value.fields["第1条"][0]


def test_loading_a_year_replaces_it_atomically_and_leaves_other_years_alone():
    Holiday.objects.create(day=date(2026, 6, 8), name="地方节日", workday=False)
    holidays_load(actor=None, rows=ROWS)
    replacement = [{"date": "2027-01-01", "name": "元旦", "workday": False}]
    report = holidays_load(actor=None, rows=replacement, year=2027)
    assert report.replaced == 2
    assert list(Holiday.objects.filter(day__year=2027).values_list("name", flat=True)) == ["元旦"]
    with pytest.raises(ValidationFailed):  # one bad row: nothing changes
        holidays_load(actor=None, rows=[*ROWS, {"date": "2027-13-01", "name": "x", "workday": False}])
    assert list(Holiday.objects.filter(day__year=2027).values_list("name", flat=True)) == ["元旦"]
    holidays_load(actor=None, rows=[], year=2027)  # an empty year clears it
    assert list(Holiday.objects.values_list("day", flat=True)) == [date(2026, 6, 8)]


def test_a_stretch_of_more_than_six_working_days_is_flagged():
    rows = [  # Mon 3/1 … Fri 3/12 without a break
        {"date": "2027-03-06", "name": "调休上班", "workday": True},
        {"date": "2027-03-07", "name": "调休上班", "workday": True},
    ]
    assert any("连续工作" in w for w in holidays_load(actor=None, rows=rows).warnings)


def test_the_example_2027_file_is_labelled_as_an_example_and_loads_cleanly():
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "示例" in text and "国务院办公厅" in text and "不是官方" in text
    rows, year = holidays_read(text, filename=EXAMPLE.name)
    report = holidays_load(actor=None, rows=rows, year=year)
    assert year == 2027 and report.warnings == []
    assert report.worked == 5 and report.off == 29


def test_cli_load_csv_and_show(tmp_path, capsys, world, config_admin):
    path = tmp_path / "2027.csv"
    path.write_text(
        "date,name,workday\n2027-01-01,元旦,false\n2027-01-02,元旦,false\n2027-02-20,春节调休上班,true\n",
        encoding="utf-8",
    )
    call_command("holidays", "load", str(path), "--user", config_admin.username)
    assert "放假 2 天，调休上班 1 天" in capsys.readouterr().out
    assert Holiday.objects.filter(day__year=2027).count() == 3
    call_command("holidays", "show", "2027")
    out = capsys.readouterr().out
    assert "2027-02-20  星期六  上班  春节调休上班（管理员）" in out
    call_command("holidays", "show", "2026")
    out = capsys.readouterr().out
    assert "2026-10-10  星期六  上班  国庆节调休上班（国家日历）" in out
    assert "2026-10-01  星期四  放假  国庆节（国家日历）" in out


def test_cli_refuses_bad_files_and_unauthorised_users(tmp_path, world):
    bad = tmp_path / "bad.yaml"
    bad.write_text("days: [ {date: 2027-01-01\n", encoding="utf-8")
    with pytest.raises(CommandError) as err:
        call_command("holidays", "load", str(bad))
    assert err.value.returncode == 2
    rows = tmp_path / "rows.yaml"
    rows.write_text("- {date: 2027-01-01, name: 元旦, workday: false}\n", encoding="utf-8")
    with pytest.raises(CommandError) as err:
        call_command("holidays", "load", str(rows), "--user", "clerk_a")
    assert err.value.returncode == 1 and not Holiday.objects.exists()
    call_command("holidays", "load", str(rows), "--check")
    assert not Holiday.objects.exists()


def test_holidays_year_reports_sources():
    Holiday.objects.create(day=date(2026, 6, 8), name="地方节日", workday=False)
    days, known = holidays_year(2026)
    by_day = {d.day: d for d in days}
    assert known
    assert by_day[date(2026, 6, 8)].source == "管理员"
    assert by_day[date(2026, 2, 14)].workday and by_day[date(2026, 2, 14)].name == "春节调休上班"
    assert date(2026, 6, 6) not in by_day  # an ordinary Saturday
    assert by_day[date(2026, 10, 1)].as_dict()["weekday"] == "星期四"
