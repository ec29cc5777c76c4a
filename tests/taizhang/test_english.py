"""The web UI in English: the staff pages translate their own text, and the English catalogue is complete.

The data on the pages (project, org and type names, field titles from a form's configuration) stays as entered;
only the interface around it is checked. Every page is rendered in both languages: each Chinese literal listed
must show in the default (Chinese) page, so the list stays meaningful, and must be gone from the English one.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[2] / "platform" / "taizhang" / "locale" / "en" / "LC_MESSAGES"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# English texts that quote Chinese on purpose: a sheet and a column of the Chinese import template, and the
# enumeration comma (、) the importer accepts between choices.
QUOTES_CHINESE = {
    "选择项目类型，下载导入模板，按“填写说明”逐行填写已有项目。",
    "导入单位：%(org)s。每行的“机构编码”须在您有“创建项目”权限的范围内。",
    "用顿号、逗号或分号隔开：",
}


@dataclass(frozen=True)
class Page:
    url: str
    english: tuple[str, ...]  # must appear in the English page
    chinese: tuple[str, ...]  # interface literals: in the Chinese page, not in the English one


COMMON_EN = ("Skip to content", "Sign out", "Taizhang · open-source government project platform")
COMMON_ZH = ("跳到正文", "退出", "开源政府项目管理平台")

PAGES = {
    "home": Page(
        "/",
        ("What I can do", "My roles", "Project ledger", "Bulk-import existing projects from Excel"),
        ("我可以做什么", "我的角色", "统一项目台账", "从 Excel 批量导入已有项目"),
    ),
    "ledger": Page(
        "/projects/",
        (
            '<h1 id="ledger-h">Project ledger</h1>',
            "Search projects",
            "More filters",
            "Organisation (incl. subordinate units)",
            "Initiation year",
            "Fund source",
            "Overdue only",
            "Sort by",
            "Last updated (newest first)",
            "Per page",
            "Clear filters",
            "Export to Excel",
            "Execution rate",
            "Overspend",
            "Planned completion",
            "Central government funds",
            ">Initiation</span>",
            "3 projects",
        ),
        (
            "统一项目台账",
            "搜索项目",
            "更多筛选",
            "机构（含下级）",
            "全部可见机构",
            "立项年度",
            "资金来源",
            "仅逾期",
            "有预警",
            "有未闭环的规则预警（待确认、已确认或整改中）",
            "更新时间降序",
            "每页",
            "清除条件",
            "导出 Excel",
            "筛选结果合计",
            "执行率",
            "超支额",
            "计划完工",
            "中央财政",
            "个项目",
        ),
    ),
    "detail": Page(
        "/projects/{pk}/",
        (
            "Overview",
            "Actual progress",
            "Planned progress",
            "Indicators",
            "Move to the “Execution” stage",
            "Budget lines",
            "Add a budget line",
            "Record an expenditure",
            "Voucher no.",
            "Contracts",
            "Record a contract",
            "Milestones",
            "Add a milestone",
            "Work breakdown (WBS)",
            "Daily brief",
            "Initiation details",
            "Self-raised funds",
        ),
        (
            "概况",
            "实际进度",
            "计划进度",
            "指标",
            "进入“执行”阶段",
            "预算明细",
            "添加预算明细",
            "登记支出",
            "凭证号",
            "登记合同",
            "关键节点",
            "添加关键节点",
            "任务分解",
            "立项信息",
            "暂无",
            "自筹资金",
        ),
    ),
    "new": Page(
        "/projects/new/",
        ("<h1>New project</h1>", "Owner unit: 西湖区住建局"),
        ("新建项目", "建设单位："),
    ),
    "forms": Page(
        "/forms/",
        ("<h1>Forms</h1>", "Forms you can fill in", "Initiation application · "),
        ("<h1>填报</h1>", "可填报的表单", "立项申请 · "),
    ),
    "import": Page(
        "/projects/import/",
        (
            "Bulk ledger import",
            "Download the import template",
            "Upload and validate",
            "How to fill in the cells",
            "Excel file",
            ".xlsx only, at most",
            "Importing unit: 西湖区住建局.",
        ),
        (
            "批量导入台账",
            "下载导入模板",
            "上传并校验",
            "单元格填写规则",
            "Excel 文件",
            "仅支持 .xlsx",
            "导入单位：",
            "全部通过后确认导入",
        ),
    ),
}


def _visible(html: str) -> str:
    """The text of a page without its markup (attribute values, scripts and styles)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def pages(client, world, project_type, valid_data):
    """Render every page in both languages as clerk_a, with one project created from the type."""
    from projects import services

    project = services.project_create_from_type(
        actor=world.users["clerk_a"], org=world.bureau_a, ptype=project_type, data=valid_data
    )
    client.force_login(world.users["clerk_a"])
    out = {}
    for key, page in PAGES.items():
        url = page.url.format(pk=project.pk)
        for lang in ("en", "zh-hans"):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
            assert response.status_code == 200, (url, lang)
            out[key, lang] = response.content.decode()
    return out


