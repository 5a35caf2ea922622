"""Admin for the platform's operators: categories, batches, certificates, the audit log.

Only superusers reach it (config.admin.PodiumAdminSite); organisers run awards in
the console. Categories and batches are created through ``awards.services`` (and so
audited); after that the admin only shows them: the workflow (nominations, judges,
decisions, approval, announcement, revoking) has its services, the console and the
API, and an announced batch is append-only (DESIGN.md invariant 8).
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from config.admin import ServiceModelAdmin

from . import services
from .errors import DuplicateBatch
from .models import (
    AuditEntry,
    AwardBatch,
    AwardCategory,
    Certificate,
    Nomination,
    Review,
)


def _adopt(obj: Any, created: Any) -> None:
    """Makes the admin's unsaved ``obj`` the row a service created."""
    obj.pk = created.pk
    obj._state.adding = False
    obj._state.db = created._state.db


CATEGORY_FIELDS = (
    "event",
    "name",
    "recipient_kind",
    "description",
    "certificate_prefix",
)
BATCH_ADD_FIELDS = ("category", "number", "title", "ceremony_session")
NOMINATION_FIELDS = ("recipient", "status", "citation", "decided_at")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AwardCategory)
class AwardCategoryAdmin(ServiceModelAdmin):
    list_display = ["name", "event", "recipient_kind", "certificate_prefix"]
    list_filter = ["event", "recipient_kind"]
    fields = CATEGORY_FIELDS

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # No service changes a category: its name and prefix are on certificates.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: AwardCategory, form: Any, change: bool
    ) -> None:
        data = {name: form.cleaned_data[name] for name in CATEGORY_FIELDS}
        created = services.category_create(
            event=data.pop("event"), data=data, actor=request.user
        )
        _adopt(obj, created)


class NominationInline(admin.TabularInline):
    """The batch's nominations, read-only: they are decided through the services."""

    model = Nomination
    extra = 0
    fields = NOMINATION_FIELDS
    readonly_fields = NOMINATION_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AwardBatchAddForm(forms.ModelForm):
    class Meta:
        model = AwardBatch
        fields = BATCH_ADD_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        category = cleaned.get("category")
        session = cleaned.get("ceremony_session")
        if category and session and session.event_id != category.event_id:
            self.add_error(
                "ceremony_session",
                _("The ceremony session must be a session of the category's event."),
            )
        return cleaned


@admin.register(AwardBatch)
class AwardBatchAdmin(ServiceModelAdmin):
    list_display = ["title", "category", "number", "status", "announced_at"]
    list_filter = ["status", "category"]
    list_select_related = ["category"]
    refusal_fields = {DuplicateBatch: "number"}

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = AwardBatchAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return BATCH_ADD_FIELDS
        return [
            "category",
            "number",
            "title",
            "status",
            "ceremony_session",
            "judges",
            "run_of_show",
            "approved_at",
            "announced_at",
            "created_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.get_fields(request, obj)

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else [NominationInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # No service edits a batch; its workflow runs in the console and the API,
        # and an announced batch is append-only.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: AwardBatch, form: Any, change: bool
    ) -> None:
        data = {name: form.cleaned_data[name] for name in BATCH_ADD_FIELDS}
        created = services.batch_create(
            category=data.pop("category"), data=data, actor=request.user
        )
        _adopt(obj, created)


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["number", "nomination", "status", "issued_on"]
    list_filter = ["status", "batch"]
    search_fields = ["number", "nomination__recipient__name"]
    exclude = ["pdf"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["nomination", "judge", "score", "conflict_of_interest"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]
