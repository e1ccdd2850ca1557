"""The resource table covers Akeneo's spec: every GET endpoint is read, is a media download, is the item endpoint
of a listed resource, or is listed as not read with its reason; and every table path is a GET of the spec."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from connections.akeneo.resources import MEDIA_KINDS, NOT_READ, RESOURCES, exported
from migrations_runs.entities import ENTITIES
from migrations_runs.importers import IMPORTERS

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "akeneo-api" / "akeneo-web-api.json"
pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"Akeneo's spec is not at {SPEC}")


def shape(path: str) -> str:
    """A path with every placeholder written `{}`."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def spec_gets() -> set[str]:
    spec = json.loads(SPEC.read_text())
    return {path for path, item in spec["paths"].items() if "get" in item}


def test_every_table_path_and_media_download_is_a_get_of_the_spec():
    gets = {shape(path) for path in spec_gets()}
    for spec in RESOURCES.values():
        assert shape(spec.path) in gets, spec.name
    for kind, path in MEDIA_KINDS.items():
        assert shape(path) in gets, kind


def test_every_get_of_the_spec_is_read_or_skipped_with_a_reason():
    read = {shape(spec.path) for spec in RESOURCES.values()}
    media = {shape(path) for path in MEDIA_KINDS.values()}
    skipped = {shape(path) for path, reason in NOT_READ.items() if reason}
    unaccounted = []
    for path in sorted(spec_gets()):
        item_of = shape(path).rsplit("/", 1)[0]  # /attributes/{} is an item of /attributes (read or not)
        if shape(path) in read | media | skipped or (path.endswith("}") and item_of in read | skipped):
            continue
        unaccounted.append(path)
    assert not unaccounted


def test_every_resource_with_a_model_has_an_importer_an_entity_and_an_export():
    in_entities = {resource for entity in ENTITIES for resource in entity.resources}
    files = {spec.name for spec in exported().values()}
    for name, spec in RESOURCES.items():
        if spec.model is None:
            assert spec.converter is not None and any(other.fallback == name for other in RESOURCES.values())
            continue
        assert IMPORTERS[name].model._meta.label == spec.model
        assert name in in_entities or name == "products", (
            name
        )  # /products: read when /products-uuid is absent
        assert name in files or name == "products", name
    assert "asset-family-attribute-options" in files and "reference-entity-attribute-options" in files
