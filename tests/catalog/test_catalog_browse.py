"""The catalog browser over HTTP, on a catalog really migrated from the demo Akeneo: product labels and thumbnails,
the category filter with sub-categories, readable product / model / family / category / media pages, the
sanitised rich text, and a product list whose query count does not grow with its rows."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from catalog import models
from catalog.display import human_size
from demo_akeneo.server import start_demo_server
from tests.factories import connection_for

pytestmark = pytest.mark.django_db

PRODUCTS = 80


@pytest.fixture(scope="module")
def migrated(django_db_setup, django_db_blocker, tmp_path_factory):
    """One full migration for the module, committed (tests run in transactions on top of it), erased after."""
    media = tmp_path_factory.mktemp("catalog-browse-media")
    server = start_demo_server(products=PRODUCTS)
    try:
        with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
            connection = connection_for(server)
            out = StringIO()
            call_command(
                "akeneo_migrate", str(connection.pk), "--entities", "all", "--sync", stdout=out, stderr=out
            )
            assert "completed" in out.getvalue(), out.getvalue()
        yield media
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
        server.stop()


@pytest.fixture
def media_root(settings, migrated):
    """The migrated media (replaces the per-test empty folder of tests/conftest.py)."""
    settings.MEDIA_ROOT = migrated
    return migrated


def name_in(product, locale: str) -> str:
    return next(v["data"] for v in product.data["values"]["name"] if v["locale"] == locale)


def products_url(**params) -> str:
    from urllib.parse import urlencode

    url = reverse("admin:catalog_product_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def subtree(code: str) -> set[str]:
    """A category and all under it, walked through the foreign keys (independent of catalog.browse)."""
    found, frontier = {code}, [code]
    while frontier:
        frontier = list(
            models.Category.objects.filter(parent_code__in=frontier).values_list("code", flat=True)
        )
        found.update(frontier)
    return found


def classified_under(code: str, *, include_deleted: bool = True) -> set[str]:
    codes = subtree(code)
    return {
        str(p.uuid)
        for p in models.Product.objects.all()
        if set(p.data.get("categories") or []) & codes and (include_deleted or p.deleted_at is None)
    }


def test_the_product_list_shows_thumbnails_and_labels_in_the_admin_language(admin, migrated):
    page = admin.get(products_url()).content.decode()
    shown = admin.get(products_url()).context["cl"].result_list
    with_image = [p for p in shown if p.family_code == "clothing" and "main_image" in p.data["values"]]
    assert with_image, "the demo has clothing products with a main image on the first page"
    product = with_image[0]
    media = models.MediaFile.objects.get(code=product.data["values"]["main_image"][0]["data"])
    assert media.file, "the migration downloaded the image"
    thumb = reverse("admin:catalog_mediafile_download", args=[media.pk])
    assert f'<img src="{thumb}"' in page
    assert admin.get(thumb).status_code == 200  # served through the login-protected view
    assert f">{name_in(product, 'en_US')}</a>" in page  # the label links to the product

    # a furniture product's image attribute is an asset collection: its first asset's main media is shown
    furniture = [p for p in shown if p.family_code == "furniture" and p.data["values"].get("pictures")]
    assert furniture, "the demo has furniture products on the first page"
    if furniture:
        asset = models.Asset.objects.get(
            asset_family_code="packshots", code=furniture[0].data["values"]["pictures"][0]["data"][0]
        )
        family = models.AssetFamily.objects.get(code="packshots").data["attribute_as_main_media"]
        asset_media = models.MediaFile.objects.get(code=asset.data["values"][family][0]["data"])
        assert reverse("admin:catalog_mediafile_download", args=[asset_media.pk]) in page

    with translation.override("fr"):
        french = admin.get(products_url()).content.decode()
    assert name_in(product, "fr_FR") in french and name_in(product, "en_US") not in french

    no_family = models.Product.objects.filter(family_code__isnull=True).exclude(identifier=None).first()
    if no_family is not None:  # no label attribute: the identifier stands in
        listed = admin.get(products_url(q=no_family.identifier)).content.decode()
        assert f">{no_family.identifier}</a>" in listed


def test_search_by_label_identifier_and_uuid(admin, migrated):
    product = models.Product.objects.filter(family_code="clothing").exclude(identifier=None).first()
    label = name_in(product, "en_US")
    by_label = admin.get(products_url(q=label)).context["cl"].result_list
    assert product in by_label and all(label in str(p.data["values"]["name"]) for p in by_label)
    assert list(admin.get(products_url(q=product.identifier)).context["cl"].result_list) == [product]
    assert list(admin.get(products_url(q=str(product.uuid))).context["cl"].result_list) == [product]
    assert not admin.get(products_url(q="no such label anywhere")).context["cl"].result_list


def test_the_product_list_does_not_query_per_row(admin, migrated, django_assert_max_num_queries):
    """Labels, thumbnails (asset collections included), families and parents come from batched queries: a page
    of a few furniture products (images through assets) costs what a full page of every family does."""
    with django_assert_max_num_queries(14) as few:
        small = admin.get(products_url(family_code="furniture"))
    with django_assert_max_num_queries(14) as many:
        response = admin.get(products_url())
    rows = response.context["cl"].result_list
    assert len(rows) == 50 and len(small.context["cl"].result_list) < 50
    assert {p.family_code for p in rows} >= {"clothing", "furniture"} and any(p.parent_id for p in rows)
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_the_category_filter_includes_sub_categories(admin, migrated):
    clothing = models.Category.objects.get(code="clothing")
    direct = {
        str(p.uuid) for p in models.Product.objects.all() if "clothing" in (p.data.get("categories") or [])
    }
    expected = classified_under("clothing")
    assert not direct and len(expected) > 5  # products sit in leaf categories only

    response = admin.get(products_url(category="clothing", all=""))
    assert {str(p.uuid) for p in response.context["cl"].result_list} == expected
    leaf = "clothing_men_sale_20"
    response = admin.get(products_url(category=leaf, all=""))
    assert {str(p.uuid) for p in response.context["cl"].result_list} == classified_under(leaf)

    page = admin.get(products_url()).content.decode()
    assert "data-category-search" in page and 'name="category"' in page
    assert page.count("<option") < 200  # one select, not a link per category
    assert re.search(r'<option value="clothing_men">\s*(\u2003)+Men \(clothing_men\)</option>', page)

    # the category page and list count the same products, sub-categories included
    category_page = admin.get(reverse("admin:catalog_category_change", args=[clothing.pk])).content.decode()
    not_deleted = len(classified_under("clothing", include_deleted=False))
    assert f'category=clothing&amp;deleted=no">{not_deleted}</a>' in category_page
    men = models.Category.objects.get(code="clothing_men")
    assert f">{men.data['labels']['en_US']}</a>" in category_page
    assert f"{len(classified_under('clothing_men', include_deleted=False))} products</a>" in category_page
    category_list = admin.get(reverse("admin:catalog_category_changelist"), {"q": "clothing_men"}).content
    men_count = len(classified_under("clothing_men", include_deleted=False))
    assert f'category=clothing_men&amp;deleted=no">{men_count}</a>' in category_list.decode()


def test_a_product_page_reads_like_a_pim(admin, migrated):
    product = next(
        p
        for p in models.Product.objects.filter(family_code="clothing", parent__isnull=False)
        if {"color", "release_date", "description", "brand"} <= set(p.data["values"])
    )
    values = product.data["values"]
    values["description"][0]["data"] = (
        '<p>Soft <strong>cotton</strong></p><script>alert("x")</script>'
        '<img src="x" onerror="alert(1)"><a href="javascript:alert(2)" onclick="alert(3)">link</a>'
    )
    product.save(update_fields=["data"])
    html = admin.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()
    table = html[
        html.index('<table class="product-values">') : html.index("</table>", html.index("product-values"))
    ]

    # rich text rendered, sanitised
    assert "<p>Soft <strong>cotton</strong></p>" in table
    assert "<script" not in table and "onerror" not in table and "onclick" not in table
    assert "javascript:" not in table and '<img src="x"' not in table
    # option labels, code on hover
    color = values["color"][0]["data"]
    option = models.AttributeOption.objects.get(attribute_code="color", code=color)
    assert f'<span title="{color}">{option.data["labels"]["en_US"]}</span>' in table
    # reference entity record: its label, linking to it
    brand = models.ReferenceEntityRecord.objects.get(
        reference_entity_code="brands", code=values["brand"][0]["data"]
    )
    brand_label = next(v["data"] for v in brand.data["values"]["label"] if v["locale"] == "en_US")
    brand_url = reverse("admin:catalog_referenceentityrecord_change", args=[brand.pk])
    assert f'<a href="{brand_url}" title="{brand.code}">{brand_label}</a>' in table
    # dates formatted
    release = values["release_date"][0]["data"]
    assert f'<time datetime="{release}">{release[:10]}</time>' in table
    # family, parent and categories as links; associations resolved; the raw record folded away
    assert (
        reverse("admin:catalog_family_change", args=[models.Family.objects.get(code="clothing").pk]) in html
    )
    assert reverse("admin:catalog_productmodel_change", args=[product.parent_id]) in html
    for code in product.data["categories"]:
        assert (
            reverse("admin:catalog_category_change", args=[models.Category.objects.get(code=code).pk]) in html
        )
    assert '<details class="akeneo-record"><summary>' in html
    substitute = product.data["associations"]["SUBSTITUTION"]["products"]
    if substitute:
        target = models.Product.objects.get(uuid=substitute[0])
        assert reverse("admin:catalog_product_change", args=[target.pk]) in html


def test_media_sizes_and_asset_collections_on_a_product_page(admin, migrated):
    product = next(
        p
        for p in models.Product.objects.filter(family_code="furniture")
        if {"pictures", "main_image"} <= set(p.data["values"])
    )
    html = admin.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()
    media = models.MediaFile.objects.get(code=product.data["values"]["main_image"][0]["data"])
    assert f'<span class="media-size">{human_size(media.size)}</span>' in html
    assert re.search(r"\d(\.\d)? (bytes|KB|MB)<", html)
    asset = models.Asset.objects.get(
        asset_family_code="packshots", code=product.data["values"]["pictures"][0]["data"][0]
    )
    assert reverse("admin:catalog_asset_change", args=[asset.pk]) in html


def test_a_model_page_lists_its_sub_models_and_variants(admin, migrated):
    root = models.ProductModel.objects.filter(
        parent_code=None, family_variant_code="clothing_color_size"
    ).first()
    subs = list(models.ProductModel.objects.filter(parent_code=root.code))
    variants = list(models.Product.objects.filter(parent_code__in=[s.code for s in subs]))
    assert subs and variants
    html = admin.get(reverse("admin:catalog_productmodel_change", args=[root.pk])).content.decode()
    for row in (*subs, *variants):
        assert reverse(f"admin:catalog_{row._meta.model_name}_change", args=[row.pk]) in html
    variant = models.FamilyVariant.objects.get(family_code="clothing", code="clothing_color_size")
    assert reverse("admin:catalog_familyvariant_change", args=[variant.pk]) in html


def test_family_category_and_media_pages(admin, migrated):
    family = models.Family.objects.get(code="clothing")
    html = admin.get(reverse("admin:catalog_family_change", args=[family.pk])).content.decode()
    name = models.Attribute.objects.get(code="name")
    assert (
        f'<a href="{reverse("admin:catalog_attribute_change", args=[name.pk])}" title="name">Name</a>' in html
    )
    assert "main_image" in html and "clothing_color_size" in html and "axes: color / size" in html
    families = admin.get(reverse("admin:catalog_family_changelist")).content.decode()
    count = models.Product.objects.filter(family_code="clothing", deleted_at=None).count()
    assert f'family_code=clothing&amp;deleted=no">{count}</a>' in families

    root = models.Category.objects.get(code="master")
    categories = admin.get(reverse("admin:catalog_category_changelist"), {"all": ""}).content.decode()
    assert (
        f'category=master&amp;deleted=no">{len(classified_under("master", include_deleted=False))}</a>'
        in categories
    )
    html = admin.get(reverse("admin:catalog_category_change", args=[root.pk])).content.decode()
    assert 'class="category-tree"' in html and "clothing_men_sale_20" in html

    media = models.MediaFile.objects.exclude(file="").filter(size__gt=1024).first()
    html = admin.get(reverse("admin:catalog_mediafile_change", args=[media.pk])).content.decode()
    assert "Akeneo record" not in html or media.data
    assert human_size(media.size) in html and f"{media.size:,} bytes" in html
    assert "KB" in html or "MB" in html
