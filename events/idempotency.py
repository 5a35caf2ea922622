"""Safe retries of a POST: the ``Idempotency-Key`` request header (IETF httpapi draft).

A client that sends a key with a registration and gets no answer (a timeout, a lost
connection) sends the same request again with the same key. The first request to
carry a key answers as usual and its answer is kept, under the key, for
``IDEMPOTENCY_KEY_TTL``; a repeat with the same body gets that answer again (status,
body, content type) without doing the work twice; a repeat with another body is
refused with 422 ``idempotency_key_reused``.

Concurrent repeats are made safe by the database. The first request inserts the
key's row (``INSERT ... ON CONFLICT DO NOTHING``) and does its work and stores its
answer in that same transaction, so it holds the row, and the unique index entry,
until it commits. A repeat's insert waits on that index entry; once the first
commits, the repeat finds the row, locks it (``SELECT ... FOR UPDATE``) and replays
the stored answer. If the first fails with a server error, its transaction rolls
back with the row, and the key is free for the next attempt: a key is never left
"in progress".
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from config.problems import DomainError

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
# How long a key's first answer is kept and replayed; an older key is a new one.
IDEMPOTENCY_KEY_TTL = dt.timedelta(hours=24)
# The header a replayed answer carries, so that a client can tell (as Stripe's does).
REPLAYED_HEADER = "Idempotent-Replayed"
# Headers of the first answer that are kept with it; Content-Type is kept apart,
# the rest (Date, security headers, Vary, ...) is the middleware's, for each answer.
KEPT_HEADERS = ("Location", "WWW-Authenticate", "Content-Language")


class IdempotencyKeyReused(DomainError):
    status = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "idempotency_key_reused"
    title = _(
        "This Idempotency-Key was already used with a different request body. "
        "Use a new key for a new request."
    )


def _invalid_key(message: Any) -> exceptions.ValidationError:
    return exceptions.ValidationError({HEADER: [message]})


def _printable(text: str) -> bool:
    return all(" " <= char <= "~" for char in text)


def _unquote(value: str) -> str:
    """The text of an RFC 8941 sf-string (``"..."`` with ``\\"`` and ``\\\\``)."""
    chars: list[str] = []
    index = 1
    while index < len(value):
        char = value[index]
        if char == "\\":
            if index + 1 >= len(value) or value[index + 1] not in '"\\':
                raise _invalid_key(
                    _("A quoted key may escape only a double quote or a backslash.")
                )
            chars.append(value[index + 1])
            index += 2
            continue
        if char == '"':
            if index != len(value) - 1:
                raise _invalid_key(_("Nothing may follow a quoted key."))
            return "".join(chars)
        chars.append(char)
        index += 1
    raise _invalid_key(_("A quoted key must end with a double quote."))


def idempotency_key_parse(raw: str | None) -> str | None:
    """The key a request carries, or None without the header.

    The draft's field is a Structured Field string (``"8e03978e-..."``); a bare value
    is taken as the same key, so ``"abc"`` and ``abc`` are one key. Refuses (400
    ``invalid``, an error on ``Idempotency-Key``) an empty key, one over
    ``KEY_MAX_LENGTH`` characters, and one with characters outside printable ASCII.
    """
    if raw is None:
        return None
    value = raw.strip(" \t")
    if not _printable(value):
        raise _invalid_key(
            _(
                "The key may hold printable ASCII characters only (no control characters)."
            )
        )
    key = _unquote(value) if value.startswith('"') else value
    if not key.strip():
        raise _invalid_key(_("The key must not be empty."))
    if len(key) > KEY_MAX_LENGTH:
        raise _invalid_key(
            _("The key is too long: at most %(max)d characters.")
            % {"max": KEY_MAX_LENGTH}
        )
    return key


def request_key(request: Request) -> str | None:
    """The ``Idempotency-Key`` of a DRF request, parsed (None when absent)."""
    return idempotency_key_parse(request.headers.get(HEADER))


def request_scope(*, request: Request, endpoint: str) -> str:
    """Where a key is unique: one endpoint (with its event) and one signed-in user.

    Anonymous clients share a scope per endpoint: their keys are random (a UUID), and
    a replay needs the exact body too, so one client cannot stumble on another's
    answer. The client's address is left out on purpose: a retry may come from
    another one (a phone changing networks).
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"{endpoint} user:{user.pk}"
    return endpoint


def request_fingerprint(body: Any) -> str:
    """SHA-256 of the body as canonical JSON (keys sorted, no spaces, ASCII).

    ASCII, with ``\\u`` escapes, so that a lone surrogate (which JSON may carry and
    UTF-8 cannot) is fingerprinted too, and refused by the view as usual.
    """
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def idempotency_key_answered(
    *, scope: str, key: str, now: dt.datetime | None = None
) -> bool:
    """Whether a key already has its answer (a repeat will not do the work again)."""
    now = now or timezone.now()
    return IdempotencyKey.objects.filter(
        scope=scope,
        key=key,
        response_status__isnull=False,
        created_at__gt=now - IDEMPOTENCY_KEY_TTL,
    ).exists()


class _NotKept(Exception):
    """Leaves the transaction with an answer that is not to be kept (a 5xx)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _replay(row: IdempotencyKey) -> Response:
    response = Response(
        json.loads(row.response_body) if row.response_body else None,
        status=row.response_status,
        content_type=row.response_content_type or None,
    )
    for name, value in row.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _keep(row: IdempotencyKey, response: Response) -> None:
    row.response_status = response.status_code
    row.response_content_type = response.content_type or ""
    row.response_headers = {
        name: response[name] for name in KEPT_HEADERS if response.has_header(name)
    }
    row.response_body = (
        ""
        if response.data is None
        else json.dumps(response.data, cls=DjangoJSONEncoder)
    )
    row.save(
        update_fields=[
            "response_status",
            "response_content_type",
            "response_headers",
            "response_body",
        ]
    )


def idempotent_response(
    *,
    scope: str,
    key: str,
    body: Any,
    respond: Callable[[], Response],
    handle_exception: Callable[[Exception], Response],
    now: dt.datetime | None = None,
) -> Response:
    """The answer to a request carrying ``key``: the first answer, or a new one.

    ``respond`` does the work and answers; an exception it raises is turned into an
    answer by ``handle_exception`` (the view's, so that it is the answer the request
    would get without a key) and kept like any other. Answers below 500 are kept;
    a server error rolls the work and the key back, so that a retry tries again.
    """
    now = now or timezone.now()
    fingerprint = request_fingerprint(body)
    try:
        with transaction.atomic():
            # Waits here while another transaction holds the same new key.
            IdempotencyKey.objects.bulk_create(
                [
                    IdempotencyKey(
                        scope=scope, key=key, fingerprint=fingerprint, created_at=now
                    )
                ],
                ignore_conflicts=True,
            )
            row = IdempotencyKey.objects.select_for_update().get(scope=scope, key=key)
            if row.created_at <= now - IDEMPOTENCY_KEY_TTL:
                # Expired: the key is new again, whatever it answered before.
                row.fingerprint = fingerprint
                row.created_at = now
                row.response_status = None
                row.save(update_fields=["fingerprint", "created_at", "response_status"])
            elif row.response_status is not None:
                if row.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return _replay(row)
            try:
                response = respond()
            except Exception as exc:
                response = handle_exception(exc)
            if response.status_code >= 500:
                raise _NotKept(response)
            _keep(row, response)
            return response
    except _NotKept as not_kept:
        return not_kept.response


def idempotency_keys_delete_expired(*, now: dt.datetime | None = None) -> int:
    """Deletes the keys older than ``IDEMPOTENCY_KEY_TTL``; returns how many."""
    now = now or timezone.now()
    deleted, _by_model = IdempotencyKey.objects.filter(
        created_at__lte=now - IDEMPOTENCY_KEY_TTL
    ).delete()
    return deleted


# Where registration answers are kept: "registrations:<slug>" (and " user:<pk>").
REGISTRATIONS_SCOPE = "registrations:"


def idempotency_keys_forget_registrations(*, codes: Iterable[str]) -> int:
    """Deletes the kept answers that describe these registrations (by their code).

    A registration's 201 answer holds the person's name, email, phone and the
    registration's token; once their data is erased it must not be replayed. The
    key is then new again: a retry registers afresh. Returns the keys deleted.
    """
    codes = {code for code in codes if code}
    if not codes:
        return 0
    stored = Q()
    for code in codes:
        stored |= Q(response_body__contains=json.dumps(code))
    candidates = IdempotencyKey.objects.filter(
        stored, scope__startswith=REGISTRATIONS_SCOPE
    ).values_list("pk", "response_body")
    ids = []
    for pk, body in candidates:
        try:
            answer = json.loads(body)
        except ValueError:
            continue
        if isinstance(answer, dict) and answer.get("code") in codes:
            ids.append(pk)
    deleted, _by_model = IdempotencyKey.objects.filter(pk__in=ids).delete()
    return deleted
