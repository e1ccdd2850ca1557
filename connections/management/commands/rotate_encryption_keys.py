"""Re-encrypt every stored credential with the newest key of FIELD_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand, CommandError

from connections.services import rotate_encryption_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt all Akeneo credentials with the first (newest) key of FIELD_ENCRYPTION_KEYS. "
        "Keep the old key listed after the new one until this has run."
    )

    def handle(self, *args, **options) -> None:
        rotated, unreadable = rotate_encryption_keys()
        self.stdout.write(f"Re-encrypted the credentials of {rotated} connection(s) with the newest key.")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} connection(s) could not be decrypted with any configured key "
                f"(ids: {', '.join(map(str, unreadable))}): add the key they were encrypted with, or enter "
                "their credentials again in the admin."
            )
