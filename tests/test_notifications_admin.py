"""Operators see the mail in the admin, rendered, and can resend it; organisers cannot."""

import threading

import pytest
from django.db import connection

from events import services
from notifications.models import Notification
from notifications.services import notifications_dispatch

from .factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def register(session, email):
    return services.registration_create(
        session=session,
        attendee=services.AttendeeData(full_name="<i>陈佳萌</i>", email=email),
    )


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def test_an_organiser_is_refused_even_for_their_own_events_mail(client) -> None:
    organiser = UserFactory(is_staff=True, is_superuser=False)
    session = SessionFactory(event=EventFactory(organisers=[organiser]))
    register(session, "mine@example.org")
    row = Notification.objects.get()
    client.force_login(organiser)
    for url in (
        "/admin/notifications/notification/",
        f"/admin/notifications/notification/{row.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    client.post(
        "/admin/notifications/notification/",
        {"action": "resend", "_selected_action": [row.pk]},
    )
    assert Notification.objects.count() == 1


def test_the_operator_sees_all_mail_and_filters_it(operator_client) -> None:
    register(SessionFactory(), "mine@example.org")
    register(SessionFactory(), "theirs@example.org")
    page = operator_client.get("/admin/notifications/notification/").content.decode()
    assert "mine@example.org" in page and "theirs@example.org" in page
    filtered = operator_client.get(
        "/admin/notifications/notification/?status__exact=sent"
    )
    assert "mine@example.org" not in filtered.content.decode()


def test_rendered_message_and_resend(operator_client) -> None:
    register(SessionFactory(), "mine@example.org")
    row = Notification.objects.get()
    page = operator_client.get(
        f"/admin/notifications/notification/{row.pk}/change/"
    ).content.decode()
    assert "Registered: " in page
    assert "<i>陈佳萌</i>" not in page, (
        "the rendered message is escaped inside the admin page"
    )
    Notification.objects.filter(pk=row.pk).update(status="sent")
    operator_client.post(
        "/admin/notifications/notification/",
        {"action": "resend", "_selected_action": [row.pk]},
    )
    copy = Notification.objects.exclude(pk=row.pk).get()
    assert copy.kind == row.kind and copy.status == "pending"
    assert copy.dedupe_key.startswith(f"{row.dedupe_key}:resend:")


def test_the_admin_resends_by_the_consoles_rules(operator_client) -> None:
    """A cancelled registration gets no new ticket from the admin either."""
    registration = register(SessionFactory(), "gone@example.org")
    services.registration_cancel_by_organiser(registration=registration)
    Notification.objects.update(status="sent")
    confirmation = Notification.objects.get(kind="registration_confirmed")
    before = Notification.objects.count()
    response = operator_client.post(
        "/admin/notifications/notification/",
        {"action": "resend", "_selected_action": [confirmation.pk]},
        follow=True,
    )
    assert "cancelled" in response.content.decode()
    assert Notification.objects.count() == before


def test_a_notification_cannot_be_edited_or_deleted(operator_client) -> None:
    register(SessionFactory(), "mine@example.org")
    row = Notification.objects.get()
    base = f"/admin/notifications/notification/{row.pk}"
    assert (
        operator_client.post(f"{base}/change/", {"recipient": "x@example.org"})
    ).status_code == 403
    assert operator_client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.recipient == "mine@example.org"


def test_an_unsubscription_added_in_the_admin_skips_queued_reminders(
    operator_client,
) -> None:
    """Added through ``unsubscribe``; an unsubscription is never undone here."""
    from notifications.models import Unsubscription

    register(SessionFactory(), "mine@example.org")
    Notification.objects.update(unsubscribable=True)
    response = operator_client.post(
        "/admin/notifications/unsubscription/add/",
        {"email": "Mine@Example.org", "_save": "Save"},
    )
    assert response.status_code == 302
    row = Unsubscription.objects.get()
    assert row.email == "mine@example.org"
    assert set(Notification.objects.values_list("status", flat=True)) == {"skipped"}
    delete = f"/admin/notifications/unsubscription/{row.pk}/delete/"
    assert operator_client.post(delete, {"post": "yes"}).status_code == 403
    assert Unsubscription.objects.exists()


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
