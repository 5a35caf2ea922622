"""Console: award categories, batches and their nominations (add, edit, import, withdraw)."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.problems import DomainError
from events.console.access import organiser_event
from events.models import Event

from .. import services
from ..imports import ImportInvalid, nominations_parse
from ..models import AwardBatch, AwardCategory, Nomination
from .batches import batch_in_event
from .forms import BatchForm, CategoryForm, ImportForm, NominationForm


def _category_in_event(event: Event, category_id: int) -> AwardCategory:
    category = AwardCategory.objects.filter(pk=category_id, event=event).first()
    if category is None:
        raise Http404
    return category


def _nomination_in_batch(batch: AwardBatch, nomination_id: int) -> Nomination:
    nomination = (
        batch.nominations.select_related("recipient").filter(pk=nomination_id).first()
    )
    if nomination is None:
        raise Http404
    return nomination


def _to_batch(event: Event, batch: AwardBatch) -> HttpResponse:
    return redirect("awards_console:batch", slug=event.slug, batch_id=batch.pk)


@organiser_event
def category_new(request: HttpRequest, event: Event) -> HttpResponse:
    form = CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.category_create(
                event=event, data=_category_data(form), actor=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The award category is created."))
            return redirect("awards_console:index", slug=event.slug)
    return render(
        request,
        "awards/console/category_form.html",
        {"event": event, "form": form, "category": None},
        status=400 if form.errors else 200,
    )


@organiser_event
def category_edit(request: HttpRequest, event: Event, category_id: int) -> HttpResponse:
    category = _category_in_event(event, category_id)
    initial = {f: getattr(category, f) or "" for f in CategoryForm.base_fields}
    form = CategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = _category_data(form)
        changed = {f: data[f] for f in form.changed_data}
        try:
            if changed:
                services.category_update(
                    category=category, data=changed, actor=request.user
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, _("The award category is saved."))
            return redirect("awards_console:index", slug=event.slug)
    return render(
        request,
        "awards/console/category_form.html",
        {"event": event, "form": form, "category": category},
        status=400 if form.errors else 200,
    )


@organiser_event
def batch_new(request: HttpRequest, event: Event, category_id: int) -> HttpResponse:
    category = _category_in_event(event, category_id)
    next_number = max(category.batches.values_list("number", flat=True), default=0) + 1
    form = BatchForm(request.POST or None, event=event, initial={"number": next_number})
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.batch_create(
                category=category, data=_batch_data(form), actor=request.user
            )
        except DomainError as exc:
            form.add_error("number", exc.detail)
        else:
            messages.success(request, _("The batch is created as a draft."))
            return _to_batch(event, batch)
    return render(
        request,
        "awards/console/batch_form.html",
        {"event": event, "form": form, "category": category, "batch": None},
        status=400 if form.errors else 200,
    )


@organiser_event
def batch_edit(request: HttpRequest, event: Event, batch_id: int) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    initial = {
        "number": batch.number,
        **{
            f"title_{suffix}": value
            for suffix, value in services.names_of(batch, "title").items()
        },
        "ceremony_session": batch.ceremony_session,
    }
    form = BatchForm(request.POST or None, event=event, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = _batch_data(form)
        changed = {f: data[f] for f in form.changed_data}
        try:
            if changed:
                services.batch_update(batch=batch, data=changed, actor=request.user)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, _("The batch is saved."))
            return _to_batch(event, batch)
    return render(
        request,
        "awards/console/batch_form.html",
        {"event": event, "form": form, "category": batch.category, "batch": batch},
        status=400 if form.errors else 200,
    )


def _category_data(form: CategoryForm) -> dict[str, Any]:
    """The category's fields as the services take them: texts per language."""
    data = form.texts()
    data["recipient_kind"] = form.cleaned_data["recipient_kind"]
    data["certificate_prefix"] = form.cleaned_data["certificate_prefix"]
    return data


