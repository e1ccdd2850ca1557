"""Celery app: broker and result backend on Redis (REDIS_URL), tasks autodiscovered from installed apps."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akeneo_migration.settings")

app = Celery("akeneo_migration")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
