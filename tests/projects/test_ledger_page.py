"""The ledger page /projects/: filters in the query string, HTMX partials, inline errors, totals, isolation."""

from __future__ import annotations

import pytest

from . import test_ledger

pytestmark = pytest.mark.django_db
ledger = test_ledger.ledger  # the shared fixture: projects of both districts in every stage


def _page(client, user, **params):
    client.force_login(user)
    return client.get("/projects/", params)


def test_page_lists_totals_badges_and_links(ledger, client):
    response = _page(client, ledger.world.users["leader_a"], ordering="code")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in html and "统一项目台账" in html
    assert ledger.p1.name in html and ledger.pb.name not in html
    assert f'href="/projects/{ledger.p1.pk}/"' in html
    assert "共 4 个项目" in html and "1,730.00 万元" in html and "¥17,300,000.00" in html
    assert "10.98%" in html and "70.00%" in html
    assert 'class="badge overdue">逾期<' in html and 'class="badge over">超支<' in html
    assert 'href="/api/v1/projects/export/?ordering=code"' in html
    assert "projects/ledger.css" in html


def test_filters_work_without_javascript_and_stay_in_the_query_string(ledger, client):
    html = _page(client, ledger.world.users["leader_a"], stage="执行", year="2025").content.decode()
    assert ledger.p1.name in html and ledger.p2.name not in html
    assert "共 1 个项目" in html
    assert '<option value="执行" selected>' in html
    assert "/api/v1/projects/export/?stage=%E6%89%A7%E8%A1%8C&amp;year=2025" in html


def test_pinyin_search_on_the_page(ledger, client):
    html = _page(client, ledger.world.users["leader_a"], search="cyyq").content.decode()
    assert ledger.p1.name in html and ledger.p2.name not in html


def test_invalid_filter_shows_an_inline_message_not_a_500(ledger, client):
    response = _page(client, ledger.world.users["leader_a"], year="二〇二六", ordering="x")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and "年度：应为" in html and "排序：" in html
    assert 'aria-invalid="true" aria-describedby="e-year"' in html
    assert '<option value="-updated_at" selected>' in html  # the bad ordering falls back to the default
    assert ledger.p1.name not in html


def test_htmx_request_gets_only_the_results_and_a_clean_url(ledger, client):
    client.force_login(ledger.world.users["leader_a"])
    response = client.get(
        "/projects/",
        {"search": "", "stage": "执行", "org": "", "page_size": "20"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="ledger-results",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="ledger-results"')
    assert "<h1" not in html and 'hx-swap-oob="true"' in html
    assert response["HX-Push-Url"] == "/projects/?stage=%E6%89%A7%E8%A1%8C"
    bad = client.get("/projects/", {"year": "x"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ledger-results")
    assert bad.status_code == 200 and "年度：应为" in bad.content.decode()


def test_pagination_keeps_the_filters(ledger, client):
    html = _page(client, ledger.world.users["leader_a"], page_size="2", ordering="budget").content.decode()
    assert "第 1 / 2 页" in html
    assert 'href="?ordering=budget&amp;page=2&amp;page_size=2"' in html
    html = client.get("/projects/", {"page_size": "2", "ordering": "budget", "page": "9"}).content.decode()
    assert "第 2 / 2 页" in html  # past the end: the last page, not an error


def test_other_district_sees_only_its_own_totals(ledger, client):
    html = _page(client, ledger.world.users["clerk_b"]).content.decode()
    assert ledger.pb.name in html and ledger.p1.name not in html
    assert "共 1 个项目" in html and "¥1,000,000.00" in html


def test_user_without_export_right_gets_no_export_link(ledger, client):
    from accounts.models import Role
    from accounts.services import grant_create
    from tests.factories import UserFactory

    viewer = UserFactory(username="approver_a", org=ledger.world.bureau_a)
    grant_create(actor=None, user=viewer, role=Role.objects.get(code="approver"), org=ledger.world.bureau_a)
    html = _page(client, viewer).content.decode()
    assert ledger.p1.name in html and "导出 Excel" not in html
