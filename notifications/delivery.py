"""Rendering outbox rows into MIME messages and handing them to SMTP."""

import base64
import contextlib
import datetime as dt
import logging
import re
import secrets
import smtplib
import time
from collections.abc import Sequence
from email.mime.image import MIMEImage
from email.policy import compat32
from email.utils import formatdate
from typing import Any, cast

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import (
    SafeMIMEMultipart,
    forbid_multi_line_headers,
    sanitize_address,
)
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError, connection
from django.dispatch import receiver
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
    plan: "MessagePlan | None" = None,
) -> "PodiumEmail":
    """The email of a row, in the recipient's language.

    ``redact`` is for showing the email to anyone but its recipient (the console's
    and the admin's outbox): the context values the row lists under ``private``
    (a link that opens an account, say) are replaced by a placeholder.
    ``renderer`` (a delivery batch's) renders the templates once for the rows that
    share them and knows the batch's unsubscribe links; the email is the same.
    """
    context, headers, drawn = plan or _message_plan(
        notification, redact=redact, renderer=renderer
    )
    if renderer is not None and not redact:
        subject, text, html = renderer.parts(notification, context)
    else:
        subject, text, html = render_parts(
            notification.template, notification.language, context
        )
    return _message_build(notification, context, headers, drawn, subject, text, html)


# A row's template context, headers and attachments (recipes drawn).
MessagePlan = tuple[dict[str, Any], dict[str, str], list[dict[str, Any]]]


def _message_plan(
    notification: Notification,
    *,
    redact: bool = False,
    renderer: "BatchRenderer | None" = None,
) -> MessagePlan:
    """A row's template context, headers and attachments (recipes drawn), worked
    out once whether the email is filled into a mould or built."""
    from .services import message_id_for, unsubscribe_url

    # Recipes are drawn first, so that the templates know which inline images came
    # (a logo whose file is gone is left out, and so is its <img>). They are kept on
    # the row object (not saved), so that whoever shows the row after rendering it
    # (the console's preview) sees the same bytes.
    drawn = attachments_drawn(
        notification.attachments,
        images=renderer.stored_images if renderer is not None else None,
    )
    notification.attachments = drawn
    context: dict[str, Any] = {
        **notification.context,
        "site_url": settings.SITE_URL,
        **inline_images(drawn),
    }
    if redact:
        with translation.override(notification.language):
            hidden = str(_("[hidden: a personal one-time link]"))
        for key in notification.context.get("private", []):
            context[key] = hidden
    headers = {
        "Message-ID": message_id_for(notification),
        # RFC 3834: a machine wrote this; auto-responders leave it unanswered.
        "Auto-Submitted": "auto-generated",
        "To": mailbox(str(context.get("to_name") or ""), notification.recipient),
    }
    if notification.unsubscribable:
        link = (
            renderer.unsubscribe_link(notification.recipient)
            if renderer is not None
            else unsubscribe_url(notification.recipient)
        )
        context["unsubscribe_url"] = link
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return context, headers, drawn


def _message_from(context: dict[str, Any]) -> str:
    from .services import sender_address, sender_name

    return mailbox(
        str(context.get("from_name") or "") or sender_name(), sender_address()
    )


