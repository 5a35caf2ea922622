"""The admin site: for the platform's operators (superusers) only.

Organisers work in the console (``/organise/``); the admin refuses everyone who is
not an active superuser, staff or not, at its login form and on every page.
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from .problems import DomainError


class OperatorAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, letting in active superusers only."""

    def confirm_login_allowed(self, user: Any) -> None:
        if not (user.is_active and user.is_superuser):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class PodiumAdminSite(admin.AdminSite):
    """Django's admin, opened to the platform's operators only."""

    site_header = _("Podium operations")
    site_title = _("Podium operations")
    login_form = OperatorAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)


_REFUSAL = "podium_admin_refusal"


class ServiceModelAdmin(admin.ModelAdmin):
    """A model admin whose saves go through services; a refusal is a form error.

    A service refuses after the form was valid, inside the admin's transaction: the
    transaction rolls back and the same POST is answered again with the form showing
    the service's reason, on the field ``refusal_fields`` names for that error, else
    on the whole form. Never a 500 for a refused change.
    """

    refusal_fields: dict[type[Exception], str] = {}

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (DomainError, ValidationError) as refusal:
            if request.method != "POST" or hasattr(request, _REFUSAL):
                raise
            setattr(request, _REFUSAL, refusal)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, _REFUSAL, None)
        if refusal is None:
            return form
        field = next(
            (
                name
                for kind, name in self.refusal_fields.items()
                if isinstance(refusal, kind)
            ),
            None,
        )

        reason: Exception = refusal

        def clean(self: Any) -> Any:
            cleaned = form.clean(self)
            _add_refusal(self, reason, field)
            return cleaned

        return type(form.__name__, (form,), {"clean": clean})


def _add_refusal(form: Any, refusal: Exception, field: str | None) -> None:
    if isinstance(refusal, ValidationError) and hasattr(refusal, "error_dict"):
        for name, errors in refusal.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return
    if isinstance(refusal, DomainError):
        message: Any = refusal.detail
    else:
        message = refusal
    form.add_error(field if field in form.fields else None, message)


def confirm_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: str,
    items: list[str],
    consequences: list[str],
    confirm_label: str,
) -> TemplateResponse | None:
    """The confirmation page of an irreversible action; None once it is confirmed.

    The page lists the selected objects and says what will happen; its POST repeats
    the action with ``confirm=yes``.
    """
    if request.POST.get("confirm") == "yes":
        return None
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": opts,
        "app_label": opts.app_label,
        "action": action,
        "items": items,
        "consequences": consequences,
        "confirm_label": confirm_label,
        "selected": [str(pk) for pk in queryset.values_list("pk", flat=True)],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/confirm_action.html", context)
