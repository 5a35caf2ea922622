"""Who may open a console page: the one place that scopes the console to a user's events."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase

from ..errors import EventNotFound
from ..models import Event
from ..selectors import event_get_for_organiser

EventView = Callable[..., HttpResponseBase]


def organiser_event(view: EventView) -> Callable[..., HttpResponseBase]:
    """Signs the user in, then hands ``view`` the event of the URL's ``slug``.

    The event comes from ``events.selectors.event_get_for_organiser``, as in the
    API: an event the user does not organise (or that does not exist) is a 404.
    The view is called as ``view(request, event, **rest_of_the_url)``.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, **kwargs: Any) -> HttpResponseBase:
        try:
            event = event_get_for_organiser(slug=slug, user=request.user)
        except EventNotFound:
            raise Http404 from None
        request.console_event = event  # type: ignore[attr-defined]
        return view(request, event, **kwargs)

    return wrapper


def organiser_events(user: Any) -> Any:
    """The events a user organises, newest first (all of them for a superuser)."""
    return (
        Event.objects.for_organiser(user)
        .select_related("venue")
        .order_by("-starts_on", "pk")
    )
