"""Fixtures shared by the suite: services it needs, an API client, an organiser."""

import os
import shutil
import socket
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

IN_CI = os.environ.get("CI") == "true"


def require(condition: bool, what: str) -> None:
    """Skips a test whose service is missing, except under CI=true where that fails it."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is not available")


@pytest.fixture
def postgres(db: None) -> None:
    require(connection.vendor == "postgresql", "PostgreSQL")


@pytest.fixture
def postgres_transactional(transactional_db: None) -> None:
    require(connection.vendor == "postgresql", "PostgreSQL")


def _port_open(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    require(_port_open("127.0.0.1", 6379), "Redis")
    return url


@pytest.fixture
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require(os.path.exists(path), "Debian's Chromium (/usr/bin/chromium)")
    return path


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the site's language: a request through the test client
    leaves its Accept-Language active in the thread, and translated fields read
    in the active language."""
    with translation.override(django_settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path) -> None:
    """Uploaded files (and the demo's logo and seal) stay out of var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings) -> None:
    """Serves static files from the source tree: tests do not run collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture
def api() -> APIClient:
    return APIClient()
