"""Media files: codes with slashes routed raw, valid PNG/PDF bytes with matching Content-Type and Content-Length."""

from __future__ import annotations

import struct
import zlib

import requests

from .helpers import API


def assert_png(content: bytes) -> None:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(content):
        (length,) = struct.unpack(">I", content[pos : pos + 4])
        tag = content[pos + 4 : pos + 8]
        data = content[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", content[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(tag + data) & 0xFFFFFFFF == crc
        chunks.append((tag, data))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    raw = zlib.decompress(b"".join(d for t, d in chunks if t == b"IDAT"))
    assert len(raw) == height * (1 + 3 * width)


def test_product_image_values_link_to_downloadable_pngs(client):
    page = client.json(API + "/products-uuid", limit=20)
    images = [v for p in page["_embedded"]["items"] for v in p["values"].get("main_image", [])]
    assert images
    sizes = set()
    for value in images[:8]:
        code = value["data"]
        assert code.count("/") == 4 and code.endswith(".png")
        href = value["_links"]["download"]["href"]
        assert href == f"{client.base}{API}/media-files/{code}/download"
        response = client.session.get(href, timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/png"
        assert int(response.headers["Content-Length"]) == len(response.content)
        assert 200 < len(response.content) < 20_000
        assert_png(response.content)
        sizes.add(len(response.content))
        meta = client.json(API + f"/media-files/{code}")
        assert meta["code"] == code and meta["size"] == len(response.content)
        assert meta["mime_type"] == "image/png" and meta["extension"] == "png"
        assert meta["_links"]["download"]["href"] == href
    assert len(sizes) > 1  # not one image for everything


def test_manual_is_a_pdf(client):
    products = client.json(API + "/products-uuid", limit=100)["_embedded"]["items"]
    manuals = [v for p in products for v in p["values"].get("user_manual", [])]
    assert manuals
    response = client.session.get(manuals[0]["_links"]["download"]["href"], timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-1.4") and response.content.rstrip().endswith(b"%%EOF")
    assert int(response.headers["Content-Length"]) == len(response.content)


def test_percent_encoded_code_works_too(client):
    code = client.json(API + "/media-files", limit=1)["_embedded"]["items"][0]["code"]
    response = client.get(API + "/media-files/" + requests.utils.quote(code, safe="") + "/download")
    assert response.status_code == 200


def test_unknown_or_forged_codes_are_404(client):
    code = client.json(API + "/media-files", limit=1)["_embedded"]["items"][0]["code"]
    forged = code[:-20] + "0" * 10 + code[-10:]
    for bad in (forged, "a/b/c/d/nope.png", "nope"):
        response = client.get(API + f"/media-files/{bad}/download")
        assert response.status_code == 404, bad
        assert response.json()["code"] == 404


def test_media_download_needs_a_token(demo, client):
    code = client.json(API + "/media-files", limit=1)["_embedded"]["items"][0]["code"]
    assert requests.get(f"{demo.base_url}{API}/media-files/{code}/download", timeout=10).status_code == 401


def test_asset_and_record_media(client):
    asset = client.json(API + "/asset-families/packshots/assets")["_embedded"]["items"][0]
    media_value = asset["values"]["media"][0]
    assert set(media_value) >= {"locale", "channel", "data", "_links"}
    response = client.session.get(media_value["_links"]["download"]["href"], timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert_png(response.content)
    guide = client.json(API + "/asset-families/user_guides/assets")["_embedded"]["items"][0]
    pdf = client.session.get(guide["values"]["document"][0]["_links"]["download"]["href"], timeout=10)
    assert pdf.headers["Content-Type"] == "application/pdf"

    record = client.json(API + "/reference-entities/brands/records")["_embedded"]["items"][0]
    image = client.get(API + "/reference-entities-media-files/" + record["values"]["image"][0]["data"])
    assert image.status_code == 200
    assert_png(image.content)
    entity = client.json(API + "/reference-entities/brands")
    assert client.session.get(entity["_links"]["image_download"]["href"], timeout=10).status_code == 200
    # a product media code is not an asset media code
    product_code = client.json(API + "/media-files", limit=1)["_embedded"]["items"][0]["code"]
    assert client.get(API + "/asset-media-files/" + product_code).status_code == 404


def test_media_files_list_is_paged_with_download_links(client):
    page = client.json(API + "/media-files", limit=5, with_count="true")
    assert page["items_count"] == client.server.catalog.media_count
    for item in page["_embedded"]["items"]:
        assert item["_links"]["download"]["href"].endswith(item["code"] + "/download")
