"""Writes of the outbox: queue an email, dispatch due rows, deliver, unsubscribe.

Apps hand ``notification_enqueue`` a kind, a recipient, a template and a JSON
context inside the transaction that causes the email; nothing here knows what an
event or an award is.
"""

import datetime as dt
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from config.inserts import RowInsert
from config.problems import ConflictError

from .models import Notification, UnsubscribeKey, Unsubscription

logger = logging.getLogger(__name__)

# Version 2: tokens name a random key, not the address (old links no longer work).
UNSUBSCRIBE_SALT = "podium.notifications.unsubscribe.v2"
DISPATCH_REQUESTED = "podium:notifications:dispatch-requested"
DISPATCH_DELAY = 1  # seconds
# After the cache or the broker failed, a process stops asking for this long.
DISPATCH_BACKOFF = 10  # seconds
_broker_down_until = 0.0  # time.monotonic() before which no dispatch is asked for
# A run asked for (by any process) starts no earlier than its ETA, a wall-clock time
# kept in the cache key; until shortly before it, this process need not ask again:
# that run will take whatever this process commits meanwhile.
_dispatch_known_until = 0.0  # time.time()
DISPATCH_MARGIN = 0.25  # seconds: clocks of other hosts may run a little ahead
# Within the margin, a process that found the run asked for asks again at most this often.
DISPATCH_RECHECK = 0.05  # seconds
# Planners add rows that fall due (reminders); apps register theirs at start-up.
_planners: list[Callable[[dt.datetime], int]] = []
# Scope finders name the scopes of mail a staff user may see in the admin.
_scope_finders: list[Callable[[Any], list[str]]] = []


@dataclass(frozen=True)
class Email:
    """One email to queue: what it is, for whom, and how to render it.

    ``to_name`` is the recipient's name for the To header ("张伟 <zhang@…>");
    ``from_name`` the sender's, in the recipient's language (the event's organiser),
    "Podium" (the name in DEFAULT_FROM_EMAIL) when empty. Both are kept in the
    row's context as ``to_name`` and ``from_name``.
    """

    kind: str
    to: str
    template: str
    dedupe_key: str
    context: dict[str, Any] = field(default_factory=dict)
    to_name: str = ""
    from_name: str = ""
    language: str = "en"
    about: tuple[str, str] = ("", "")
    scope: str = ""
    attachments: list[dict[str, str]] = field(default_factory=list)
    unsubscribable: bool = False
    send_after: dt.datetime | None = None
    status: str = Notification.Status.PENDING


# Resend checkers refuse to send again mail about something that has changed since
# (a revoked certificate); an app registers one per ``about_type`` at start-up.
_resend_checkers: dict[str, Callable[[Notification], None]] = {}


def planner_register(planner: Callable[[dt.datetime], int]) -> None:
    """Adds a function that queues the emails falling due at a moment (idempotently)."""
    if planner not in _planners:
        _planners.append(planner)


def scope_finder_register(finder: Callable[[Any], list[str]]) -> None:
    """Adds a function naming the scopes whose mail a staff user may see."""
    if finder not in _scope_finders:
        _scope_finders.append(finder)


def resend_checker_register(
    about_type: str, checker: Callable[[Notification], None]
) -> None:
    """Adds a function that raises a DomainError when mail ``about_type`` may not be
    sent again (what it announced no longer stands)."""
    _resend_checkers[about_type] = checker


_resenders: dict[str, Callable[[Notification], Notification]] = {}


def resender_register(
    about_type: str, resender: Callable[[Notification], Notification]
) -> None:
    """Adds the function that sends mail ``about_type`` again by its app's rules
    (rebuilt from what it is about now, refused when that no longer stands)."""
    _resenders[about_type] = resender


def notification_resend_by_owner(*, notification: Notification) -> Notification:
    """Sends a row again as the app that wrote it would; every door uses this."""
    resender = _resenders.get(notification.about_type)
    if resender is not None:
        return resender(notification)
    notification_resend_check(notification=notification)
    return notification_resend(notification=notification)


def scopes_for(user: Any) -> list[str]:
    return [scope for finder in _scope_finders for scope in finder(user)]


