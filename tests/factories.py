"""factory-boy factories. Connections get real (encrypted) credentials through set_credentials."""

import factory

from connections.models import Connection
from tests.fake_akeneo import VALID


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"akeneo-{n}.example")
    base_url = factory.LazyAttribute(lambda o: f"https://{o.name}")
    username = VALID["username"]
    enabled = True

    @factory.post_generation
    def credentials(self, create, extracted, **kwargs):
        values = {**{k: VALID[k] for k in ("client_id", "secret", "password")}, **(extracted or {})}
        self.set_credentials(**values)
        if create:
            self.save()
