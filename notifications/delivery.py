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
from django.utils.translation import gettext as _

from .models import Notification

logger = logging.getLogger(__name__)

_WHITESPACE = re.compile(r"\s+")


def render_message(
    notification: Notification, *, redact: bool = False
) -> EmailMultiAlternatives:
    """The email of a row, in the recipient's language.

    ``redact`` is for showing the email to anyone but its recipient (the console's
    and the admin's outbox): the context values the row lists under ``private``
    (a link that opens an account, say) are replaced by a placeholder.
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
        link = unsubscribe_url(notification.recipient)
        context["unsubscribe_url"] = link
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    with translation.override(notification.language):
        subject = render_to_string(f"{notification.template}_subject.txt", context)
        text = render_to_string(f"{notification.template}.txt", context)
        html = render_to_string(f"{notification.template}.html", context)
    message = EmailMultiAlternatives(
        # One line, whatever the context held: no header can be injected.
        subject=_WHITESPACE.sub(" ", subject).strip(),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    for attachment in notification.attachments:
        _attach(message, attachment)
    return message


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
                message = render_message(row)
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
            Notification.objects.filter(
                pk=row.pk, status=Notification.Status.SENDING
            ).update(
                status=Notification.Status.SENT,
                sent_at=timezone.now(),
                message_id=message_id,
                claimed_at=None,
                last_error="",
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
