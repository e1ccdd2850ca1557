"""The catalog browser in a real Chromium, on a catalog migrated from the demo Akeneo: thumbnails and labels in
the product list, the searchable category filter with sub-categories, a product page with option labels and rich
text rendered sanitised (nothing in it runs)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from catalog import models
from tests.factories import connection_for
from tests.support.browser import log_in
from tests.support.demo import demo_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


demo = demo_fixture(products=40)


@pytest.fixture
def migrated(demo, media_root):
    out = StringIO()
    call_command(
        "akeneo_migrate", str(connection_for(demo).pk), "--entities", "all", "--sync", stdout=out, stderr=out
    )
    assert "completed" in out.getvalue(), out.getvalue()


def under(code: str) -> list[models.Product]:
    found, frontier = {code}, [code]
    while frontier:
        frontier = list(
            models.Category.objects.filter(parent_code__in=frontier).values_list("code", flat=True)
        )
        found.update(frontier)
    return [p for p in models.Product.objects.all() if set(p.data.get("categories") or []) & found]


def test_product_list_thumbnails_labels_and_the_category_filter(
    page, live_server, admin_user, migrated, screenshot_dir
):
    path = reverse("admin:catalog_product_changelist")
    log_in(page, live_server, path)
    thumbs = page.locator("#result_list img.catalog-thumb")
    assert thumbs.count() > 5
    thumbs.first.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('#result_list img.catalog-thumb').complete")
    assert thumbs.first.evaluate("img => img.naturalWidth") > 0  # served by the login-protected media view
    product = models.Product.objects.filter(family_code="clothing").order_by("identifier").first()
    label = next(v["data"] for v in product.data["values"]["name"] if v["locale"] == "en_US")
    assert page.locator("#result_list").get_by_role("link", name=label, exact=True).count() >= 1
    page.screenshot(path=str(screenshot_dir / "catalog-products.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollHeight") < 4000

    # the filter: type to narrow the tree, choose "Clothing": its sub-categories' products are listed
    search = page.locator("[data-category-search]")
    search.fill("clothing")
    select = page.locator("[data-category-select]")
    visible = select.locator("option:not([hidden])")
    assert 1 < visible.count() < select.locator("option").count()
    assert all("clothing" in text.lower() for text in visible.all_inner_texts()[1:])
    select.select_option("clothing")
    page.wait_for_url("**category=clothing**")
    expected = under("clothing")
    assert 5 < len(expected) < 50
    assert page.locator("#result_list tbody tr").count() == len(expected)
    table = page.locator("#result_list").inner_text()
    assert all(product.identifier in table for product in expected if product.identifier)
    page.screenshot(path=str(screenshot_dir / "catalog-category-filter.png"), full_page=True)


def test_product_page_option_labels_and_sanitised_rich_text(
    page, live_server, admin_user, migrated, screenshot_dir
):
    product = next(
        p
        for p in models.Product.objects.filter(family_code="clothing")
        if {"color", "description"} <= set(p.data["values"])
    )
    product.data["values"]["description"][0]["data"] = (
        "<p>Soft <strong>cotton</strong></p><script>window.__pwned = 1</script>"
        '<img src="x" onerror="window.__pwned = 2"><a href="javascript:window.__pwned = 3">link</a>'
    )
    product.save(update_fields=["data"])
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    path = reverse("admin:catalog_product_change", args=[product.pk])
    log_in(page, live_server, path)

    color = product.data["values"]["color"][0]["data"]
    option = models.AttributeOption.objects.get(attribute_code="color", code=color)
    label = page.locator(f'table.product-values span[title="{color}"]')
    assert label.inner_text() == option.data["labels"]["en_US"]

    rich = page.locator("table.product-values .rich-text").first
    assert rich.locator("strong").inner_text() == "cotton"
    assert rich.locator("script, img").count() == 0
    rich.get_by_text("link").click()
    assert page.evaluate("window.__pwned") is None and not dialogs
    assert page.locator("details.akeneo-record").get_attribute("open") is None  # the raw JSON stays folded
    page.screenshot(path=str(screenshot_dir / "catalog-product.png"), full_page=True)