def _batch_data(form: BatchForm) -> dict[str, Any]:
    data: dict[str, Any] = form.texts()
    data["number"] = form.cleaned_data["number"]
    data["ceremony_session"] = form.cleaned_data["ceremony_session"]
    return data


def _nomination_initial(nomination: Nomination) -> dict[str, Any]:
    person = nomination.recipient
    initial: dict[str, Any] = {
        "kind": person.kind,
        "email": person.email,
        "language": person.language,
        "district": person.district_id,
    }
    for name in NominationForm.bilingual:
        owner = nomination if name == "citation" else person
        for suffix in ("zh_hans", "en"):
            initial[f"{name}_{suffix}"] = getattr(owner, f"{name}_{suffix}") or ""
    return initial


@organiser_event
def nomination_new(request: HttpRequest, event: Event, batch_id: int) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    form = NominationForm(
        request.POST or None,
        event=event,
        initial={"kind": batch.category.recipient_kind},
    )
    if request.method == "POST" and form.is_valid():
        try:
            nomination = services.nomination_create(
                batch=batch,
                recipient=form.recipient(),
                citation=form.citation(),
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(
                request,
                _("%(name)s is nominated.") % {"name": nomination.recipient.name},
            )
            if "another" in request.POST:
                return redirect(
                    "awards_console:nomination_new",
                    slug=event.slug,
                    batch_id=batch.pk,
                )
            return _to_batch(event, batch)
    return render(
        request,
        "awards/console/nomination_form.html",
        {"event": event, "batch": batch, "form": form, "nomination": None},
        status=400 if form.errors else 200,
    )


@organiser_event
def nomination_edit(
    request: HttpRequest, event: Event, batch_id: int, nomination_id: int
) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    nomination = _nomination_in_batch(batch, nomination_id)
    form = NominationForm(
        request.POST or None, event=event, initial=_nomination_initial(nomination)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.nomination_edit(
                nomination=nomination,
                recipient=form.recipient(),
                citation=form.citation(),
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, _("The nomination is saved."))
            return _to_batch(event, batch)
    return render(
        request,
        "awards/console/nomination_form.html",
        {"event": event, "batch": batch, "form": form, "nomination": nomination},
        status=400 if form.errors else 200,
    )


@organiser_event
def nomination_withdraw(
    request: HttpRequest, event: Event, batch_id: int, nomination_id: int
) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    nomination = _nomination_in_batch(batch, nomination_id)
    error = None
    if request.method == "POST":
        try:
            services.nomination_update(
                nomination=nomination,
                data={"status": Nomination.Status.WITHDRAWN},
                actor=request.user,
            )
        except DomainError as exc:
            error = exc.detail
        else:
            messages.success(
                request,
                _("The nomination of %(name)s is withdrawn.")
                % {"name": nomination.recipient.name},
            )
            return _to_batch(event, batch)
    return render(
        request,
        "awards/console/nomination_withdraw.html",
        {"event": event, "batch": batch, "nomination": nomination, "error": error},
        status=409 if error else 200,
    )


@organiser_event
def nominations_import(
    request: HttpRequest, event: Event, batch_id: int
) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    form = ImportForm(request.POST or None, request.FILES or None)
    failure = None
    if request.method == "POST" and form.is_valid():
        try:
            rows = nominations_parse(
                form.cleaned_data["file"], default_kind=batch.category.recipient_kind
            )
            count = services.nominations_import(
                batch=batch,
                rows=[(row.recipient, row.citation) for row in rows],
                actor=request.user,
            )
        except ImportInvalid as exc:
            failure = {"line": exc.line, "reason": exc.reason}
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d nomination imported.",
                    "%(count)d nominations imported.",
                    count,
                )
                % {"count": count},
            )
            return _to_batch(event, batch)
    return render(
        request,
        "awards/console/nominations_import.html",
        {"event": event, "batch": batch, "form": form, "failure": failure},
        status=400 if (form.errors or failure) else 200,
    )
