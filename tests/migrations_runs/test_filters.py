"""Import filters against the demo Akeneo: the local copy equals what Akeneo returns for the same query.

Each filter is applied through start_run / execute_run (the path of the admin and `akeneo_migrate --sync`), then
the products (and product models) the connection imported are compared, uuid by uuid and value by value, with
what the demo answers to the same `search` / `scope` / `locales` / `attributes` query read directly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.models import Product, ProductModel
from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings
from migrations_runs.filters import (
    IN_CHUNK,
    FilterError,
    build_queries,
    check_filters,
    clean_filters,
    parse_moment,
)
from migrations_runs.models import Mapping, MigrationLog, Status
from migrations_runs.services import execute_run, start_run
from tests.factories import connection_for
from tests.support.demo import demo_fixture
from tests.support.source import without_links

pytestmark = pytest.mark.django_db(transaction=True)


demo = demo_fixture(products=240)


@pytest.fixture
def client(demo):
    with AkeneoClient(Credentials(base_url=demo.base_url, **demo.credentials), ClientSettings()) as c:
        yield c


def served(client, resource: str, params: dict) -> dict[str, dict]:
    key = "uuid" if resource == "products-uuid" else "code"
    return {item[key]: without_links(item) for item in client.items(resource, params=params)}


def local(connection, resource: str) -> dict[str, dict]:
    model, key = (Product, "uuid") if resource == "products-uuid" else (ProductModel, "code")
    ids = Mapping.objects.filter(connection=connection, resource=resource).values("object_id")
    return {str(getattr(row, key)): row.data for row in model.objects.filter(pk__in=ids)}


def migrate(demo, filters: dict, entities=("products",)):
    connection = connection_for(demo)
    run = execute_run(start_run(connection, list(entities), filters=filters, enqueue=False))
    assert run.status == Status.COMPLETED, (run.error, list(MigrationLog.objects.values_list("message")))
    return connection, run


def assert_copy_equals(client, connection, resource: str, params: dict) -> dict[str, dict]:
    expected = served(client, resource, params)
    got = local(connection, resource)
    assert set(got) == set(expected)
    for key, record in expected.items():
        assert got[key] == record, key
    return expected


def total(demo) -> int:
    return demo.catalog.product_count


@pytest.mark.parametrize(
    ("filters", "params"),
    [
        pytest.param({"families": ["shoes", "furniture"]}, None, id="families"),
        pytest.param(
            {"status": "disabled"},
            {"search": {"enabled": [{"operator": "=", "value": False}]}},
            id="status-disabled",
        ),
        pytest.param(
            {"status": "enabled"},
            {"search": {"enabled": [{"operator": "=", "value": True}]}},
            id="status-enabled",
        ),
        pytest.param(
            {"updated": {"since": "2023-06-01"}},
            {"search": {"updated": [{"operator": ">", "value": "2023-06-01 00:00:00"}]}},
            id="updated-since",
        ),
        pytest.param(
            {"updated": {"between": ["2022-01-01", "2022-12-31"]}},
            {
                "search": {
                    "updated": [
                        {"operator": "BETWEEN", "value": ["2022-01-01 00:00:00", "2022-12-31 23:59:59"]}
                    ]
                }
            },
            id="updated-between",
        ),
    ],
)
def test_product_filters_match_the_same_query(demo, client, filters, params):
    if params is None:
        params = {"search": {"family": [{"operator": "IN", "value": filters["families"]}]}}
    connection, run = migrate(demo, filters)
    expected = assert_copy_equals(client, connection, "products-uuid", params)
    assert 0 < len(expected) < total(demo)
    assert run.filters["queries"]["products-uuid"] == [params]
    assert run.steps.get().read == len(expected)


def test_channel_locales_and_attributes_keep_only_those_values(demo, client):
    filters = {"channel": "mobile", "locales": ["en_US"], "attributes": ["name", "description", "main_image"]}
    connection, _ = migrate(demo, filters)
    params = {"scope": "mobile", "locales": "en_US", "attributes": "name,description,main_image"}
    expected = assert_copy_equals(client, connection, "products-uuid", params)
    assert expected
    for record in local(connection, "products-uuid").values():
        assert set(record["values"]) <= {"name", "description", "main_image"}
        for values in record["values"].values():
            assert all(v["scope"] in (None, "mobile") and v["locale"] in (None, "en_US") for v in values)
    # the channel's tree decides which products: the print channel's products are not there
    assert len(expected) < total(demo)


def test_categories_include_their_children_for_products_and_models(demo, client):
    filters = {"categories": ["clothing_men", "footwear"]}
    connection, _ = migrate(demo, filters, entities=("product-models", "products"))
    params = {"search": {"categories": [{"operator": "IN CHILDREN", "value": ["clothing_men", "footwear"]}]}}
    products = assert_copy_equals(client, connection, "products-uuid", params)
    models = assert_copy_equals(client, connection, "product-models", params)
    assert products and models
    children = (
        demo.catalog.category_descendants["clothing_men"] | demo.catalog.category_descendants["footwear"]
    )
    assert any(set(p["categories"]) - {"clothing_men", "footwear"} for p in products.values())
    assert all(set(p["categories"]) & children for p in products.values())


def test_product_models_take_families_and_updated(demo, client):
    filters = {"families": ["shoes"], "updated": {"since": "2022-01-01"}, "status": "enabled"}
    connection, run = migrate(demo, filters, entities=("product-models",))
    params = {
        "search": {
            "updated": [{"operator": ">", "value": "2022-01-01 00:00:00"}],
            "family": [{"operator": "IN", "value": ["shoes"]}],
        }
    }
    models = assert_copy_equals(client, connection, "product-models", params)
    assert 0 < len(models) < demo.catalog.model_count
    assert "enabled" not in str(run.filters["queries"]["product-models"])  # a product filter only


def test_updated_in_the_last_n_days(demo, client):
    days = (datetime.now(UTC) - datetime(2024, 7, 1, tzinfo=UTC)).days
    connection, _ = migrate(demo, {"updated": {"days": days}})
    params = {"search": {"updated": [{"operator": "SINCE LAST N DAYS", "value": days}]}}
    expected = assert_copy_equals(client, connection, "products-uuid", params)
    assert 0 < len(expected) < total(demo)


def test_long_identifier_lists_are_split_into_reads_of_100(demo, client):
    catalog = demo.catalog
    identifiers = [catalog.product_header(i).identifier for i in range(total(demo))]
    identifiers = [code for code in identifiers if code][:150]
    connection, run = migrate(demo, {"identifiers": identifiers})
    queries = run.filters["queries"]["products-uuid"]
    assert [len(q["search"]["identifier"][0]["value"]) for q in queries] == [IN_CHUNK, 50]
    got = local(connection, "products-uuid")
    read = [catalog.product_header(catalog.product_index_of_uuid(uuid)).identifier for uuid in got]
    assert sorted(read) == sorted(identifiers)
    for first in (0, IN_CHUNK):
        chunk = identifiers[first : first + IN_CHUNK]
        params = {"search": {"identifier": [{"operator": "IN", "value": chunk}]}}
        for uuid, record in served(client, "products-uuid", params).items():
            assert got[uuid] == record
    step = run.steps.get()
    assert step.read == len(identifiers) == step.total


def test_a_resumed_filtered_step_goes_on_with_the_next_read(demo, client):
    """A cursor saved at the last page of read 0 resumes with read 1, not read 0 again."""
    from migrations_runs.filters import filtered_pages

    queries = [
        {"search": {"family": [{"operator": "IN", "value": ["shoes"]}]}},
        {"search": {"family": [{"operator": "IN", "value": ["food"]}]}},
    ]
    pages = list(filtered_pages(client, "products-uuid", queries))
    assert [page.query for page in pages] == [0, 1]
    resumed = list(filtered_pages(client, "products-uuid", queries, start=pages[0].cursor))
    assert [page.query for page in resumed] == [1]
    assert {p["family"] for page in resumed for p in page.items} == {"food"}


# ---------------------------------------------------------------------------------------- translation
def test_completeness_and_status_become_akeneo_conditions():
    filters = clean_filters({"channel": "ecommerce", "completeness": "80", "status": "enabled"})
    (query,) = build_queries(None, "products-uuid", filters)
    assert query == {
        "scope": "ecommerce",
        "search": {
            "completeness": [{"operator": ">=", "value": 80, "scope": "ecommerce"}],
            "enabled": [{"operator": "=", "value": True}],
        },
    }
    with_locales = clean_filters({"channel": "ecommerce", "locales": "en_US,fr_FR", "completeness": 100})
    (query,) = build_queries(None, "products-uuid", with_locales)
    assert query["search"]["completeness"] == [
        {
            "operator": "GREATER OR EQUALS THAN ON ALL LOCALES",
            "value": 100,
            "scope": "ecommerce",
            "locales": ["en_US", "fr_FR"],
        }
    ]
    (model_query,) = build_queries(None, "product-models", with_locales)
    assert model_query["search"]["completeness"] == [
        {"operator": "AT LEAST COMPLETE", "scope": "ecommerce", "locales": ["en_US", "fr_FR"]}
    ]
    # below 100 %, Akeneo has no model operator: models are not narrowed by completeness
    assert build_queries(None, "product-models", clean_filters({"channel": "print", "completeness": 50})) == [
        {"scope": "print"}
    ]


def test_media_filters_are_disjoint_reads_over_the_media_attributes(client):
    """With media = an OR Akeneo cannot say in one search: read i asks for media value i present and the
    earlier ones empty. Without media = one read, every media value empty."""
    (without,) = build_queries(client, "products-uuid", {"media": "without"})
    assert without == {
        "search": {
            "main_image": [{"operator": "EMPTY"}],
            "user_manual": [{"operator": "EMPTY"}],
        }
    }
    first, second = build_queries(client, "products-uuid", {"media": "with", "families": ["shoes"]})
    assert first["search"]["main_image"] == [{"operator": "NOT EMPTY"}]
    assert "user_manual" not in first["search"]
    assert second["search"]["main_image"] == [{"operator": "EMPTY"}]
    assert second["search"]["user_manual"] == [{"operator": "NOT EMPTY"}]
    assert first["search"]["family"] == second["search"]["family"]
    assert build_queries(client, "product-models", {"media": "with"}) is None  # a product filter only


def test_dates_are_akeneo_product_dates_in_utc():
    assert parse_moment("2024-03-01") == "2024-03-01 00:00:00"
    assert parse_moment("2024-03-01", end_of_day=True) == "2024-03-01 23:59:59"
    assert parse_moment("2024-03-01 10:30") == "2024-03-01 10:30:00"
    assert parse_moment("2024-03-01T10:30:00+02:00") == "2024-03-01 08:30:00"
    assert clean_filters({"updated": {"between": "2024-01-01,2024-01-31"}}) == {
        "updated": {"between": ["2024-01-01 00:00:00", "2024-01-31 23:59:59"]}
    }


# ---------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"completeness": 80}, "completeness", "Completeness is computed per channel: choose a channel too."),
        ({"channel": "x", "completeness": 120}, "completeness", "between 0 and 100"),
        ({"updated": {"since": "yesterday"}}, "updated", "'yesterday' is not a date"),
        ({"updated": {"days": 0}}, "updated", "the number of days must be positive"),
        ({"updated": {"days": "abc"}}, "updated", "whole number"),
        ({"updated": {"between": ["2024-02-01", "2024-01-01"]}}, "updated", "is after the second"),
        ({"status": "archived"}, "status", "enabled or disabled"),
        ({"media": "some"}, "media", "with or without"),
        ({"colour": "red"}, "__all__", "Unknown filters: colour"),
    ],
)
def test_syntax_errors_have_clear_messages(raw, field, message):
    with pytest.raises(FilterError) as caught:
        clean_filters(raw)
    assert message in caught.value.errors[field]


def test_codes_are_checked_against_the_source(demo):
    connection = connection_for(demo)
    with pytest.raises(FilterError) as caught:
        check_filters(
            connection,
            {
                "channel": "web",
                "locales": ["en_US", "xx_XX", "es_ES"],
                "attributes": ["name", "colour_code"],
                "families": ["shoes", "boats"],
                "categories": ["footwear", "nowhere"],
            },
        )
    errors = caught.value.errors
    assert errors["channel"].startswith(
        "Channel 'web' does not exist in Akeneo (channels: ecommerce, mobile, print"
    )
    assert errors["locales"].startswith("Locales not enabled in Akeneo: xx_XX, es_ES")
    assert errors["attributes"] == "Attributes that do not exist in Akeneo: colour_code."
    assert errors["families"] == "Families that do not exist in Akeneo: boats."
    assert errors["categories"] == "Categories that do not exist in Akeneo: nowhere."
    ok = {"channel": "print", "locales": ["ru_RU"], "families": ["food"], "categories": ["footwear_running"]}
    assert check_filters(connection, ok) == ok


def test_unreachable_source_is_a_message(settings):
    from tests.factories import ConnectionFactory
    from tests.support.akeneo import closed_port_url

    settings.AKENEO_MAX_ATTEMPTS = 1
    settings.AKENEO_CONNECT_TIMEOUT = 1.0
    connection = ConnectionFactory(base_url=closed_port_url())
    with pytest.raises(FilterError) as caught:
        check_filters(connection, {"families": ["shoes"]})
    assert caught.value.errors["__all__"].startswith("The filters could not be checked against Akeneo")


def test_saved_filters_apply_to_runs_started_without_filters(demo, client):
    connection = connection_for(demo, import_filters={"families": ["food"]})
    run = execute_run(start_run(connection, ["products"], enqueue=False))
    assert run.filters["families"] == ["food"]
    params = {"search": {"family": [{"operator": "IN", "value": ["food"]}]}}
    assert set(local(connection, "products-uuid")) == set(served(client, "products-uuid", params))
