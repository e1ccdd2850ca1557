"""factory-boy factories. Connections get real (encrypted) credentials before their first save."""

import factory

from connections.models import Connection
from tests.support.akeneo import VALID


class ConnectionFactory(factory.django.DjangoModelFactory):
    """`ConnectionFactory(credentials={"secret": "x"})` overrides some of the VALID credentials."""

    class Meta:
        model = Connection

    name = factory.Sequence(lambda n: f"akeneo-{n}.example")
    base_url = factory.LazyAttribute(lambda o: f"https://{o.name}")
    username = VALID["username"]
    enabled = True

    @classmethod
    def _create(cls, model_class, *args, credentials=None, **kwargs):
        connection = model_class(*args, **kwargs)
        values = {**{k: VALID[k] for k in ("client_id", "secret", "password")}, **(credentials or {})}
        connection.set_credentials(**values)
        connection.save()  # one save: one "created" history row, like the admin and the CLI
        return connection


def connection_for(server, **kwargs) -> Connection:
    """A connection to a running demo (or hostile) Akeneo server, with that server's own credentials."""
    creds = server.credentials
    return ConnectionFactory(
        base_url=server.base_url,
        username=creds["username"],
        credentials={key: creds[key] for key in ("client_id", "secret", "password")},
        **kwargs,
    )
