"""The console is scoped to the organiser's events, in one place, for every URL.

Two organisers run two events. Every console URL of event A, filled with A's own
objects, answers 404 to B's organiser, for GET and POST alike, and changes nothing;
and no page of B's console shows anything of A (titles, names, emails, codes).
The walk covers every pattern under ``/organise/`` that the URL configuration has,
so a page added later is covered without touching this test.
"""

import pytest

from awards.models import AwardBatch
from events.models import Event, Registration, Session
from notifications.models import Notification
from tests.console_walk import World, build_world, console_routes, fill_route

pytestmark = pytest.mark.django_db


def _state(world: World) -> tuple:
    session = Session.objects.get(pk=world.session.pk)
    return (
        Event.objects.filter(pk=world.event.pk).values_list("title", "status").get(),
        (session.title, session.capacity, session.starts_at, session.status),
        tuple(
            Registration.objects.filter(session__event=world.event)
            .order_by("pk")
            .values_list("status", "checked_in_at")
        ),
        Notification.objects.filter(scope=f"event:{world.event.pk}").count(),
        AwardBatch.objects.filter(pk=world.batch.pk).values_list("status").get(),
    )


def test_the_walk_covers_the_console() -> None:
    routes = console_routes()
    for expected in ("organise/<slug:slug>/", "organise/<slug:slug>/attendees/"):
        assert expected in routes
    assert len(routes) >= 8


def test_every_console_url_of_another_event_is_404(client) -> None:
    a, b = build_world("a"), build_world("b")
    before = _state(a)
    client.force_login(b.organiser)
    checked = 0
    for route in console_routes():
        if "<" not in route:
            continue
        url = fill_route(route, a)
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 404, (
                method.__name__,
                url,
                response.status_code,
            )
        checked += 1
        # The same page of B's own event is there for B (the 404 is about A).
        own = client.get(fill_route(route, b))
        assert own.status_code != 404, (route, own.status_code)
    assert checked >= 8
    assert _state(a) == before


def test_no_page_of_b_shows_anything_of_a(client) -> None:
    a, b = build_world("a"), build_world("b")
    client.force_login(b.organiser)
    pages = [client.get("/organise/", follow=True)]
    for route in console_routes():
        response = client.get(fill_route(route, b), follow=True)
        if response.status_code == 200:
            pages.append(response)
    # Lists with every filter and search that might reach past the event.
    for query in (
        "?search=Person",
        "?search=person-a",
        f"?session={a.session.pk}",
        "?status=confirmed",
    ):
        pages.append(client.get(f"/organise/{b.event.slug}/attendees/{query}"))
    assert len(pages) >= 8
    for response in pages:
        body = (
            b"".join(response.streaming_content)
            if response.streaming
            else response.content
        ).decode("utf-8-sig")
        for marker in a.markers:
            assert marker not in body, (response.request["PATH_INFO"], marker)


def test_signed_out_visitors_are_sent_to_the_sign_in_page(client) -> None:
    a = build_world("a")
    for route in console_routes():
        url = fill_route(route, a)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
