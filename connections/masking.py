"""How credentials appear wherever the admin shows a connection or a run: always masked, never decrypted."""

from django.contrib import admin

MASK = "*****"


class MaskedCredentialsMixin:
    """Read-only admin columns/fields `masked_client_id`, `masked_secret`, `masked_password`."""

    @admin.display(description="Client ID")
    def masked_client_id(self, obj) -> str:
        return MASK

    @admin.display(description="Secret")
    def masked_secret(self, obj) -> str:
        return MASK

    @admin.display(description="Password")
    def masked_password(self, obj) -> str:
        return MASK