def _message_build(
    notification: Notification,
    context: dict[str, Any],
    headers: dict[str, str],
    drawn: list[dict[str, Any]],
    subject: str,
    text: str,
    html: str,
) -> "PodiumEmail":
    message = PodiumEmail(
        # One line, whatever the context held: no header can be injected.
        subject=_WHITESPACE.sub(" ", subject).strip(),
        body=text,
        from_email=_message_from(context),
        # The envelope names the address alone; the To header (above) its owner too.
        to=[notification.recipient],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    for attachment in drawn:
        _attach(message, attachment)
    return message


class PodiumEmail(EmailMultiAlternatives):
    """Django's email with inline images beside its HTML, and a To header that
    always shows the address in angle brackets.

    ``inline_images`` (those the HTML shows by ``cid:``) go with the HTML part in
    a multipart/related (RFC 2387): text/plain, then the HTML and its images, as
    alternatives; other attachments (calendar files) follow in multipart/mixed.
    With no name to show, Django writes a bare To address; a bare To beside an HTML
    part with an image is what spam filters see in bulk spam (SpamAssassin's
    TO_NO_BRKTS_HTML_IMG), while ``<judge@example.org>`` is the same mailbox
    written the other way RFC 5322 allows.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inline_images: list[MIMEImage] = []

    def _create_alternatives(self, msg: Any) -> Any:
        msg = super()._create_alternatives(msg)  # type: ignore[misc]
        if not self.inline_images or not msg.is_multipart():
            return msg
        parts = msg.get_payload()
        for n, part in enumerate(parts):
            if part.get_content_type() == "text/html":
                related = SafeMIMEMultipart(
                    _subtype="related",
                    encoding=self.encoding or settings.DEFAULT_CHARSET,
                )
                related.attach(part)
                for image in self.inline_images:
                    related.attach(image)
                parts[n] = related
                break
        return msg

    def message(self, *args: Any, **kwargs: Any) -> Any:
        mime = super().message(*args, **kwargs)
        to = mime["To"]
        if to and "<" not in to and "," not in to:
            mime.replace_header("To", f"<{to.strip()}>")
        return mime


# RFC 5322's specials: a name holding one is written as a quoted string.
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def mailbox(name: str, address: str) -> str:
    """``张伟 <zhang@example.org>``: a name (on one line, quoted where it holds a
    special, so that any name parses back) and an address; Django encodes a
    non-ASCII name (RFC 2047)."""
    name = _WHITESPACE.sub(" ", name).strip()
    if not name:
        return address
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def inline_images(attachments: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The template variables of the inline images drawn (``context_key``: its CID)."""
    return {
        a["context_key"]: a["content_id"]
        for a in attachments
        if a.get("context_key") and a.get("content_id")
    }


# The image types an inline image may be, told by their first bytes, not by a name.
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _image_type(content: bytes) -> str | None:
    for magic, mimetype in _IMAGE_MAGIC:
        if content.startswith(magic):
            return mimetype
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


# An inline image larger than this is sent as a smaller copy, drawn at delivery,
# rather than bloat every email; a file larger than the read limit is left out.
STORED_IMAGE_MAX_BYTES = 512 * 1024
STORED_IMAGE_READ_LIMIT = 8 * 1024 * 1024
MAIL_IMAGE_MAX_SIDE = 240


def _smaller_copy(content: bytes) -> bytes | None:
    """A PNG of the image at most MAIL_IMAGE_MAX_SIDE pixels a side (a logo in a
    mail header is shown at 48), or None when Pillow cannot read it safely."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.thumbnail((MAIL_IMAGE_MAX_SIDE, MAIL_IMAGE_MAX_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
    except Exception as exc:  # Pillow raises many kinds, a decompression bomb too
        logger.info("Inline image not made smaller: %s", exc)
        return None
    smaller = buffer.getvalue()
    return smaller if len(smaller) <= STORED_IMAGE_MAX_BYTES else None


def stored_image(name: str) -> tuple[str, str] | None:
    """An image kept through Django's storage (an event's logo): its bytes (in
    base64) and type, or None when the file is gone, unreadable or not an image.
    One over STORED_IMAGE_MAX_BYTES is sent as a smaller PNG copy."""
    from django.core.files.storage import default_storage

    try:
        with default_storage.open(name, "rb") as handle:
            content = handle.read(STORED_IMAGE_READ_LIMIT + 1)
    except (OSError, ValueError) as exc:  # a missing file, a name storage refuses
        logger.info("Inline image %r left out: %s", name, exc)
        return None
    mimetype = _image_type(content)
    if mimetype is None or len(content) > STORED_IMAGE_READ_LIMIT:
        logger.info("Inline image %r left out: not a PNG/JPEG/GIF/WebP", name)
        return None
    if len(content) > STORED_IMAGE_MAX_BYTES:
        smaller = _smaller_copy(content)
        if smaller is None:
            logger.info("Inline image %r left out: too large", name)
            return None
        content, mimetype = smaller, "image/png"
    return base64.b64encode(content).decode(), mimetype


def attachments_drawn(
    attachments: Sequence[dict[str, Any]],
    *,
    images: dict[str, tuple[str, str] | None] | None = None,
) -> list[dict[str, Any]]:
    """The row's attachments with each recipe (``"draw"``) drawn into its content.

    A request that queues an email writes down what to draw (a calendar file's
    fields, a QR code's text) rather than drawing it; the worker draws it here.
    ``"calendar"``: the keyword arguments of ``notifications.ics.calendar_file``
    (times in ISO 8601). ``"qr_png"``: a QR Code (never a Micro QR) of ``data``
    with segno's ``error``, ``scale`` and ``border``. ``"stored_image"``: the
    image file ``stored`` names in Django's storage, read now (an organiser may
    have changed it since), its type told by its bytes; left out, with nothing
    else, when it is missing or not an image. ``images`` caches those reads
    (a batch reads each logo once). Anything else is refused (a ``ValueError``:
    the row cannot be rendered).
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
        elif recipe == "stored_image":
            name = str(attachment["stored_image"])
            if images is not None and name in images:
                image = images[name]
            else:
                image = stored_image(name)
                if images is not None:
                    images[name] = image
            if image is None:
                continue
            content, mimetype = image
            plain["mimetype"] = mimetype
            plain["content_base64"] = content
            extension = mimetype.split("/", 1)[1].replace("jpeg", "jpg")
            plain["filename"] = f"{plain.get('filename') or 'image'}.{extension}"
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


