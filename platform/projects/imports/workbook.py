"""Excel files for ledger imports: checking an upload, reading its rows as text, writing the template and the
error report. openpyxl only; no Django, so the file handling can be tested and reasoned about on its own."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from forms.core.fields import field_type

from .columns import CODE, ERROR_TITLE, ORG, Column

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5000
# A 10 MB .xlsx of plain cells unpacks to well under this; more means a crafted archive (zip bomb).
_MAX_UNPACKED = 300 * 1024 * 1024
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TEXT_KINDS = frozenset(
    {"text", "textarea", "uscc", "idcard", "mobile", "phone", "postcode", "org", "user", "division", "group"}
)
SHEET_TITLE = "项目台账"
GUIDE_TITLE = "填写说明"
ORGS_TITLE = "机构编码"

_RED = PatternFill("solid", fgColor="FFC7CE")
_HEAD_REQUIRED = PatternFill("solid", fgColor="B3261E")
_HEAD_OPTIONAL = PatternFill("solid", fgColor="EEF2F6")
_WRAP = Alignment(wrap_text=True, vertical="top")


class SheetError(Exception):
    """The file as a whole cannot be read; the message is Chinese and says what to do."""


def upload_problem(name: str, content: bytes) -> str | None:
    """Why an uploaded file is not an acceptable .xlsx (by its content, not only its name), or None."""
    if not name.lower().endswith(".xlsx"):
        return "只支持 .xlsx 格式的 Excel 文件（Excel 2007 及以上版本）。"
    if not content:
        return "上传的文件是空的。"
    if len(content) > MAX_BYTES:
        return f"文件不能超过 {MAX_BYTES // 1024 // 1024} MB，请分批导入。"
    if content.startswith(_OLE_MAGIC):
        return "这是旧版 .xls 文件或已加密的工作簿，请在 Excel 中另存为 .xlsx（不设密码）后再上传。"
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "文件内容不是有效的 .xlsx 工作簿（只改扩展名是不行的），请用 Excel 另存为 .xlsx。"
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        return "文件内容不是有效的 .xlsx 工作簿（只改扩展名是不行的），请用 Excel 另存为 .xlsx。"
    if "xl/vbaProject.bin" in names:
        return "不支持含宏的工作簿，请另存为不含宏的 .xlsx。"
    if unpacked > _MAX_UNPACKED:
        return "文件内容异常（解压后过大），请检查后重新上传。"
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            if not book.worksheets:
                return "工作簿中没有工作表。"
            declared = book.worksheets[0].max_row  # from the sheet's <dimension>; may be absent (None)
        finally:
            book.close()
    except Exception:  # openpyxl raises many kinds on malformed parts; all mean "cannot read this file"
        return "无法读取该 .xlsx 文件，文件可能已损坏，请用 Excel 打开后重新保存。"
    if declared is not None and declared - 1 > MAX_ROWS:
        return f"数据超过 {MAX_ROWS} 行（不含表头），请分批导入。"
    return None


def cell_text(value: Any, number_format: str | None = "General") -> str:
    """A cell as the text a person sees, for :func:`forms.core.fields.coerce`: dates as ISO, numbers without
    float noise (12800000.0 → 12800000), percent-formatted numbers as ``12.5%``, booleans as 是/否."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        number = Decimal(repr(value))  # shortest round-trip text: what Excel showed, never binary noise
        if "%" in (number_format or ""):
            number = number.scaleb(2)
            return _plain(number) + "%"
        return _plain(number)
    return str(value)


def _plain(number: Decimal) -> str:
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


@dataclass(frozen=True, slots=True)
class Sheet:
    """The first worksheet as text: its header cells and each non-empty data row with its Excel row number."""

    title: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]


def read_sheet(content: bytes, *, max_rows: int | None = None) -> Sheet:
    """Read the first worksheet; row 1 is the header. Raises :class:`SheetError` for a file that cannot be used."""
    max_rows = MAX_ROWS if max_rows is None else max_rows
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # malformed parts surface as many exception types; all mean the same to the user
        raise SheetError("无法读取该 .xlsx 文件，文件可能已损坏，请用 Excel 打开后重新保存。") from None
    try:
        if not book.worksheets:
            raise SheetError("工作簿中没有工作表。")
        sheet = book.worksheets[0]
        headers: list[str] | None = None
        rows: list[tuple[int, list[str]]] = []
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            texts = [cell_text(c.value, getattr(c, "number_format", "General")) for c in cells]
            if headers is None:
                headers = [t.strip() for t in texts]
                continue
            if not any(t.strip() for t in texts):
                continue
            rows.append((number, texts))
            if len(rows) > max_rows:
                raise SheetError(f"数据超过 {max_rows} 行（不含表头），请分批导入。")
        if not headers or not any(headers):
            raise SheetError("第 1 行应为表头（列名），请使用下载的模板。")
        return Sheet(sheet.title, headers, rows)
    finally:
        book.close()


def _to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _width(text: str) -> float:
    return min(60, max(12, sum(2 if ord(ch) > 255 else 1 for ch in text) + 4))


