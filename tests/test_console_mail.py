"""The console's mail pages: an event's outbox, one message as sent, and resend."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events.models import Registration
from events.services import AttendeeData, registration_create
from notifications.models import Notification
from notifications.services import notifications_deliver
from tests.factories import EventFactory, SessionFactory, UserFactory
from tests.mailsink import MailSink

pytestmark = pytest.mark.django_db


def register(session, name: str, email: str) -> Registration:
    return registration_create(
        session=session, attendee=AttendeeData(full_name=name, email=email)
    )


@pytest.fixture
def organiser():
    return UserFactory(username="organiser@example.org", is_staff=False)


@pytest.fixture
def event(organiser):
    return EventFactory(slug="week", title="Publicity Week", organisers=[organiser])


@pytest.fixture
def talk(event):
    return SessionFactory(event=event, title="Kick-off", capacity=1)


@pytest.fixture
def signed_in(client, organiser):
    client.force_login(organiser)
    return client


@pytest.fixture
def sink(settings):
    server = MailSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    yield server
    server.stop()


def url(name: str, event, **kwargs) -> str:
    return reverse(f"console:{name}", kwargs={"slug": event.slug, **kwargs})


def ids_on(response) -> list[int]:
    return [email.pk for email in response.context["page"].object_list]


def test_outbox_lists_this_events_mail_newest_first_by_state_and_kind(
    signed_in, event, talk
):
    """Only rows scoped to this event; the kind filter offers this event's kinds."""
    seated = register(talk, "Chen", "chen@example.org")
    waiting = register(talk, "Li", "li@example.org")
    register(SessionFactory(title="Elsewhere"), "Other", "other@example.org")
    Notification.objects.filter(recipient="other@example.org").update(kind="foreign")
    Notification.objects.filter(recipient="chen@example.org").update(
        status=Notification.Status.SENT
    )
    mine = list(
        Notification.objects.filter(scope=f"event:{event.pk}").order_by(
            "-created_at", "-pk"
        )
    )

    everything = signed_in.get(url("mail", event))
    sent = signed_in.get(url("mail", event), {"status": "sent"})
    waitlisted = signed_in.get(url("mail", event), {"kind": "registration_waitlisted"})
    bad = signed_in.get(url("mail", event), {"status": "lost", "kind": "foreign"})

    assert ids_on(everything) == [n.pk for n in mine] and len(mine) == 2
    body = everything.content.decode()
    assert "other@example.org" not in body
    assert "Confirmation and ticket" in body and "On the waiting list" in body
    assert [n.recipient for n in sent.context["page"].object_list] == [seated.email]
    assert [n.recipient for n in waitlisted.context["page"].object_list] == [
        waiting.email
    ]
    kinds = dict(everything.context["form"].fields["kind"].choices)
    assert set(kinds) == {"", "registration_confirmed", "registration_waitlisted"}
    assert bad.status_code == 200
    assert set(bad.context["form"].errors) == {"status", "kind"}


def test_outbox_pages_of_fifty(signed_in, event):
    session = SessionFactory(event=event, capacity=None)
    for n in range(52):
        register(session, f"Person {n}", f"p{n}@example.org")

    first = signed_in.get(url("mail", event))
    second = signed_in.get(url("mail", event), {"page": 2})

    assert len(ids_on(first)) == 50 and len(ids_on(second)) == 2
    assert not set(ids_on(first)) & set(ids_on(second))
    assert "52 emails" in first.content.decode()