# What BatchRenderer prepared (a group's parts with placeholders, its message
# mould), kept for the next batches of the process: a fan-out's batches share them.
# The key holds all a group shares (template, language, context); the templates
# themselves are read again when TEMPLATES changes (tests).
_PROCESS_CACHE: dict[Any, Any] = {}
_PROCESS_CACHE_SIZE = 64


def _remember(key: Any, value: Any) -> None:
    while len(_PROCESS_CACHE) >= _PROCESS_CACHE_SIZE:
        _PROCESS_CACHE.pop(next(iter(_PROCESS_CACHE)))  # the oldest
    _PROCESS_CACHE[key] = value


@receiver(setting_changed)
def _templates_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("TEMPLATES", "SITE_URL", "DEFAULT_FROM_EMAIL", "LANGUAGE_CODE"):
        _PROCESS_CACHE.clear()


def _fingerprint(drawn: list[dict[str, Any]]) -> tuple[Any, ...]:
    return tuple(
        tuple(
            sorted(
                (k, hash(v) if isinstance(v, str) else repr(v)) for k, v in a.items()
            )
        )
        for a in drawn
    )


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
        # Stored images (logos) read once per batch, and the same for every row.
        self.stored_images: dict[str, tuple[str, str] | None] = {}
        self._slots: dict[tuple[Any, ...], list[str]] = {}
        self._groups: dict[tuple[Any, ...], Any] = {}
        self._moulds: dict[tuple[Any, ...], MessageMould | None] = {}
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

    def _group(
        self, row: Notification, context: dict[str, Any]
    ) -> tuple[Any, list[str], tuple[str, str, str]] | None:
        """The row's group, the names of its own values, and the group's parts
        rendered with placeholders; None when the row renders on its own."""
        key = self._key_of.get(id(row))
        members = self._members.get(key) if key is not None else None
        if key is None or members is None or len(members) < 2:
            return None
        names = list(self._slots[key])
        if "unsubscribe_url" in context:
            names.append("unsubscribe_url")
        # What the delivery added (an inline image that came or not) splits a group.
        added = tuple(
            sorted(
                (name, repr(context[name]))
                for name in context
                if name not in row.context and name not in names
            )
        )
        group = (key, added)
        if group not in self._groups:
            if group not in _PROCESS_CACHE:
                _remember(group, self._prepare(row, context, names, members))
            self._groups[group] = _PROCESS_CACHE[group]
        parts = self._groups[group]
        return None if parts is None else (group, names, parts)

    def parts(self, row: Notification, context: dict[str, Any]) -> tuple[str, str, str]:
        found = self._group(row, context)
        if found is None:
            return render_parts(row.template, row.language, context)
        _group, names, parts = found
        values = [str(context[name]) for name in names]
        return tuple(_fill(part, values) for part in parts)  # type: ignore[return-value]

    def envelope(
        self, row: Notification, plan: "MessagePlan | None" = None
    ) -> tuple[str, list[str], bytes] | None:
        """What SMTP is handed for the row (envelope sender, recipients, message),
        filled into its group's message (``MessageMould``); None when the row's
        email is to be built the ordinary way (from the same ``plan``)."""
        context, headers, drawn = plan or _message_plan(row, renderer=self)
        found = self._group(row, context)
        if found is None:
            return None
        group, names, parts = found
        # (The attachments a mould holds are the group's: a changed logo is another.)
        shaped = (group, _fingerprint(drawn))
        if shaped not in self._moulds:
            if shaped not in _PROCESS_CACHE:
                key = self._key_of[id(row)]
                _remember(
                    shaped,
                    MessageMould.made(
                        self,
                        row,
                        context,
                        headers,
                        drawn,
                        names,
                        parts,
                        self._members[key],
                    ),
                )
            self._moulds[shaped] = _PROCESS_CACHE[shaped]
        mould = self._moulds[shaped]
        return None if mould is None else mould.fill(row, context, headers, drawn)

    def _prepare(
        self,
        row: Notification,
        context: dict[str, Any],
        names: list[str],
        members: list[Notification],
    ) -> tuple[str, str, str] | None:
        placeholders = {name: _SLOT.format(n) for n, name in enumerate(names)}
        try:
            parts = render_parts(
                row.template, row.language, {**context, **placeholders}
            )
        except Exception:  # a filter that needs the real value (a date, a number)
            logger.info(
                "Template %s cannot render placeholders; its rows are rendered "
                "one by one.",
                row.template,
            )
            return None
        if any(_SLOT_LEFT.search(_SLOT_FOUND.sub("", part)) for part in parts):
            return None
        for sample in {
            id(members[0]): members[0],
            id(members[-1]): members[-1],
        }.values():
            # What the delivery adds (site URL, inline images) is the group's.
            own = {**context, **sample.context}
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


