"""The end-of-run reconciliation: per entity, what Akeneo holds (counted independently of what the run read) vs
what this connection's records are in the local catalog."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from connections.akeneo.client import AkeneoClient
from connections.akeneo.errors import AkeneoError
from connections.crypto import CredentialsUnreadable
from migrations_runs.entities import ENTITY_BY_CODE
from migrations_runs.models import MigrationRun, Status
from migrations_runs.steps import mapped

logger = logging.getLogger(__name__)


def reconcile(run: MigrationRun, client: AkeneoClient | None = None) -> list[dict]:
    """Per finished entity: how many records Akeneo holds, counted independently of what the run read (Akeneo's
    `items_count` where it gives one, else a count read from the source now, per resource: see
    `verify.source_counts`), vs the records of this connection now in the local catalog (through its mappings, records it found gone from Akeneo left
    out: a row deleted locally is missing). `difference` = local - source (negative: records missing locally); each
    row also lists its resources (`parts`). When Akeneo cannot be reached for the counts, the records the run
    read stand in for them and `counted` says so ("read by the run" instead of "Akeneo")."""
    from migrations_runs.export import visible
    from migrations_runs.importers import IMPORTERS
    from migrations_runs.services import make_client
    from migrations_runs.verify import source_counts

    rows = []
    own = client is None
    steps = list(run.steps.filter(status=Status.COMPLETED).order_by("position"))
    counted: dict[str, dict[str, int] | None] = dict.fromkeys((step.entity for step in steps), None)
    try:
        try:
            client = client or make_client(run.connection)
            # the entities are counted at once (within the connection's budget): counts are small calls
            with ThreadPoolExecutor(max(1, client.settings.max_in_flight), "akeneo-count") as pool:
                counted = dict(zip(counted, pool.map(partial(source_counts, client), counted), strict=True))
        except (AkeneoError, CredentialsUnreadable) as error:
            logger.warning("Run %s: the source could not be counted: %s", run.pk, error)
        for step in steps:
            entity = ENTITY_BY_CODE[step.entity]
            counts = counted[step.entity]
            parts = [
                {
                    "resource": part.resource,
                    "source": counts[part.resource] if counts is not None else None,
                    "local": visible(
                        mapped(
                            IMPORTERS[part.resource].model,
                            run.connection_id,
                            IMPORTERS[part.resource].resource,
                        ),
                        run.connection_id,
                        IMPORTERS[part.resource].resource,
                    ).count(),
                }
                for part in entity.parts
            ]
            source = sum(part["source"] for part in parts) if counts is not None else step.read
            local = sum(part["local"] for part in parts)
            rows.append(
                {
                    "entity": step.entity,
                    "label": entity.label,
                    "source": source,
                    "local": local,
                    "difference": local - source,
                    "match": source == local
                    and all(part["source"] in (None, part["local"]) for part in parts),
                    "counted": "Akeneo" if counts is not None else "read by the run",
                    "parts": parts,
                }
            )
    finally:
        if own and client is not None:
            client.close()
    return rows