# An outbox row as the request writes it; a known dedupe key is skipped.
NOTIFICATION_INSERT = RowInsert(
    Notification,
    [
        "kind",
        "recipient",
        "language",
        "about_type",
        "about_id",
        "scope",
        "template",
        "context",
        "attachments",
        "unsubscribable",
        "dedupe_key",
        "status",
        "attempts",
        "last_error",
        "send_after",
        "message_id",
        "created_at",
    ],
    conflict=["dedupe_key"],
)
_INSERT_BATCH = 500  # rows per statement: 8,000 parameters, within SQLite's limit


def notification_enqueue(email: Email) -> None:
    notifications_enqueue([email])


def notifications_enqueue(emails: Sequence[Email]) -> None:
    """Writes outbox rows in the caller's transaction; a known dedupe key is ignored.

    Once the transaction commits, a dispatcher run is asked for, so that mail goes
    out within moments rather than at the next scheduled run.
    """
    if not emails:
        return
    rows = outbox_rows(emails, now=timezone.now())
    for start in range(0, len(rows), _INSERT_BATCH):
        NOTIFICATION_INSERT.execute(rows[start : start + _INSERT_BATCH])
    dispatch_after_commit()


def outbox_rows(emails: Sequence[Email], *, now: dt.datetime) -> list[list[Any]]:
    """The outbox rows of these emails, values in the order of ``NOTIFICATION_INSERT``'s
    fields, those to unsubscribed addresses already skipped. For a caller that writes
    them itself (``notifications_enqueue`` does it for everyone else); it must call
    ``dispatch_after_commit``."""
    addresses = {e.to.strip().lower() for e in emails if e.unsubscribable}
    unsubscribed = (
        set(
            Unsubscription.objects.filter(email__in=addresses).values_list(
                "email", flat=True
            )
        )
        if addresses
        else set()
    )
    rows = []
    for email in emails:
        skipped = email.unsubscribable and email.to.strip().lower() in unsubscribed
        rows.append(
            [
                email.kind,
                email.to.strip(),
                email.language,
                email.about[0],
                str(email.about[1]),
                email.scope,
                email.template,
                _with_names(email),
                email.attachments,
                email.unsubscribable,
                email.dedupe_key,
                Notification.Status.SKIPPED if skipped else email.status,
                0,
                "unsubscribed" if skipped else "",
                email.send_after or now,
                "",
                now,
            ]
        )
    return rows


def dispatch_after_commit() -> None:
    """Asks for a dispatcher run once the caller's transaction commits (at once
    outside one), for the outbox rows it wrote."""
    # robust: whatever the kick meets, the request that committed still answers.
    transaction.on_commit(_request_dispatch, robust=True)


def _with_names(email: Email) -> dict[str, Any]:
    names = {"to_name": email.to_name, "from_name": email.from_name}
    return {**email.context, **{k: v for k, v in names.items() if v}}


@functools.lru_cache(maxsize=8)
def _sender(default_from_email: str) -> tuple[str, str]:
    return parseaddr(default_from_email)


def sender_address() -> str:
    """The address mail comes from (DEFAULT_FROM_EMAIL without its name)."""
    return _sender(settings.DEFAULT_FROM_EMAIL)[1] or "podium@localhost"


def sender_name() -> str:
    """The name mail comes from when no organiser signs it: DEFAULT_FROM_EMAIL's."""
    return _sender(settings.DEFAULT_FROM_EMAIL)[0] or "Podium"


def notifications_cancel(
    *, about_type: str, about_ids: Iterable[object], kinds: Iterable[str]
) -> int:
    """Cancels queued, unsent emails about these objects (e.g. a moved session's reminders)."""
    return Notification.objects.filter(
        about_type=about_type,
        about_id__in=[str(i) for i in about_ids],
        kind__in=list(kinds),
        status=Notification.Status.PENDING,
    ).update(status=Notification.Status.CANCELLED, last_error="no longer due")


