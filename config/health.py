"""Health: ``/healthz``, and the answer of any request while the database is away.

``/healthz`` answers 503 when the database or the broker does not answer. A stalled
mail pipeline (the oldest due email waited over ``NOTIFICATIONS_STALLED_AFTER``
seconds: no worker, no beat, or a broker that lost the queue) leaves the web
serving, so it answers 200 with ``"status": "degraded"`` and ``"mail": "stalled"``,
and logs it.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from .problems import PROBLEM_CONTENT_TYPE, problem

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait before trying again while the database is away.
RETRY_AFTER_DATABASE = 5


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy", reported, not raised
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _broker() -> str:
    from config.celery import app

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _mail() -> dict[str, Any]:
    from notifications.selectors import outbox_health

    try:
        health = outbox_health()
    except Exception as exc:  # the database check reports the cause
        return {"mail": f"error: {exc.__class__.__name__}"}
    if health.status == "stalled":
        logger.error(
            "Mail is stalled: %d emails due, the oldest waited %d s "
            "(NOTIFICATIONS_STALLED_AFTER is %d s). Is a worker running, and beat?",
            health.queued,
            health.waited_seconds,
            health.stalled_after,
        )
    return {
        "mail": health.status,
        "mail_queued": health.queued,
        "mail_oldest_waited_seconds": health.waited_seconds,
    }


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(value == "ok" for value in checks.values())
    mail = _mail() if checks["database"] == "ok" else {}
    if not healthy:
        status = "error"
    elif mail.get("mail") != "ok":
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse(
        {"status": status, **checks, **mail}, status=200 if healthy else 503
    )


class DatabaseUnavailableMiddleware:
    """Turns "the database cannot be reached" into 503 with ``Retry-After``.

    A restart of PostgreSQL ends every connection: the transaction in flight is
    rolled back whole, so nothing was written and the client may simply try again.
    It is told so (503, ``code: "unavailable"``), not handed a 500.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not _database_away(exception):
            return None
        logger.warning(
            "Database unavailable, answered 503 to %s %s: %s",
            request.method,
            request.path,
            exception,
        )
        title = _("The service is briefly unavailable. Please try again in a moment.")
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse(
                problem(status_code=503, code="unavailable", title=title, detail=title),
                status=503,
                content_type=PROBLEM_CONTENT_TYPE,
            )
        else:
            response = HttpResponse(title, status=503, content_type="text/plain")
        response["Retry-After"] = str(RETRY_AFTER_DATABASE)
        return response


def _database_away(exception: Exception) -> bool:
    """A lost or refused connection, not a bad query (which stays a 500, a bug)."""
    return isinstance(exception, OperationalError | InterfaceError)
