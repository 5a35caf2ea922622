"""Two organisers' worlds and a walk over every console URL, for the scoping and
accessibility tests: each world is an event with a session (one seat, one person
waiting), award category, batch and nomination, built through the services.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from awards.models import AwardBatch
from awards.services import (
    RecipientData,
    batch_announce,
    batch_approve,
    batch_create,
    category_create,
    judge_add,
    nomination_create,
    nomination_update,
)
from events.models import Event, Question, Registration, Session
from events.questions import question_create
from events.services import AttendeeData, registration_create
from notifications.models import Notification
from tests.factories import EventFactory, SessionFactory, UserFactory


@dataclass
class World:
    organiser: object
    event: Event
    session: Session
    registration: Registration
    batch: AwardBatch
    markers: list[str]
    judge: Any = None


def build_world(tag: str) -> World:
    organiser = UserFactory(username=f"organiser-{tag}@example.org", is_staff=False)
    organiser.set_password("pw-" + tag)
    organiser.save()
    event = EventFactory(
        slug=f"week-{tag}", title=f"Week of {tag.upper()}", organisers=[organiser]
    )
    session = SessionFactory(event=event, title=f"Talk of {tag.upper()}", capacity=1)
    question_create(
        event=event,
        data={
            "kind": Question.Kind.SHORT_TEXT,
            "label_en": f"Question of {tag.upper()}",
        },
    )
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
        recipient=RecipientData(
            kind="organisation",
            name=f"Nominee {tag.upper()}",
            district=f"District of {tag.upper()}",
        ),
        citation=f"Citation of {tag.upper()}",
        actor=organiser,
    )
    # The batch is announced, so that its certificate pages have a certificate.
    nomination = batch.nominations.get()
    nomination_update(
        nomination=nomination, data={"status": "awarded"}, actor=organiser
    )
    batch_approve(batch=batch, actor=organiser)
    batch_announce(batch=batch, actor=organiser)
    certificate = batch.certificates.get()
    judge = judge_add(batch=batch, email=f"judge-{tag}@example.org", actor=organiser)
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
        certificate.number,
        judge.email,
        f"Question of {tag.upper()}",
        f"District of {tag.upper()}",
    ]
    return World(organiser, event, session, registration, batch, markers, judge)


def console_routes() -> list[str]:
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


def fill_route(route: str, world: World) -> str:
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
        "number": world.batch.certificates.first().number,
        "user_id": world.judge.pk,
        "question_id": Question.objects.filter(event=world.event).first().pk,
        "district_id": world.event.districts.first().pk,
    }
    if "/mail/" in route:
        values["pk"] = values["id"] = values["notification_id"]

    def value(match: re.Match[str]) -> str:
        name = match.group(2)
        assert name in values, f"the scoping test does not know <{name}> in {route}"
        return str(values[name])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)
