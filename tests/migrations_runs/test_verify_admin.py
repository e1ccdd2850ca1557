"""Verify and Preview from a connection's edit page: buttons, permissions, Celery hand-over (ids only), the report
page and its downloads. The task body runs here, in the test, against a real demo Akeneo."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from catalog.models import CATALOG_MODELS, Product
from migrations_runs.models import VerifyReport
from migrations_runs.verify import execute_report
from tests.factories import connection_for
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)


demo = demo_fixture(products=30)


@pytest.fixture
def enqueued(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr("migrations_runs.tasks.enqueue_report", lambda report: calls.append(report.pk))
    return calls


def start_url(connection, kind: str) -> str:
    return reverse("admin:migrations_runs_verifyreport_start", args=[connection.pk, kind])


def test_edit_page_shows_preview_and_verify_next_to_start(admin, demo):
    connection = connection_for(demo)
    html = admin.get(reverse("admin:connections_connection_change", args=[connection.pk])).content.decode()
    assert "Start migration" in html
    assert f'formaction="{start_url(connection, "preview")}"' in html
    assert f'formaction="{start_url(connection, "verify")}"' in html


def test_preview_shows_the_counts_and_writes_nothing(admin, demo, enqueued):
    connection = connection_for(demo)
    response = admin.post(start_url(connection, "preview"), {"entities": ["products", "locales"]})
    report = VerifyReport.objects.get()
    assert enqueued == [report.pk]  # the task gets the id, nothing else
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:migrations_runs_verifyreport_change", args=[report.pk])
    assert report.kind == "preview" and report.entities == ["locales", "products"]
    execute_report(report.pk)  # what the worker does
    html = admin.get(response["Location"]).content.decode()
    assert "What a migration would do" in html and "nothing was written" in html
    assert (
        '<tr data-resource="products-uuid"><td>Products</td><td>products-uuid</td><td>30</td><td>30</td>'
        in html
    )
    assert all(model.objects.count() == 0 for model in CATALOG_MODELS)


def test_verify_report_page_lists_differences_and_downloads(admin, demo, enqueued):
    connection = connection_for(demo)
    call_command(
        "akeneo_migrate",
        str(connection.pk),
        "--entities",
        "products",
        "--sync",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    product = Product.objects.order_by("uuid").first()
    product.data = {**product.data, "categories": ["somewhere_else"]}
    product.save(update_fields=["data"])
    admin.post(start_url(connection, "verify"), {"entities": ["products"]})
    report = VerifyReport.objects.get()
    assert report.kind == "verify" and report.entities == ["products", "media"]
    report = execute_report(report.pk)
    assert report.status == "completed" and report.differences_total == 1
    page = reverse("admin:migrations_runs_verifyreport_change", args=[report.pk])
    html = admin.get(page).content.decode()
    assert "1 differences: the local catalog differs from Akeneo." in html
    assert str(product.uuid) in html and "categories" in html
    text = admin.get(reverse("admin:migrations_runs_verifyreport_download", args=[report.pk, "txt"]))
    assert text["Content-Disposition"] == f'attachment; filename="verify-{report.pk}.txt"'
    assert f"products-uuid differing {product.uuid}" in text.content.decode()
    data = json.loads(
        admin.get(reverse("admin:migrations_runs_verifyreport_download", args=[report.pk, "json"])).content
    )
    assert data["differences"][0]["fields"] == ["categories"] and data["differences_total"] == 1


def test_verify_and_preview_need_their_permissions(client, django_user_model, demo, enqueued):
    connection = connection_for(demo)
    user = django_user_model.objects.create_user(
        username="viewer", password="pw-for-tests-123", is_staff=True
    )
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_connection"]))
    client.force_login(user)
    html = client.get(reverse("admin:connections_connection_change", args=[connection.pk])).content.decode()
    assert "verify-catalog-button" not in html
    assert client.post(start_url(connection, "verify"), {"entities": ["locales"]}).status_code == 403
    assert client.post(start_url(connection, "preview"), {"entities": ["locales"]}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="verify_catalog"))
    user = django_user_model.objects.get(pk=user.pk)
    client.force_login(user)
    assert client.post(start_url(connection, "verify"), {"entities": ["locales"]}).status_code == 302
    assert VerifyReport.objects.count() == 1 and enqueued
    assert client.get(start_url(connection, "verify")).status_code == 405
