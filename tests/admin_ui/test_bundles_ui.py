"""The studio's import and export pages: problems shown under their line, a bundle's diff and a pack's impact
previewed before anything is written, a confirm that loads exactly what was previewed (tampering refused),
permissions (403, nothing loaded), and downloads that ``bundle_parse`` reads back."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bundles import bundle_parse
from tests.bundles.conftest import line_of
from tests.rules.rule_fixtures import pack_text

pytestmark = pytest.mark.django_db

IMPORT = "/studio/import/"
EXPORT = "/studio/export/"
LAOJIU = Path(__file__).resolve().parents[2] / "examples" / "bundles" / "laojiu.yaml"


@pytest.fixture
def laojiu_text() -> str:
    return LAOJIU.read_text(encoding="utf-8")


def _html(response) -> str:
    return response.content.decode()


def _hidden(html: str) -> dict[str, str]:
    form = html[html.index('id="confirm-form"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def _line(html: str, number: int) -> str:
    """The listing's ``<li>`` of line ``number``, with whatever is attached under it."""
    start = html.index(f'<li id="L{number}"')
    end = html.find('<li id="L', start + 5)
    return html[start : end if end > 0 else None]


def _check(client, text: str, org: str = "330100", **files):
    return client.post(IMPORT, {"op": "check", "org": org, "text": text, **files})


def test_a_bundle_problem_is_shown_under_its_line(world, config_admin, client, laojiu_text):
    broken = laojiu_text.replace(
        "title: 项目总投资\n          x-field: money\n", "title: 项目总投资\n          x-field: monye\n"
    )
    client.force_login(config_admin)
    response = _check(client, broken)
    html = _html(response)
    assert response.status_code == 400, html
    number = line_of(broken, "x-field: monye")
    line = _line(html, number)
    assert 'class="bad"' in line and "x-field: monye" in line
    assert "line-problem" in line and "monye" in line.split("line-problem", 1)[1]
    assert f'href="#L{number}"' in html  # the list at the top links to the line
    assert 'id="confirm-form"' not in html  # no load offered
    from forms.models import Form

    assert not Form.objects.exists()


def test_a_valid_bundle_previews_its_diff_and_loads_on_confirm(world, config_admin, client, laojiu_text):
    from audit.models import AuditEvent
    from forms.models import Form
    from projects.models import ProjectType

    client.force_login(config_admin)
    response = client.post(
        IMPORT,
        {"op": "check", "org": "330100", "file": SimpleUploadedFile("laojiu.yaml", laojiu_text.encode())},
    )
    html = _html(response)
    assert response.status_code == 200, html
    assert "+ 表单 laojiu-lixiang" in html and "+ 项目类型 laojiu" in html
    assert "新建" in html
    assert not ProjectType.objects.exists() and not AuditEvent.objects.filter(action="bundle.export").exists()
    hidden = _hidden(html)
    assert base64.b64decode(hidden["source"]).decode() == laojiu_text
    assert hidden["kind"] == "bundle" and hidden["filename"] == "laojiu.yaml"

    response = client.post(IMPORT, hidden)
    html = _html(response)
    assert response.status_code == 200, html
    assert 'id="load-report"' in html and "新建 4 项" in html
    assert ProjectType.objects.get(code="laojiu").published().number == 1
    assert Form.objects.filter(org=world.city).count() == 3
    event = AuditEvent.objects.get(action="bundle.load")
    assert event.actor == config_admin
    assert AuditEvent.objects.filter(action__startswith="form.").exists()

    # the same file again: nothing would change
    again = _html(_check(client, laojiu_text))
    assert "与现行配置相同" in again and "未变化" in again


def test_text_changed_between_preview_and_load_is_refused(world, config_admin, client, laojiu_text):
    from audit.models import AuditEvent
    from projects.models import ProjectType

    client.force_login(config_admin)
    hidden = _hidden(_html(_check(client, laojiu_text)))
    tampered = laojiu_text.replace("超支预警线: 0.05", "超支预警线: 0.50", 1)
    hidden["source"] = base64.b64encode(tampered.encode()).decode()
    response = client.post(IMPORT, hidden)
    assert response.status_code == 409
    assert "与预览时不一致" in _html(response)
    hidden["source"] = base64.b64encode(laojiu_text.encode()).decode()
    hidden["token"] = hidden["token"][:-2] + "xx"
    assert client.post(IMPORT, hidden).status_code == 409
    assert not ProjectType.objects.exists() and not AuditEvent.objects.filter(action="bundle.load").exists()


def test_a_pack_upload_previews_its_tests_and_impact_and_loads(world, project_type, client):
    from rules.models import PackStatus, RulePack

    client.force_login(world.users["regulator"])
    source = pack_text()
    response = client.post(
        IMPORT, {"op": "check", "org": "330100", "file": SimpleUploadedFile("zijin.yaml", source)}
    )
    html = _html(response)
    assert response.status_code == 200, html
    assert "规则包预览：t-zijin v1" in html and "R1 超支预警" in html and "新增" in html
    assert 'id="pack-tests"' in html and "✓" in html
    assert not RulePack.objects.exists()
    response = client.post(IMPORT, _hidden(html))
    assert response.status_code == 200, _html(response)
    pack = RulePack.objects.get()
    assert (pack.code, pack.version, pack.status) == ("t-zijin", "1", PackStatus.ACTIVE)
    assert pack.source.encode() == source

    # version 2 shows what changed against the version in force
    html = _html(_check(client, pack_text(version="2", when="超支率 > 5.5%").decode()))
    assert "与现行版本的差异" in html and "将取代现行 v1" in html
    assert "超支率 &gt; 5.5%" in html


