"""Admin for organisers: categories, batches with nominations, certificates, the audit log."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import (
    AuditEntry,
    AwardBatch,
    AwardCategory,
    Certificate,
    Nomination,
    Review,
)


class EventScopedAdmin(admin.ModelAdmin):
    event_path = "category__event"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            **{f"{self.event_path}__organisers": request.user.pk}
        ).distinct()


@admin.register(AwardCategory)
class AwardCategoryAdmin(EventScopedAdmin):
    event_path = "event"
    list_display = ["name", "event", "recipient_kind", "certificate_prefix"]
    list_filter = ["event", "recipient_kind"]


class NominationInline(admin.TabularInline):
    model = Nomination
    extra = 0
    fields = ["recipient", "status", "citation"]
    readonly_fields = ["recipient"]
    show_change_link = True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft


@admin.register(AwardBatch)
class AwardBatchAdmin(EventScopedAdmin):
    list_display = ["title", "category", "number", "status", "announced_at"]
    list_filter = ["status", "category"]
    readonly_fields = ["status", "approved_at", "announced_at"]
    filter_horizontal = ["judges"]
    inlines = [NominationInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An announced batch is append-only; corrections go through revoking.
        if obj is not None and obj.status == AwardBatch.Status.ANNOUNCED:
            return False
        return super().has_change_permission(request, obj)


@admin.register(Certificate)
class CertificateAdmin(EventScopedAdmin):
    event_path = "batch__category__event"
    list_display = ["number", "nomination", "status", "issued_on"]
    list_filter = ["status", "batch"]
    search_fields = ["number", "nomination__recipient__name"]
    readonly_fields = [
        "nomination",
        "batch",
        "sequence",
        "number",
        "issued_on",
        "status",
        "revoked_at",
        "pdf_rendered_at",
    ]
    exclude = ["pdf"]


@admin.register(Review)
class ReviewAdmin(EventScopedAdmin):
    event_path = "nomination__batch__category__event"
    list_display = ["nomination", "judge", "score", "conflict_of_interest"]


@admin.register(AuditEntry)
class AuditEntryAdmin(EventScopedAdmin):
    event_path = "batch__category__event"
    list_display = ["at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
