"""Organisers see the mail of their own events in the admin, rendered, and can resend it."""

import io
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from events import services
from notifications.models import Notification
from notifications.services import notifications_dispatch

from .factories import EventFactory, SessionFactory

pytestmark = pytest.mark.django_db


def register(session, email):
    return services.registration_create(
        session=session,
        attendee=services.AttendeeData(full_name="<i>陈佳萌</i>", email=email),
    )


@pytest.fixture
def organiser_client(client):
    EventFactory(slug="mine")
    call_command("add_organiser", "org@example.org", "mine", stdout=io.StringIO())
    client.force_login(get_user_model().objects.get(email="org@example.org"))
    return client


def test_organiser_sees_only_their_events_mail(organiser_client) -> None:
    mine = SessionFactory(event=EventFactory._meta.model.objects.get(slug="mine"))
    register(mine, "mine@example.org")
    register(SessionFactory(), "theirs@example.org")
    page = organiser_client.get("/admin/notifications/notification/").content.decode()
    assert "mine@example.org" in page and "theirs@example.org" not in page
    filtered = organiser_client.get(
        "/admin/notifications/notification/?status__exact=sent"
    )
    assert "mine@example.org" not in filtered.content.decode()


def test_rendered_message_and_resend(organiser_client) -> None:
    session = SessionFactory(event=EventFactory._meta.model.objects.get(slug="mine"))
    register(session, "mine@example.org")
    row = Notification.objects.get()
    page = organiser_client.get(
        f"/admin/notifications/notification/{row.pk}/change/"
    ).content.decode()
    assert "Registered: " in page
    assert "<i>陈佳萌</i>" not in page, (
        "the rendered message is escaped inside the admin page"
    )
    organiser_client.post(
        "/admin/notifications/notification/",
        {"action": "resend", "_selected_action": [row.pk]},
    )
    copy = Notification.objects.exclude(pk=row.pk).get()
    assert copy.dedupe_key == f"{row.dedupe_key}:resend:1" and copy.status == "pending"


def test_two_dispatchers_at_once_queue_each_row_once(postgres_transactional) -> None:
    session = SessionFactory(capacity=None)
    for n in range(60):
        register(session, f"p{n}@example.org")
    queued: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def queue(ids: list[int]) -> None:
        with lock:
            queued.extend(ids)

    def run() -> None:
        barrier.wait()
        try:
            notifications_dispatch(queue=queue)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(queued) == sorted(Notification.objects.values_list("pk", flat=True))