def test_a_pack_that_fails_its_tests_shows_the_problem_at_its_line(world, project_type, client):
    client.force_login(world.users["regulator"])
    source = pack_text(expect="false").decode()
    response = _check(client, source)
    html = _html(response)
    assert response.status_code == 400, html
    number = line_of(source, "expect:")
    assert "line-problem" in _line(html, number)


def test_without_permission_the_import_is_refused_and_nothing_loads(world, config_admin, client, laojiu_text):
    from projects.models import ProjectType

    client.force_login(config_admin)
    hidden = _hidden(_html(_check(client, laojiu_text)))
    client.force_login(world.users["clerk_a"])
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, hidden).status_code == 403
    client.force_login(world.users["regulator"])  # may load packs, not bundles
    assert client.post(IMPORT, hidden).status_code == 403
    assert _check(client, laojiu_text).status_code == 403
    assert not ProjectType.objects.exists()


def test_export_of_an_org_and_of_one_type_downloads_yaml_that_reads_back(
    world, config_admin, client, laojiu_text
):
    from audit.models import AuditEvent
    from bundles.services import bundle_load

    bundle_load(actor=None, bundle=bundle_parse(laojiu_text, filename="laojiu.yaml"), org=world.city)
    client.force_login(config_admin)
    page = _html(client.get(EXPORT))
    assert "?type=laojiu" in page and '<option value="330100" selected>' in page

    response = client.get(EXPORT + "download/", {"org": "330100"})
    assert response.status_code == 200
    assert (
        response["Content-Disposition"].startswith("attachment")
        and "330100" in response["Content-Disposition"]
    )
    whole = bundle_parse(response.content.decode(), filename="org.yaml")
    assert whole.org == "330100" and [t["code"] for t in whole.project_types] == ["laojiu"]
    assert len(whole.forms) == 3

    response = client.get(EXPORT + "download/", {"type": "laojiu"})
    assert response.status_code == 200 and "laojiu" in response["Content-Disposition"]
    one = bundle_parse(response.content.decode(), filename="type.yaml")
    assert [t["code"] for t in one.project_types] == ["laojiu"]
    assert AuditEvent.objects.filter(action="bundle.export", actor=config_admin).count() == 2

    # a clerk may view (and export) only the configuration of its own org
    client.force_login(world.users["clerk_a"])
    assert client.get(EXPORT).status_code == 200
    assert client.get(EXPORT + "download/", {"type": "laojiu"}).status_code == 403
    assert client.get(EXPORT + "download/", {"org": "330100"}).status_code == 404
    own = client.get(EXPORT + "download/", {"org": world.bureau_a.code})
    assert own.status_code == 200 and bundle_parse(own.content.decode()).org == world.bureau_a.code


def test_the_source_of_a_pack_in_force_downloads_byte_for_byte(world, project_type, client):
    from rules.services.packs import pack_load

    source = pack_text()
    pack = pack_load(actor=None, org=world.city, source=source, filename="zijin.yaml")
    client.force_login(world.users["clerk_a"])  # the pack applies to its org
    page = _html(client.get(EXPORT))
    assert f"/studio/export/packs/{pack.pk}/" in page
    response = client.get(f"/studio/export/packs/{pack.pk}/")
    assert response.status_code == 200 and response.content == source
    assert "t-zijin" in response["Content-Disposition"]


def test_where_signing_is_required_the_signature_is_asked_for_and_verified(
    world, project_type, client, settings
):
    from rules.models import RulePack
    from rules.packs_sign import keygen, sign

    pem, public = keygen()
    settings.TAIZHANG_RULEPACK_SIGNING = {"required_for": ["330100"], "keys": {"test-key": public}}
    client.force_login(world.users["regulator"])
    assert 'id="bi-sig"' in _html(client.get(IMPORT))
    source = pack_text()
    unsigned = _check(client, source.decode())
    assert unsigned.status_code == 400 and "签名文件" in _html(unsigned)

    signature = sign(source, pem, key_id="test-key")
    response = client.post(
        IMPORT,
        {
            "op": "check",
            "org": "330100",
            "file": SimpleUploadedFile("zijin.yaml", source),
            "signature": SimpleUploadedFile("zijin.yaml.sig", signature),
        },
    )
    assert response.status_code == 200, _html(response)
    hidden = _hidden(_html(response))
    assert base64.b64decode(hidden["signature_b64"]) == signature
    assert client.post(IMPORT, hidden | {"signature_b64": ""}).status_code == 409  # dropped after preview
    assert client.post(IMPORT, hidden).status_code == 200
    assert RulePack.objects.get().signed_by == "test-key"