def _request_dispatch() -> None:
    """Asks a worker for a dispatcher run soon; if Redis is down, beat's run will do.

    However many commits ask within a second, one run is queued, a second later, and
    it takes every row they wrote. It runs after the commit, so it never raises:
    the rows are safe in the database whatever the cache or the broker answer, and
    after a failure this process stops asking for ``DISPATCH_BACKOFF`` seconds, so
    that requests do not each wait for a broker that is down. A process that knows
    when the coming run starts (it asked for it, or read its ETA from the cache)
    does not ask again until shortly before then: under a flash crowd a request
    then costs no round trip to Redis at all.
    """
    from .tasks import dispatch_notifications

    global _broker_down_until, _dispatch_known_until
    if time.monotonic() < _broker_down_until or time.time() < _dispatch_known_until:
        return
    eta = time.time() + DISPATCH_DELAY
    try:
        if not cache.add(DISPATCH_REQUESTED, eta, timeout=DISPATCH_DELAY):
            # Another process asked: its run starts at the ETA it wrote down.
            asked = cache.get(DISPATCH_REQUESTED)
            if isinstance(asked, float):
                # Within the margin, asking again each request is no use either (the
                # key stands until that run's ETA); a little later it may be, when
                # this host's clock is behind the one that asked and the run started.
                soon, now = asked - DISPATCH_MARGIN, time.time()
                _dispatch_known_until = (
                    soon if now < soon else min(asked, now + DISPATCH_RECHECK)
                )
            return
    except Exception as exc:  # the cache (Redis) is down; so, most likely, the broker
        _broker_down_until = time.monotonic() + DISPATCH_BACKOFF
        logger.warning(
            "Could not ask for a dispatch: the cache is unavailable (%s); "
            "the next scheduled run will send the mail.",
            exc,
        )
        return
    try:
        dispatch_notifications.apply_async(eta=_utc(eta), retry=False)
        _dispatch_known_until = eta - DISPATCH_MARGIN
    except Exception as exc:  # the broker is down: the rows are safe in the database
        _broker_down_until = time.monotonic() + DISPATCH_BACKOFF
        logger.warning(
            "Could not ask for a dispatch (%s); the next scheduled run will.", exc
        )


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


@transaction.atomic
def _claim_due(now: dt.datetime, limit: int) -> list[int]:
    requeue_before = now - dt.timedelta(
        seconds=_setting("NOTIFICATIONS_REQUEUE_AFTER", 60)
    )
    due = (
        Notification.objects.select_for_update(skip_locked=True)
        .filter(status=Notification.Status.PENDING, send_after__lte=now)
        .order_by("send_after", "pk")
        .values_list("pk", flat=True)
    )
    # Rows queued long ago whose message never came (a broker that lost it) go
    # first, as the oldest; then rows never queued. Each is read by an index of
    # its own, so a claim never walks past a fan-out's rows already on their way.
    ids = list(due.filter(queued_at__lt=requeue_before)[:limit])
    if len(ids) < limit:
        ids += due.filter(queued_at__isnull=True)[: limit - len(ids)]
    if ids:
        Notification.objects.filter(pk__in=ids).update(queued_at=now)
    return ids


# Set during a dispatcher run: queues the rows a planner has just committed.
_planned_hook: ContextVar[Callable[[], int] | None] = ContextVar(
    "notifications_planned_hook", default=None
)


def notifications_planned() -> int:
    """A planner calls this after each chunk of rows it committed.

    Within a dispatcher run (outside any transaction) the due rows are claimed and
    queued at once, so that delivery starts while later chunks are still being
    planned; elsewhere it does nothing and the next dispatcher run queues them.
    """
    hook = _planned_hook.get()
    if hook is None or transaction.get_connection().in_atomic_block:
        return 0
    return hook()


def _queue_due(now: dt.datetime, queue: Callable[[list[int]], None]) -> int:
    """Claims due rows and queues them in batches, keeping at most
    ``NOTIFICATIONS_MAX_QUEUED`` rows queued and not yet taken by a delivery.

    Rows wait in the broker for no longer than the workers need for that many, so
    that a large fan-out is not queued again at ``NOTIFICATIONS_REQUEUE_AFTER``
    while it is still on its way. When the limit stops a run, a delivery task in
    the middle of what it queued carries ``top_up``: it queues the next rows itself
    (see ``notifications_deliver``), so the workers never wait for the next
    dispatcher run.
    """
    batch = _setting("NOTIFICATIONS_BATCH_SIZE", 50)
    cap = _setting("NOTIFICATIONS_MAX_QUEUED", batch * 40)
    requeue_before = now - dt.timedelta(
        seconds=_setting("NOTIFICATIONS_REQUEUE_AFTER", 60)
    )
    waiting = (
        Notification.objects.filter(
            status=Notification.Status.PENDING, queued_at__gte=requeue_before
        )
        .order_by()  # (a count: the model's ordering would sort every such row)
        .values("pk")[:cap]
        .count()
    )
    room = cap - waiting
    queued: list[list[int]] = []
    while room > 0:
        ids = _claim_due(now, limit=min(batch * 20, room))
        queued.extend(ids[start : start + batch] for start in range(0, len(ids), batch))
        room -= len(ids)
        if len(ids) < batch * 20:
            break
    limited = room <= 0 and queue is _queue_delivery
    middle = len(queued) // 2
    for n, ids in enumerate(queued):
        if limited and n == middle:
            _queue_delivery(ids, top_up=True)
        else:
            queue(ids)
    return sum(len(ids) for ids in queued)


