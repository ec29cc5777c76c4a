"""行政区划代码 rules, as pure functions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orgs import divisions


def test_valid_codes_at_each_level():
    assert divisions.problems("330000", expected_level=divisions.PROVINCE) == []
    assert divisions.problems("330100", expected_level=divisions.PREFECTURE, parent_code="330000") == []
    assert divisions.problems("330106", expected_level=divisions.COUNTY, parent_code="330100") == []
    assert divisions.problems("469001", expected_level=divisions.COUNTY, parent_code="460000") == []


def test_malformed_codes_are_named():
    assert divisions.problems("33010") == ["行政区划代码必须是 6 位数字"]
    assert divisions.problems("3301０6") == ["行政区划代码必须是 6 位数字"]
    assert "不是有效的省级代码" in divisions.problems("990000")[0]
    assert any("不能为 00" in p for p in divisions.problems("330006"))


def test_code_must_sit_under_its_parent():
    found = divisions.problems("320106", expected_level=divisions.COUNTY, parent_code="330100")
    assert found == ["代码“320106”不属于上级区划“330100”"]


def test_level_mismatch_is_explained():
    assert divisions.problems("330106", expected_level=divisions.PREFECTURE) == [
        "此处需要地级代码，“330106”是县级代码"
    ]


@given(st.sampled_from(sorted(divisions.PROVINCES)), st.integers(1, 70), st.integers(1, 99))
def test_every_county_under_its_city_is_accepted(prov, city, county):
    city_code = f"{prov}{city:02d}00"
    county_code = f"{prov}{city:02d}{county:02d}"
    assert divisions.problems(county_code, expected_level=divisions.COUNTY, parent_code=city_code) == []


@given(st.text(max_size=12))
def test_any_text_gives_a_list_of_messages(text):
    assert isinstance(divisions.problems(text), list)