def template_workbook(columns: Sequence[Column], orgs: Iterable[tuple[str, str]], *, type_name: str) -> bytes:
    """The import template: a header row of column titles (required ones in red, each with a how-to comment),
    drop-downs for choices, a 填写说明 sheet listing every column, and the 机构编码 the user may import into."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.title)
        cell.font = Font(bold=True, color="FFFFFF" if column.required else "1F2328")
        cell.fill = _HEAD_REQUIRED if column.required else _HEAD_OPTIONAL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        comment = Comment(("必填。" if column.required else "选填。") + column.hint(), "台账")
        comment.width, comment.height = 320, 120
        cell.comment = comment
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = _width(column.title)
        if column.kind in _TEXT_KINDS or column.key in (ORG, CODE):
            sheet.column_dimensions[letter].number_format = "@"
        values = ["是", "否"] if column.kind == "yesno" else None
        if column.kind == "choice":
            values = [str(v) for v in column.prop.get("enum") or []]
        if values and len(",".join(values)) <= 250:
            check = DataValidation(
                type="list", formula1='"' + ",".join(values) + '"', allow_blank=True, errorStyle="warning"
            )
            check.error = "请从下拉列表中选择"
            sheet.add_data_validation(check)
            check.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
    sheet.freeze_panes = "A2"

    guide = book.create_sheet(GUIDE_TITLE)
    notes = [
        f"《{type_name}》台账导入模板",
        "1. “项目台账”表第 1 行为列名，请勿修改；红色列为必填，可删除不需要的选填列。每行一个项目，最多 "
        f"{MAX_ROWS} 行，文件不超过 {MAX_BYTES // 1024 // 1024} MB，仅支持 .xlsx。",
        "2. 金额默认以“元”为单位（如 12800000 或 12,800,000.00），也可写成“1280万元”。",
        "3. 日期写成 2026-03-01；日期范围写成“2026-03-01 至 2026-12-31”；多选用顿号隔开，如“基础类、完善类”；"
        "是/否 填“是”或“否”。",
        "4. 多行明细（如资金来源）写在一个单元格里：每行各值用冒号隔开，行与行之间用分号或换行隔开，"
        "如“中央补助:8000000; 市县配套:4800000”。",
        "5. 上传后系统逐行校验，不写入任何数据；校验全部通过并经您确认后才一次性导入，任何一行失败则全部不导入。"
        "有错误时可下载错误报告（错误写在每行最后的“错误说明”列），改正后直接重新上传即可。",
    ]
    for row, text in enumerate(notes, start=1):
        guide.cell(row=row, column=1, value=text).font = Font(bold=row == 1, size=13 if row == 1 else 11)
    head = len(notes) + 2
    for index, title in enumerate(("列名", "是否必填", "类型", "填写要求与可选值", "说明"), start=1):
        cell = guide.cell(row=head, column=index, value=title)
        cell.font = Font(bold=True)
        cell.fill = _HEAD_OPTIONAL
    for offset, column in enumerate(columns, start=1):
        kind = field_type(column.kind)
        zh = (
            "机构编码"
            if column.key == ORG
            else "项目代码"
            if column.key == CODE
            else (kind.zh if kind else "文本")
        )
        row = [column.title, "必填" if column.required else "选填", zh, column.hint(), column.help]
        for index, value in enumerate(row, start=1):
            guide.cell(row=head + offset, column=index, value=value).alignment = _WRAP
    for letter, width in zip("ABCDE", (24, 10, 14, 70, 30), strict=True):
        guide.column_dimensions[letter].width = width

    org_sheet = book.create_sheet(ORGS_TITLE)
    for index, title in enumerate(("机构编码", "机构名称"), start=1):
        org_sheet.cell(row=1, column=index, value=title).font = Font(bold=True)
    for row, (code, name) in enumerate(orgs, start=2):
        org_sheet.cell(row=row, column=1, value=code)
        org_sheet.cell(row=row, column=2, value=name)
    org_sheet.column_dimensions["A"].width = 20
    org_sheet.column_dimensions["B"].width = 40
    return _to_bytes(book)


def error_report(
    content: bytes, errors: Sequence[dict[str, Any]], *, error_column: int | None = None
) -> bytes:
    """The uploaded workbook with a 错误说明 column beside each row's last cell, offending cells filled red with
    the message as a comment. `errors` are ``{row, col, column, message}`` (row None: about the whole file;
    col: 0-based sheet column or None). A 错误说明 column already present (a report uploaded again) is reused."""
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    at = (error_column + 1) if error_column is not None else sheet.max_column + 1
    if error_column is not None:
        for row in range(2, sheet.max_row + 1):
            sheet.cell(row=row, column=at).value = None
    head = sheet.cell(row=1, column=at, value=ERROR_TITLE)
    head.font = Font(bold=True, color="FFFFFF")
    head.fill = _HEAD_REQUIRED
    sheet.column_dimensions[get_column_letter(at)].width = 60

    by_row: dict[int, list[str]] = {}
    by_cell: dict[tuple[int, int], list[str]] = {}
    whole_file: list[str] = []
    for error in errors:
        row, col, message = error.get("row"), error.get("col"), str(error.get("message") or "")
        if row is None:
            whole_file.append(message)
            if col is not None:
                by_cell.setdefault((1, col + 1), []).append(message)
            continue
        by_row.setdefault(row, []).append(message)
        if col is not None:
            by_cell.setdefault((row, col + 1), []).append(message)
    for (row, col), messages in by_cell.items():
        cell = sheet.cell(row=row, column=col)
        cell.fill = _RED
        comment = Comment("\n".join(messages), "台账")
        comment.width, comment.height = 300, 80 + 20 * len(messages)
        cell.comment = comment
    for row, messages in by_row.items():
        cell = sheet.cell(row=row, column=at, value="\n".join(f"{i}. {m}" for i, m in enumerate(messages, 1)))
        cell.font = Font(color="8C1D18")
        cell.alignment = _WRAP
    if whole_file:
        comment = Comment("\n".join(whole_file), "台账")
        comment.width, comment.height = 360, 80 + 20 * len(whole_file)
        head.comment = comment
    return _to_bytes(book)
