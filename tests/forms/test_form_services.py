"""Forms through the service layer on PostgreSQL: publish checks, immutable versions, pinning, validation, migration."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from core.errors import Conflict, PermissionDenied, ValidationFailed
from forms import services
from forms.models import FormVersion, Submission

pytestmark = pytest.mark.django_db


def test_publish_freezes_a_version_with_content_hash(published_form):
    version = published_form.published()
    assert version.number == 1 and version.status == FormVersion.Status.PUBLISHED
    assert len(version.content_hash) == 64
    assert AuditEvent.objects.filter(action="form.publish", object_id=str(version.pk)).exists()


def test_publish_rejects_bad_definitions_with_paths(world, config_admin, example_definition):
    broken = copy.deepcopy(example_definition)
    broken["ui_schema"]["fields"]["资金合计"]["computed"] = "sum(资金来源.金 额"
    broken["ui_schema"]["sections"][0]["fields"].append("不存在的字段")
    form = services.form_create(
        actor=config_admin,
        org=world.city,
        code="broken",
        name="坏表单",
        schema=broken["schema"],
        ui_schema=broken["ui_schema"],
    )
    with pytest.raises(ValidationFailed) as err:
        services.form_publish(actor=config_admin, form=form)
    assert err.value.code == "definition_invalid"
    text = str(err.value.fields)
    assert "不存在的字段" in text
    assert form.published() is None


def test_only_config_admins_publish(world, published_form, example_definition):
    with pytest.raises(PermissionDenied):
        services.form_draft_save(
            actor=world.users["clerk_a"], form=published_form, schema=example_definition["schema"]
        )


def test_submit_validates_and_pins_version(world, published_form, valid_data):
    submission = services.submission_save(
        actor=world.users["clerk_a"], form=published_form, org=world.bureau_a, data=valid_data, submit=True
    )
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.form_version.number == 1
    assert submission.data["项目总投资"] == "12800000.00"
    assert services.typed_data(submission.form_version, submission.data)["项目总投资"] == Decimal(
        "12800000.00"
    )


def test_submit_reports_field_errors_in_chinese(world, published_form, valid_data):
    bad = dict(valid_data, 建设单位信用代码="913301005000000003", 改造户数=0)
    with pytest.raises(ValidationFailed) as err:
        services.submission_save(
            actor=world.users["clerk_a"], form=published_form, org=world.bureau_a, data=bad, submit=True
        )
    messages = " ".join(m for ms in err.value.fields.values() for m in ms)
    assert "统一社会信用代码" in messages
    assert "改造户数" in messages
    assert not Submission.objects.exists()


def test_conditional_requiredness_and_cross_field_rules(world, published_form, valid_data):
    missing_lifts = {k: v for k, v in valid_data.items() if k != "加装电梯数量"}
    errors = services.submission_validate(version=published_form.published(), data=missing_lifts)
    assert any(e.path == "加装电梯数量" for e in errors)
    no_lifts = dict(missing_lifts, 是否加装电梯=False)
    assert services.submission_validate(version=published_form.published(), data=no_lifts) == []
    unbalanced = dict(valid_data, 项目总投资=Decimal("13000000.00"))
    errors = services.submission_validate(version=published_form.published(), data=unbalanced)
    assert any("资金来源合计应等于项目总投资" in str(e) for e in errors)


def test_draft_may_be_incomplete_then_submitted(world, published_form, valid_data):
    clerk = world.users["clerk_a"]
    draft = services.submission_save(
        actor=clerk, form=published_form, org=world.bureau_a, data={"项目名称": "半成品"}, submit=False
    )
    assert draft.status == Submission.Status.DRAFT
    done = services.submission_save(
        actor=clerk, form=published_form, org=world.bureau_a, data=valid_data, submit=True, submission=draft
    )
    assert done.pk == draft.pk and done.status == Submission.Status.SUBMITTED
    with pytest.raises(Conflict):
        services.submission_save(
            actor=clerk,
            form=published_form,
            org=world.bureau_a,
            data=valid_data,
            submit=True,
            submission=done,
        )


def test_other_district_cannot_fill_for_district_a(world, published_form, valid_data):
    with pytest.raises(PermissionDenied):
        services.submission_save(
            actor=world.users["clerk_b"],
            form=published_form,
            org=world.bureau_a,
            data=valid_data,
            submit=True,
        )


def test_new_version_keeps_old_records_on_their_version_and_migrates_with_mapping(
    world, config_admin, published_form, valid_data, example_definition
):
    clerk = world.users["clerk_a"]
    old = services.submission_save(
        actor=clerk, form=published_form, org=world.bureau_a, data=valid_data, submit=True
    )
    schema = copy.deepcopy(example_definition["schema"])
    schema["properties"]["受益户数"] = schema["properties"].pop("改造户数")
    schema["properties"]["受益户数"]["title"] = "受益户数"
    schema["required"] = ["受益户数" if r == "改造户数" else r for r in schema["required"]]
    schema["properties"]["所在街道"] = {"type": "string", "title": "所在街道", "x-field": "text"}
    schema["required"].append("所在街道")
    ui = copy.deepcopy(example_definition["ui_schema"])
    ui["sections"][0]["fields"] = ["受益户数" if f == "改造户数" else f for f in ui["sections"][0]["fields"]]
    services.form_draft_save(actor=config_admin, form=published_form, schema=schema, ui_schema=ui)
    v2 = services.form_publish(actor=config_admin, form=published_form)
    assert v2.number == 2
    old.refresh_from_db()
    assert old.form_version.number == 1
    assert (
        services.submission_validate(
            version=old.form_version, data=services.typed_data(old.form_version, old.data)
        )
        == []
    )

    preview = services.submissions_migrate_preview(
        actor=config_admin,
        form=published_form,
        from_number=1,
        to_number=2,
        mapping={"受益户数": {"from": "改造户数"}},
    )
    assert preview["total"] == 1 and preview["passed"] == 0 and len(preview["failed"]) == 1
    mapping = {"受益户数": {"from": "改造户数"}, "所在街道": {"default": "翠苑街道"}}
    preview = services.submissions_migrate_preview(
        actor=config_admin, form=published_form, from_number=1, to_number=2, mapping=mapping
    )
    assert preview["passed"] == 1
    result = services.submissions_migrate(
        actor=config_admin, form=published_form, from_number=1, to_number=2, mapping=mapping
    )
    assert result == {"moved": 1, "kept": 0}
    old.refresh_from_db()
    assert old.form_version.number == 2
    assert old.data["受益户数"] == 1460 and old.data["所在街道"] == "翠苑街道"


def test_published_version_cannot_be_edited_in_place(published_form):
    version = published_form.published()
    version.schema = {"type": "object"}
    with pytest.raises(TypeError):
        version.save()
