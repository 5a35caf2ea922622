"""The console's front page: the events the signed-in organiser runs.

Other apps add sections of their own (the awards app lists the batches a judge
scores) through :func:`home_section_register`, since ``events`` imports nothing
from the apps above it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from .access import organiser_events


@dataclass(frozen=True)
class HomeSection:
    """A titled list of links on the console's front page."""

    title: str
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url)


_home_sections: list[Callable[[Any], HomeSection | None]] = []


def home_section_register(section: Callable[[Any], HomeSection | None]) -> None:
    """Adds a section (a function of the user, None when it has nothing to show)."""
    if section not in _home_sections:
        _home_sections.append(section)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    events = list(organiser_events(request.user))
    sections = [s for s in (f(request.user) for f in _home_sections) if s]
    if len(events) == 1 and not sections and not request.user.is_superuser:
        # One event is the common case: straight to its dashboard.
        return redirect("console:dashboard", slug=events[0].slug)
    if not events and len(sections) == 1 and len(sections[0].links) == 1:
        # A judge of one batch: straight to the judging page.
        return redirect(sections[0].links[0][1])
    return render(
        request, "console/home.html", {"events": events, "sections": sections}
    )


urlpatterns = [path("", home, name="home")]
