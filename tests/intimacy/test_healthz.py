"""/healthz: 200 while the database answers, 503 otherwise, and never a hang."""

import runpy
import socket
import threading
from pathlib import Path
from unittest import mock

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

from intimacy.views import health

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_answers_ok_when_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_healthz_answers_503_when_database_fails(client):
    with mock.patch.object(type(connections[DEFAULT_DB_ALIAS]), "cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert b"down" not in response.content


@pytest.mark.django_db
def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.fixture
def silent_database():
    """A "database" on loopback that completes the TCP handshake and then never says a word, as a
    hung PostgreSQL does. Yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # the kernel accepts connections into the backlog; nothing ever answers
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()  # resets whatever still waits, so no thread stays stuck on it


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_never_answers(monkeypatch, rf, silent_database):
    # The production settings (config/settings.py) for a PostgreSQL at the silent address.
    monkeypatch.setenv("DATABASE_URL", f"postgres://tend@127.0.0.1:{silent_database}/tend")
    database = runpy.run_path(str(BASE_DIR / "config" / "settings.py"))["DATABASES"]["default"]
    # Within 5 s: a connection attempt gives up after 3 s.
    assert database["OPTIONS"]["connect_timeout"] == 3
    silent = connections.configure_settings({DEFAULT_DB_ALIAS: database})[DEFAULT_DB_ALIAS]
    monkeypatch.setitem(connections.settings, DEFAULT_DB_ALIAS, silent)
    answers = []
    # In a thread of its own, so that the connection it opens is made from these settings, and so that
    # a hang fails this test (a generous join) instead of stopping the suite.
    probe = threading.Thread(target=lambda: answers.append(health.healthz(rf.get("/healthz"))), daemon=True)
    probe.start()
    probe.join(timeout=60)
    assert not probe.is_alive(), "/healthz hung on a database that never answers"
    (response,) = answers
    assert response.status_code == 503 and response.content == b"unavailable"


def test_favicon_is_tends_icon_for_anyone(client):
    # Issue 17: /favicon.ico was a 404 in every browser console. A temporary redirect to the static
    # icon (its hashed name changes with each deploy), cached for a day.
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/tend/icon-192.png"
    assert "max-age=86400" in response["Cache-Control"]
