"""Console: one person's data in an event, exported or erased on their request.

An email address is sent in a POST body, never in a URL, so that it stays out of
server logs, browser history and Referer headers. The export is a read
(``events.privacy``); the erasure is ``events.services.person_erase`` behind a
confirmation page that says what happens.
"""

import json

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import services
from ..models import Event
from ..privacy import erasures_for_event, person_data_export, person_summary
from .access import organiser_event

ERASURES_PER_PAGE = 20


class PersonForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _people_page(
    request: HttpRequest,
    event: Event,
    form: PersonForm,
    *,
    summary: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    erasures = Paginator(erasures_for_event(event=event), ERASURES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "console/people.html",
        {
            "event": event,
            "form": form,
            "summary": summary,
            "email": form.cleaned_data["email"] if summary is not None else "",
            "erasures": erasures,
        },
        status=status,
    )


@organiser_event
def people(request: HttpRequest, event: Event) -> HttpResponse:
    """Looks an address up in this event: what is held, and the two doors."""
    if request.method != "POST":
        return _people_page(request, event, PersonForm())
    form = PersonForm(request.POST)
    if not form.is_valid():
        return _people_page(request, event, form, status=400)
    summary = person_summary(event=event, email=form.cleaned_data["email"])
    return _people_page(request, event, form, summary=summary)


@organiser_event
def people_export(request: HttpRequest, event: Event) -> HttpResponse:
    """A JSON download of what this event holds about the address (POST)."""
    if request.method != "POST":
        return _people_page(request, event, PersonForm())
    form = PersonForm(request.POST)
    if not form.is_valid():
        return _people_page(request, event, form, status=400)
    data = person_data_export(event=event, email=form.cleaned_data["email"])
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="{event.slug}-personal-data-{stamp}.json"'
    )
    response["Cache-Control"] = "no-store"
    return response


@organiser_event
def people_erase(request: HttpRequest, event: Event) -> HttpResponse:
    """The confirmation page, then the erasure (a POST with ``confirm``)."""
    if request.method != "POST":
        form = PersonForm()
        return render(
            request,
            "console/people_erase.html",
            {"event": event, "form": form, "summary": None},
        )
    form = PersonForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "console/people_erase.html",
            {"event": event, "form": form, "summary": None},
            status=400,
        )
    email = form.cleaned_data["email"]
    if request.POST.get("confirm") != "erase":
        return render(
            request,
            "console/people_erase.html",
            {
                "event": event,
                "form": form,
                "email": email,
                "summary": person_summary(event=event, email=email),
            },
        )
    erasure = services.person_erase(event=event, email=email, actor=request.user)
    if erasure is None:
        messages.info(request, _("This event holds no personal data for that address."))
    else:
        messages.success(
            request,
            ngettext(
                "The personal data is erased: %(count)d registration now reads "
                "“%(label)s”, and nothing more is sent to that address.",
                "The personal data is erased: %(count)d registrations now read "
                "“%(label)s”, and nothing more is sent to that address.",
                erasure.registrations,
            )
            % {"count": erasure.registrations, "label": erasure.label},
        )
    return redirect("console:attendee_people", slug=event.slug)


urlpatterns = [
    path("<slug:slug>/people/", people, name="attendee_people"),
    path("<slug:slug>/people/export/", people_export, name="attendee_people_export"),
    path("<slug:slug>/people/erase/", people_erase, name="attendee_people_erase"),
]
