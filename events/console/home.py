"""The console's front page: the events the signed-in organiser runs."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from .access import organiser_events


@login_required
def home(request: HttpRequest) -> HttpResponse:
    events = list(organiser_events(request.user))
    if len(events) == 1 and not request.user.is_superuser:
        # One event is the common case: straight to its dashboard.
        return redirect("console:dashboard", slug=events[0].slug)
    return render(request, "console/home.html", {"events": events})


urlpatterns = [path("", home, name="home")]
