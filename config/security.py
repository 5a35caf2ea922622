"""Security headers, the client's address, sign-in lock-out and deployment checks.

- ``PermissionsPolicyMiddleware`` denies powerful browser features on every
  response; ``allow_camera`` lets one view (the door's ticket scanner) use the camera.
- ``client_ip`` is the one definition of "the client" for rate limits and lock-outs:
  ``REMOTE_ADDR``, or the address ``DJANGO_NUM_PROXIES`` trusted proxies saw.
- ``lockout_response`` is django-axes' answer once an account or a client has
  guessed too often: the sign-in page again, with the reason, in the reader's language.
- ``check_site_url_scheme`` warns, in ``check --deploy``'s spirit, when Podium is
  served over plain HTTP outside development.
"""

import datetime as dt
import math
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.throttling import BaseThrottle

# Every feature a page of Podium might be given, all denied unless a view allows it.
POLICY_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY_HEADER = "Permissions-Policy"
_ALLOWED_ATTRIBUTE = "permissions_policy_allow"


def permissions_policy(allowed: Iterable[str] = ()) -> str:
    """The header's value: ``camera=(self)`` for allowed features, ``()`` for the rest."""
    allow = set(allowed)
    return ", ".join(
        f"{feature}=(self)" if feature in allow else f"{feature}=()"
        for feature in POLICY_FEATURES
    )


class PermissionsPolicyMiddleware:
    """Adds ``Permissions-Policy`` to every response (see ``allow_camera``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if PERMISSIONS_POLICY_HEADER not in response:
            allowed = getattr(response, _ALLOWED_ATTRIBUTE, ())
            response[PERMISSIONS_POLICY_HEADER] = permissions_policy(allowed)
        return response


def allow_features(
    *features: str,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view decorator: its responses let this origin use these features."""
    unknown = set(features) - set(POLICY_FEATURES)
    if unknown:
        raise ValueError(f"Unknown Permissions-Policy features: {sorted(unknown)}")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            response = view(*args, **kwargs)
            allowed = set(getattr(response, _ALLOWED_ATTRIBUTE, ())) | set(features)
            setattr(response, _ALLOWED_ATTRIBUTE, allowed)
            return response

        return wrapped

    return decorator


# The door's check-in page scans tickets with the phone's camera; no other page may.
allow_camera = allow_features("camera")


def client_ip(request: HttpRequest) -> str:
    """The client's address as the registration rate limit sees it (``NUM_PROXIES``)."""
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The account an attempt is for: sign-in names are email addresses, any case."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(value).strip().lower()[:254]


def _minutes(cool_off: dt.timedelta | None) -> int:
    return max(
        1, math.ceil((cool_off or dt.timedelta(minutes=15)).total_seconds() / 60)
    )


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The sign-in page with the lock-out's reason, 429 and ``Retry-After``."""
    from axes.helpers import get_cool_off
    from django.contrib.auth.forms import AuthenticationForm

    cool_off = get_cool_off(request)
    minutes = _minutes(cool_off)
    form = AuthenticationForm(request, data=request.POST or None)
    form.is_bound = False  # show the page, not the password's errors
    message = ngettext(
        "Too many failed sign-in attempts. Try again in %(minutes)d minute, "
        "or reset your password.",
        "Too many failed sign-in attempts. Try again in %(minutes)d minutes, "
        "or reset your password.",
        minutes,
    ) % {"minutes": minutes}
    response = render(
        request,
        "registration/login.html",
        {
            "form": form,
            "lockout_message": message,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response


@checks.register(checks.Tags.security, deploy=True)
def check_site_url_scheme(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Plain HTTP outside development: cookies travel readable, HSTS does nothing."""
    if settings.DEBUG or not settings.SITE_URL.startswith("http://"):
        return []
    return [
        checks.Warning(
            _(
                "SITE_URL (%(url)s) is plain HTTP with DEBUG off: session and CSRF "
                "cookies are not marked Secure, so that forms work, and travel "
                "readable. Serve Podium over HTTPS and set SITE_URL to its https:// "
                "address."
            )
            % {"url": settings.SITE_URL},
            id="podium.W001",
        )
    ]


class SecurityConfig(AppConfig):
    """Installs this module (its deployment check) without making ``config`` an app
    of models: importing it registers ``check_site_url_scheme``."""

    name = "config"
    label = "podium_security"
    verbose_name = "Podium security"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from .accounts import sign_in_locked_notice

        user_locked_out.connect(
            sign_in_locked_notice, dispatch_uid="podium-sign-in-locked-notice"
        )
