"""Console: mail (placeholder, being built)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from ..models import Event
from .access import organiser_event


@organiser_event
def mail(request: HttpRequest, event: Event) -> HttpResponse:
    return render(request, "console/placeholder.html", {"event": event})


urlpatterns = [path("<slug:slug>/mail/", mail, name="mail")]