def test_message_page_shows_the_rendered_email_safely(signed_in, event, talk):
    """Subject, recipient and text as sent; the HTML only in a sandboxed, scriptless frame."""
    registration = register(talk, "<script>alert('x')</script>Chen", "chen@example.org")
    row = Notification.objects.get(
        dedupe_key=f"registration_confirmed:{registration.pk}"
    )

    response = signed_in.get(url("mail_detail", event, pk=row.pk))
    preview = signed_in.get(url("mail_preview", event, pk=row.pk))

    body = response.content.decode()
    assert response.context["message"]["subject"] == "Registered: Kick-off"
    assert "chen@example.org" in body
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert" in body  # the text body, escaped
    assert 'sandbox=""' in body
    assert url("mail_preview", event, pk=row.pk) in body
    assert url("attendee_detail", event, code=registration.code) in body
    assert "invite.ics" in body and f"ticket-{registration.code}.png" in body

    policy = preview["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy  # falls back to 'none'
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    html = preview.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert registration.code in html
    # The ticket's QR image is inlined from the row's own attachment.
    assert "cid:ticket-qr" not in html and "data:image/png;base64," in html


def test_a_failure_shows_its_reason_and_resend_delivers_a_new_email(
    signed_in, event, talk, sink
):
    """A refused address fails for real; the page says why; resend goes out once."""
    registration = register(talk, "Chen", "chen@example.org")
    row = Notification.objects.get(
        dedupe_key=f"registration_confirmed:{registration.pk}"
    )
    sink.answers["chen@example.org"] = "550 5.1.1 Mailbox unavailable"
    notifications_deliver(ids=[row.pk])
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED

    page = signed_in.get(url("mail_detail", event, pk=row.pk))
    assert "Why it failed" in page.content.decode()
    assert "Mailbox unavailable" in page.content.decode()
    assert page.context["resendable"]

    sink.answers.clear()
    response = signed_in.post(url("mail_resend", event, pk=row.pk))

    copy = Notification.objects.get(dedupe_key=f"{row.dedupe_key}:resend:1")
    assert response.status_code == 302
    assert response["Location"] == url("mail_detail", event, pk=copy.pk)
    assert copy.status == Notification.Status.PENDING
    assert copy.scope == row.scope and copy.recipient == row.recipient
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED  # the old row stays as it was
    notifications_deliver(ids=[copy.pk])
    notifications_deliver(ids=[copy.pk])
    (message,) = sink.to("chen@example.org")
    assert registration.code in message.get_body(("plain",)).get_content()
    shown = signed_in.get(url("mail_detail", event, pk=copy.pk))
    assert shown.context["notification"].status == Notification.Status.SENT


def test_mail_still_queued_is_not_resent(signed_in, event, talk):
    """Resending a pending row would send it twice: refused, in the error style."""
    registration = register(talk, "Chen", "chen@example.org")
    row = Notification.objects.get(
        dedupe_key=f"registration_confirmed:{registration.pk}"
    )
    count = Notification.objects.count()

    response = signed_in.post(url("mail_resend", event, pk=row.pk), follow=True)

    assert Notification.objects.count() == count
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert signed_in.get(url("mail_resend", event, pk=row.pk)).status_code == 405


def test_another_organiser_gets_404_for_this_events_mail(client, event, talk):
    """Every mail URL of this event, and this event's ids under another event, is 404."""
    registration = register(talk, "Secret", "secret@example.org")
    row = Notification.objects.get(
        dedupe_key=f"registration_confirmed:{registration.pk}"
    )
    Notification.objects.filter(pk=row.pk).update(status=Notification.Status.SENT)
    stranger = UserFactory(username="stranger@example.org", is_staff=False)
    own = EventFactory(slug="own", organisers=[stranger])
    client.force_login(stranger)
    count = Notification.objects.count()
    for address in (
        url("mail", event),
        url("mail_detail", event, pk=row.pk),
        url("mail_preview", event, pk=row.pk),
        url("mail_resend", event, pk=row.pk),
        url("mail_detail", own, pk=row.pk),
        url("mail_preview", own, pk=row.pk),
        url("mail_resend", own, pk=row.pk),
        url("mail_detail", own, pk=2**63),
    ):
        assert client.get(address).status_code == 404, address
        assert client.post(address).status_code == 404, address
    assert Notification.objects.count() == count
    body = client.get(url("mail", own), {"kind": "registration_confirmed"})
    assert b"secret@example.org" not in body.content
    assert set(dict(body.context["form"].fields["kind"].choices)) == {""}


def _queries(client, address: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return len(queries)


def test_outbox_query_count_does_not_grow_with_rows(
    signed_in, event, django_assert_num_queries
):
    session = SessionFactory(event=event, capacity=None)
    for n in range(5):
        register(session, f"Person {n}", f"p{n}@example.org")
    few = _queries(signed_in, url("mail", event))
    for n in range(5, 50):
        register(session, f"Person {n}", f"p{n}@example.org")

    with django_assert_num_queries(few):
        response = signed_in.get(url("mail", event))
    assert len(ids_on(response)) == 50
