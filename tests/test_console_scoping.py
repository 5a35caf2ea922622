"""The console is scoped to the organiser's events, in one place, for every URL.

Two organisers run two events. Every console URL of event A, filled with A's own
objects, answers 404 to B's organiser, for GET and POST alike, and changes nothing;
and no page of B's console shows anything of A (titles, names, emails, codes).
The walk covers every pattern under ``/organise/`` that the URL configuration has,
so a page added later is covered without touching this test.
"""

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from awards.models import AwardBatch
from awards.services import (
    RecipientData,
    batch_create,
    category_create,
    nomination_create,
)
from events.models import Event, Registration, Session
from events.services import AttendeeData, registration_create
from notifications.models import Notification
from tests.factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class World:
    organiser: object
    event: Event
    session: Session
    registration: Registration
    batch: AwardBatch
    markers: list[str]


def _world(tag: str) -> World:
    organiser = UserFactory(username=f"organiser-{tag}@example.org", is_staff=False)
    organiser.set_password("pw-" + tag)
    organiser.save()
    event = EventFactory(
        slug=f"week-{tag}", title=f"Week of {tag.upper()}", organisers=[organiser]
    )
    session = SessionFactory(event=event, title=f"Talk of {tag.upper()}", capacity=1)
    registration = registration_create(
        session=session,
        attendee=AttendeeData(
            full_name=f"Person {tag.upper()}",
            email=f"person-{tag}@example.org",
            phone=f"+86-{tag}-555",
            organisation=f"Org {tag.upper()}",
        ),
    )
    registration_create(
        session=session,
        attendee=AttendeeData(
            full_name=f"Waiting {tag.upper()}", email=f"waiting-{tag}@example.org"
        ),
    )
    category = category_create(
        event=event,
        data={"name": f"Prize of {tag.upper()}", "recipient_kind": "organisation"},
        actor=organiser,
    )
    batch = batch_create(
        category=category,
        data={
            "number": 1,
            "title": f"Batch of {tag.upper()}",
            "ceremony_session": session,
        },
        actor=organiser,
    )
    nomination_create(
        batch=batch,
        recipient=RecipientData(kind="organisation", name=f"Nominee {tag.upper()}"),
        citation=f"Citation of {tag.upper()}",
        actor=organiser,
    )
    markers = [
        event.title,
        session.title,
        registration.full_name,
        registration.email,
        registration.code,
        f"Org {tag.upper()}",
        f"Prize of {tag.upper()}",
        f"Batch of {tag.upper()}",
        f"Nominee {tag.upper()}",
    ]
    return World(organiser, event, session, registration, batch, markers)


def _console_patterns() -> list[str]:
    """Every URL pattern under /organise/, as a route string with <converters>."""
    routes: list[str] = []

    def walk(patterns: list, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("organise/"):
                routes.append(route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(routes))


def _fill(route: str, world: World) -> str:
    """The route with the world's own objects in place of its parameters."""
    notification = (
        Notification.objects.filter(scope=f"event:{world.event.pk}")
        .order_by("pk")
        .first()
    )
    values = {
        "slug": world.event.slug,
        "session_id": world.session.pk,
        "pk": world.session.pk,
        "id": world.session.pk,
        "code": world.registration.code,
        "batch_id": world.batch.pk,
        "notification_id": notification.pk if notification else 0,
        "category_id": world.batch.category_id,
        "nomination_id": world.batch.nominations.first().pk,
    }
    if "/mail/" in route:
        values["pk"] = values["id"] = values["notification_id"]

    def value(match: re.Match[str]) -> str:
        name = match.group(2)
        assert name in values, f"the scoping test does not know <{name}> in {route}"
        return str(values[name])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


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
    routes = _console_patterns()
    for expected in ("organise/<slug:slug>/", "organise/<slug:slug>/attendees/"):
        assert expected in routes
    assert len(routes) >= 8


def test_every_console_url_of_another_event_is_404(client) -> None:
    a, b = _world("a"), _world("b")
    before = _state(a)
    client.force_login(b.organiser)
    checked = 0
    for route in _console_patterns():
        if "<" not in route:
            continue
        url = _fill(route, a)
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 404, (
                method.__name__,
                url,
                response.status_code,
            )
        checked += 1
        # The same page of B's own event is there for B (the 404 is about A).
        own = client.get(_fill(route, b))
        assert own.status_code != 404, (route, own.status_code)
    assert checked >= 8
    assert _state(a) == before


def test_no_page_of_b_shows_anything_of_a(client) -> None:
    a, b = _world("a"), _world("b")
    client.force_login(b.organiser)
    pages = [client.get("/organise/", follow=True)]
    for route in _console_patterns():
        response = client.get(_fill(route, b), follow=True)
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
        body = response.content.decode()
        for marker in a.markers:
            assert marker not in body, (response.request["PATH_INFO"], marker)


def test_signed_out_visitors_are_sent_to_the_sign_in_page(client) -> None:
    a = _world("a")
    for route in _console_patterns():
        url = _fill(route, a)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
