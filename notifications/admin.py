"""Operators see the mail: status filters, the rendered message, resend.

Only superusers reach the admin (config.admin.PodiumAdminSite); organisers read
their events' mail in the console. A resend goes through ``notification_resend``.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import escape, format_html
from django.utils.translation import gettext_lazy as _

from config.problems import DomainError

from .delivery import render_message
from .models import Notification, Unsubscription
from .services import notification_resend_by_owner, unsubscribe


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "recipient",
        "language",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "kind", "language"]
    search_fields = ["recipient", "dedupe_key", "about_id"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    readonly_fields = [field.name for field in Notification._meta.fields] + ["rendered"]
    exclude = ["context", "attachments"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("message"))
    def rendered(self, notification: Notification) -> str:
        message = render_message(notification, redact=True)
        html = next(
            (body for body, kind in message.alternatives if kind == "text/html"), ""
        )
        return format_html(
            # No style attributes: the Content-Security-Policy has no 'unsafe-inline'.
            "<p><strong>{}</strong></p><pre>{}</pre>"
            "<iframe sandbox srcdoc='{}' title='{}' width='100%' height='480'>"
            "</iframe>",
            # Rendered templates come back marked safe: escape them for this page.
            escape(message.subject),
            escape(message.body),
            escape(html),
            _("The HTML version of the message"),
        )

    @admin.action(description=_("Send the selected emails again"))
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        queued = 0
        for notification in queryset:
            try:
                notification_resend_by_owner(notification=notification)
            except DomainError as refusal:
                self.message_user(
                    request,
                    f"{notification.recipient}: {refusal.detail}",
                    messages.ERROR,
                )
            else:
                queued += 1
        if queued:
            self.message_user(request, _("Queued again."), messages.SUCCESS)


@admin.register(Unsubscription)
class UnsubscriptionAdmin(admin.ModelAdmin):
    """An unsubscription is the person's own choice: added here through
    ``unsubscribe`` (which also skips their queued reminders), never undone here."""

    list_display = ["email", "created_at"]
    search_fields = ["email"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Unsubscription, form: Any, change: bool
    ) -> None:
        unsubscribe(email=form.cleaned_data["email"])
        saved = Unsubscription.objects.get(email=form.cleaned_data["email"].lower())
        obj.pk = saved.pk
        obj._state.adding = False
