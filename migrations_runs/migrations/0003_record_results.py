import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0002_sync_settings"),
        ("migrations_runs", "0002_verify_reports"),
    ]

    operations = [
        migrations.CreateModel(
            name="RecordResult",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        blank=True,
                        default="run",
                        help_text='"run", or "event" for Akeneo events (no run).',
                        max_length=32,
                    ),
                ),
                (
                    "entity",
                    models.CharField(help_text="The Akeneo resource, e.g. products-uuid.", max_length=64),
                ),
                (
                    "key",
                    models.CharField(help_text="code, parent/code, or the product uuid.", max_length=600),
                ),
                (
                    "label",
                    models.CharField(
                        blank=True,
                        help_text="How the record is named: the identifier of a product.",
                        max_length=800,
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("created", "Created"),
                            ("updated", "Updated"),
                            ("deleted", "Deleted"),
                            ("failed", "Failed"),
                            ("skipped", "Skipped"),
                        ],
                        max_length=16,
                    ),
                ),
                ("message", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "connection",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="record_results",
                        to="connections.connection",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="record_results",
                        to="migrations_runs.migrationrun",
                    ),
                ),
                (
                    "step",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="record_results",
                        to="migrations_runs.migrationstep",
                    ),
                ),
            ],
            options={
                "ordering": ["pk"],
                "indexes": [
                    models.Index(fields=["run", "outcome"], name="record_result_run_outcome"),
                    models.Index(fields=["run", "entity"], name="record_result_run_entity"),
                    models.Index(fields=["key"], name="record_result_key"),
                    models.Index(fields=["connection", "source"], name="record_result_connection"),
                ],
            },
        ),
    ]
