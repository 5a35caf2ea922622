"""Per-client-IP throttling of registration creates (``REGISTRATION_RATE_LIMIT``)."""

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.exceptions import ValidationError
from rest_framework.throttling import SimpleRateThrottle

from .idempotency import idempotency_key_answered, request_key

logger = logging.getLogger(__name__)


class RegistrationRateThrottle(SimpleRateThrottle):
    """Limits registration creates per client IP; an empty setting turns it off.

    Works for API views and, through ``allow_request(request, None)``, for pages.
    The counts live in the cache (Redis): when it cannot be reached the limit is
    not applied, with a warning, rather than refusing people a seat.
    """

    scope = "registrations"

    def get_rate(self) -> str | None:
        return settings.REGISTRATION_RATE_LIMIT or None

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache backend's own errors, whatever they are
            logger.warning(
                "Registration rate limit not applied: the cache is unavailable (%s: %s).",
                exc.__class__.__name__,
                exc,
            )
            return True


def registration_allowed(request: HttpRequest) -> bool:
    """Counts one registration attempt of a page's client; False once over the limit."""
    return RegistrationRateThrottle().allow_request(request, None)


class RegistrationCreateRateThrottle(RegistrationRateThrottle):
    """The API's limit, which does not count a retry whose key has its answer already.

    Such a retry registers nobody and sends nothing (it replays the first answer, or
    is refused with 422), so it costs no attempt. A retry sent while the first is
    still running is counted: it cannot be told apart yet.
    """

    def allow_request(self, request: Any, view: Any) -> bool:
        if self._answered_retry(request, view):
            return True
        return super().allow_request(request, view)

    @staticmethod
    def _answered_retry(request: Any, view: Any) -> bool:
        scope_of = getattr(view, "idempotency_scope", None)
        if scope_of is None:
            return False
        try:
            key = request_key(request)
        except ValidationError:
            return False  # counted; the view answers 400
        return key is not None and idempotency_key_answered(
            scope=scope_of(request), key=key
        )
