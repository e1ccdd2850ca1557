"""The cheap paths of a page's parsing give the same answers as the plain definitions: the unrolled `_links`
stripping, the checksum fed to sha256 in pieces, the NUL check that walks a record only when its JSON text
could hold one; and text that cannot be encoded fails its record alone."""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict

import pytest

from catalog import models
from catalog.records import HASH_PIECE, canonical_json, checksum_of, checksum_of_json, strip_links
from migrations_runs.importers import IMPORTERS


def plain_strip(value):
    """The definition: a deep copy without any `_links` key."""
    if isinstance(value, dict):
        return {key: plain_strip(item) for key, item in value.items() if key != "_links"}
    if isinstance(value, list):
        return [plain_strip(item) for item in value]
    return value


def test_strip_links_matches_the_definition_on_products_and_odd_shapes(served):
    products = served.pages("products-uuid")[0]
    odd = {
        "_links": {"self": {"href": "x"}},
        "a": [[[{"_links": 1, "b": [{"_links": 2, "c": OrderedDict([("_links", 3), ("d", [None, 1.5])])}]}]]],
        "e": OrderedDict([("f", {"_links": 4, "g": True})]),
        "h": ["_links", {"i": []}, {}],
    }
    for record in [*products, odd]:
        before = copy.deepcopy(record)
        stripped = strip_links(record)
        assert stripped == plain_strip(record)
        assert record == before  # the input is left as it was
    assert strip_links(odd)["e"] == {"f": {"g": True}}
    assert strip_links([{"_links": 1, "k": 2}]) == [{"k": 2}] and strip_links("text") == "text"


@pytest.mark.parametrize("size", [0, 1, HASH_PIECE - 1, HASH_PIECE, HASH_PIECE + 1, 5 * HASH_PIECE + 7])
def test_the_checksum_in_pieces_is_the_sha256_of_the_whole_text(size):
    data = {"text": "é" * (size // 2) + "x" * (size % 2)}
    text = canonical_json(data)
    whole = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert checksum_of_json(text) == whole == checksum_of(data)


@pytest.mark.django_db
def test_nul_is_found_in_keys_and_deep_values_and_an_escaped_lookalike_is_kept(served):
    page = served.pages("attribute-groups")[0]
    lookalike = {**page[0], "labels": {"en_US": "C:\\u0000 is not a NUL"}}  # backslash, then "u0000"
    nul_in_key = {**page[1], "labels": {"en\x00US": "x"}}
    nul_deep = {**page[2], "attributes": ["a", "b\x00"]}
    result = IMPORTERS["attribute-groups"].import_page([lookalike, nul_in_key, nul_deep, *page[3:]])
    failed = {problem.code for problem in result.problems if problem.level == "error"}
    assert failed == {page[1]["code"], page[2]["code"]}
    assert (result.created, result.failed) == (len(page) - 2, 2)
    stored = models.AttributeGroup.objects.get(code=page[0]["code"])
    assert stored.data["labels"] == {"en_US": "C:\\u0000 is not a NUL"}
    assert stored.checksum == checksum_of(strip_links(lookalike))


@pytest.mark.django_db
def test_a_lone_surrogate_fails_its_record_not_the_page(served):
    page = served.pages("attribute-groups")[0]
    broken = {**page[0], "labels": {"en_US": "half a pair \ud800"}}
    result = IMPORTERS["attribute-groups"].import_page([broken, *page[1:]])
    errors = {problem.code: problem.message for problem in result.problems if problem.level == "error"}
    assert set(errors) == {page[0]["code"]} and "Unicode" in errors[page[0]["code"]]
    assert (result.created, result.failed) == (len(page) - 1, 1)
    assert not models.AttributeGroup.objects.filter(code=page[0]["code"]).exists()
