"""Akeneo's own spec (../shared/akeneo-api) and its example payloads: real Akeneo answers for client and importers."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "akeneo-api" / "akeneo-web-api.json"
PARENTS = {"attribute-options": "color", "family-variants": "shoes", "reference-entity-records": "brand",
           "assets": "packshots", "asset-family-attributes": "packshots", "reference-entity-attributes": "brand"}  # fmt: skip


def load_spec() -> dict:
    return json.loads(SPEC.read_text())


def example_body(spec: dict, path: str) -> object | None:
    """The 200 example of GET `path`: its list example, else the example of one item of it (products)."""
    response = spec["paths"][path]["get"]["responses"]["200"]
    if isinstance(response.get("examples"), dict):
        return response["examples"]
    if "example" in response.get("schema", {}):
        return response["schema"]["example"]
    for item_path in (f"{path}/{{uuid}}", f"{path}/{{code}}"):
        if item_path in spec["paths"]:
            return example_body(spec, item_path)
    return None


def as_served(body: object, pagination: str) -> object:
    """Item examples become a one-item page (or a one-item array for unpaginated resources)."""
    if pagination == "none":
        return body if isinstance(body, list) else [body]
    if isinstance(body, dict) and "_embedded" not in body:
        return {"_links": {}, "_embedded": {"items": [body]}}
    return body


def embedded(body: object) -> list:
    if isinstance(body, list):
        return body
    return body["_embedded"].get("items", body["_embedded"].get("_items"))


def relative_links(body: object) -> object:
    """Real Akeneo sends absolute links; some compatible servers send relative ones. Serve relative ones."""
    if isinstance(body, dict):
        return {
            key: (urlsplit(value).path + (f"?{urlsplit(value).query}" if urlsplit(value).query else ""))
            if key == "href" and isinstance(value, str)
            else relative_links(value)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [relative_links(item) for item in body]
    return body
