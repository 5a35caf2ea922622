"""Rendering outbox rows into MIME messages and handing them to SMTP."""

import base64
import contextlib
import datetime as dt
import logging
import re
import smtplib
import time
from collections.abc import Sequence
from email.mime.image import MIMEImage
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import InterfaceError, OperationalError, connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from .models import Notification

logger = logging.getLogger(__name__)

_WHITESPACE = re.compile(r"\s+")


def render_message(
    notification: Notification,
    *,
    redact: bool = False,
    renderer: "BatchRenderer | None" = None,
) -> EmailMultiAlternatives:
    """The email of a row, in the recipient's language.

    ``redact`` is for showing the email to anyone but its recipient (the console's
    and the admin's outbox): the context values the row lists under ``private``
    (a link that opens an account, say) are replaced by a placeholder.
    ``renderer`` (a delivery batch's) renders the templates once for the rows that
    share them and knows the batch's unsubscribe links; the email is the same.
    """
    from .services import message_id_for, unsubscribe_url

    context: dict[str, Any] = {**notification.context, "site_url": settings.SITE_URL}
    if redact:
        with translation.override(notification.language):
            hidden = str(_("[hidden: a personal one-time link]"))
        for key in notification.context.get("private", []):
            context[key] = hidden
    headers = {"Message-ID": message_id_for(notification)}
    if notification.unsubscribable:
        link = (
            renderer.unsubscribe_link(notification.recipient)
            if renderer is not None
            else unsubscribe_url(notification.recipient)
        )
        context["unsubscribe_url"] = link
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if renderer is not None and not redact:
        subject, text, html = renderer.parts(notification, context)
    else:
        subject, text, html = render_parts(
            notification.template, notification.language, context
        )
    message = EmailMultiAlternatives(
        # One line, whatever the context held: no header can be injected.
        subject=_WHITESPACE.sub(" ", subject).strip(),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    # Recipes are drawn now and kept on the row object (not saved), so that whoever
    # shows the row after rendering it (the console's preview) sees the same bytes.
    notification.attachments = attachments_drawn(notification.attachments)
    for attachment in notification.attachments:
        _attach(message, attachment)
    return message


def attachments_drawn(attachments: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The row's attachments with each recipe (``"draw"``) drawn into its content.

    A request that queues an email writes down what to draw (a calendar file's
    fields, a QR code's text) rather than drawing it; the worker draws it here.
    ``"calendar"``: the keyword arguments of ``notifications.ics.calendar_file``
    (times in ISO 8601). ``"qr_png"``: a QR Code (never a Micro QR) of ``data``
    with segno's ``error``, ``scale`` and ``border``. Anything else is refused
    (a ``ValueError``: the row cannot be rendered).
    """
    drawn = []
    for attachment in attachments:
        recipe = attachment.get("draw") if isinstance(attachment, dict) else None
        if recipe is None:
            drawn.append(attachment)
            continue
        plain = {k: v for k, v in attachment.items() if k not in ("draw", recipe, "qr")}
        if recipe == "calendar":
            from .ics import calendar_file

            fields = dict(attachment["calendar"])
            for key in ("starts_at", "ends_at", "stamp"):
                if fields.get(key):
                    fields[key] = dt.datetime.fromisoformat(fields[key])
            plain["content"] = calendar_file(**fields).decode()
        elif recipe == "qr_png":
            import io

            import segno

            qr = attachment["qr"]
            buffer = io.BytesIO()
            segno.make_qr(qr["data"], error=qr.get("error", "m")).save(
                buffer, kind="png", scale=qr.get("scale", 8), border=qr.get("border", 4)
            )
            plain["content_base64"] = base64.b64encode(buffer.getvalue()).decode()
        else:
            raise ValueError(f"unknown attachment recipe {recipe!r}")
        drawn.append(plain)
    return drawn


def render_parts(
    template: str, language: str, context: dict[str, Any]
) -> tuple[str, str, str]:
    """Subject, text and HTML of a template in a language (the subject not yet one line)."""
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", context)
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    return subject, text, html


# A placeholder for one recipient's value. Its "<&>" shows whether the template
# escaped it (HTML, autoescape on) or not (text, subject, autoescape off); any other
# change (a filter) leaves "PodiumSlot" behind and the group is rendered row by row.
_SLOT = "PodiumSlot{}<&>End"
_SLOT_FOUND = re.compile(r"PodiumSlot(\d+)(<&>|&lt;&amp;&gt;)End")
_SLOT_LEFT = re.compile(r"podiumslot", re.IGNORECASE)


class BatchRenderer:
    """Renders the templates of a delivery batch once per shared context.

    Rows with the same template, language and context apart from a few strings
    (a reminder's name, ticket code, manage link, unsubscribe link) are rendered
    once with placeholders; each row's values are then put in, HTML-escaped where
    the template escaped the placeholder. A placeholder a filter changed is left
    over and found; and the first and last row of every group are also rendered the
    ordinary way and compared. Either way the group is then rendered row by row.
    Rows whose values are empty are grouped apart (an ``{% if %}`` on them). What
    this cannot see is a template that branches on a recipient's value in a way
    neither sample shows (``{% if full_name == "Ann" %}``); the email templates
    only print these values.
    """

    def __init__(self, rows: Sequence[Notification]) -> None:
        from .services import unsubscribe_urls

        self._links: dict[str, str] = unsubscribe_urls(
            [r.recipient for r in rows if r.unsubscribable]
        )
        self._slots: dict[tuple[Any, ...], list[str]] = {}
        self._groups: dict[tuple[Any, ...], Any] = {}
        self._members: dict[tuple[Any, ...], list[Notification]] = {}
        self._key_of: dict[int, tuple[Any, ...]] = {}
        shapes: dict[tuple[Any, ...], list[Notification]] = {}
        for row in rows:
            context = row.context if isinstance(row.context, dict) else {}
            shape = (
                row.template,
                row.language,
                row.unsubscribable,
                tuple(sorted(context)),
            )
            shapes.setdefault(shape, []).append(row)
        for shape, members in shapes.items():
            names = shape[3]
            # Strings that differ between the rows are the recipients' own.
            slots = [
                name
                for name in names
                if name != "private"
                and all(isinstance(m.context[name], str) for m in members)
                and len({m.context[name] for m in members}) > 1
            ]
            for row in members:
                shared = tuple(
                    (name, repr(row.context[name]))
                    for name in names
                    if name not in slots
                )
                # A placeholder is never empty; an empty value may change an {% if %}.
                filled = tuple(bool(row.context[name]) for name in slots)
                key = (shape, shared, filled)
                self._slots[key] = slots
                self._members.setdefault(key, []).append(row)
                self._key_of[id(row)] = key

    def unsubscribe_link(self, recipient: str) -> str:
        from .services import unsubscribe_url

        link = self._links.get(recipient.strip().lower())
        return link if link is not None else unsubscribe_url(recipient)

    def parts(self, row: Notification, context: dict[str, Any]) -> tuple[str, str, str]:
        key = self._key_of.get(id(row))
        members = self._members.get(key) if key is not None else None
        if key is None or members is None or len(members) < 2:
            return render_parts(row.template, row.language, context)
        names = list(self._slots[key])
        if "unsubscribe_url" in context:
            names.append("unsubscribe_url")
        if key not in self._groups:
            self._groups[key] = self._prepare(row, context, names, members)
        parts = self._groups[key]
        if parts is None:
            return render_parts(row.template, row.language, context)
        values = [str(context[name]) for name in names]
        return tuple(_fill(part, values) for part in parts)  # type: ignore[return-value]

    def _prepare(
        self,
        row: Notification,
        context: dict[str, Any],
        names: list[str],
        members: list[Notification],
    ) -> tuple[str, str, str] | None:
        placeholders = {name: _SLOT.format(n) for n, name in enumerate(names)}
        parts = render_parts(row.template, row.language, {**context, **placeholders})
        if any(_SLOT_LEFT.search(_SLOT_FOUND.sub("", part)) for part in parts):
            return None
        for sample in {
            id(members[0]): members[0],
            id(members[-1]): members[-1],
        }.values():
            own = {**sample.context, "site_url": settings.SITE_URL}
            if "unsubscribe_url" in names:
                own["unsubscribe_url"] = self.unsubscribe_link(sample.recipient)
            expected = render_parts(sample.template, sample.language, own)
            values = [str(own[name]) for name in names]
            if tuple(_fill(part, values) for part in parts) != expected:
                logger.info(
                    "Template %s uses a recipient's value in a way placeholders "
                    "cannot follow; its rows are rendered one by one.",
                    row.template,
                )
                return None
        return parts


def _fill(part: str, values: list[str]) -> str:
    def value(match: re.Match[str]) -> str:
        text = values[int(match.group(1))]
        return text if match.group(2) == "<&>" else escape(text)

    return _SLOT_FOUND.sub(value, part)


def _attach(message: EmailMultiAlternatives, attachment: dict[str, str]) -> None:
    mimetype = attachment["mimetype"]
    if "content_base64" in attachment:
        content: bytes | str = base64.b64decode(attachment["content_base64"])
    else:
        content = attachment["content"]
    if attachment.get("content_id") and mimetype.startswith("image/"):
        assert isinstance(content, bytes)
        image = MIMEImage(content, _subtype=mimetype.split("/", 1)[1])
        image.add_header("Content-ID", f"<{attachment['content_id']}>")
        image.add_header(
            "Content-Disposition", "inline", filename=attachment["filename"]
        )
        message.attach(image)
        return
    message.attach(attachment["filename"], content, mimetype)


def _is_permanent(exc: Exception) -> bool:
    """5xx answers will not change on a retry; connection trouble and 4xx may."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return isinstance(exc, ValueError | UnicodeError | LookupError)


def _retry_delay(attempts: int) -> dt.timedelta:
    base = int(getattr(settings, "NOTIFICATIONS_RETRY_BASE", 30))
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def _give_back(row: Notification, exc: Exception) -> str:
    """Returns a row that could not be sent to the queue, or fails it for good."""
    reason = f"{exc.__class__.__name__}: {exc}"[:2000]
    max_attempts = int(getattr(settings, "NOTIFICATIONS_MAX_ATTEMPTS", 8))
    if _is_permanent(exc) or row.attempts >= max_attempts:
        Notification.objects.filter(
            pk=row.pk, status=Notification.Status.SENDING
        ).update(status=Notification.Status.FAILED, last_error=reason, claimed_at=None)
        logger.error("Notification %s failed for good: %s", row.pk, reason)
        return "failed"
    Notification.objects.filter(pk=row.pk, status=Notification.Status.SENDING).update(
        status=Notification.Status.PENDING,
        last_error=reason,
        claimed_at=None,
        queued_at=None,
        send_after=timezone.now() + _retry_delay(row.attempts),
    )
    logger.warning("Notification %s will be retried: %s", row.pk, reason)
    return "retry"


def deliver_rows(rows: Sequence[Notification]) -> dict[str, int]:
    """Sends rows already moved to sending, each marked sent the moment SMTP takes it."""
    from .services import message_id_for

    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    connection = get_connection(fail_silently=False, timeout=30)
    remaining = list(rows)
    try:
        renderer: BatchRenderer | None = BatchRenderer(remaining)
    except Exception:  # e.g. the unsubscribe keys: each row then renders on its own
        logger.exception("Cannot prepare the batch's rendering")
        renderer = None
    try:
        # Opened here so that the whole batch shares one SMTP session.
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        for row in remaining:
            counts[_give_back(row, exc)] += 1
        return counts
    try:
        while remaining:
            row = remaining.pop(0)
            try:
                message = render_message(row, renderer=renderer)
            except Exception as exc:
                logger.exception("Notification %s cannot be rendered", row.pk)
                counts[_give_back(row, ValueError(f"cannot render: {exc}"))] += 1
                continue
            message.connection = connection
            try:
                message.send()
            except (OSError, smtplib.SMTPException) as exc:
                counts[_give_back(row, exc)] += 1
                if not isinstance(exc, smtplib.SMTPRecipientsRefused):
                    # The connection is gone: the rest of the batch waits for a retry.
                    for waiting in remaining:
                        counts[_give_back(waiting, exc)] += 1
                    remaining = []
                continue
            _record_sent(row, message_id_for(row))
            counts["sent"] += 1
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()
    return counts


# Notification's table (asserted in the tests), marked by one plain statement.
_MARK_SENT = (
    "UPDATE notifications_notification "
    "SET status = %s, sent_at = %s, message_id = %s, claimed_at = NULL, last_error = '' "
    "WHERE id = %s AND status = %s"
)


def _record_sent(row: Notification, message_id: str) -> None:
    """Marks a row sent once SMTP took it, waiting out a database restart.

    Between SMTP taking a message and this mark lies the one window for a duplicate
    (the row would go back to pending as stale and be sent again), so a lost
    database connection is retried for ``NOTIFICATIONS_RECORD_SENT_PATIENCE``
    seconds before the delivery gives up and the rest of its batch waits.
    """
    patience = float(getattr(settings, "NOTIFICATIONS_RECORD_SENT_PATIENCE", 30))
    deadline = time.monotonic() + patience
    pause = 0.25
    while True:
        try:
            # One short statement, without the ORM's query building: it runs once per
            # email, right after SMTP took it, so that the window stays one message.
            with connection.cursor() as cursor:
                cursor.execute(
                    _MARK_SENT,
                    [
                        Notification.Status.SENT,
                        timezone.now(),
                        message_id,
                        row.pk,
                        Notification.Status.SENDING,
                    ],
                )
            return
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or time.monotonic() + pause > deadline:
                raise
            logger.warning(
                "Notification %s was sent but cannot be marked sent yet (%s); "
                "retrying in %.2g s.",
                row.pk,
                exc,
                pause,
            )
            connection.close()  # the next query opens a new connection
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
