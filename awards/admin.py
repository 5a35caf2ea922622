"""Admin for the platform's operators: categories, batches, certificates, the audit log.

Only superusers reach it (config.admin.PodiumAdminSite); organisers run awards in
the console. Categories and batches are created through ``awards.services`` (and so
audited); after that the admin only shows them: the workflow (nominations, judges,
decisions, approval, announcement, revoking) has its services, the console and the
API, and an announced batch is append-only (DESIGN.md invariant 8).
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from config.admin import ServiceModelAdmin
from config.l10n import LANGUAGE_SUFFIXES
from config.problems import DomainError

from . import services
from .errors import DuplicateBatch
from .models import (
    AuditEntry,
    AwardBatch,
    AwardCategory,
    Certificate,
    District,
    Nomination,
    Recipient,
    Review,
)


def per_language(*names: str) -> tuple[str, ...]:
    """``name`` as its columns ``name_zh_hans``, ``name_en``."""
    return tuple(f"{name}_{suffix}" for name in names for suffix in LANGUAGE_SUFFIXES)


def _adopt(obj: Any, created: Any) -> None:
    """Makes the admin's unsaved ``obj`` the row a service created."""
    obj.pk = created.pk
    obj._state.adding = False
    obj._state.db = created._state.db


CATEGORY_FIELDS = (
    "event",
    *per_language("name"),
    "recipient_kind",
    *per_language("description"),
    "certificate_prefix",
)
BATCH_ADD_FIELDS = ("category", "number", *per_language("title"), "ceremony_session")
NOMINATION_FIELDS = ("recipient", "status", *per_language("citation"), "decided_at")


class EitherLanguageMixin:
    """Texts need a value in one language or the other, not in English: the
    services check that at least one is given."""

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        for name, field in form.base_fields.items():
            if name.endswith(("_en", "_zh_hans")):
                field.required = False
        return form


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AwardCategory)
class AwardCategoryAdmin(EitherLanguageMixin, TranslationAdmin, ServiceModelAdmin):
    """Each text has a field per language; created through ``category_create``."""

    list_display = [
        "name_zh_hans",
        "name_en",
        "event",
        "recipient_kind",
        "certificate_prefix",
    ]
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
class AwardBatchAdmin(EitherLanguageMixin, TranslationAdmin, ServiceModelAdmin):
    list_display = [
        "title_zh_hans",
        "title_en",
        "category",
        "number",
        "status",
        "announced_at",
    ]
    list_filter = ["status", "category"]
    list_select_related = ["category"]
    refusal_fields = {DuplicateBatch: "number"}

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = AwardBatchAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return BATCH_ADD_FIELDS
        return [
            "category",
            "number",
            *per_language("title"),
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


@admin.register(District)
class DistrictAdmin(EitherLanguageMixin, TranslationAdmin, ServiceModelAdmin):
    """An event's districts, named per language; added, renamed and deleted through
    the services (a district with recipients is not deleted)."""

    list_display = ["name_zh_hans", "name_en", "event"]
    list_filter = ["event"]
    search_fields = ["name_zh_hans", "name_en"]
    fields = ("event", *per_language("name"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else ["event"]

    def get_actions(self, request: HttpRequest) -> Any:
        # Bulk deletion would pass by the service's check.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(
        self, request: HttpRequest, obj: District, form: Any, change: bool
    ) -> None:
        names = {
            "name_en": form.cleaned_data.get("name_en") or "",
            "name_zh_hans": form.cleaned_data.get("name_zh_hans") or "",
        }
        if change:
            services.district_rename(district=obj, actor=request.user, **names)
            return
        created = services.district_create(
            event=form.cleaned_data["event"], actor=request.user, **names
        )
        _adopt(obj, created)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        district = self.get_object(request, object_id)
        if request.method == "POST" and district is not None:
            try:
                services.district_delete(district=district, actor=request.user)
            except DomainError as refusal:
                self.message_user(request, refusal.detail, messages.ERROR)
                return HttpResponseRedirect(
                    reverse("admin:awards_district_change", args=[district.pk])
                )
            self.message_user(request, _("The district is deleted."), messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:awards_district_changelist"))
        return super().delete_view(request, object_id, extra_context)


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    """Who was nominated, each text per language; changed through the console's
    nomination form (the services), never here."""

    list_display = ["name_zh_hans", "name_en", "kind", "district"]
    list_select_related = ["district"]
    search_fields = ["name_zh_hans", "name_en", "email"]
    fields = (
        "kind",
        *per_language("name", "title", "affiliation", "street", "community"),
        "district",
        "email",
        "language",
    )


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["number", "nomination", "status", "issued_on"]
    list_filter = ["status", "batch"]
    search_fields = [
        "number",
        "nomination__recipient__name_zh_hans",
        "nomination__recipient__name_en",
    ]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["nomination", "judge", "score", "conflict_of_interest"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]
