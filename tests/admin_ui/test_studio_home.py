"""The studio's front page: every editor reachable, the user's rights said plainly, the types they may see listed
with their flow designer; the home page's 配置工作台 card for anyone who may view configuration."""

from __future__ import annotations

import pytest

from tests.admin_ui.helpers import client_for

pytestmark = pytest.mark.django_db


def test_config_admin_sees_every_editor_and_may_change(flows, config_admin):
    html = client_for(config_admin).get("/studio/").content.decode()
    for href in ("/studio/types/", "/studio/forms/", "/studio/rules/", "/studio/import/", "/rules/packs/"):
        assert f'href="{href}"' in html
    assert "您是配置管理员" in html
    assert "/studio/flows/flowtype/" in html


def test_staff_may_look_but_not_change(flows, world):
    response = client_for(world.users["clerk_a"]).get("/studio/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "您可以查看适用于本机构的配置，但不能修改" in html
    assert "您是配置管理员" not in html


def test_regulator_is_told_about_packs(world):
    html = client_for(world.users["regulator"]).get("/studio/").content.decode()
    assert "您可以加载和发布政策规则包" in html


def test_a_user_without_roles_is_refused(world):
    assert client_for(world.users["nobody"]).get("/studio/").status_code == 403


def test_home_page_card_leads_to_the_studio(world):
    html = client_for(world.users["clerk_a"]).get("/").content.decode()
    assert 'href="/studio/"' in html
    assert 'data-action="approval.act"' not in html


def test_every_studio_page_reads_in_english(flows, config_admin):
    client = client_for(config_admin, lang="en")
    for url in (
        "/studio/",
        "/studio/types/",
        "/studio/forms/",
        "/studio/rules/",
        "/studio/import/",
        "/studio/export/",
        "/studio/flows/flowtype/",
        "/studio/types/flowtype/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'lang="en"' in html, url
    assert "Configuration studio" in client.get("/studio/").content.decode()


def test_list_pages_read_version_numbers_in_one_query(
    published_form, config_admin, django_assert_num_queries
):
    from admin_ui.versions import version_numbers
    from forms import services

    v1 = published_form.published()
    services.form_draft_save(
        actor=config_admin, form=published_form, schema=v1.schema, ui_schema=v1.ui_schema
    )
    with django_assert_num_queries(1):
        numbers = version_numbers([published_form])
    assert numbers == {published_form.pk: {"published": v1.number, "draft": v1.number + 1}}
