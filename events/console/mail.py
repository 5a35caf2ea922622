"""Console: the event's outbox, one message as it is sent, and sending it again.

Rows are scoped to the event (``event:<id>``, as ``events.notices`` and
``awards.notices`` write them), so another event's mail is a 404. A message's HTML
is shown in a sandboxed frame whose page has its own strict Content-Security-Policy:
the email's markup never runs in the console's origin.
"""

import base64
import binascii
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.urls import path
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin

from config.problems import DomainError
from notifications.delivery import render_message
from notifications.models import Notification
from notifications.selectors import (
    notification_get_for_scope,
    notification_kinds_for_scope,
    notification_list_for_scope,
)
from notifications.services import RESENDABLE

from ..models import Event
from ..notices import ABOUT
from ..selectors import event_mail_scope
from ..services import event_mail_resend
from .access import organiser_event
from .attendee_forms import MailFilterForm

PAGE_SIZE = 50

KIND_LABELS = {
    "registration_confirmed": gettext_lazy("Confirmation and ticket"),
    "registration_waitlisted": gettext_lazy("On the waiting list"),
    "registration_promoted": gettext_lazy("Seat from the waiting list"),
    "registration_cancelled": gettext_lazy("Registration cancelled"),
    "manage_link": gettext_lazy("Link to manage a registration"),
    "session_changed": gettext_lazy("Session changed"),
    "session_cancelled": gettext_lazy("Session cancelled"),
    "session_reminder": gettext_lazy("Reminder"),
    "award_announced": gettext_lazy("Award announced"),
    "event_cancelled": gettext_lazy("Event cancelled"),
    "judge_invited": gettext_lazy("Invitation to judge"),
    "judge_reminded": gettext_lazy("Reminder to judge"),
}

# The preview page: no script, no network, nothing but the email's own markup,
# its inline styles and its inline images.
PREVIEW_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def with_kind_labels(notifications: Iterable[Notification]) -> list[Notification]:
    rows = list(notifications)
    for row in rows:
        row.kind_label = kind_label(row.kind)  # type: ignore[attr-defined]
    return rows


def _notification(event: Event, pk: int) -> Notification:
    try:
        return notification_get_for_scope(
            scope=event_mail_scope(event_id=event.pk), notification_id=pk
        )
    except Notification.DoesNotExist:
        raise Http404 from None


@organiser_event
def mail(request: HttpRequest, event: Event) -> HttpResponse:
    scope = event_mail_scope(event_id=event.pk)
    kinds = notification_kinds_for_scope(scope=scope)
    form = MailFilterForm(
        request.GET or None, kinds=[(kind, kind_label(kind)) for kind in kinds]
    )
    if form.is_bound:
        form.is_valid()
    filters = form.filters()
    notifications = notification_list_for_scope(scope=scope, **filters)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = with_kind_labels(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/mail.html",
        {
            "event": event,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "filtered": any(value is not None for value in filters.values()),
        },
    )


def _rendered(notification: Notification) -> dict[str, Any]:
    try:
        message = render_message(notification, redact=True)
    except (TemplateDoesNotExist, TemplateSyntaxError, KeyError, ValueError) as exc:
        return {"error": f"{exc.__class__.__name__}: {exc}"}
    html = next(
        (str(body) for body, kind in message.alternatives if kind == "text/html"), ""
    )
    # Rendered templates come back marked safe: the text body is escaped for the page
    # (the HTML body only ever goes to the sandboxed preview frame).
    return {"subject": message.subject, "text": escape(message.body), "html": html}


@organiser_event
def mail_detail(request: HttpRequest, event: Event, pk: int) -> HttpResponse:
    notification = _notification(event, pk)
    notification.kind_label = kind_label(notification.kind)  # type: ignore[attr-defined]
    registration_code = (
        notification.context.get("code")
        if notification.about_type == ABOUT and isinstance(notification.context, dict)
        else None
    )
    return render(
        request,
        "console/mail_detail.html",
        {
            "event": event,
            "notification": notification,
            "message": _rendered(notification),
            "language": dict(settings.LANGUAGES).get(
                notification.language, notification.language
            ),
            "attachments": [
                {"filename": a.get("filename", ""), "mimetype": a.get("mimetype", "")}
                for a in notification.attachments
                if isinstance(a, dict)
            ],
            "registration_code": registration_code
            if isinstance(registration_code, str)
            else None,
            "resendable": notification.status in RESENDABLE,
        },
    )


def _inline_images(html: str, notification: Notification) -> str:
    """Points ``cid:`` images at data: URLs of the row's own attachments."""
    for attachment in notification.attachments:
        if not isinstance(attachment, dict):
            continue
        cid, content = attachment.get("content_id"), attachment.get("content_base64")
        mimetype = str(attachment.get("mimetype", ""))
        if not cid or not content or not mimetype.startswith("image/"):
            continue
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            continue
        html = html.replace(f"cid:{cid}", f"data:{mimetype};base64,{content}")
    return html


@organiser_event
@xframe_options_sameorigin
def mail_preview(request: HttpRequest, event: Event, pk: int) -> HttpResponse:
    """The message's HTML body alone, for the sandboxed frame of the detail page."""
    notification = _notification(event, pk)
    rendered = _rendered(notification)
    html = _inline_images(rendered.get("html", ""), notification)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_POLICY
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


@organiser_event
def mail_resend(request: HttpRequest, event: Event, pk: int) -> HttpResponse:
    notification = _notification(event, pk)
    if request.method != "POST":  # after the lookup: a foreign code is a 404
        return HttpResponseNotAllowed(["POST"])
    try:
        copy = event_mail_resend(event=event, notification=notification)
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect("console:mail_detail", slug=event.slug, pk=notification.pk)
    messages.success(
        request,
        _("Queued again for %(recipient)s, as a new email: this one.")
        % {"recipient": copy.recipient},
    )
    return redirect("console:mail_detail", slug=event.slug, pk=copy.pk)


urlpatterns = [
    path("<slug:slug>/mail/", mail, name="mail"),
    path("<slug:slug>/mail/<int:pk>/", mail_detail, name="mail_detail"),
    path("<slug:slug>/mail/<int:pk>/preview/", mail_preview, name="mail_preview"),
    path("<slug:slug>/mail/<int:pk>/resend/", mail_resend, name="mail_resend"),
]
