"""Password reset for organisers and judges, through Podium's outbox.

Django's reset views and token, with two changes: the email is an outbox row (sent
by a worker, retried, visible to operators) rather than SMTP inside the request, and
requests are rate-limited per client and per address. The page answers the same
whether an account has the address or not, and whether that address's own limit is
reached or not: nothing tells a visitor which addresses have accounts.
"""

import hashlib
import logging
import time
import unicodedata
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse, reverse_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import SimpleRateThrottle

from notifications.services import Email, notification_enqueue

from .security import client_ip

logger = logging.getLogger(__name__)


class _Limit(SimpleRateThrottle):
    """A fixed-window counter in the cache, keyed by what the caller names."""

    def __init__(self, *, scope: str, rate: str | None, ident: str) -> None:
        self.scope = scope
        self.rate = rate
        self.ident = ident
        self.num_requests, self.duration = self.parse_rate(rate)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}

    def allowed(self) -> bool:
        """Counts one attempt; False once over the limit. A cache outage lets it pass."""
        if self.rate is None:
            return True
        try:
            return self.allow_request(None, None)  # type: ignore[arg-type]
        except Exception as exc:  # the cache is down: refusing would lock everyone out
            logger.warning("Password reset rate limit unavailable (%s); allowed.", exc)
            return True


def _address_ident(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _email_matches(stored: str, given: str) -> bool:
    # As Django's own form compares: normalised and case-folded, so that a
    # look-alike address does not receive another account's reset.
    def fold(value: str) -> str:
        return unicodedata.normalize("NFKC", value).casefold()

    return fold(stored or "") == fold(given)


class EmailAuthenticationForm(AuthenticationForm):
    """Sign-in by email address, in any letter case (accounts are stored lower-case)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The email address and password do not match an account. The password "
            "is case-sensitive; the address is not."
        ),
    }

    def clean_username(self) -> str:
        typed = str(self.cleaned_data.get("username", "")).strip()
        User = get_user_model()
        # A name created by hand (an operator's superuser) is kept as typed.
        if User._default_manager.filter(**{User.USERNAME_FIELD: typed}).exists():
            return typed
        return typed.lower()


class OutboxPasswordResetForm(PasswordResetForm):
    """Queues the reset email in the outbox, in the reader's language."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def get_users(self, email: str) -> Any:
        """Every active account of the address, those without a password too.

        Django's form leaves out accounts without a usable password; a judge whose
        invitation link was lost or ran out has none, and this mail, which goes to
        the address itself, is their way in.
        """
        User = get_user_model()
        email_field = User.get_email_field_name()
        return (
            user
            for user in User._default_manager.filter(
                **{f"{email_field}__iexact": email, "is_active": True}
            )
            if _email_matches(getattr(user, email_field), email)
        )

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        path = reverse(
            "password_reset_confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        with transaction.atomic():
            notification_enqueue(
                Email(
                    kind="password_reset",
                    to=to_email,
                    to_name=context["user"].get_full_name(),
                    template="registration/email/password_reset",
                    # Each request is its own cause; the limits bound how many.
                    dedupe_key=f"password_reset:{context['user'].pk}:{uuid.uuid4()}",
                    context={
                        "reset_url": f"{settings.SITE_URL}{path}",
                        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
                    },
                    language=get_language() or settings.LANGUAGE_CODE,
                    about=("auth.user", str(context["user"].pk)),
                )
            )


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, mailing through the outbox, limited per client and address."""

    form_class = OutboxPasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: OutboxPasswordResetForm) -> HttpResponse:  # type: ignore[override]
        request: HttpRequest = self.request
        per_client = _Limit(
            scope="password_reset_client",
            rate=settings.PASSWORD_RESET_RATE_LIMIT_PER_CLIENT,
            ident=client_ip(request),
        )
        if not per_client.allowed():
            form.add_error(
                None,
                _(
                    "Too many password reset requests from your network. Try again later."
                ),
            )
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(per_client.duration)
            return response
        per_address = _Limit(
            scope="password_reset_address",
            rate=settings.PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS,
            ident=_address_ident(form.cleaned_data["email"]),
        )
        if not per_address.allowed():
            # The same answer as a mailed reset: the limit must not tell whether an
            # account exists, and the address's owner is not flooded with mail.
            return super(auth_views.PasswordResetView, self).form_valid(form)
        return super().form_valid(form)


def sign_in_locked_notice(
    sender: Any, request: HttpRequest, username: str | None, **kwargs: Any
) -> None:
    """Tells an account's owner, through the outbox, that its sign-in was locked.

    django-axes' ``user_locked_out`` receiver. At most one notice per account per
    lock-out period, whatever the number of further attempts; nothing for a name
    that has no account (the page answers the same either way).
    """
    from django.contrib.auth import get_user_model

    if not username:
        return
    user = (
        get_user_model()
        .objects.filter(username__iexact=username)
        .exclude(email="")
        .first()
    )
    if user is None:
        return
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    window = int(time.time() // (minutes * 60))
    with transaction.atomic():
        notification_enqueue(
            Email(
                kind="sign_in_locked",
                to=user.email,
                to_name=user.get_full_name(),
                template="registration/email/sign_in_locked",
                dedupe_key=f"sign_in_locked:{user.pk}:{window}",
                context={
                    "minutes": minutes,
                    "reset_url": f"{settings.SITE_URL}{reverse('password_reset')}",
                },
                language=get_language() or settings.LANGUAGE_CODE,
                about=("auth.user", str(user.pk)),
            )
        )
