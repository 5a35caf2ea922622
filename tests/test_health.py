"""/healthz reports the database, the broker and stalled mail; production settings pass check --deploy."""

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from notifications.models import Notification
from notifications.selectors import outbox_health

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_reports_database_and_broker(client, settings, redis_url) -> None:
    settings.CELERY_BROKER_URL = redis_url
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "mail": "ok",
        "mail_queued": 0,
        "mail_oldest_waited_seconds": 0,
    }


def _email(n: int, **fields) -> Notification:
    return Notification.objects.create(
        kind="registration_confirmed",
        recipient=f"person{n}@example.org",
        template="notifications/registration_confirmed",
        dedupe_key=f"health:{n}",
        **fields,
    )


def test_healthz_reports_mail_stalled_when_the_oldest_due_email_waited_too_long(
    client, settings, redis_url, caplog
) -> None:
    """Issue 9: a dead worker left 142 emails pending for minutes while /healthz
    said ok. Past NOTIFICATIONS_STALLED_AFTER the answer says so, and logs it."""
    settings.CELERY_BROKER_URL = redis_url
    settings.NOTIFICATIONS_STALLED_AFTER = 600
    now = timezone.now()
    _email(1, send_after=now - dt.timedelta(seconds=700))
    _email(2, send_after=now - dt.timedelta(seconds=5))
    _email(3, status="sending", send_after=now - dt.timedelta(seconds=20))
    _email(4, send_after=now + dt.timedelta(hours=1))  # a retry, not due yet
    _email(5, status="sent", send_after=now - dt.timedelta(days=1))
    with caplog.at_level(logging.ERROR, logger="config.health"):
        response = client.get("/healthz")
    assert response.status_code == 200  # the web still serves registrations
    body = response.json()
    assert body["status"] == "degraded" and body["mail"] == "stalled"
    assert body["database"] == "ok" and body["broker"] == "ok"
    assert body["mail_queued"] == 3
    assert 700 <= body["mail_oldest_waited_seconds"] < 760
    assert "Mail is stalled: 3 emails due, the oldest waited 7" in caplog.text


def test_mail_due_within_the_threshold_is_not_stalled(
    client, settings, redis_url, caplog
) -> None:
    settings.CELERY_BROKER_URL = redis_url
    settings.NOTIFICATIONS_STALLED_AFTER = 600
    _email(1, send_after=timezone.now() - dt.timedelta(seconds=590))
    response = client.get("/healthz")
    assert response.json()["status"] == "ok" and response.json()["mail"] == "ok"
    assert response.json()["mail_queued"] == 1
    assert "stalled" not in caplog.text
    health = outbox_health(now=timezone.now() + dt.timedelta(seconds=20))
    assert health.status == "stalled" and health.stalled_after == 600


def test_healthz_is_unhealthy_without_a_broker(client, settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("error")


def test_check_deploy_is_clean_under_production_settings() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SECRET_KEY": "a-long-random-production-secret-key-4f9d2c7e1b8a6d3f5e0c9b2a7d4e1f8c",
        "DJANGO_ALLOWED_HOSTS": "podium.example.org",
        "DATABASE_URL": "sqlite:////tmp/podium-deploy-check.sqlite3",
        # Production is served over HTTPS (secure cookies follow SITE_URL's scheme).
        "SITE_URL": "https://podium.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_api_docs_are_served_without_a_cdn(client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
