"""Console: the event's list of districts, each named in Chinese and English.

Nominations choose their district from this list (or add to it); the honour roll
finds awardees by either name. A district in use stays: deleting it is refused
with the number of recipients in it.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from config.problems import DomainError
from events.console.access import organiser_event
from events.models import Event

from .. import selectors, services
from ..models import District
from .forms import DistrictForm


def _district_in_event(event: Event, district_id: int) -> District:
    district = District.objects.filter(pk=district_id, event=event).first()
    if district is None:
        raise Http404
    return district


def _page(
    request: HttpRequest,
    event: Event,
    form: DistrictForm | None = None,
    renamed: dict[int, DistrictForm] | None = None,
) -> HttpResponse:
    renamed = renamed or {}
    rows = [
        {
            "district": district,
            "form": renamed.get(district.pk)
            or DistrictForm(
                prefix=f"d{district.pk}",
                initial={
                    f"name_{suffix}": value
                    for suffix, value in services.names_of(district).items()
                },
            ),
        }
        for district in selectors.districts_of_event(event)
    ]
    form = form or DistrictForm(prefix="new")
    failed = bool(form.errors) or any(f.errors for f in renamed.values())
    return render(
        request,
        "awards/console/districts.html",
        {"event": event, "rows": rows, "form": form},
        status=400 if failed else 200,
    )


def _form_error(form: DistrictForm, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@organiser_event
def district_list(request: HttpRequest, event: Event) -> HttpResponse:
    """The list, with a form per district to rename it and one to add a district."""
    if request.method != "POST":
        return _page(request, event)
    form = DistrictForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            district = services.district_create(
                event=event,
                name_en=form.cleaned_data["name_en"],
                name_zh_hans=form.cleaned_data["name_zh_hans"],
                actor=request.user,
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, _("%(name)s is added to the districts.") % {"name": district}
            )
            return redirect("awards_console:districts", slug=event.slug)
    return _page(request, event, form=form)


@organiser_event
def district_rename(
    request: HttpRequest, event: Event, district_id: int
) -> HttpResponse:
    district = _district_in_event(event, district_id)
    if request.method != "POST":
        return redirect("awards_console:districts", slug=event.slug)
    form = DistrictForm(request.POST, prefix=f"d{district.pk}")
    if form.is_valid():
        try:
            services.district_rename(
                district=district,
                name_en=form.cleaned_data["name_en"],
                name_zh_hans=form.cleaned_data["name_zh_hans"],
                actor=request.user,
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The district is saved."))
            return redirect("awards_console:districts", slug=event.slug)
    return _page(request, event, renamed={district.pk: form})


@organiser_event
def district_delete(
    request: HttpRequest, event: Event, district_id: int
) -> HttpResponse:
    district = _district_in_event(event, district_id)
    if request.method == "POST":
        try:
            services.district_delete(district=district, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(
                request,
                _("%(name)s is taken off the list of districts.") % {"name": district},
            )
    return redirect("awards_console:districts", slug=event.slug)