# The SMTP bytes of a group's email with holes: its headers that differ by row, and
# its templates' placeholders (_SLOT_FOUND).
_HOLE_HEADERS = ("Subject", "Date", "Message-ID", "To", "List-Unsubscribe")
# (The To header's hole is an address, as Django checks it; written in brackets.)
_HOLE = {name: f"PodiumHole{name.replace('-', '')}End" for name in _HOLE_HEADERS}
_HOLE["To"] += "@podium.invalid"
_HOLES = re.compile(
    r"^(" + "|".join(_HOLE_HEADERS) + r"): <?PodiumHole\w+End(?:@podium\.invalid>)?\r\n"
    r"|PodiumSlot(\d+)(<&>|&lt;&amp;&gt;)End",
    re.MULTILINE,
)
_FOLD = compat32.clone(linesep="\r\n")
_LINE_LIMIT = 998  # RFC 5322; Django encodes a part with a longer line otherwise


class MessageMould:
    """A delivery group's email as SMTP gets it, with holes for what differs by row.

    Building and flattening a MIME message cost the worker more CPU than anything
    else it does per email. A group's rows (``BatchRenderer``) share all of it but
    a few headers (To, Message-ID, Date, the unsubscribe link, the subject) and the
    values filled into the templates, so the message is built once with holes;
    each row's headers are then written as the email package writes them
    (``forbid_multi_line_headers``, then the same folding) and its values filled
    in as the templates print them. The first and last row of the group are also
    built the ordinary way and compared byte for byte (with the same Date and MIME
    boundaries); a difference, or a row the mould cannot follow (other
    attachments or sender, a value that would change a part's encoding, a line
    too long, a value holding a boundary), is built the ordinary way.
    """

    def __init__(
        self,
        text: str,
        boundaries: list[str],
        from_email: str,
        drawn: list[dict[str, Any]],
        names: list[str],
        subject: str,
        encoding: str,
    ) -> None:
        self.text = text
        self.boundaries = boundaries
        self.from_email = from_email
        self.sender = sanitize_address(from_email, encoding)
        self.drawn = drawn
        self.names = names
        self.subject = subject
        self.encoding = encoding
        # A part written as 7bit (ASCII) turns 8bit with a value that is not.
        self.ascii_only = "Content-Transfer-Encoding: 7bit" in text
        self._lines: dict[tuple[str, str], str] = {}

    @classmethod
    def made(
        cls,
        renderer: "BatchRenderer",
        row: Notification,
        context: dict[str, Any],
        headers: dict[str, str],
        drawn: list[dict[str, Any]],
        names: list[str],
        parts: tuple[str, str, str],
        members: Sequence[Notification],
    ) -> "MessageMould | None":
        """The group's mould, checked against its first and last row; None if the
        group's emails are to be built the ordinary way."""
        try:
            holes = _HOLE
            shaped = {**headers, "Message-ID": holes["Message-ID"], "To": holes["To"]}
            if "List-Unsubscribe" in shaped:
                shaped["List-Unsubscribe"] = holes["List-Unsubscribe"]
            message = _message_build(
                row, context, shaped, drawn, holes["Subject"], parts[1], parts[2]
            )
            mime = message.message()
            # Django dates a message as it builds it, before the headers given.
            mime.replace_header("Date", holes["Date"])
            boundaries = _boundaries_set(mime, None)
            text = mime.as_bytes(linesep="\r\n").decode("utf-8", "surrogateescape")
            encoding = message.encoding or settings.DEFAULT_CHARSET
            mould = cls(
                text, boundaries, message.from_email, drawn, names, parts[0], encoding
            )
            if len(_HOLES.findall(text)) != len(shaped.keys() & holes.keys()) + 2 + sum(
                len(_SLOT_FOUND.findall(part)) for part in parts[1:]
            ):
                return None  # a hole was encoded or folded: not a mould to fill
            # The first and the last row the mould takes (a row it does not take
            # is built the ordinary way) are also built so, and compared.
            checked = 0
            for side in (members, list(reversed(members))):
                for sample in side:
                    own, own_headers, own_drawn = _message_plan(
                        sample, renderer=renderer
                    )
                    date = formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
                    filled = mould.fill(sample, own, own_headers, own_drawn, date=date)
                    if filled is None:
                        continue
                    expected = _message_build(
                        sample,
                        own,
                        own_headers,
                        own_drawn,
                        *renderer.parts(sample, own),
                    ).message()
                    expected.replace_header("Date", date)
                    _boundaries_set(expected, boundaries)
                    if filled[2] != expected.as_bytes(linesep="\r\n"):
                        logger.info(
                            "Template %s: the filled message differs from the built "
                            "one; its rows are built one by one.",
                            row.template,
                        )
                        return None
                    checked += 1
                    break
            if not checked:
                return None
        except Exception:
            logger.exception("Cannot make a message mould for %s", row.template)
            return None
        return mould

    def fill(
        self,
        row: Notification,
        context: dict[str, Any],
        headers: dict[str, str],
        drawn: list[dict[str, Any]],
        *,
        date: str | None = None,
    ) -> tuple[str, list[str], bytes] | None:
        if drawn != self.drawn or _message_from(context) != self.from_email:
            return None
        values = [str(context[name]) for name in self.names]
        if self.ascii_only and not all(v.isascii() for v in values):
            return None
        if any(b in v for v in values for b in self.boundaries):
            return None
        subject = _WHITESPACE.sub(" ", _fill(self.subject, values)).strip()
        lines = {
            "Subject": self._header("Subject", subject),
            "Date": self._header(
                "Date", date or formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
            ),
            "Message-ID": self._header("Message-ID", headers["Message-ID"]),
            "To": self._header("To", headers["To"]),
        }
        if "List-Unsubscribe" in headers:
            lines["List-Unsubscribe"] = self._header(
                "List-Unsubscribe", headers["List-Unsubscribe"]
            )

        def hole(match: re.Match[str]) -> str:
            if match.group(1):
                return lines[match.group(1)]
            text = values[int(match.group(2))]
            return text if match.group(3) == "<&>" else escape(text)

        data = _HOLES.sub(hole, self.text).encode("utf-8", "surrogateescape")
        if max(map(len, data.split(b"\r\n"))) > _LINE_LIMIT:
            return None
        return self.sender, [sanitize_address(row.recipient, self.encoding)], data

    def _header(self, name: str, value: str) -> str:
        # A group's rows mostly share a subject, and a second's rows their Date.
        if name in ("Subject", "Date"):
            line = self._lines.get((name, value))
            if line is None:
                line = self._lines[(name, value)] = self._header_written(name, value)
            return line
        return self._header_written(name, value)

    def _header_written(self, name: str, value: str) -> str:
        name, value = forbid_multi_line_headers(name, value, self.encoding)
        if name == "To" and "<" not in value and "," not in value:
            value = f"<{value.strip()}>"  # as PodiumEmail.message() writes it
        return _FOLD.fold_binary(name, value).decode("ascii", "surrogateescape")


