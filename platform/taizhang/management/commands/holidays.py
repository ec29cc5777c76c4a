"""`taizhang holidays load FILE [--year YEAR] [--user NAME] [--check]` and `taizhang holidays show YEAR [--json]`.

`load` replaces one year of the administrator's holiday calendar (the 国务院办公厅 notice for that year) with the
file's rows — CSV with a `date,name,workday` header, or YAML (a list of rows, or `{year, days: [...]}`); `--check`
validates without writing. `show` lists the year's holidays and 调休 working days and where each answer comes from.

Exit codes: 0 success; 1 refused (problems in the rows, no permission); 2 the file could not be read or parsed.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import context
from core.errors import ServiceError


class Command(BaseCommand):
    help = "节假日安排：load 载入某年的放假与调休安排（取代该年原有安排）；show 查看某年的节假日与调休上班日"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="operation", required=True, parser_class=CommandParser)
        load = sub.add_parser("load", help="载入节假日安排文件（CSV 或 YAML：date,name,workday）")
        load.add_argument("file")
        load.add_argument("--year", type=int, help="年份（默认取文件中的 year 或日期所在年份）")
        load.add_argument("--user", help="以该用户身份载入（检查其“管理配置”权限）；不写则为系统操作")
        load.add_argument("--check", action="store_true", help="只校验，不写入")
        show = sub.add_parser("show", help="查看某年的节假日与调休上班日")
        show.add_argument("year", type=int)
        show.add_argument("--json", action="store_true", help="以 JSON 输出")

    def handle(self, *args, operation: str, **options) -> None:
        ctx = context.RequestContext(request_id=context.new_request_id(), channel="cli")
        with context.bind(ctx):
            getattr(self, f"_{operation}")(**options)

    def _refuse(self, error: ServiceError, returncode: int = 1) -> None:
        for where, messages in error.fields.items():
            for message in messages:
                self.stderr.write(f"{where}: {message}")
        raise CommandError(error.message, returncode=returncode)

    def _user(self, username: str | None):
        if not username:
            return None
        from accounts.models import User

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在", returncode=1)
        return user

    def _load(self, *, file: str, year: int | None = None, user: str | None = None, check: bool = False, **_):
        from workflow.holidays import holidays_check, holidays_load, holidays_read

        try:
            source = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: 无法读取：{error.strerror}", returncode=2) from error
        try:
            rows, named = holidays_read(source, filename=file)
        except ServiceError as error:
            self._refuse(error, returncode=2)
            return
        if year is not None and named is not None and year != named:
            raise CommandError(f"--year {year} 与文件中的 year: {named} 不一致", returncode=1)
        year = year if year is not None else named
        try:
            if check:
                year, days = holidays_check(rows, year)
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{file}：{year} 年共 {len(days)} 天，"
                        f"放假 {sum(not d.workday for d in days)} 天，调休上班 {sum(d.workday for d in days)} 天，"
                        "校验通过（未写入）"
                    )
                )
                return
            report = holidays_load(actor=self._user(user), rows=rows, year=year)
        except ServiceError as error:
            self._refuse(error)
            return
        for warning in report.warnings:
            self.stderr.write(f"注意：{warning}")
        replaced = f"，取代原有 {report.replaced} 条" if report.replaced else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"已载入 {report.year} 年节假日安排：放假 {report.off} 天，调休上班 {report.worked} 天{replaced}"
            )
        )

    def _show(self, *, year: int, json: bool = False, **_) -> None:
        from workflow.holidays import holidays_year

        days, known = holidays_year(year)
        if json:
            self.stdout.write(
                _dumps({"year": year, "national_calendar": known, "days": [d.as_dict() for d in days]})
            )
            return
        if not days:
            note = "" if known else "；内置国家日历也不含该年，目前按普通周末计算，请载入当年国务院办公厅通知"
            self.stdout.write(f"{year} 年没有节假日或调休安排{note}")
            return
        self.stdout.write(f"{year} 年节假日与调休安排：")
        for day in days:
            kind = "上班" if day.workday else "放假"
            self.stdout.write(f"  {day.day}  {day.weekday}  {kind}  {day.name}（{day.source}）")
        off = sum(1 for d in days if not d.workday)
        self.stdout.write(f"共放假 {off} 天（含周末），调休上班 {len(days) - off} 天")
        if not known:
            self.stdout.write("内置国家日历不含该年：以上仅为管理员载入的安排，其余日期按普通周末计算")


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
