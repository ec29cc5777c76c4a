"""Rule-pack pages for regulators: the list, a pack's page with its rules and verdicts, the upload page (tests,
problems shown at their file:line, the impact preview, confirm to load) and the policy library."""

from __future__ import annotations

import base64
import re

import pytest

from rules.models import PackStatus, RulePack

from .rule_fixtures import laojiu_project, pack_text, pay

pytestmark = pytest.mark.django_db


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/x-yaml")


def _text(response) -> str:
    return response.content.decode()


@pytest.fixture
def overspent(world, project_type, valid_data):
    """A project 8 % over budget, before any pack exists (so nothing has fired yet)."""
    project = laojiu_project(world, project_type, valid_data, budget="1000000.00")
    pay(world, project, "1080000.00", "V1")
    return project


def test_pack_pages_are_for_regulators(world, client):
    client.force_login(world.users["clerk_a"])
    assert client.get("/rules/packs/").status_code == 403
    assert client.get("/rules/packs/upload/").status_code == 403
    client.force_login(world.users["regulator"])
    html = _text(client.get("/rules/packs/"))
    assert "还没有加载任何规则包" in html and 'href="/rules/packs/upload/"' in html
    form = _text(client.get("/rules/packs/upload/"))
    assert '<option value="330100" selected>杭州市（330100）</option>' in form  # its own org first
    assert '<option value="330106">西湖区（330106）</option>' in form  # or any org below it


def test_upload_tests_previews_and_loads_on_confirm(world, client, overspent):
    client.force_login(world.users["regulator"])
    source = pack_text()
    response = client.post(
        "/rules/packs/upload/", {"op": "check", "org": "330100", "file": _upload("zijin.yaml", source)}
    )
    html = _text(response)
    assert response.status_code == 200, html
    assert "2 项测试全部通过" in html  # untyped, and again on the 老旧小区改造 type in scope
    assert "首次加载 v1" in html and "新增预警 1 个" in html
    assert f'href="/projects/{overspent.pk}/">{overspent.name}</a>' in html
    assert not RulePack.objects.exists()  # a preview writes nothing
    hidden = re.search(r'name="source" value="([^"]+)"', html).group(1)
    assert base64.b64decode(hidden) == source

    response = client.post(
        "/rules/packs/upload/",
        {"op": "load", "org": "330100", "filename": "zijin.yaml", "source": hidden, "signature_b64": ""},
    )
    pack = RulePack.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/rules/packs/{pack.pk}/"
    page = _text(client.get(response["Location"]))
    assert "规则包“测试资金规则” v1 已加载到杭州市" in page
    assert "R1" in page and "超支预警" in page and '<code class="dsl">超支率 &gt; 5%</code>' in page
    assert "经办人、监管人员" in page  # notify roles by name
    assert ("在数据库中执行" in page) or ("在 Python 中执行" in page)
    assert pack.checksum in page and "未签名" in page
    article = pack.rules.get().article
    assert f'href="/rules/regulations/{article.regulation_id}/#article-{article.pk}"' in page
    listing = _text(client.get("/rules/packs/"))
    assert "测试资金规则" in listing and "生效中" in listing and pack.checksum[:16] in listing


def test_a_new_version_supersedes_and_both_are_listed(world, client, overspent):
    client.force_login(world.users["regulator"])
    for version in ("1", "2"):
        data = base64.b64encode(pack_text(version=version)).decode()
        client.post(
            "/rules/packs/upload/", {"op": "load", "org": "330100", "filename": "p.yaml", "source": data}
        )
    assert list(RulePack.objects.order_by("version").values_list("status", flat=True)) == [
        PackStatus.SUPERSEDED,
        PackStatus.ACTIVE,
    ]
    html = _text(client.get("/rules/packs/"))
    assert "已被新版本取代" in html and "生效中" in html


def test_parse_and_type_errors_are_shown_at_their_line(world, client):
    client.force_login(world.users["regulator"])
    broken = pack_text(when="超支率 > 5% 且 不存在的字段 > 1")
    response = client.post(
        "/rules/packs/upload/", {"op": "check", "org": "330100", "file": _upload("bad.yaml", broken)}
    )
    html = _text(response)
    assert response.status_code == 400
    line = next(n for n, text in enumerate(broken.decode().splitlines(), 1) if "不存在的字段" in text)
    assert re.search(rf'<li id="L{line}" class="bad">', html), html[:3000]
    assert f"bad.yaml:{line}" in html
    assert "不存在的字段" in html
    assert not RulePack.objects.exists()

    garbage = b"pack: [unclosed\n"
    response = client.post(
        "/rules/packs/upload/", {"op": "check", "org": "330100", "file": _upload("x.yaml", garbage)}
    )
    assert response.status_code == 400 and "x.yaml:" in _text(response)


def test_failing_embedded_tests_block_the_preview(world, client):
    client.force_login(world.users["regulator"])
    response = client.post(
        "/rules/packs/upload/",
        {"op": "check", "org": "330100", "file": _upload("t.yaml", pack_text(expect="false"))},
    )
    html = _text(response)
    assert response.status_code == 400
    assert "0 项通过，1 项未通过" in html and "期望不触发" in html
    assert 'name="op" value="load"' not in html


def test_load_checks_again_what_comes_back_from_the_browser(world, client):
    client.force_login(world.users["regulator"])
    tampered = base64.b64encode(pack_text(expect="false")).decode()
    response = client.post(
        "/rules/packs/upload/", {"op": "load", "org": "330100", "filename": "t.yaml", "source": tampered}
    )
    assert response.status_code == 400 and "未载入" in _text(response)
    assert not RulePack.objects.exists()
    response = client.post(
        "/rules/packs/upload/", {"op": "load", "org": "330100", "filename": "t.yaml", "source": "%%%"}
    )
    assert response.status_code == 400 and "请重新选择文件" in _text(response)


def test_upload_form_errors_are_next_to_their_fields(world, client):
    client.force_login(world.users["regulator"])
    response = client.post("/rules/packs/upload/", {"op": "check", "org": ""})
    html = _text(response)
    assert response.status_code == 400 and 'id="e-org">适用机构：请选择您可管理的机构' in html
    response = client.post("/rules/packs/upload/", {"op": "check", "org": "330106"})  # not its org
    assert response.status_code == 400
    response = client.post("/rules/packs/upload/", {"op": "check", "org": "330100"})
    assert 'id="e-file">规则包文件：请选择 .yaml 文件' in _text(response)


def test_regulation_library_lists_articles_with_anchors(world, client):
    client.force_login(world.users["regulator"])
    data = base64.b64encode(pack_text()).decode()
    client.post("/rules/packs/upload/", {"op": "load", "org": "330100", "filename": "p.yaml", "source": data})
    from rules.models import Regulation

    regulation = Regulation.objects.get()
    article = regulation.articles.get()
    client.force_login(world.users["clerk_a"])  # public law: every signed-in user reads it
    assert "《测试用法规（虚构）》" in _text(client.get("/rules/regulations/"))
    html = _text(client.get(f"/rules/regulations/{regulation.pk}/"))
    assert f'id="article-{article.pk}"' in html and "项目支出不得超过预算" in html
    assert client.get("/rules/regulations/999999/").status_code == 404
