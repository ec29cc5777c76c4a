"""A person signs in with Chromium at phone and desktop widths and reaches the home page."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_reaches_home_and_ledger(world, live_server, page):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    screenshot(page, "login")
    page.get_by_label("用户名").fill("clerk_a")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="我可以做什么").is_visible()
    assert page.get_by_text("经办人").first.is_visible()
    screenshot(page, "home")
    page.get_by_role("link", name="统一项目台账").click()
    page.wait_for_url("**/projects/")
    assert page.get_by_text("西湖区翠苑一区老旧小区改造").is_visible()
    assert page.get_by_text("上城区紫阳街道老旧小区整治").count() == 0
    screenshot(page, "ledger")


def test_wrong_password_shows_chinese_error(world, live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("clerk_a")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().startswith("用户名或密码错误")


def test_switch_to_english(world, live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", name="Sign in to Taizhang").is_visible()