def notifications_dispatch(
    *, now: dt.datetime | None = None, queue: Callable[[list[int]], None] | None = None
) -> int:
    """One dispatcher run: plan what fell due, recover stuck rows, queue deliveries.

    Safe to run in several processes at once: rows are claimed with SKIP LOCKED and a
    delivery only sends rows it moves from pending to sending itself. Rows a planner
    commits in chunks are queued chunk by chunk (``notifications_planned``).
    """
    now = now or timezone.now()
    queue = queue or _queue_delivery
    queued = 0

    def planned() -> int:
        nonlocal queued
        # The planner's rows are due from the moment they were written.
        count = _queue_due(max(now, timezone.now()), queue)
        queued += count
        return count

    token = _planned_hook.set(planned)
    try:
        for planner in list(_planners):
            planner(now)
    finally:
        _planned_hook.reset(token)
    stale_before = now - dt.timedelta(
        seconds=_setting("NOTIFICATIONS_STALE_AFTER", 300)
    )
    recovered = Notification.objects.filter(
        status=Notification.Status.SENDING, claimed_at__lt=stale_before
    ).update(status=Notification.Status.PENDING, claimed_at=None, queued_at=None)
    if recovered:
        logger.warning(
            "%d notifications left sending by a dead worker are due again.", recovered
        )
    return queued + _queue_due(now, queue)


def _queue_delivery(ids: list[int], *, top_up: bool = False) -> None:
    from .tasks import deliver_notifications

    if top_up:
        deliver_notifications.apply_async(args=[ids], kwargs={"top_up": True})
    else:
        deliver_notifications.apply_async(args=[ids])


def message_id_for(notification: Notification) -> str:
    """A Message-ID that stays the same however often the row is delivered."""
    digest = hashlib.sha256(notification.dedupe_key.encode()).hexdigest()[:16]
    domain = sender_address().rsplit("@", 1)[-1] or "podium.local"
    return f"<podium.{notification.pk}.{digest}@{domain}>"


def _claim_for_sending(ids: Sequence[int], now: dt.datetime) -> list[Notification]:
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True).filter(
                pk__in=list(ids), status=Notification.Status.PENDING
            )
        )
        if rows:
            Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
                status=Notification.Status.SENDING,
                claimed_at=now,
                attempts=F("attempts") + 1,
            )
    for row in rows:
        row.attempts += 1
    return rows


