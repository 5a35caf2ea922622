"""Organisers see the mail: status filters, the rendered message, resend."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import escape, format_html
from django.utils.translation import gettext_lazy as _

from .delivery import render_message
from .models import Notification, Unsubscription
from .services import notification_resend, scopes_for


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

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(scope__in=scopes_for(request.user))

    @admin.display(description=_("message"))
    def rendered(self, notification: Notification) -> str:
        message = render_message(notification)
        html = next(
            (body for body, kind in message.alternatives if kind == "text/html"), ""
        )
        return format_html(
            "<p><strong>{}</strong></p><pre style='white-space:pre-wrap'>{}</pre>"
            "<iframe sandbox srcdoc='{}' style='width:100%;height:30rem;border:1px solid #ccc'>"
            "</iframe>",
            # Rendered templates come back marked safe: escape them for this page.
            escape(message.subject),
            escape(message.body),
            escape(html),
        )

    @admin.action(description=_("Send the selected emails again"))
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        for notification in queryset:
            notification_resend(notification=notification)
        self.message_user(request, _("Queued again."), messages.SUCCESS)


@admin.register(Unsubscription)
class UnsubscriptionAdmin(admin.ModelAdmin):
    list_display = ["email", "created_at"]
    search_fields = ["email"]
