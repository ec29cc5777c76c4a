"""The ledger as an Excel workbook, streamed: rows go from a database cursor into a write-only sheet on disk.

Memory stays bounded whatever the row count: the queryset is iterated in chunks, openpyxl's write-only
mode spools each sheet to a temporary file, and the finished workbook is itself a temporary file that
the response streams and deletes. Money cells are written from `Decimal` (stored as exact numbers, shown
with `#,##0.00`), dates as real dates, and text never becomes a formula.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..models import Project
from .query import ORDERINGS, LedgerFilters, LedgerTotals, rate

MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
SHEET_TITLE = "统一项目台账"
CHUNK = 2000


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Project], Any]
    number_format: str | None = None
    width: float = 14


def _local(moment: datetime | None) -> datetime | None:
    """Excel has no time zones: write the wall-clock time of the server's zone (Asia/Shanghai)."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _type_name(p: Project) -> str:
    return p.type_version.type.name if p.type_version_id else ""


def _rate(p: Project) -> Decimal | None:
    return rate(p.spent_total, p.budget)


COLUMNS: tuple[Column, ...] = (
    Column("项目代码", lambda p: p.code, width=22),
    Column("项目名称", lambda p: p.name, width=36),
    Column("建设单位", lambda p: p.org.name, width=22),
    Column("机构编码", lambda p: p.org.code, width=14),
    Column("项目类型", _type_name, width=16),
    Column("项目类别", lambda p: p.category, width=10),
    Column("阶段", lambda p: p.stage, width=8),
    Column("立项年度", lambda p: p.year, "0", width=9),
    Column("预算（元）", lambda p: p.budget, MONEY_FORMAT, width=18),
    Column("已下达（元）", lambda p: p.allocated_total, MONEY_FORMAT, width=18),
    Column("已支出（元）", lambda p: p.spent_total, MONEY_FORMAT, width=18),
    Column("执行率", _rate, PERCENT_FORMAT, width=9),
    Column("超支额（元）", lambda p: max(p.spent_total - p.budget, Decimal("0.00")), MONEY_FORMAT, width=16),
    Column("合同金额（元）", lambda p: p.contract_total, MONEY_FORMAT, width=18),
    Column("计划开工", lambda p: p.planned_start, DATE_FORMAT, width=12),
    Column("计划完工", lambda p: p.planned_end, DATE_FORMAT, width=12),
    Column("是否逾期", lambda p: "是" if getattr(p, "is_overdue", False) else "否", width=9),
    Column("更新时间", lambda p: _local(p.updated_at), DATETIME_FORMAT, width=17),
)
HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS)

_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")


def _cell(ws, value: Any, number_format: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # a project named "=HYPERLINK(…)" stays text, never a formula
    if number_format and value is not None:
        cell.number_format = number_format
    return cell


def _describe(filters: LedgerFilters) -> list[tuple[str, str]]:
    labels = {
        "org": "机构（含下级）",
        "type": "项目类型",
        "stage": "阶段",
        "year": "立项年度",
        "fund_source": "资金来源",
        "overdue": "是否逾期",
        "has_alerts": "是否有预警",
        "search": "搜索",
    }
    out = []
    for key, value in filters.as_query().items():
        if key == "ordering":
            name = ORDERINGS[value.removeprefix("-")]
            out.append(("排序", f"{name}{'（降序）' if value.startswith('-') else '（升序）'}"))
        else:
            out.append((labels[key], {"true": "是", "false": "否"}.get(value, value)))
    return out or [("筛选条件", "（无）")]


def ledger_xlsx_write(
    rows: Iterable[Project],
    target: IO[bytes],
    *,
    filters: LedgerFilters,
    totals: LedgerTotals | None = None,
    exported_by: str = "",
) -> int:
    """Write the ledger rows (and a 说明 sheet with the filters and totals) to `target`; return the row count."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLE)
    ws.freeze_panes = "C2"
    for index, column in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    header = []
    for column in COLUMNS:
        cell = _cell(ws, column.header)
        cell.font = _HEAD_FONT
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(horizontal="center")
        header.append(cell)
    ws.append(header)
    count = 0
    for project in rows:
        ws.append([_cell(ws, c.value(project), c.number_format) for c in COLUMNS])
        count += 1

    about = wb.create_sheet("说明")
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 40
    about.append([_cell(about, "统一项目台账导出")])
    about.append([_cell(about, "导出时间"), _cell(about, _local(timezone.now()), DATETIME_FORMAT)])
    if exported_by:
        about.append([_cell(about, "导出人"), _cell(about, exported_by)])
    for label, value in _describe(filters):
        about.append([_cell(about, label), _cell(about, value)])
    about.append([_cell(about, "项目数"), _cell(about, count, "0")])
    if totals is not None:
        for label, value, fmt in (
            ("预算合计（元）", totals.budget, MONEY_FORMAT),
            ("已下达合计（元）", totals.allocated, MONEY_FORMAT),
            ("已支出合计（元）", totals.spent, MONEY_FORMAT),
            ("执行率", totals.execution_rate, PERCENT_FORMAT),
            ("超支额合计（元）", totals.overspend, MONEY_FORMAT),
        ):
            about.append([_cell(about, label), _cell(about, value, fmt)])
    wb.save(target)
    return count


def ledger_xlsx_file(rows: Iterable[Project], **kwargs) -> IO[bytes]:
    """The workbook in an anonymous temporary file, rewound; closing it (the response does) deletes it."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 — FileResponse closes (and so deletes) it
    try:
        ledger_xlsx_write(rows, handle, **kwargs)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


def export_filename(today: date | None = None) -> str:
    return f"统一项目台账-{(today or timezone.localdate()):%Y%m%d}.xlsx"
