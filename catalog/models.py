"""The local PIM: every Akeneo record kept whole, in Akeneo's standard format, keyed by its Akeneo code.

Why this shape: the record itself lives in `data` (exactly what Akeneo's GET endpoint returns, minus `_links`), so
nothing Akeneo knows is lost and a new Akeneo field never needs a migration. Typed columns exist only for keys,
references and browsing. References are kept twice: the Akeneo code (`*_code`, always set when the source has
it) and a nullable foreign key resolved when the target exists — so a record imported before its parent never
fails, and `catalog.references` fills the key in later.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from catalog.records import label_of

# `*_code` columns and identifiers are NULL when Akeneo says null (a root category, a product without family):
# "no parent" and "parent not resolved yet" stay distinguishable from a code, hence null=True (noqa: DJ001).
CODE_LENGTH = 255  # Akeneo codes are at most 100 characters; identifiers and record codes at most 255
MEDIA_CODE_LENGTH = 512  # media codes: "a/b/c/d/<sha1>_<original file name>"


class AkeneoRecord(models.Model):
    """What every catalog row has: the standard-format record, its checksum, and local timestamps."""

    data = models.JSONField(default=dict, help_text="The Akeneo record in standard format, without _links.")
    checksum = models.CharField(
        max_length=64, default="", help_text="sha256 of the canonical JSON of data (unchanged-record test)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Soft delete: the record disappeared from Akeneo (every connection that provided it saw it gone). Kept,
    # flagged, hidden from exports; `purge_deleted` erases it; importing it again clears the flag. The run is an
    # id, not a foreign key: the catalog does not depend on the runs app, and deleting a run must not touch it.
    deleted_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the record was found gone from Akeneo."
    )
    deleted_by_run_id = models.BigIntegerField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The migration run that found it gone (none: an event).",
    )

    # (foreign key name, column holding the Akeneo code of its target): resolved by catalog.references
    code_links: ClassVar[tuple[tuple[str, str], ...]] = ()

    class Meta:
        abstract = True

    @property
    def label(self) -> str:
        return label_of(self.data)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class CodedRecord(AkeneoRecord):
    """A record whose Akeneo code is unique on its own."""

    code = models.CharField(max_length=CODE_LENGTH, unique=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Locale(CodedRecord):
    enabled = models.BooleanField(default=False, db_index=True)


class Currency(CodedRecord):
    enabled = models.BooleanField(default=False, db_index=True)

    class Meta(CodedRecord.Meta):
        verbose_name_plural = "currencies"


class MeasurementFamily(CodedRecord):
    class Meta(CodedRecord.Meta):
        verbose_name_plural = "measurement families"


class Channel(CodedRecord):
    pass


class Category(CodedRecord):
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    parent_code = models.CharField(max_length=CODE_LENGTH, null=True, blank=True, db_index=True)  # noqa: DJ001

    code_links = (("parent", "parent_code"),)

    class Meta(CodedRecord.Meta):
        verbose_name_plural = "categories"


class AttributeGroup(CodedRecord):
    pass


class Attribute(CodedRecord):
    type = models.CharField(max_length=100, db_index=True)
    group_code = models.CharField(max_length=CODE_LENGTH, null=True, blank=True, db_index=True)  # noqa: DJ001


class AttributeOption(AkeneoRecord):
    """An option of a (multi)select attribute: keyed by (attribute code, option code), as Akeneo does."""

    attribute = models.ForeignKey(
        Attribute, null=True, blank=True, on_delete=models.CASCADE, related_name="options"
    )
    attribute_code = models.CharField(max_length=CODE_LENGTH)
    code = models.CharField(max_length=CODE_LENGTH)

    code_links = (("attribute", "attribute_code"),)

    class Meta:
        ordering = ["attribute_code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["attribute_code", "code"], name="catalog_option_attribute_code")
        ]

    def __str__(self) -> str:
        return f"{self.attribute_code}.{self.code}"


class Family(CodedRecord):
    class Meta(CodedRecord.Meta):
        verbose_name_plural = "families"


class FamilyVariant(AkeneoRecord):
    family = models.ForeignKey(
        Family, null=True, blank=True, on_delete=models.CASCADE, related_name="variants"
    )
    family_code = models.CharField(max_length=CODE_LENGTH)
    code = models.CharField(max_length=CODE_LENGTH)

    code_links = (("family", "family_code"),)

    class Meta:
        ordering = ["family_code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["family_code", "code"], name="catalog_variant_family_code")
        ]

    def __str__(self) -> str:
        return f"{self.family_code}.{self.code}"


class AssociationType(CodedRecord):
    pass


class ProductModel(CodedRecord):
    family_code = models.CharField(max_length=CODE_LENGTH, null=True, blank=True, db_index=True)  # noqa: DJ001
    family_variant_code = models.CharField(max_length=CODE_LENGTH, null=True, blank=True, db_index=True)  # noqa: DJ001
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    parent_code = models.CharField(max_length=CODE_LENGTH, null=True, blank=True, db_index=True)  # noqa: DJ001

    code_links = (("parent", "parent_code"),)


class Product(AkeneoRecord):
    """A product, keyed by uuid. Products read from `/products` without a uuid get uuid5(identifier)."""

    uuid = models.UUIDField("UUID", unique=True)
    identifier = models.CharField(max_length=CODE_LENGTH, null=True, blank=True, db_index=True)  # noqa: DJ001
    enabled = models.BooleanField(default=True, db_index=True)
    family_code = models.CharField(max_length=CODE_LENGTH, null=True, blank=True, db_index=True)  # noqa: DJ001
    parent = models.ForeignKey(
        ProductModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="variants"
    )
    parent_code = models.CharField(max_length=CODE_LENGTH, null=True, blank=True, db_index=True)  # noqa: DJ001

    code_links = (("parent", "parent_code"),)

    class Meta:
        ordering = ["identifier", "uuid"]

    def __str__(self) -> str:
        return self.identifier or str(self.uuid)


class MediaFile(AkeneoRecord):
    """A media file (product, asset or record media) stored in Django's storage under its Akeneo code."""

    code = models.CharField(max_length=MEDIA_CODE_LENGTH, unique=True)
    file = models.FileField(upload_to="catalog/media/", max_length=1024, blank=True)
    content_type = models.CharField(max_length=255, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class AssetFamily(CodedRecord):
    class Meta(CodedRecord.Meta):
        verbose_name_plural = "asset families"


class AssetFamilyAttribute(AkeneoRecord):
    asset_family = models.ForeignKey(
        AssetFamily, null=True, blank=True, on_delete=models.CASCADE, related_name="attributes"
    )
    asset_family_code = models.CharField(max_length=CODE_LENGTH)
    code = models.CharField(max_length=CODE_LENGTH)

    code_links = (("asset_family", "asset_family_code"),)

    class Meta:
        ordering = ["asset_family_code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset_family_code", "code"], name="catalog_asset_attribute_family_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_family_code}.{self.code}"


class AssetFamilyAttributeOption(AkeneoRecord):
    """An option of an asset family's single/multiple option attribute: keyed by (asset family, attribute, code).
    No foreign key: its attribute is keyed by two codes; the codes are the reference."""

    asset_family_code = models.CharField(max_length=CODE_LENGTH)
    attribute_code = models.CharField(max_length=CODE_LENGTH)
    code = models.CharField(max_length=CODE_LENGTH)

    class Meta:
        ordering = ["asset_family_code", "attribute_code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset_family_code", "attribute_code", "code"], name="catalog_asset_option_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_family_code}.{self.attribute_code}.{self.code}"


class Asset(AkeneoRecord):
    asset_family = models.ForeignKey(
        AssetFamily, null=True, blank=True, on_delete=models.CASCADE, related_name="assets"
    )
    asset_family_code = models.CharField(max_length=CODE_LENGTH)
    code = models.CharField(max_length=CODE_LENGTH)

    code_links = (("asset_family", "asset_family_code"),)

    class Meta:
        ordering = ["asset_family_code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["asset_family_code", "code"], name="catalog_asset_family_code")
        ]

    def __str__(self) -> str:
        return f"{self.asset_family_code}.{self.code}"


class ReferenceEntity(CodedRecord):
    class Meta(CodedRecord.Meta):
        verbose_name_plural = "reference entities"


class ReferenceEntityAttribute(AkeneoRecord):
    reference_entity = models.ForeignKey(
        ReferenceEntity, null=True, blank=True, on_delete=models.CASCADE, related_name="attributes"
    )
    reference_entity_code = models.CharField(max_length=CODE_LENGTH)
    code = models.CharField(max_length=CODE_LENGTH)

    code_links = (("reference_entity", "reference_entity_code"),)

    class Meta:
        ordering = ["reference_entity_code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference_entity_code", "code"], name="catalog_entity_attribute_entity_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference_entity_code}.{self.code}"


class ReferenceEntityAttributeOption(AkeneoRecord):
    """An option of a reference entity's single/multiple option attribute: keyed by (entity, attribute, code).
    No foreign key: its attribute is keyed by two codes; the codes are the reference."""

    reference_entity_code = models.CharField(max_length=CODE_LENGTH)
    attribute_code = models.CharField(max_length=CODE_LENGTH)
    code = models.CharField(max_length=CODE_LENGTH)

    class Meta:
        ordering = ["reference_entity_code", "attribute_code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference_entity_code", "attribute_code", "code"], name="catalog_entity_option_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference_entity_code}.{self.attribute_code}.{self.code}"


class ReferenceEntityRecord(AkeneoRecord):
    reference_entity = models.ForeignKey(
        ReferenceEntity, null=True, blank=True, on_delete=models.CASCADE, related_name="records"
    )
    reference_entity_code = models.CharField(max_length=CODE_LENGTH)
    code = models.CharField(max_length=CODE_LENGTH)

    code_links = (("reference_entity", "reference_entity_code"),)

    class Meta:
        ordering = ["reference_entity_code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference_entity_code", "code"], name="catalog_record_entity_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference_entity_code}.{self.code}"


class SourceGone(models.Model):
    """One connection no longer has one of the records it imported (deleted in its Akeneo, seen by a run or an
    event). Per connection, because a record another connection still provides stays in the catalog: the catalog
    row is flagged deleted only when every connection mapping to it has it gone. Removed when the record comes
    back from that connection (`migrations_runs.deletions`)."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(
        max_length=64, help_text="The Akeneo resource of the mapping, e.g. products-uuid."
    )
    akeneo_key = models.CharField(max_length=600)
    object_id = models.BigIntegerField(help_text="Primary key of the catalog row.")
    run_id = models.BigIntegerField(
        null=True, blank=True, help_text="The run that saw it gone (none: an event)."
    )
    gone_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "resource", "akeneo_key"], name="one_gone_per_key")
        ]
        indexes = [models.Index(fields=["resource", "object_id"], name="gone_object")]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.resource}:{self.akeneo_key} gone"


class SeenKey(models.Model):
    """Scratch rows of a running step: the keys it read from the source for a resource it reads in full, so the
    records of the connection that were not read are found by an anti-join in the database (bounded memory at
    any catalog size). Written with each page (in its transaction: a resumed step keeps them), deleted once the
    step has marked what is gone (`migrations_runs.deletions`)."""

    run_id = models.BigIntegerField()
    resource = models.CharField(max_length=64)
    akeneo_key = models.CharField(max_length=600)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run_id", "resource", "akeneo_key"], name="one_seen_key_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.resource}:{self.akeneo_key}"


CATALOG_MODELS: tuple[type[AkeneoRecord], ...] = (
    Locale,
    Currency,
    MeasurementFamily,
    Channel,
    Category,
    AttributeGroup,
    Attribute,
    AttributeOption,
    Family,
    FamilyVariant,
    AssociationType,
    ProductModel,
    Product,
    MediaFile,
    AssetFamily,
    AssetFamilyAttribute,
    AssetFamilyAttributeOption,
    Asset,
    ReferenceEntity,
    ReferenceEntityAttribute,
    ReferenceEntityAttributeOption,
    ReferenceEntityRecord,
)
