"""Working days for SLAs: weekends off, China's official holidays and 调休 (``chinese-calendar``), and the
administrator's own calendar (``Holiday`` rows), which wins where both speak. Years the library does not know yet
fall back to plain weekends until the administrator loads that year's 国务院办公厅 notice.

Days are local days (``TIME_ZONE``, Asia/Shanghai by default): a task opened at 07:00 on a Friday in Beijing is
opened on Friday, although it is still Thursday in UTC.

An SLA of N working days gives the approver N whole working days of time (counted as 24-hour working days):

- opened on a working day at 10:00 → due at 10:00 on the N-th working day after it;
- opened on a weekend or a holiday → the clock starts with the next working day, due at the end (23:59:59) of the
  N-th working day from then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import chinese_calendar
from django.utils import timezone

from .models import Holiday

# Ten years of calendar days: a bound no real SLA reaches, so a bad calendar can never loop forever.
_MAX_DAYS = 3660


class Days:
    """One calendar read: the administrator's rows are loaded once per year touched, then every day is answered
    from memory (an SLA over a long holiday costs two queries, not one per day)."""

    def __init__(self) -> None:
        self._years: dict[int, dict[date, bool]] = {}

    def overrides(self, year: int) -> dict[date, bool]:
        if year not in self._years:
            self._years[year] = dict(Holiday.objects.filter(day__year=year).values_list("day", "workday"))
        return self._years[year]

    def is_workday(self, day: date) -> bool:
        rows = self.overrides(day.year)
        if day in rows:
            return rows[day]
        return official_workday(day)

    def next_workday(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        for _ in range(_MAX_DAYS):
            day += timedelta(days=1)
            if self.is_workday(day):
                return day
        raise ValueError(f"no working day within {_MAX_DAYS} days after {day}")


def official_known(year: int) -> bool:
    """Does ``chinese-calendar`` carry the 国务院办公厅 notice for ``year``?"""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def official_workday(day: date) -> bool:
    """The national calendar's answer (``chinese-calendar``); plain weekends for a year it does not know yet."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def is_workday(day: date, overrides: dict[date, bool] | None = None) -> bool:
    """Is ``day`` a working day? ``overrides`` (day → workday) stands in for the administrator's rows when given."""
    if overrides is not None:
        return overrides[day] if day in overrides else official_workday(day)
    return Days().is_workday(day)


def local(moment: datetime) -> datetime:
    """``moment`` in the configured time zone (naive datetimes are taken as already local)."""
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _at(day: date, clock: time, like: datetime) -> datetime:
    naive = datetime.combine(day, clock)
    if timezone.is_aware(like):
        return timezone.make_aware(naive, timezone.get_current_timezone())
    return naive


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment ``days`` whole working days after ``start`` (see the module's docstring); ``start`` for 0."""
    if days < 0:
        raise ValueError("days must not be negative")
    if days == 0:
        return start
    calendar = Days()
    here = local(start)
    if calendar.is_workday(here.date()):
        day, clock = here.date(), here.time()
    else:  # the clock starts with the next working day: due at the end of the N-th working day
        day, clock = calendar.next_workday(here.date()), time.max
        days -= 1
    for _ in range(days):
        day = calendar.next_workday(day)
    return _at(day, clock, start)


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0
    calendar = Days()
    return sum(1 for i in range(1, (end - start).days + 1) if calendar.is_workday(start + timedelta(days=i)))


def days_of(year: int) -> Iterable[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)
