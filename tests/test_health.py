"""/healthz and /readyz. Failures are real: the database server ends the test's connection
(``tests.db_outage``, PostgreSQL only), a broker port refuses the connection; the checks themselves
are never replaced."""

from __future__ import annotations

import pytest
from django.db import connections

from tests.db_outage import dropped_connection


def test_it_serves_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_it_serves_healthz_while_the_database_is_down(client):
    with dropped_connection():
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_serves_healthz_to_get_only(client):
    assert client.post("/healthz").status_code == 405


def test_it_is_ready_when_every_dependency_answers(db: None, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "siem"}
    assert all(check["ok"] is True for check in body["checks"].values())
    assert body["checks"]["database"]["vendor"] == connections["default"].vendor
    # Never cached: a proxy must not answer "ready" for a dependency that has since gone down.
    assert "no-cache" in response.headers["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_it_is_not_ready_when_the_database_fails(client):
    with dropped_connection():
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["ok"] is False
    assert "OperationalError" in body["checks"]["database"]["error"]
    assert body["checks"]["broker"]["ok"] is True


def test_it_is_not_ready_when_the_broker_refuses(db: None, client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["kind"] == "redis"
    assert "Connection" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_it_names_every_failing_dependency(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    with dropped_connection():
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker", "database"]


def test_it_says_siem_forwarding_is_off_without_a_host(db: None, client, settings):
    settings.SIEM_HOST = None
    response = client.get("/readyz")
    assert response.status_code == 200
    siem = response.json()["checks"]["siem"]
    assert siem["ok"] is True
    assert siem["forwarding"] == "off"
    assert "SIEM_HOST" in siem["detail"]