@pytest.mark.parametrize("key", PAGES)
def test_page_is_english_and_keeps_the_chinese_default(pages, key):
    page = PAGES[key]
    english, chinese = pages[key, "en"], pages[key, "zh-hans"]
    assert '<html lang="en">' in english and '<html lang="zh-hans">' in chinese

    missing = [text for text in (*COMMON_EN, *page.english) if text not in english]
    assert not missing, f"{key}: English text missing: {missing}"
    not_in_chinese = [text for text in (*COMMON_ZH, *page.chinese) if text not in chinese]
    assert not not_in_chinese, f"{key}: the Chinese page lacks {not_in_chinese} (update the list)"
    shown = _visible(
        english
    )  # option values and tooltips may carry data codes; the check is what a person reads
    untranslated = [text for text in (*COMMON_ZH, *page.chinese) if text in shown]
    assert not untranslated, f"{key}: untranslated interface text in English: {untranslated}"


def test_ledger_results_fragment_is_english_too(client, world):
    """The HTMX refresh of the results (sorting, paging) answers in the same language as the page."""
    client.force_login(world.users["clerk_a"])
    response = client.get(
        "/projects/?page_size=1",
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="ledger-results",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "2 projects, page 1 of 2" in html and "Page 1 of 2" in html and ">Last</a>" in html
    assert not [
        text for text in ("个项目", "末页", "下一页", "项目代码", "更新时间") if text in _visible(html)
    ]


def test_messages_from_views_are_translated(client, world, project_type, valid_data):
    from projects import services

    project = services.project_create_from_type(
        actor=world.users["clerk_a"], org=world.bureau_a, ptype=project_type, data=valid_data
    )
    client.force_login(world.users["clerk_a"])
    response = client.post(
        f"/projects/{project.pk}/milestones/",
        {"name": "开工", "planned_date": "2026-04-01"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    html = response.content.decode()
    assert "Milestone added." in html and "里程碑已添加" not in html
    assert ">开工<" in html  # the milestone's name is data and stays as entered


# The catalogue ------------------------------------------------------------------------------------------------


def _entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr / msgstr[n] and flags."""
    entries: list[dict] = []
    entry: dict | None = None
    field = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry = None
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, int) or field is None:
                entry["msgstr"][field] += value
            else:
                entry[field] += value
        else:
            keyword, _space, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if keyword.startswith("msgstr"):
                field = int(keyword[7:-1]) if keyword.startswith("msgstr[") else None
                entry["msgstr"][field] = value
            else:
                field = keyword
                entry[field] = value
    return entries


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sd]|%%", text))


def test_catalogue_is_complete_and_compiled():
    entries = _entries(LOCALE / "django.po")
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == ""
    assert "nplurals=2; plural=(n != 1);" in header["msgstr"][None]
    assert len(messages) > 400

    empty = [e["msgid"] for e in messages if not all(e["msgstr"].values())]
    assert not empty, f"untranslated: {empty}"
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy: {fuzzy}"
    plurals = [e for e in messages if "msgid_plural" in e]
    assert plurals and all(set(e["msgstr"]) == {0, 1} for e in plurals)
    for e in messages:
        for text in e["msgstr"].values():
            assert _placeholders(text) == _placeholders(e["msgid"]), (e["msgid"], text)
    still_chinese = {e["msgid"] for e in messages if any(CJK.search(t) for t in e["msgstr"].values())}
    assert still_chinese <= QUOTES_CHINESE, f"Chinese left in English: {still_chinese - QUOTES_CHINESE}"

    # The committed .mo says the same as the .po (compilemessages was run after the last edit).
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for e in messages:
        context = e.get("msgctxt")
        if "msgid_plural" in e:
            for n, form in ((1, 0), (2, 1)):
                got = (
                    compiled.npgettext(context, e["msgid"], e["msgid_plural"], n)
                    if context is not None
                    else compiled.ngettext(e["msgid"], e["msgid_plural"], n)
                )
                assert got == e["msgstr"][form], (e["msgid"], n)
        else:
            got = (
                compiled.pgettext(context, e["msgid"])
                if context is not None
                else compiled.gettext(e["msgid"])
            )
            assert got == e["msgstr"][None], e["msgid"]
