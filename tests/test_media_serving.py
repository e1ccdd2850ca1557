"""Imported media are served only by the admin, to staff with the view permission: raster images inline, every
other file (HTML, SVG, whatever Akeneo claimed) as a download; always `nosniff` and a sandbox CSP. No public
/media/ route exists, DEBUG or not."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import clear_url_caches, reverse

import akeneo_migration.urls
from catalog.models import MediaFile, Product
from demo_akeneo.server import start_demo_server
from migrations_runs.models import MigrationRun, Status
from tests.factories import connection_for
from tests.hostile_akeneo import SCRIPT_BODIES, start_hostile

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
HTML = b"<!doctype html><html><body><script>document.title='pwned'</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
SANDBOX = "sandbox; default-src 'none'"


def stored_media(code: str, content_type: str, content: bytes) -> MediaFile:
    media = MediaFile(code=code, content_type=content_type, size=len(content))
    media.file.save(code.rsplit("/", 1)[-1], ContentFile(content), save=True)
    return media


def download_url(media: MediaFile) -> str:
    return reverse("admin:catalog_mediafile_download", args=[media.pk])


@pytest.fixture
def media(db):
    return {
        "png": stored_media("a/b/c/d/1111_shoe.png", "image/png", PNG),
        "html": stored_media("a/b/c/d/2222_page.html", "text/html", HTML),
        "svg": stored_media("a/b/c/d/3333_logo.svg", "image/svg+xml", SVG),
        # Akeneo's claim is not believed: these bytes are HTML, whatever the stored type says.
        "fake_png": stored_media("a/b/c/d/4444_fake.png", "image/png", HTML),
    }


@pytest.fixture
def viewer(client, django_user_model):
    user = django_user_model.objects.create_user(
        username="viewer", password="pw-for-tests-123", is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="view_mediafile"))
    client.force_login(user)
    return client


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def assert_hardened(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_login_page(client, media):
    response = client.get(download_url(media["png"]))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


@pytest.mark.django_db
def test_staff_without_the_view_permission_is_refused(client, django_user_model, media):
    user = django_user_model.objects.create_user(username="staff", password="pw-for-tests-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_product"))
    client.force_login(user)
    assert client.get(download_url(media["png"])).status_code == 403


@pytest.mark.django_db
def test_a_png_is_shown_inline(viewer, media):
    response = viewer.get(download_url(media["png"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert body_of(response) == PNG
    assert_hardened(response)


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "content"), [("html", HTML), ("svg", SVG), ("fake_png", HTML)])
def test_html_and_svg_are_downloads_never_rendered(viewer, media, kind, content):
    response = viewer.get(download_url(media[kind]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    assert body_of(response) == content
    assert_hardened(response)


@pytest.mark.django_db
def test_missing_media_and_missing_files_are_404(viewer, media):
    assert viewer.get(reverse("admin:catalog_mediafile_download", args=[999999])).status_code == 404
    media["png"].file.storage.delete(media["png"].file.name)
    assert viewer.get(download_url(media["png"])).status_code == 404


@pytest.mark.django_db
def test_admin_pages_link_to_the_download_view_not_to_media_url(client, superuser, media):
    client.force_login(superuser)
    page = client.get(reverse("admin:catalog_mediafile_change", args=[media["png"].pk])).content.decode()
    assert f'<img src="{download_url(media["png"])}"' in page
    assert media["png"].file.url not in page
    page = client.get(reverse("admin:catalog_mediafile_change", args=[media["svg"].pk])).content.decode()
    assert f'href="{download_url(media["svg"])}"' in page
    assert "<img" not in page.split('class="readonly"', 1)[-1].split("</fieldset>")[0]


@pytest.fixture
def debug_urlconf(settings):
    """The URLconf as a DEBUG=1 server builds it (it is evaluated once, at import)."""
    settings.DEBUG = True
    importlib.reload(akeneo_migration.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(akeneo_migration.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_no_public_media_route_even_with_debug(client, media, debug_urlconf):
    for item in media.values():
        assert client.get(f"/{item.file.url.lstrip('/')}").status_code == 404
    assert client.get("/media/catalog/media/shoe.png").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_script_media_from_a_hostile_akeneo_end_up_as_downloads(viewer, django_user_model):
    """A migration from an Akeneo that answers every media download with an HTML page carrying a script."""
    demo = start_demo_server(products=3)
    hostile = start_hostile(demo, media_type="text/html")
    try:
        connection = connection_for(hostile)
        out = StringIO()
        call_command(
            "akeneo_migrate", str(connection.pk), "--entities", "attributes,products", "--sync", stdout=out
        )
    finally:
        hostile.stop()
        demo.stop()
    run = MigrationRun.objects.latest("pk")
    assert run.status == Status.COMPLETED, run.error
    assert Product.objects.exists()
    downloaded = MediaFile.objects.exclude(file="")
    assert downloaded.exists()
    for item in downloaded:
        response = viewer.get(download_url(item))
        assert response["Content-Disposition"].startswith("attachment")
        assert body_of(response) == SCRIPT_BODIES["text/html"]
        assert_hardened(response)
