"""Alert pages without a browser: the inbox (tabs, filters, order, scope), the alert page with its explanation and the
closed loop's forms, notifications, the header badge, the project page's alert panel, the ledger's alert badges, and
a blocking rule's message inside the form whose write it stopped."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from projects.models import Expenditure
from rules.models import Alert, AlertStatus, Notification
from rules.services import alerts as svc

from .rule_fixtures import BLOCK_PAYMENTS, OVERSPEND, laojiu_project, make_pack, pay

pytestmark = pytest.mark.django_db

OVER = {**OVERSPEND, "message": "{项目名称}超支{超支率:%}，已支出{已支出:万元}"}
SEVERE = {
    "code": "CZ-02",
    "name": "严重超支",
    "condition": "超支率 > 10%",
    "severity": "严重",
    "message": "{项目名称}严重超支{超支率:%}",
}
BLOCK = {**BLOCK_PAYMENTS, "code": "CZ-03", "name": "超支两成禁止支出", "condition": "超支率 > 20%"}


@pytest.fixture
def pack(world):
    return make_pack(world.city, [OVER, SEVERE, BLOCK])


@pytest.fixture
def project(world, project_type, valid_data, pack):
    project = laojiu_project(world, project_type, valid_data, budget="1000000.00")
    pay(world, project, "1080000.00", "V1")  # 8 %: one 预警
    return project


@pytest.fixture
def alert(project):
    return project.alerts.get()


def _evidence(name: str = "整改报告.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


def _text(response) -> str:
    return response.content.decode()


def _rows(html: str) -> list[str]:
    return re.findall(r'<td role="cell" class="c-msg"><a href="[^"]+">([^<]+)</a>', html)


# The inbox -----------------------------------------------------------------------------------------------------


def test_inbox_opens_on_what_the_clerk_can_act_on(world, client, alert):
    client.force_login(world.users["clerk_a"])
    response = client.get("/alerts/")
    html = _text(response)
    assert response.status_code == 200
    assert _rows(html) == ["西湖区翠苑一区老旧小区改造工程超支8.00%，已支出108.00万元"]
    assert 'class="tab on" aria-current="page">待处理 <span class="count">1</span>' in html
    assert '全部 <span class="count">1</span>' in html


def test_rectifying_alerts_wait_for_the_rule_owner_not_the_unit(world, client, alert):
    regulator = world.users["regulator"]
    client.force_login(regulator)
    assert _rows(_text(client.get("/alerts/"))) == []  # open: the unit's turn
    assert len(_rows(_text(client.get("/alerts/?tab=all")))) == 1  # but the city sees it
    svc.alert_rectify(
        actor=world.users["clerk_a"],
        alert=alert,
        cause="合同变更",
        action="追加预算",
        deadline=timezone.localdate() + timedelta(days=5),
        evidence=_evidence(),
    )
    assert len(_rows(_text(client.get("/alerts/")))) == 1
    client.force_login(world.users["clerk_a"])
    assert _rows(_text(client.get("/alerts/"))) == []  # now it is the regulator's turn


def test_viewers_see_everything_in_scope_and_other_districts_nothing(world, client, alert):
    client.force_login(world.users["leader_a"])  # may view, not handle: the inbox opens on 全部
    html = _text(client.get("/alerts/"))
    assert len(_rows(html)) == 1 and 'class="tab on" aria-current="page">全部' in html
    client.force_login(world.users["clerk_b"])
    assert _rows(_text(client.get("/alerts/?tab=all"))) == []
    assert client.get(f"/alerts/{alert.pk}/").status_code == 404
    client.force_login(world.users["nobody"])
    assert client.get("/alerts/").status_code == 403


def test_severest_then_oldest_first_and_filters(world, client, project_type, valid_data, pack, alert):
    other = laojiu_project(world, project_type, valid_data, budget="1000000.00", 项目名称="翠苑二区改造")
    pay(world, other, "1150000.00", "W1")  # 15 %: a 预警 and a 严重
    client.force_login(world.users["clerk_a"])
    rows = _rows(_text(client.get("/alerts/")))
    assert rows[0].startswith("翠苑二区改造严重超支")
    assert rows[1:] == [
        "西湖区翠苑一区老旧小区改造工程超支8.00%，已支出108.00万元",  # older
        "翠苑二区改造超支15.00%，已支出115.00万元",
    ]
    assert _rows(_text(client.get("/alerts/?severity=严重"))) == ["翠苑二区改造严重超支15.00%"]
    assert len(_rows(_text(client.get("/alerts/?search=翠苑二区")))) == 2
    assert len(_rows(_text(client.get(f"/alerts/?tab=all&project={other.pk}")))) == 2
    svc.alert_acknowledge(actor=world.users["clerk_a"], alert=alert)
    assert len(_rows(_text(client.get("/alerts/?status=acknowledged")))) == 1
    bad = client.get("/alerts/?status=nonsense")
    assert bad.status_code == 400 and "状态：必须是" in _text(bad)


def test_inbox_pages(world, client, project_type, valid_data, pack):
    for i in range(23):
        p = laojiu_project(world, project_type, valid_data, budget="100.00", 项目名称=f"小项目{i:02d}")
        pay(world, p, "106.00", f"P{i}")
    client.force_login(world.users["clerk_a"])
    first = _text(client.get("/alerts/"))
    assert len(_rows(first)) == 20 and "第 1 / 2 页" in first and 'rel="next"' in first
    second = _text(client.get("/alerts/?tab=todo&page=2"))
    assert len(_rows(second)) == 3
    assert len(_rows(_text(client.get("/alerts/?page=99")))) == 3  # past the end: the last page


def test_inbox_query_count_is_constant(world, client, project_type, valid_data, pack):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/alerts/?tab=all").status_code == 200
        return len(ctx.captured_queries)

    client.force_login(world.users["clerk_a"])
    p = laojiu_project(world, project_type, valid_data, budget="100.00", 项目名称="项目甲")
    pay(world, p, "106.00", "A1")
    few = count()
    for i in range(8):
        p = laojiu_project(world, project_type, valid_data, budget="100.00", 项目名称=f"项目{i}")
        pay(world, p, "115.00", f"B{i}")
    assert count() == few


# One alert -----------------------------------------------------------------------------------------------------


def test_alert_page_explains_why_it_fired(world, client, alert):
    client.force_login(world.users["clerk_a"])
    html = _text(client.get(f"/alerts/{alert.pk}/"))
    assert "西湖区翠苑一区老旧小区改造工程超支8.00%，已支出108.00万元" in html
    assert 'class="sev sev-warning">预警</span>' in html and "待确认" in html
    assert "西湖区住建局" in html  # responsible unit
    assert f'href="/projects/{alert.project_id}/"' in html
    # The explanation: the condition with the value of each sub-expression.
    assert '<code class="tr-text">超支率 &gt; 5%</code>' in html
    assert re.search(
        r'<li class="tr tr-true"><span class="tr-line"><code class="tr-text">超支率 &gt; 5%</code>', html
    )
    assert '<span class="tr-val">0.08</span>' in html
    # Quoted values, versions in force, the pack and the timeline.
    # in their formats: the type's 超支率 is a percent, 已支出 is money
    assert '<th scope="row">超支率</th><td class="val">8.00%</td>' in html
    assert '<th scope="row">已支出</th><td class="val">¥1,080,000.00</td>' in html
    assert "test-pack v1" in html and "laojiu v1" in html
    assert "测试规则包test-pack v1" in html and "杭州市财政局" in html
    assert '<code class="dsl">超支率 &gt; 5%</code>' in html
    assert "触发</strong>" in html
    # The steps this clerk may take now.
    assert "确认预警" in html and "提交整改" in html and "核销关闭" not in html


def test_alert_links_its_article_in_the_policy_library(world, client, alert):
    from rules.models import Article, Regulation

    regulation = Regulation.objects.create(title="政府投资条例", issuer="国务院", number="国务院令第712号")
    article = Article.objects.create(regulation=regulation, number="第二十一条", text="政府投资项目应当按照…")
    alert.rule.article = article
    alert.rule.save(update_fields=["article"])
    client.force_login(world.users["clerk_a"])
    html = _text(client.get(f"/alerts/{alert.pk}/"))
    link = f"/rules/regulations/{regulation.pk}/#article-{article.pk}"
    assert f'href="{link}"' in html and "《政府投资条例》第二十一条" in html
    library = _text(client.get(f"/rules/regulations/{regulation.pk}/"))
    assert f'id="article-{article.pk}"' in library and "政府投资项目应当按照" in library
    assert "《政府投资条例》" in _text(client.get("/rules/regulations/"))


def test_the_closed_loop_through_the_pages(world, client, alert):
    clerk, regulator = world.users["clerk_a"], world.users["regulator"]
    client.force_login(clerk)
    response = client.post(f"/alerts/{alert.pk}/acknowledge/", {"note": "已知悉", "version": alert.version})
    assert response.status_code == 302 and response["Location"] == f"/alerts/{alert.pk}/"
    assert "预警已确认" in _text(client.get(response["Location"]))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED

    deadline = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = client.post(
        f"/alerts/{alert.pk}/rectify/",
        {
            "cause": "合同变更未及时调整预算",
            "action": "追加预算",
            "deadline": deadline,
            "evidence": _evidence(),
            "version": alert.version,
        },
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RECTIFYING
    download = client.get(f"/alerts/{alert.pk}/evidence/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")

    client.force_login(regulator)
    html = _text(client.get(f"/alerts/{alert.pk}/"))
    assert "核销关闭" in html and "退回整改" in html and "合同变更未及时调整预算" in html
    refused = client.post(f"/alerts/{alert.pk}/reject/", {"note": " ", "version": alert.version})
    assert refused.status_code == 400 and "退回原因：不能为空" in _text(refused)
    response = client.post(f"/alerts/{alert.pk}/close/", {"note": "材料已核实", "version": alert.version})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED and alert.closed_by == regulator
    html = _text(client.get(f"/alerts/{alert.pk}/"))
    assert "已核销" in html and "材料已核实" in html
    assert [k for k in alert.events.values_list("kind", flat=True)] == [
        "fired",
        "acknowledged",
        "rectified",
        "closed",
    ]


def test_rectify_errors_stay_next_to_the_fields_and_keep_what_was_typed(world, client, alert):
    client.force_login(world.users["clerk_a"])
    response = client.post(
        f"/alerts/{alert.pk}/rectify/",
        {"cause": "合同变更<未及时>调整", "action": "", "deadline": "2020-01-01", "version": alert.version},
    )
    html = _text(response)
    assert response.status_code == 400
    assert "整改信息未通过校验" in html
    assert 'id="e-action">整改措施：不能为空' in html
    assert 'id="e-deadline">整改期限：不能早于今天' in html
    assert 'id="e-evidence">整改佐证材料：请上传文件' in html
    assert "合同变更&lt;未及时&gt;调整</textarea>" in html  # kept, and escaped
    assert 'value="2020-01-01"' in html
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_a_stale_form_is_refused_with_a_message(world, client, alert):
    client.force_login(world.users["clerk_a"])
    stale = alert.version
    svc.alert_acknowledge(actor=world.users["clerk_a"], alert=alert)
    response = client.post(f"/alerts/{alert.pk}/rectify/", {"cause": "x", "version": stale})
    assert response.status_code in (400, 409)
    response = client.post(f"/alerts/{alert.pk}/acknowledge/", {"version": stale})
    assert response.status_code == 409 and "请刷新后重试" in _text(response)


def test_who_may_not_act_gets_no_form_and_no_write(world, client, alert):
    client.force_login(world.users["leader_a"])
    html = _text(client.get(f"/alerts/{alert.pk}/"))
    assert "确认预警" not in html and "您可以查看但不能操作" in html
    response = client.post(f"/alerts/{alert.pk}/acknowledge/", {})
    assert response.status_code == 403
    client.force_login(world.users["clerk_b"])
    assert client.post(f"/alerts/{alert.pk}/acknowledge/", {}).status_code == 404
    assert client.get(f"/alerts/{alert.pk}/evidence/").status_code == 404
    assert client.post(f"/alerts/{alert.pk}/nonsense/", {}).status_code == 404
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_escalated_alert_shows_the_level_and_the_new_unit(world, client, alert):
    svc.alerts_escalate(now=timezone.now() + timedelta(days=4))
    svc.alerts_escalate(now=timezone.now() + timedelta(days=8))
    client.force_login(world.users["regulator"])
    html = _text(client.get(f"/alerts/{alert.pk}/"))
    assert re.search(r'id="responsible">杭州市 <span class="esc">已升级 2 级</span>', html)
    assert "超时未确认，升级" in html


# Notifications and the header ----------------------------------------------------------------------------------


def test_header_badge_counts_unread_notifications_and_waiting_alerts(world, client, alert):
    client.force_login(world.users["clerk_a"])
    html = _text(client.get("/"))
    # one notification (the firing) + one alert waiting for the clerk
    assert re.search(r'id="alert-badge"[^>]*>预警<span class="count">2</span></a>', html, re.S)
    assert "预警：1 条待处理，1 条未读通知" in html
    client.logout()
    assert "alert-badge" not in _text(client.get("/accounts/login/"))


def test_notifications_list_and_mark_read(world, client, alert):
    clerk = world.users["clerk_a"]
    client.force_login(clerk)
    html = _text(client.get("/alerts/notifications/"))
    assert "【预警】西湖区翠苑一区老旧小区改造工程超支8.00%" in html and 'class="card note unread"' in html
    note = Notification.objects.get(user=clerk)
    response = client.post("/alerts/notifications/read/", {"id": note.pk, "next": "/alerts/notifications/"})
    assert response.status_code == 302 and response["Location"] == "/alerts/notifications/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'class="card note unread"' not in _text(client.get("/alerts/notifications/"))
    # Only one's own notifications are marked, and an outside "next" is ignored.
    other = Notification.objects.create(user=world.users["regulator"], text="x")
    response = client.post("/alerts/notifications/read/", {"id": other.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/alerts/notifications/"
    other.refresh_from_db()
    assert other.read_at is None


# The project page and the ledger -------------------------------------------------------------------------------


def test_project_page_shows_its_open_alerts(world, client, project):
    pay(world, project, "50000.00", "V2")  # 13 %: the 严重 fires too
    client.force_login(world.users["clerk_a"])
    html = _text(client.get(f"/projects/{project.pk}/"))
    assert 'class="badge-alerts" href="#alerts">2 条未闭环预警</a>' in html
    panel = html[html.index('id="alerts"') :]
    alerts = list(Alert.objects.filter(project=project).order_by("-severity"))
    assert panel.index("严重超支13.00%") < panel.index("超支13.00%，已支出")  # severest first
    assert all(f'href="/alerts/{a.pk}/"' in panel for a in alerts)


def test_ledger_rows_carry_their_alert_count(world, client, project, django_assert_num_queries):
    client.force_login(world.users["clerk_a"])
    html = _text(client.get("/projects/"))
    assert f'href="/alerts/?tab=all&amp;project={project.pk}"' in html and "1 条预警" in html
    assert "有未闭环的规则预警" in html and "暂按逾期、超支判断" not in html


def test_a_blocking_rule_is_shown_inside_the_expenditure_form(world, client, project):
    client.force_login(world.users["clerk_a"])
    typed = {
        "voucher_no": "PZ-9",
        "paid_on": "2026-05-02",
        "payee": "杭州某建设集团",
        "amount": "150000.00",
        "note": "二期进度款",
        "anchor": "#money",
    }
    response = client.post(f"/projects/{project.pk}/expenditures/", typed)
    assert response.status_code == 302 and response["Location"].endswith("#money")
    html = _text(client.get(response["Location"]))
    form_area = html[html.index("登记支出") : html.index('id="expenditure-form"')]
    assert 'data-code="rule_blocked"' in form_area and "规则阻止了本次操作" in form_area
    assert "超支23.00%，暂停登记新的支出" in form_area and "超支两成禁止支出" in form_area
    form = html[html.index('id="expenditure-form"') :]
    assert 'value="PZ-9"' in form and 'value="150000.00"' in form and 'value="二期进度款"' in form
    assert not Expenditure.objects.filter(voucher_no="PZ-9").exists()
    # The error is shown once: a reload shows the plain form again.
    assert "规则阻止了本次操作" not in _text(client.get(f"/projects/{project.pk}/"))


def test_alert_pages_speak_english(world, client, alert):
    """The interface around the data is translated; the data (messages, names) stays as it was written."""
    client.force_login(world.users["clerk_a"])
    pages = {
        "/alerts/": ("Alert inbox", "Waiting for me", "All statuses", "Responsible unit", "First fired"),
        f"/alerts/{alert.pk}/": ("Why it fired", "Values", "Versions in force", "Acknowledge", "History"),
        "/alerts/notifications/": ("Notifications", "Mark all as read", "Unread"),
        "/rules/regulations/": ("Policy library",),
    }
    chinese = (
        "预警收件箱",
        "待处理",
        "全部状态",
        "责任单位",
        "为什么触发",
        "生效版本",
        "确认预警",
        "处理记录",
        "全部标为已读",
        "法规政策库",
        "首次触发",
    )
    for url, english in pages.items():
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert all(text in html for text in english), (url, [t for t in english if t not in html])
        visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S))
        assert not [t for t in chinese if t in visible], url
    assert (
        "超支8.00%" in client.get("/alerts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )  # data as written


def test_contract_form_errors_stay_in_the_contract_form(world, client, project):
    client.force_login(world.users["clerk_a"])
    typed = {
        "code": "HT-9",
        "name": "二期施工",
        "kind": "施工",
        "counterparty": "",
        "amount": "-5",
        "anchor": "#contracts",
    }
    response = client.post(f"/projects/{project.pk}/contracts/", typed)
    html = _text(client.get(response["Location"]))
    area = html[html.index('id="contracts"') :]
    assert 'data-code="validation_failed"' in area and 'value="HT-9"' in area and 'value="二期施工"' in area
    assert "<details open><summary>登记合同</summary>" in area  # reopened
