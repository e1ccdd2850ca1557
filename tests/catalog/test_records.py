"""The stored form of a record (no _links, canonical checksum), exact category queries, late references."""

from __future__ import annotations

import hashlib
import json

import pytest

from catalog import models, references
from catalog.queries import category_codes_in_use, in_category
from catalog.records import checksum_of, label_of, strip_links


def test_links_are_stripped_at_every_depth_and_nothing_else():
    record = {
        "_links": {"self": {"href": "http://x/1"}},
        "code": "shoe",
        "values": {"image": [{"locale": None, "scope": None, "data": "a/b.png", "_links": {"download": {}}}]},
        "nested": [[{"_links": 1, "keep": {"_links": 2, "deep": [1, "_links"]}}]],
    }
    assert strip_links(record) == {
        "code": "shoe",
        "values": {"image": [{"locale": None, "scope": None, "data": "a/b.png"}]},
        "nested": [[{"keep": {"deep": [1, "_links"]}}]],
    }
    assert "_links" in record  # the input is not modified


def test_checksum_is_sha256_of_the_canonical_json():
    data = {"b": [1, 2.5, None], "a": {"é": "日本"}}
    canonical = '{"a":{"é":"日本"},"b":[1,2.5,null]}'
    assert checksum_of(data) == hashlib.sha256(canonical.encode()).hexdigest()
    assert checksum_of(json.loads(json.dumps(data))) == checksum_of({"a": {"é": "日本"}, "b": [1, 2.5, None]})
    assert checksum_of({"a": 1}) != checksum_of({"a": "1"})


def test_label_of_prefers_en_us_then_any():
    assert label_of({"labels": {"fr_FR": "Chaussure", "en_US": "Shoe"}}) == "Shoe"
    assert label_of({"labels": {"fr_FR": "Chaussure"}}) == "Chaussure"
    assert label_of({"labels": []}) == label_of({}) == label_of(None) == ""


@pytest.mark.django_db
def test_in_category_matches_exact_codes_only():
    for index, categories in enumerate(
        [["shoes"], ["shoes_men"], ["Shoes"], ["x", "shoes"], [], None, ["a%_"]]
    ):
        data = {"categories": categories} if categories is not None else {}
        models.Product.objects.create(
            uuid=f"00000000-0000-0000-0000-{index:012}", identifier=f"p{index}", data=data
        )
    products = models.Product.objects.all()

    def found(code: str) -> set[str]:
        return set(in_category(products, code).values_list("identifier", flat=True))

    assert found("shoes") == {"p0", "p3"}
    assert found("Shoes") == {"p2"}
    assert found("shoe") == set()
    assert found("a%_") == {"p6"}
    assert found("%") == set()
    assert category_codes_in_use(products) == ["Shoes", "a%_", "shoes", "shoes_men", "x"]


@pytest.mark.django_db
def test_resolve_all_connects_rows_whose_targets_came_later():
    models.Category.objects.create(code="child", parent_code="root")
    models.Product.objects.create(uuid="00000000-0000-0000-0000-000000000001", parent_code="model")
    models.AttributeOption.objects.create(attribute_code="color", code="red")
    models.Category.objects.create(code="root")
    models.ProductModel.objects.create(code="model")
    models.Attribute.objects.create(code="color", type="pim_catalog_simpleselect")

    assert references.resolve_all() == 3
    assert references.resolve_all() == 0
    assert models.Category.objects.get(code="child").parent.code == "root"
    assert models.Product.objects.get().parent.code == "model"
    assert models.AttributeOption.objects.get().attribute.code == "color"
