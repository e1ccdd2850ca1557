"""Write the local catalog as JSON lines in Akeneo's standard format: one file per Akeneo resource.

What Akeneo's GET endpoints return, without `_links`, so an export can be diffed against the source.
Sub-resource lines carry their parent codes (the table's `parent_fields`: `attribute`, `family`, `asset_family`,
`reference_entity`; `asset_family` and `attribute` on asset-family attribute options...). The files are the
resource table's `export` names.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from django.core.files.storage import default_storage
from django.db.models import QuerySet

from connections.akeneo.resources import RESOURCES, exported
from migrations_runs.importers import IMPORTERS
from migrations_runs.media import hashed_media_path, media_path

logger = logging.getLogger(__name__)


def exported_resources() -> dict[str, str]:
    """Export file name -> resource, from the resource table (its `export` names), in dependency order.
    "products" are read from /products-uuid but exported under Akeneo's name."""
    return {name: spec.name for name, spec in exported().items()}


def export_catalog(
    out: Path,
    *,
    connection_id: int | None = None,
    include_deleted: bool = False,
    on_file: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Write `<name>.jsonl` per resource (lines sorted by key) and media bytes under `media/<code>`.

    With `connection_id`, only what that connection's runs imported (through its mappings); media: all.
    Records gone from Akeneo (flagged deleted; with `connection_id`, also those gone from that connection's
    Akeneo while another still provides them) are left out unless `include_deleted`: an export equals the source.
    Media codes come from Akeneo: each is written at `media/<media_path(code)>` (the code itself for Akeneo's
    own codes), never outside `out`; one media that cannot be written is logged and skipped.
    """
    from catalog.models import MediaFile
    from migrations_runs.services import mapped

    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, resource in exported_resources().items():
        importer = IMPORTERS[resource]
        parents = list(zip(RESOURCES[resource].parent_fields, importer.parent_columns, strict=True))
        rows = (
            importer.model.objects.all()
            if connection_id is None
            else mapped(importer.model, connection_id, resource)
        )
        if not include_deleted:
            rows = visible(rows, connection_id, importer.resource)
        rows = rows.order_by(*importer.key_fields)
        fields = ["data", *importer.parent_columns]
        written = 0
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for row in rows.values(*fields).iterator(chunk_size=2000):
                line = dict(row["data"])
                for field_name, column in parents:  # sub-resource lines carry their parent codes
                    line.setdefault(field_name, row[column])
                handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
                written += 1
        counts[name] = written
        if on_file:
            on_file(name, written)
    media_dir = (out / "media").resolve()
    media = 0
    for code, stored in (
        MediaFile.objects.exclude(file="").order_by("code").values_list("code", "file").iterator()
    ):
        if _copy_media(stored, media_dir, media_path(code)) or _copy_media(
            stored, media_dir, hashed_media_path(code)
        ):
            media += 1
        else:
            logger.warning("Media %s was not exported", ascii(code)[1:-1][:300])
    counts["media"] = media
    if on_file:
        on_file("media", media)
    return counts


def visible(rows: QuerySet, connection_id: int | None, resource: str) -> QuerySet:
    """Rows not flagged deleted and, for one connection's export, not gone from that connection's Akeneo."""
    from catalog.models import SourceGone

    rows = rows.filter(deleted_at__isnull=True)
    if connection_id is not None:
        gone = SourceGone.objects.filter(connection_id=connection_id, resource=resource)
        rows = rows.exclude(pk__in=gone.values("object_id"))
    return rows


def _copy_media(stored: str, media_dir: Path, path: str) -> bool:
    """Copy one stored media to `media_dir/path`; False if that place is unusable (outside, or a clash such as
    `a/b` being a file when `a/b/c` is written)."""
    target = media_dir / path
    try:
        if not target.resolve().is_relative_to(media_dir):  # a symlink planted in an existing `out`
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(stored, "rb") as source, target.open("wb") as handle:
            shutil.copyfileobj(source, handle)
    except OSError as error:
        logger.warning("Media file %s could not be written: %s", target, error)
        return False
    return True
