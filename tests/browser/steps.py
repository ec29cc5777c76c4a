"""Steps several browser tests take: starting and submitting a 老旧小区改造 立项申请 through the staff pages."""

from __future__ import annotations


def start_laojiu_initiation(page, name: str, community: str) -> None:
    """From the home page: 新建项目 → 老旧小区改造, with the first fields filled (520 户, 680 万元)."""
    page.get_by_role("link", name="新建项目").click()
    page.get_by_role("link", name="老旧小区改造").click()
    page.get_by_label("项目名称").fill(name)
    page.get_by_label("建设单位统一社会信用代码").fill("913301005000000002")
    page.get_by_label("小区名称").fill(community)
    page.get_by_label("改造户数").fill("520")
    page.get_by_label("项目总投资").fill("680")


def submit_laojiu_initiation(page) -> None:
    """One 资金来源 row covering the 680 万元, the contact, then 提交立项 (waits for the project page)."""
    page.get_by_role("button", name="＋ 添加一行").click()
    page.locator(".group-row").last.get_by_label("来源").select_option("中央补助")
    page.locator(".group-row").last.get_by_label("金额").fill("6800000")
    page.get_by_label("联系人").fill("陈静")
    page.get_by_label("联系电话").fill("13800138000")
    page.get_by_role("button", name="提交立项").click()
    page.wait_for_url("**/projects/*/")
