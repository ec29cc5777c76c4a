"""The staff page without a browser: attachments through Django storage, long repeating groups paged without loss."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from forms import services
from forms.models import Attachment, Submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def form_with_file(world, config_admin, example_definition):
    schema = json.loads(json.dumps(example_definition["schema"]))
    schema["properties"]["可研报告"] = {
        "type": "object",
        "title": "可研报告",
        "x-field": "file",
        "x-max-size": 1024,
        "x-accept": ["application/pdf"],
        "properties": {
            "name": {"type": "string"},
            "size": {"type": "integer"},
            "content_type": {"type": "string"},
            "key": {"type": "string"},
        },
        "required": ["name", "size", "content_type", "key"],
        "additionalProperties": False,
    }
    form = services.form_create(
        actor=config_admin,
        org=world.city,
        code="with-file",
        name="带附件",
        schema=schema,
        ui_schema=example_definition["ui_schema"],
    )
    services.form_publish(actor=config_admin, form=form)
    return form


def _post_base() -> dict:
    return {
        "项目名称": "附件测试",
        "建设单位信用代码": "913301005000000002",
        "小区名称": "甲",
        "改造户数": "10",
        "项目总投资": "1",
        "资金来源[0].来源": "中央补助",
        "资金来源[0].金额": "10000",
        "联系人": "甲",
        "联系电话": "13800138000",
    }


def test_upload_is_stored_and_referenced(world, client, form_with_file, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["clerk_a"])
    pdf = SimpleUploadedFile("可研.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post("/forms/with-file/fill/", {**_post_base(), "op": "submit", "可研报告": pdf})
    assert response.status_code == 302, response.content.decode()[:2000]
    attachment = Attachment.objects.get()
    assert attachment.size == len(b"%PDF-1.4 test") and len(attachment.sha256) == 64
    assert Submission.objects.get().data["可研报告"]["key"] == str(attachment.pk)


def test_upload_limits_are_enforced(world, client, form_with_file, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["clerk_a"])
    big = SimpleUploadedFile("大.pdf", b"x" * 2048, content_type="application/pdf")
    response = client.post("/forms/with-file/fill/", {**_post_base(), "op": "submit", "可研报告": big})
    assert response.status_code == 400
    assert "文件不能超过" in response.content.decode()
    exe = SimpleUploadedFile("a.exe", b"MZ", content_type="application/x-msdownload")
    response = client.post("/forms/with-file/fill/", {**_post_base(), "op": "submit", "可研报告": exe})
    assert "不支持的文件类型" in response.content.decode()
    assert not Attachment.objects.exists() and not Submission.objects.exists()


def test_long_group_is_paged_and_no_row_is_lost(world, client, published_form, valid_data):
    rows = [{"来源": "中央补助", "金额": Decimal("100.00")} for _ in range(300)]
    draft = services.submission_save(
        actor=world.users["clerk_a"],
        form=published_form,
        org=world.bureau_a,
        data=dict(valid_data, 资金来源=rows),
        submit=False,
    )
    client.force_login(world.users["clerk_a"])
    page = client.get(f"/forms/submissions/{draft.pk}/").content.decode()
    assert "共 300 行" in page and "1 / 30" in page
    assert page.count('name="资金来源[') == 20  # ten rows of two inputs on the first page
    offpage = page.split('name="__rows__资金来源" value="', 1)[1].split('"', 1)[0]
    post = {
        "项目名称": "翠苑",
        **{f"资金来源[{i}].来源": "中央补助" for i in range(1, 10)},
        **{f"资金来源[{i}].金额": "100.00" for i in range(1, 10)},
        "资金来源[0].来源": "市县配套",
        "资金来源[0].金额": "250",
        "__rows__资金来源": offpage.replace("&quot;", '"'),
        "op": "draft",
    }
    response = client.post(f"/forms/submissions/{draft.pk}/", post)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert len(draft.data["资金来源"]) == 300
    assert draft.data["资金来源"][0] == {"来源": "市县配套", "金额": "250"}
    assert draft.data["资金来源"][299] == {"来源": "中央补助", "金额": "100.00"}


def test_live_state_round_trip(world, client, published_form):
    client.force_login(world.users["clerk_a"])
    response = client.post(
        "/forms/laojiu-lixiang/v1/live/",
        {"是否加装电梯": "true", "资金来源[0].金额": "1.50", "资金来源[1].金额": "2"},
    )
    body = response.content.decode()
    state = json.loads(body.split('data-state="', 1)[1].split('"', 1)[0].replace("&quot;", '"'))
    assert state["visible"]["加装电梯数量"] is True
    assert state["required"]["加装电梯数量"] is True
    assert state["computed"]["资金合计"] == "3.50"
