"""The read-only catalog admin: browse and filter products, read their values; nobody can write."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse

from catalog import models
from migrations_runs.importers import IMPORTERS

pytestmark = pytest.mark.django_db

IMAGE_CODE = "a/b/c/d/abcdef_shoe.png"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def product(uuid_end: str, identifier: str, family: str, enabled: bool, categories: list[str], **values):
    return {
        "uuid": f"00000000-0000-0000-0000-{uuid_end:0>12}",
        "identifier": identifier,
        "enabled": enabled,
        "family": family,
        "categories": categories,
        "groups": [],
        "parent": None,
        "values": {name: entries for name, entries in values.items()},
        "associations": {},
    }


@pytest.fixture
def catalog(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    IMPORTERS["categories"].import_page(
        [
            {"code": "shoes", "parent": None, "labels": {"en_US": "Shoes"}},
            {"code": "shoes_men", "parent": "shoes", "labels": {"en_US": "Men's shoes"}},
            {"code": "sale", "parent": None, "labels": {"en_US": "Sale"}},
        ]
    )
    IMPORTERS["attributes"].import_page(
        [
            {"code": "name", "type": "pim_catalog_text", "group": "general", "labels": {"en_US": "Name"}},
            {
                "code": "main_image",
                "type": "pim_catalog_image",
                "group": "media",
                "labels": {"en_US": "Image"},
            },
        ]
    )
    image = models.MediaFile(code=IMAGE_CODE, content_type="image/png", size=len(PNG))
    image.file.save("shoe.png", ContentFile(PNG), save=True)
    result = IMPORTERS["products-uuid"].import_page(
        [
            product(
                "1",
                "shoe-1",
                "shoes",
                True,
                ["shoes", "sale"],
                name=[
                    {"locale": "en_US", "scope": None, "data": "Shoe <b>one</b>"},
                    {"locale": "fr_FR", "scope": None, "data": "Chaussure un"},
                ],
                description=[{"locale": "en_US", "scope": "ecommerce", "data": "<script>alert(1)</script>"}],
                main_image=[
                    {
                        "locale": None,
                        "scope": None,
                        "data": IMAGE_CODE,
                        "_links": {"download": {"href": "http://akeneo/media"}},
                    }
                ],
                price=[{"locale": None, "scope": None, "data": [{"amount": "12.50", "currency": "EUR"}]}],
                weight=[{"locale": None, "scope": None, "data": {"amount": "1.5", "unit": "KILOGRAM"}}],
            ),
            product("2", "shirt-2", "shirts", False, ["shoes_men"]),
            product("3", "shoe-3", "shoes", False, []),
            product("4", "shoe-4", "shoes", True, ["SHOES"]),
        ]
    )
    assert result.created == 4


def listed(client, **params) -> set[str]:
    response = client.get(reverse("admin:catalog_product_changelist"), params)
    assert response.status_code == 200
    return {item.identifier for item in response.context["cl"].result_list}


def test_superuser_browses_products_by_family_enabled_and_category(client, superuser, catalog):
    client.force_login(superuser)
    assert listed(client) == {"shoe-1", "shirt-2", "shoe-3", "shoe-4"}
    assert listed(client, family_code="shoes") == {"shoe-1", "shoe-3", "shoe-4"}
    assert listed(client, enabled__exact="0") == {"shirt-2", "shoe-3"}
    # a category with its sub-categories ("shoes_men" is under "shoes"), exact codes: not "SHOES" (another case)
    assert listed(client, category="shoes") == {"shoe-1", "shirt-2"}
    assert listed(client, category="shoes_men") == {"shirt-2"}
    assert listed(client, category="sale", family_code="shoes", enabled__exact="1") == {"shoe-1"}
    assert listed(client, category="nowhere") == set()
    assert listed(client, q="shoe-3") == {"shoe-3"}
    assert listed(client, q="0000-000000000002") == {"shirt-2"}

    page = client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert "Men&#x27;s shoes (shoes_men)" in page  # the category filter lists imported categories
    assert "?family_code=shirts" in page and "?enabled__exact=1" in page


def test_product_page_shows_values_per_locale_and_channel_escaped_with_thumbnails(client, superuser, catalog):
    client.force_login(superuser)
    shoe = models.Product.objects.get(identifier="shoe-1")

    response = client.get(reverse("admin:catalog_product_change", args=[shoe.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<table class="product-values">' in page
    assert "Shoe &lt;b&gt;one&lt;/b&gt;" in page and "Chaussure un" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<td>ecommerce</td>" in page and "<td>en_US</td>" in page and "<td>fr_FR</td>" in page
    image = models.MediaFile.objects.get(code=IMAGE_CODE)
    assert f'<img src="{reverse("admin:catalog_mediafile_download", args=[image.pk])}"' in page
    assert "12.50 EUR" in page and "1.5 KILOGRAM" in page
    assert "http://akeneo/media" not in page  # links are not part of the stored record
    assert 'name="_save"' not in page  # nothing to save


def test_nobody_can_add_change_or_delete_catalog_rows(client, superuser, catalog):
    client.force_login(superuser)
    shoe = models.Product.objects.get(identifier="shoe-1")
    changelist = client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert reverse("admin:catalog_product_add") not in changelist
    assert "delete_selected" not in changelist

    assert client.get(reverse("admin:catalog_product_add")).status_code == 403
    assert client.post(reverse("admin:catalog_product_add"), {"identifier": "x"}).status_code == 403
    change = reverse("admin:catalog_product_change", args=[shoe.pk])
    assert client.post(change, {"identifier": "hacked", "enabled": "on"}).status_code == 403
    delete = reverse("admin:catalog_product_delete", args=[shoe.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "delete_selected", "_selected_action": [shoe.pk]},
    )
    shoe.refresh_from_db()
    assert shoe.identifier == "shoe-1" and models.Product.objects.count() == 4


def test_every_catalog_model_is_browsable_read_only(client, superuser, catalog):
    client.force_login(superuser)
    IMPORTERS["locales"].import_page([{"code": "en_US", "enabled": True}])
    IMPORTERS["attribute-options"].import_page([{"code": "red", "attribute": "color"}])
    index = client.get(reverse("admin:app_list", args=["catalog"])).content.decode()
    assert "Catalog" in index
    for model in models.CATALOG_MODELS:
        name = model._meta.model_name
        assert client.get(reverse(f"admin:catalog_{name}_changelist")).status_code == 200, name
        assert client.get(reverse(f"admin:catalog_{name}_add")).status_code == 403, name
        row = model.objects.first()
        if row is not None:
            assert client.get(reverse(f"admin:catalog_{name}_change", args=[row.pk])).status_code == 200, name
            assert client.get(reverse(f"admin:catalog_{name}_delete", args=[row.pk])).status_code == 403, name


def test_staff_need_the_view_permission(client, django_user_model, catalog):
    staff = django_user_model.objects.create_user(
        username="viewer", password="pw-for-tests-123", is_staff=True
    )
    client.force_login(staff)
    assert client.get(reverse("admin:catalog_product_changelist")).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="view_product"))
    assert client.get(reverse("admin:catalog_product_changelist")).status_code == 200
    assert client.get(reverse("admin:catalog_product_add")).status_code == 403
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="catalog"))
    shoe = models.Product.objects.get(identifier="shoe-1")
    # even holding every catalog permission, nobody changes the catalog by hand
    assert client.post(reverse("admin:catalog_product_change", args=[shoe.pk]), {}).status_code == 403
    assert (
        client.post(reverse("admin:catalog_product_delete", args=[shoe.pk]), {"post": "yes"}).status_code
        == 403
    )