def notifications_deliver(
    *, ids: Sequence[int], top_up: bool = False
) -> dict[str, int]:
    """Sends the pending rows among ``ids`` over one SMTP connection.

    Delivering the same ids twice sends nothing the second time: only rows this call
    moves from pending to sending are sent. ``top_up``: the dispatcher stopped at
    its limit of queued rows; this delivery first queues the next due rows.
    """
    from .delivery import deliver_rows

    now = timezone.now()
    if top_up:
        _queue_due(now, _queue_delivery)
    rows = _claim_for_sending(ids, now)
    if not rows:
        return {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    return deliver_rows(rows)


def unsubscribe_token(email: str) -> str:
    """An opaque link token for the address: a signed, dated random key, no address.

    The key is stored once per address (``UnsubscribeKey``); each email signs it
    afresh, so its link works for ``NOTIFICATIONS_UNSUBSCRIBE_MAX_AGE`` seconds
    (a year) from when it was written.
    """
    address = email.strip().lower()
    key = (
        UnsubscribeKey.objects.filter(email=address)
        .values_list("key", flat=True)
        .first()
    )
    if key is None:
        row, _created = UnsubscribeKey.objects.get_or_create(
            email=address, defaults={"key": secrets.token_urlsafe(16)}
        )
        key = row.key
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(key)


def unsubscribe_url(email: str) -> str:
    from django.urls import reverse

    path = reverse(
        "notifications:unsubscribe", kwargs={"token": unsubscribe_token(email)}
    )
    return f"{settings.SITE_URL}{path}"


def unsubscribe_urls(emails: Iterable[str]) -> dict[str, str]:
    """``unsubscribe_url`` of many addresses (lower-cased keys) in two queries."""
    from django.urls import reverse

    addresses = {e.strip().lower() for e in emails}
    if not addresses:
        return {}
    keys = dict(
        UnsubscribeKey.objects.filter(email__in=addresses).values_list("email", "key")
    )
    missing = addresses - set(keys)
    if missing:
        UnsubscribeKey.objects.bulk_create(
            [UnsubscribeKey(email=a, key=secrets.token_urlsafe(16)) for a in missing],
            ignore_conflicts=True,
        )
        keys.update(
            UnsubscribeKey.objects.filter(email__in=missing).values_list("email", "key")
        )
    signer = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT)
    # The path of any token, split around it: reverse() once, not once per address.
    marker = "TOKEN"
    path = reverse("notifications:unsubscribe", kwargs={"token": marker})
    head, tail = path.split(marker, 1)
    return {
        address: f"{settings.SITE_URL}{head}{signer.sign(key)}{tail}"
        for address, key in keys.items()
    }


def email_from_unsubscribe_token(token: str) -> str | None:
    """The address of a link's token; None when forged, expired or unknown."""
    max_age = getattr(settings, "NOTIFICATIONS_UNSUBSCRIBE_MAX_AGE", 366 * 86400)
    try:
        key = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).unsign(
            token, max_age=max_age
        )
    except signing.BadSignature:  # forged, expired (SignatureExpired), or old format
        return None
    return (
        UnsubscribeKey.objects.filter(key=key).values_list("email", flat=True).first()
    )


@transaction.atomic
def unsubscribe(*, email: str) -> None:
    """Stops reminders to the address: queued ones are skipped, future ones too."""
    address = email.strip().lower()
    Unsubscription.objects.get_or_create(email=address)
    Notification.objects.filter(
        recipient__iexact=address,
        unsubscribable=True,
        status=Notification.Status.PENDING,
    ).update(status=Notification.Status.SKIPPED, last_error="unsubscribed")


def notification_resend(*, notification: Notification) -> Notification:
    """Queues a sent or failed email again, as a new row with its own dedupe key."""
    count = Notification.objects.filter(
        dedupe_key__startswith=f"{notification.dedupe_key}:resend:"
    ).count()
    copy = Email(
        kind=notification.kind,
        to=notification.recipient,
        template=notification.template,
        dedupe_key=f"{notification.dedupe_key}:resend:{count + 1}",
        context=notification.context,
        language=notification.language,
        about=(notification.about_type, notification.about_id),
        scope=notification.scope,
        attachments=notification.attachments,
        unsubscribable=notification.unsubscribable,
    )
    with transaction.atomic():
        notification_enqueue(copy)
    return Notification.objects.get(dedupe_key=copy.dedupe_key)


# Only mail that has left the queue, for good or ill, can be sent again; a row still
# queued would go out twice, one skipped or cancelled was meant not to go at all.
RESENDABLE = (Notification.Status.SENT, Notification.Status.FAILED)


class NotResendable(ConflictError):
    code = "not_resendable"
    title = gettext_lazy(
        "Only an email that was sent or that failed can be sent again."
    )


def notification_resend_check(*, notification: Notification) -> None:
    """Refuses to send a row again unless it was sent or failed and what it is about
    still stands (the checker registered for its ``about_type``, if any).

    Raises ``NotResendable`` for a row still queued or sending, skipped or cancelled,
    and whatever DomainError the checker raises.
    """
    if notification.status not in RESENDABLE:
        raise NotResendable(
            gettext(
                "Only an email that was sent or that failed can be sent again; "
                "this one is “%(status)s”."
            )
            % {"status": notification.get_status_display()}
        )
    checker = _resend_checkers.get(notification.about_type)
    if checker is not None:
        checker(notification)


def notification_resend_finished(*, notification: Notification) -> Notification:
    """``notification_resend`` after ``notification_resend_check``."""
    notification_resend_check(notification=notification)
    return notification_resend(notification=notification)
