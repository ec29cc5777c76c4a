"""The administrator's holiday calendar: each November the 国务院办公厅 publishes next year's 放假安排 (days off and the
weekend days worked, 调休); the administrator loads it as one file per year, which replaces that year's rows.

A row says one day: ``date, name, workday`` — ``workday: false`` a day off (放假), ``true`` a working day (调休上班).
Rows override ``chinese-calendar`` day by day; a year the library does not know counts plain weekends plus these rows
(see :mod:`workflow.calendar`). Files are CSV (``date,name,workday`` header; ``日期,名称,上班`` also read) or YAML (a
list of rows, or ``{year, source, days: [rows]}``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import chinese_calendar
import yaml
from django.db import IntegrityError, transaction

from accounts import permissions
from audit.services import audit_record
from core.errors import Conflict, PermissionDenied, ValidationFailed

from . import calendar
from .models import Holiday

MAX_RUN = 6  # 放假办法 (2024 revision): work before or after a holiday should not exceed 6 consecutive days
_TRUE = {"true", "yes", "y", "1", "是", "上班", "班", "调休上班", "工作日"}
_FALSE = {"false", "no", "n", "0", "否", "放假", "休", "休息", "节假日", ""}
_HEADERS = {
    "date": "date",
    "日期": "date",
    "name": "name",
    "名称": "name",
    "节日": "name",
    "workday": "workday",
    "上班": "workday",
    "调休上班": "workday",
    "是否上班": "workday",
}
_WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Day:
    day: date
    name: str
    workday: bool

    def as_dict(self) -> dict:
        return {"date": self.day.isoformat(), "name": self.name, "workday": self.workday}


@dataclass
class LoadReport:
    year: int
    days: list[Day]
    replaced: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def off(self) -> int:
        return sum(1 for d in self.days if not d.workday)

    @property
    def worked(self) -> int:
        return sum(1 for d in self.days if d.workday)


# ── reading files ───────────────────────────────────────────────────────────────────────────────────────────────


def holidays_read(source: bytes | str, *, filename: str = "") -> tuple[list[dict], int | None]:
    """(rows, year named in the file or None) from a CSV or YAML file; ValidationFailed when it does not parse."""
    text = source.decode("utf-8-sig") if isinstance(source, bytes) else source.lstrip("\ufeff")
    if filename.lower().endswith(".csv"):
        return _read_csv(text), None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark is not None else "文件"
        raise ValidationFailed(
            "节假日文件不是有效的 YAML。", fields={"file": [f"{where}：{getattr(error, 'problem', error)}"]}
        ) from None
    if isinstance(data, list):
        return data, None
    if isinstance(data, Mapping) and isinstance(data.get("days"), list):
        year = data.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise ValidationFailed("年份必须是整数。", fields={"year": ["年份：请写成 2027 这样的四位数"]})
        return list(data["days"]), year
    raise ValidationFailed(
        "节假日文件格式不正确。",
        fields={"file": ["请写成行列表（date, name, workday），或 {year: 2027, days: [...]}；CSV 需有表头"]},
    )


def _read_csv(text: str) -> list[dict]:
    reader = csv.reader(io.StringIO(text))
    rows = [r for r in reader if any(cell.strip() for cell in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        return []
    header = [_HEADERS.get(cell.strip().lower()) for cell in rows[0]]
    if "date" not in header or "name" not in header:
        raise ValidationFailed(
            "CSV 文件缺少表头。", fields={"file": ["第一行须为表头：date,name,workday（或 日期,名称,上班）"]}
        )
    out = []
    for row in rows[1:]:
        item = {key: row[i].strip() for i, key in enumerate(header) if key and i < len(row)}
        out.append(item)
    return out


# ── checking ────────────────────────────────────────────────────────────────────────────────────────────────────


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _workday(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int):
        return {0: False, 1: True}.get(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def holidays_check(rows: Iterable[Any], year: int | None = None) -> tuple[int, list[Day]]:
    """(year, days sorted) from raw rows; ValidationFailed naming every bad row (a date, a name, a duplicate…)."""
    errors: dict[str, list[str]] = {}
    days: list[Day] = []
    seen: dict[date, int] = {}
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100):
        raise ValidationFailed("年份不正确。", fields={"year": ["年份：须在 2000—2100 之间"]})
    for i, raw in enumerate(rows, start=1):
        where = f"第{i}条"
        if not isinstance(raw, Mapping):
            errors[where] = ["每一条须包含 date（日期）、name（名称）、workday（是否调休上班）"]
            continue
        problems = []
        day = _date(raw.get("date"))
        if day is None:
            problems.append(f"日期“{raw.get('date')}”无效，请写成 2027-01-01")
        elif year is not None and day.year != year:
            problems.append(f"日期 {day} 不在 {year} 年")
        name = str(raw.get("name") or "").strip()
        if not name:
            problems.append("名称不能为空（如“春节”“春节调休上班”）")
        elif len(name) > 50:
            problems.append("名称不能超过 50 个字")
        workday = _workday(raw.get("workday"))
        if workday is None:
            problems.append(f"workday“{raw.get('workday')}”无效：上班写 true（是），放假写 false（否）")
        unknown = sorted(set(map(str, raw)) - {"date", "name", "workday"})
        if unknown:
            problems.append(f"未知的列：{'、'.join(unknown)}")
        if day is not None and day in seen:
            problems.append(f"日期 {day} 与第{seen[day]}条重复")
        if problems:
            errors[where] = problems
            continue
        seen[day] = i
        days.append(Day(day, name, workday))
    if not errors:
        years = sorted({d.day.year for d in days})
        if year is None and not years:
            errors["year"] = ["没有任何日期：请指定要清空的年份"]
        elif year is None and len(years) > 1:
            errors["year"] = [f"一次只能载入一个年份，文件中有 {'、'.join(map(str, years))} 年"]
        elif year is None and not 2000 <= years[0] <= 2100:
            errors["year"] = ["年份：须在 2000—2100 之间"]
    if errors:
        raise ValidationFailed("节假日安排未通过校验。", fields=errors)
    return (year if year is not None else days[0].day.year), sorted(days, key=lambda d: d.day)


def _warnings(year: int, days: list[Day]) -> list[str]:
    """Things worth a second look that are not errors: a 调休 day on a weekday, a stretch of more than 6 working days."""
    found = []
    for d in days:
        if d.workday and d.day.weekday() < 5 and calendar.official_workday(d.day):
            found.append(
                f"{d.day}（星期{_WEEKDAYS[d.day.weekday()]}）本来就是工作日，标为调休上班不改变任何计算"
            )
    start, end = date(year, 1, 1) - timedelta(days=7), date(year, 12, 31) + timedelta(days=7)
    merged = dict(
        Holiday.objects.filter(day__gte=start, day__lte=end)
        .exclude(day__year=year)
        .values_list("day", "workday")
    )
    merged.update({d.day: d.workday for d in days})
    run, first, day = 0, None, start
    while day <= end:
        if calendar.is_workday(day, merged):
            first = day if run == 0 else first
            run += 1
        else:
            if run > MAX_RUN and first is not None and (first.year == year or day.year == year):
                found.append(f"{first} 起连续工作 {run} 天，超过 {MAX_RUN} 天：请核对调休安排")
            run = 0
        day += timedelta(days=1)
    return found


# ── loading ─────────────────────────────────────────────────────────────────────────────────────────────────────


@transaction.atomic
def holidays_load(*, actor: Any, rows: Iterable[Any], year: int | None = None) -> LoadReport:
    """Replace one year of the holiday calendar with ``rows`` (all or nothing), audited.

    Needs ``config.manage`` at some org (the calendar is the whole installation's); ``actor`` None is the system
    (the CLI run by the operator). An empty ``rows`` with ``year`` clears that year.
    """
    if actor is not None and not permissions.can(actor, "config.manage"):
        raise PermissionDenied("只有配置管理员可以载入节假日安排。", code="permission_denied")
    year, days = holidays_check(list(rows), year)
    existing = Holiday.objects.select_for_update().filter(day__year=year).order_by("day")
    before = [Day(h.day, h.name, h.workday).as_dict() for h in existing]
    Holiday.objects.filter(day__year=year).delete()
    try:
        with transaction.atomic():
            Holiday.objects.bulk_create(Holiday(day=d.day, name=d.name, workday=d.workday) for d in days)
    except IntegrityError:  # another load of the same year committed first
        raise Conflict("该年度的节假日安排正在被他人载入，请稍后重试。", code="holidays_busy") from None
    report = LoadReport(year=year, days=days, replaced=len(before), warnings=_warnings(year, days))
    audit_record(
        actor=actor,
        actor_name=None if actor is not None else "system",
        action="holidays.load",
        object_type="workflow.holiday",
        object_id=str(year),
        object_repr=f"{year}年节假日安排",
        before={"days": before},
        after={"days": [d.as_dict() for d in days]},
    )
    return report


# ── reading the calendar ────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class YearDay:
    day: date
    workday: bool
    name: str
    source: str  # "管理员" (a Holiday row) or "国家日历" (chinese-calendar)

    @property
    def weekday(self) -> str:
        return f"星期{_WEEKDAYS[self.day.weekday()]}"

    def as_dict(self) -> dict:
        return {
            "date": self.day.isoformat(),
            "weekday": self.weekday,
            "workday": self.workday,
            "name": self.name,
            "source": self.source,
        }


def holidays_year(year: int) -> tuple[list[YearDay], bool]:
    """The days of ``year`` that differ from a plain week (holidays, weekends in a holiday, 调休 working days), each
    with where its answer comes from; and whether the national calendar knows the year."""
    known = calendar.official_known(year)
    rows = {h.day: h for h in Holiday.objects.filter(day__year=year)}
    out = []
    for day in calendar.days_of(year):
        if day in rows:
            row = rows[day]
            out.append(YearDay(day, row.workday, row.name, "管理员"))
            continue
        if not known:
            continue
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        weekend = day.weekday() >= 5
        if name is None and is_holiday == weekend:
            continue
        label = _chinese(name) if name else ""
        if not is_holiday and weekend:
            label = f"{label}调休上班" if label else "调休上班"
        out.append(YearDay(day, not is_holiday, label or "休息日", "国家日历"))
    return out, known


def _chinese(name: str) -> str:
    for holiday in chinese_calendar.Holiday:
        if holiday.value == name:
            return holiday.chinese
    return name