def _boundaries_set(mime: Any, boundaries: list[str] | None) -> list[str]:
    """Gives the message's multiparts these boundaries (new ones when None), in
    the order the generator writes them."""
    given = []
    for n, part in enumerate(p for p in mime.walk() if p.is_multipart()):
        boundary = (
            boundaries[n]
            if boundaries is not None
            else "=" * 15 + f"{secrets.randbelow(10**19):019d}" + "=="
        )
        part.set_boundary(boundary)
        given.append(boundary)
    return given


def _fill(part: str, values: list[str]) -> str:
    def value(match: re.Match[str]) -> str:
        text = values[int(match.group(1))]
        return text if match.group(2) == "<&>" else escape(text)

    return _SLOT_FOUND.sub(value, part)


def _attach(message: PodiumEmail, attachment: dict[str, str]) -> None:
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
        message.inline_images.append(image)
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
    # Django's SMTP backend: a group's emails can be filled into its mould.
    smtp = isinstance(connection, SMTPBackend)
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
            envelope = None
            try:
                plan = _message_plan(row, renderer=renderer)
                if renderer is not None and smtp:
                    try:
                        envelope = renderer.envelope(row, plan)
                    except Exception:  # the ordinary way below will tell what is wrong
                        logger.exception("Notification %s: no mould", row.pk)
                if envelope is None:
                    message = render_message(row, renderer=renderer, plan=plan)
            except Exception as exc:
                logger.exception("Notification %s cannot be rendered", row.pk)
                counts[_give_back(row, ValueError(f"cannot render: {exc}"))] += 1
                continue
            if envelope is None:
                message.connection = connection
            try:
                if envelope is None:
                    message.send()
                else:
                    # What Django's SMTP backend hands smtplib for the message.
                    session = cast(SMTPBackend, connection).connection
                    assert session is not None  # opened above
                    session.sendmail(*envelope)
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
