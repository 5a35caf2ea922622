"""Per-client-IP throttling of registration creates (``REGISTRATION_RATE_LIMIT``)."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle


class RegistrationRateThrottle(SimpleRateThrottle):
    """Limits registration creates per client IP; an empty setting turns it off.

    Works for API views and, through ``allow_request(request, None)``, for pages.
    """

    scope = "registrations"

    def get_rate(self) -> str | None:
        return settings.REGISTRATION_RATE_LIMIT or None

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }


def registration_allowed(request: HttpRequest) -> bool:
    """Counts one registration attempt of a page's client; False once over the limit."""
    return RegistrationRateThrottle().allow_request(request, None)  # type: ignore[arg-type]
