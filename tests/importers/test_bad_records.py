"""A record that cannot be imported fails alone, named in a Problem; the rest of its page is imported."""

from __future__ import annotations

import pytest

from catalog import models
from migrations_runs.importers import IMPORTERS, Problem
from tests.support.source import without_links

pytestmark = pytest.mark.django_db


def errors(problems: list[Problem]) -> dict[str, str]:
    return {problem.code: problem.message for problem in problems if problem.level == "error"}


def test_bad_products_fail_alone(served):
    page = served.pages("products-uuid")[0]
    good = len(page)
    nameless = {k: v for k, v in page[0].items() if k not in ("uuid", "identifier")}
    bad_uuid = {**page[1], "uuid": "not-a-uuid"}
    bad_values = {**page[2], "uuid": "11111111-2222-3333-4444-555555555555", "values": ["sku"]}
    bad_value_list = {**page[3], "uuid": "11111111-2222-3333-4444-666666666666", "values": {"sku": "SKU-1"}}
    bad_categories = {**page[4], "uuid": "11111111-2222-3333-4444-777777777777", "categories": "shoes"}
    too_long = {**page[5], "uuid": "11111111-2222-3333-4444-888888888888", "family": "f" * 300}
    records = [
        nameless,
        bad_uuid,
        "not an object",
        bad_values,
        bad_value_list,
        bad_categories,
        too_long,
        *page,
    ]

    result = IMPORTERS["products-uuid"].import_page(records)

    assert (result.created, result.failed) == (good, 7)
    assert models.Product.objects.count() == good
    found = errors(result.problems)
    assert "neither a uuid nor an identifier" in found["(record #1 of the page, no code)"]
    assert "not a uuid" in found["not-a-uuid"]
    assert "must be an object" in found["(record #3 of the page, no code)"]
    assert "'values' must be an object" in found["11111111-2222-3333-4444-555555555555"]
    assert "list of objects" in found["11111111-2222-3333-4444-666666666666"]
    assert "list of codes" in found["11111111-2222-3333-4444-777777777777"]
    assert "at most 255" in found["11111111-2222-3333-4444-888888888888"]


def test_an_option_without_code_or_parent_fails_alone(served):
    page = served.pages("attribute-options", "color")[0]
    nameless = {k: v for k, v in page[0].items() if k != "code"}
    numeric_code = {**page[1], "code": 42}

    result = IMPORTERS["attribute-options"].import_page([nameless, numeric_code, *page[2:]], parent="color")
    orphans = IMPORTERS["attribute-options"].import_page(
        [{k: v for k, v in page[0].items() if k != "attribute"}]
    )

    assert (result.created, result.failed) == (len(page) - 2, 2)
    assert set(models.AttributeOption.objects.values_list("code", flat=True)) == {r["code"] for r in page[2:]}
    assert "has no 'code'" in errors(result.problems)["(record #1 of the page, no code)"]
    assert "'code' must be a string" in errors(result.problems)["(record #2 of the page, no code)"]
    assert orphans.failed == 1 and "parent code" in orphans.problems[0].message


def test_options_take_their_attribute_from_the_record_when_no_parent_is_given(served):
    page = served.pages("attribute-options", "color")[0]
    result = IMPORTERS["attribute-options"].import_page(page)
    assert result.created == len(page)
    assert set(models.AttributeOption.objects.values_list("attribute_code", flat=True)) == {"color"}


def test_a_record_listed_twice_in_a_page_is_kept_once(served):
    page = served.pages("locales")[0]
    changed = {**page[0], "enabled": not page[0]["enabled"]}
    result = IMPORTERS["locales"].import_page([*page, changed])
    assert (result.created, result.skipped) == (len(page), 1)
    assert models.Locale.objects.get(code=changed["code"]).enabled == changed["enabled"]


def test_unknown_attribute_types_are_kept_and_reported_once_per_type(served):
    page = served.pages("attributes")[0]
    strange = [
        {**page[0], "code": "hologram_front", "type": "pim_catalog_hologram"},
        {**page[0], "code": "hologram_back", "type": "pim_catalog_hologram"},
        {**page[0], "code": "smell", "type": "acme_smell", "_links": {"self": {"href": "http://x/y"}}},
    ]

    result = IMPORTERS["attributes"].import_page([*page, *strange])
    again = IMPORTERS["attributes"].import_page([*page, *strange])

    assert (result.created, result.failed) == (len(page) + 3, 0)
    warnings = [problem for problem in result.problems if problem.level == "warning"]
    assert sorted(problem.code for problem in warnings) == ["hologram_front", "smell"]
    assert all("kept as it is" in problem.message for problem in warnings)
    stored = models.Attribute.objects.get(code="smell")
    assert stored.type == "acme_smell" and stored.data == without_links(strange[2])
    assert again.unchanged == len(page) + 3


def test_an_empty_page_does_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        result = IMPORTERS["products-uuid"].import_page([])
    assert result.read == 0


def test_a_nul_character_fails_the_record_not_the_page(served):
    page = served.pages("attribute-groups")[0]
    page[0]["labels"] = {"en_US": "Bad\x00label"}
    result = IMPORTERS["attribute-groups"].import_page(page)
    assert (result.created, result.failed) == (len(page) - 1, 1)
    assert "NUL" in errors(result.problems)[page[0]["code"]]
