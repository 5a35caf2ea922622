"""The console's attendee pages: list, search, filters, sort, pages, CSV, a person's
page with its history, and cancel / resend / check in through the services."""

import csv
import io
import os
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

from events.models import Registration
from events.services import (
    AttendeeData,
    registration_cancel_by_organiser,
    registration_check_in,
    registration_create,
)
from notifications.models import Notification
from tests.factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

# Playwright's sync API runs an event loop in the test's thread (see test_browser).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def register(session, name: str, email: str | None = None, **fields) -> Registration:
    email = (
        email or f"{re.sub(r'[^a-z0-9]+', '.', name.lower()).strip('.')}@example.org"
    )
    return registration_create(
        session=session,
        attendee=AttendeeData(full_name=name, email=email, **fields),
    )


@pytest.fixture
def organiser():
    user = UserFactory(username="organiser@example.org", is_staff=False)
    user.set_password("organiser-pw")
    user.save()
    return user


@pytest.fixture
def event(organiser):
    return EventFactory(slug="week", title="Publicity Week", organisers=[organiser])


@pytest.fixture
def talk(event):
    return SessionFactory(event=event, title="Kick-off", capacity=2)


@pytest.fixture
def showcase(event):
    return SessionFactory(event=event, title="Showcase", capacity=50)


@pytest.fixture
def signed_in(client, organiser):
    client.force_login(organiser)
    return client


def url(name: str, event, **kwargs) -> str:
    return reverse(f"console:{name}", kwargs={"slug": event.slug, **kwargs})


def codes_on(response) -> list[str]:
    return re.findall(r'<tr data-code="([A-Z0-9]+)">', response.content.decode())


def test_list_shows_what_each_person_gave_to_this_event(signed_in, event, talk):
    """Details come from the registration, not from the Attendee row all events share."""
    chen = register(
        talk, "Chen Jiameng", "chen@example.org", phone="111", organisation="Wantou"
    )
    other_event = EventFactory(title="Another week")
    register(
        SessionFactory(event=other_event, title="Elsewhere"),
        "Chen J.",
        "chen@example.org",
        phone="999-private",
        organisation="Private Org",
    )
    chen.attendee.refresh_from_db()
    assert chen.attendee.phone == "999-private"  # the shared row moved on

    response = signed_in.get(url("attendees", event))

    assert response.status_code == 200
    body = response.content.decode()
    assert codes_on(response) == [chen.code]
    for shown in ("Chen Jiameng", "chen@example.org", "111", "Wantou", "Kick-off"):
        assert shown in body
    for hidden in ("999-private", "Private Org", "Elsewhere", "Chen J."):
        assert hidden not in body


def test_search_finds_by_name_email_phone_code_and_organisation(
    signed_in, event, talk, showcase
):
    """Each kind of search term finds the one registration it belongs to."""
    chen = register(talk, "Chen Jiameng", phone="13800001111", organisation="Wantou")
    wang = register(showcase, "Wang Li", "wl@example.net", organisation="Yongjiang")
    for term, expected in (
        ("jiameng", [chen]),
        ("wl@example", [wang]),
        ("0000111", [chen]),
        (wang.code.lower(), [wang]),
        ("yongjiang", [wang]),
        ("nobody", []),
    ):
        response = signed_in.get(url("attendees", event), {"search": term})
        assert codes_on(response) == [r.code for r in expected], term


def test_filters_by_session_status_and_check_in(signed_in, event, talk, showcase):
    """Session, status and checked-in filters combine; waitlisted rows show their place."""
    first = register(talk, "First")
    register(talk, "Second")
    waiting = register(talk, "Third")
    show = register(showcase, "Fourth")
    registration_check_in(event=event, code=first.code)
    assert waiting.status == Registration.Status.WAITLISTED

    def codes(**query):
        return codes_on(signed_in.get(url("attendees", event), query))

    assert set(codes(session=talk.pk)) == {
        r.code for r in Registration.objects.filter(session=talk)
    }
    assert codes(session=showcase.pk) == [show.code]
    assert codes(status="waitlisted") == [waiting.code]
    assert codes(checked_in="yes") == [first.code]
    assert first.code not in codes(checked_in="no")
    assert codes(session=talk.pk, status="confirmed", checked_in="no") == [
        Registration.objects.get(full_name="Second").code
    ]
    body = signed_in.get(url("attendees", event), {"status": "waitlisted"}).content
    assert "(#1 waiting)" in body.decode()


def test_filter_choices_are_this_events_and_a_foreign_session_is_a_form_error(
    signed_in, event, talk
):
    """Only this event's sessions are offered; another event's session id is refused."""
    register(talk, "Mine")
    foreign = SessionFactory(title="Foreign session")
    register(foreign, "Foreigner")

    response = signed_in.get(url("attendees", event), {"session": foreign.pk})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Foreign session" not in body and "Foreigner" not in body
    assert response.context["form"].errors["session"]
    assert 'aria-invalid="true"' in body
    # Bad values are errors on the form, never a server error.
    for query in ({"session": "x"}, {"status": "lost"}, {"sort": "password"}):
        response = signed_in.get(url("attendees", event), {**query, "page": "-3"})
        assert response.status_code == 200
        assert response.context["form"].errors


def test_sorts_by_whitelisted_keys_only(signed_in, event, talk, showcase):
    """Name, registration time, session and status sort both ways."""
    b = register(showcase, "Bo")
    a = register(talk, "Ai")
    c = register(talk, "Cui")
    d = register(talk, "Du")  # waitlisted: the talk has two seats
    talk.refresh_from_db()

    def order(sort):
        return codes_on(signed_in.get(url("attendees", event), {"sort": sort}))

    assert order("name") == [a.code, b.code, c.code, d.code]
    assert order("-name") == [d.code, c.code, b.code, a.code]
    assert order("registered") == [b.code, a.code, c.code, d.code]
    assert order("-registered") == [d.code, c.code, a.code, b.code]
    assert order("status") == [b.code, a.code, c.code, d.code]
    assert order("-status")[0] == d.code
    sessions = order("session")
    earlier, later = sorted([talk, showcase], key=lambda s: (s.starts_at, s.title))
    first_titles = [Registration.objects.get(code=c).session for c in sessions]
    assert first_titles[0] == earlier and first_titles[-1] == later
    # The column headers link to the sort, and to its reverse once sorted.
    body = signed_in.get(url("attendees", event), {"sort": "name"}).content.decode()
    assert 'aria-sort="ascending"' in body and "sort=-name" in body


def test_pages_of_fifty(signed_in, event, showcase):
    """Fifty a page, filters kept across pages; a page out of range shows the last."""
    for n in range(53):
        register(showcase, f"Person {n:02d}")

    first = signed_in.get(url("attendees", event), {"sort": "name"})
    second = signed_in.get(url("attendees", event), {"sort": "name", "page": 2})
    beyond = signed_in.get(url("attendees", event), {"sort": "name", "page": 99})

    assert len(codes_on(first)) == 50
    assert len(codes_on(second)) == 3
    assert codes_on(beyond) == codes_on(second)
    assert "sort=name&amp;page=2" in first.content.decode()
    assert "53 registrations" in first.content.decode()


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_is_what_is_on_screen_over_all_pages_and_guarded(
    signed_in, event, showcase, talk
):
    """Same search, filters and sort as the list, every page; formulas are kept text."""
    for n in range(55):
        register(showcase, f"Wantou {n:02d}", organisation="Wantou Community")
    register(
        showcase,
        '=HYPERLINK("http://evil")',
        "evil@example.org",
        organisation="Wantou Community",
        phone="+1 555",
    )
    register(showcase, "Not matching", organisation="Elsewhere")
    register(talk, "Other session", organisation="Wantou Community")
    query = {"search": "wantou", "session": showcase.pk, "sort": "-name"}

    on_screen = codes_on(signed_in.get(url("attendees", event), query))
    on_screen += codes_on(signed_in.get(url("attendees", event), {**query, "page": 2}))
    response = signed_in.get(url("attendees", event), query)
    export = response.context["export_url"]
    assert export.startswith(url("attendees_export", event) + "?")

    exported = signed_in.get(export)

    assert exported["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in exported["Content-Disposition"]
    header, *rows = _csv_rows(exported)
    assert header[0] == "code"
    assert [row[0] for row in rows] == on_screen
    assert len(rows) == 56
    evil = next(row for row in rows if "HYPERLINK" in row[header.index("full_name")])
    assert evil[header.index("full_name")].startswith("'=")
    assert evil[header.index("phone")] == "'+1 555"
    # Times in the event's zone, as on screen.
    assert rows[0][header.index("created_at")].endswith("+08:00")


def test_person_page_shows_history_emails_and_same_address_in_this_event_only(
    signed_in, event, talk, showcase
):
    """Registered, promoted, checked in and cancelled, with each email and its state."""
    register(talk, "Seated One")
    seated = register(talk, "Seated Two")
    waiting = register(talk, "Li Waiting", "li@example.org", phone="555-1")
    also = register(showcase, "Li W.", "LI@example.org")
    elsewhere = register(SessionFactory(title="Far away"), "Li", "li@example.org")
    registration_cancel_by_organiser(registration=seated)
    registration_check_in(event=event, code=waiting.code)
    Notification.objects.filter(
        dedupe_key=f"registration_waitlisted:{waiting.pk}"
    ).update(status=Notification.Status.FAILED, last_error="SMTPRecipientsRefused: 550")

    response = signed_in.get(url("attendee_detail", event, code=waiting.code))

    assert response.status_code == 200
    body = response.content.decode()
    history = [entry["kind"] for entry in response.context["history"]]
    assert history == ["registered", "promoted", "checked_in"]
    assert "Registered, on the waiting list" in body
    emails = {e.kind: e for e in response.context["emails"]}
    assert set(emails) == {"registration_waitlisted", "registration_promoted"}
    assert emails["registration_waitlisted"].status == "failed"
    assert "SMTPRecipientsRefused: 550" in body
    assert "555-1" in body
    others = list(response.context["others"])
    assert others == [also]
    assert elsewhere.code not in body and "Far away" not in body

    cancelled = signed_in.get(url("attendee_detail", event, code=seated.code))
    assert [e["kind"] for e in cancelled.context["history"]] == [
        "registered",
        "cancelled",
    ]
    assert "Cancel this registration" not in cancelled.content.decode()


def test_cancel_is_confirmed_first_then_promotes_the_waitlist_head(
    signed_in, event, talk
):
    """The confirmation names who is told and who gets the seat; POST does it all."""
    seated = register(talk, "Seated", "seated@example.org")
    register(talk, "Also seated")
    head = register(talk, "Head of list")
    second = register(talk, "Second in list")

    page = signed_in.get(url("attendee_cancel", event, code=seated.code))

    text = page.content.decode()
    assert "seated@example.org" in text and "emailed" in text
    assert "The seat goes to the first on the waiting list, Head of list" in text
    seated.refresh_from_db()
    assert seated.status == Registration.Status.CONFIRMED  # GET changes nothing

    done = signed_in.post(url("attendee_cancel", event, code=seated.code), follow=True)

    seated.refresh_from_db()
    head.refresh_from_db()
    second.refresh_from_db()
    talk.refresh_from_db()
    assert seated.status == Registration.Status.CANCELLED
    assert head.status == Registration.Status.CONFIRMED and head.promoted_at
    assert second.status == Registration.Status.WAITLISTED
    assert talk.seats_taken == 2
    assert Notification.objects.filter(
        dedupe_key=f"registration_cancelled:{seated.pk}", recipient="seated@example.org"
    ).exists()
    assert Notification.objects.filter(
        dedupe_key=f"registration_promoted:{head.pk}"
    ).exists()
    messages = [str(m) for m in done.context["messages"]]
    assert any("Head of list moved from the waiting list" in m for m in messages)
    assert done.context["registration"] == seated
    # Twice is harmless: it says so and changes nothing.
    again = signed_in.post(url("attendee_cancel", event, code=seated.code), follow=True)
    assert "already cancelled" in again.content.decode()
    assert Notification.objects.filter(kind="registration_cancelled").count() == 1


def test_resend_queues_a_new_confirmation_each_time(signed_in, event, talk):
    """Each resend is a new outbox row with a fresh key; a cancelled one is refused."""
    chen = register(talk, "Chen", "chen@example.org")
    before = Notification.objects.count()

    signed_in.post(url("attendee_resend", event, code=chen.code))
    response = signed_in.post(
        url("attendee_resend", event, code=chen.code), follow=True
    )

    rows = Notification.objects.filter(dedupe_key__contains=":resend:").order_by("pk")
    assert [r.dedupe_key for r in rows] == [
        f"registration_confirmed:{chen.pk}:resend:1",
        f"registration_confirmed:{chen.pk}:resend:2",
    ]
    assert all(
        r.status == "pending" and r.recipient == "chen@example.org" for r in rows
    )
    assert rows[0].scope == f"event:{event.pk}"
    assert any(a.get("content_id") == "ticket-qr" for a in rows[0].attachments)
    assert Notification.objects.count() == before + 2
    assert "queued for chen@example.org" in response.content.decode()
    assert (
        signed_in.get(url("attendee_resend", event, code=chen.code)).status_code == 405
    )

    registration_cancel_by_organiser(registration=chen)
    count = Notification.objects.count()
    refused = signed_in.post(url("attendee_resend", event, code=chen.code), follow=True)
    assert Notification.objects.count() == count
    assert [m.level_tag for m in refused.context["messages"]] == ["error"]


def test_check_in_from_the_person_page(signed_in, event, talk):
    """Checks in once; again says when; a waitlisted person is refused."""
    register(talk, "One")
    two = register(talk, "Two")
    waiting = register(talk, "Three")

    first = signed_in.post(url("attendee_check_in", event, code=two.code), follow=True)
    second = signed_in.post(url("attendee_check_in", event, code=two.code), follow=True)
    refused = signed_in.post(
        url("attendee_check_in", event, code=waiting.code), follow=True
    )

    two.refresh_from_db()
    waiting.refresh_from_db()
    assert two.checked_in_at is not None
    assert [m.level_tag for m in first.context["messages"]] == ["success"]
    assert [m.level_tag for m in second.context["messages"]] == ["warning"]
    assert "already checked in at" in second.content.decode()
    assert [m.level_tag for m in refused.context["messages"]] == ["error"]
    assert waiting.checked_in_at is None


def test_another_organiser_gets_404_everywhere_and_sees_nothing(client, event, talk):
    """Every attendee URL of this event is 404 to another event's organiser."""
    seated = register(talk, "Secret Person", "secret@example.org", phone="777")
    stranger = UserFactory(username="stranger@example.org", is_staff=False)
    own_event = EventFactory(slug="own", organisers=[stranger])
    client.force_login(stranger)
    urls = [
        url("attendees", event),
        url("attendees_export", event),
        url("attendee_detail", event, code=seated.code),
        url("attendee_cancel", event, code=seated.code),
        url("attendee_resend", event, code=seated.code),
        url("attendee_check_in", event, code=seated.code),
        # This event's code inside the stranger's own event.
        url("attendee_detail", own_event, code=seated.code),
        url("attendee_cancel", own_event, code=seated.code),
        url("attendee_resend", own_event, code=seated.code),
        url("attendee_check_in", own_event, code=seated.code),
    ]
    count = Notification.objects.count()
    for address in urls:
        assert client.get(address).status_code == 404, address
        assert client.post(address).status_code == 404, address
    seated.refresh_from_db()
    assert seated.status == Registration.Status.CONFIRMED
    assert seated.checked_in_at is None
    assert Notification.objects.count() == count
    for query in ({"search": "secret"}, {"session": talk.pk}, {"search": seated.code}):
        body = client.get(url("attendees", own_event), query).content.decode()
        assert "Secret Person" not in body and "secret@example.org" not in body
        assert talk.title not in body
    export = client.get(url("attendees_export", own_event))
    assert b"secret" not in b"".join(export.streaming_content)


def test_signed_out_visitor_is_sent_to_sign_in(client, event, talk):
    seated = register(talk, "Someone")
    for address in (
        url("attendees", event),
        url("attendee_detail", event, code=seated.code),
    ):
        response = client.get(address)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def _queries(client, address: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address, params)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(
    signed_in, event, talk, showcase, django_assert_num_queries
):
    """The list costs the same number of queries for 5 rows as for 50."""
    for n in range(5):
        register(showcase, f"Early {n}")
    register(talk, "A")
    register(talk, "B")
    register(talk, "Waiting")  # a waitlist position per row comes from the same query
    params = {"sort": "status"}
    few = _queries(signed_in, url("attendees", event), params)
    for n in range(42):
        register(showcase, f"Late {n}")
    assert Registration.objects.filter(session__event=event).count() == 50

    with django_assert_num_queries(few):
        response = signed_in.get(url("attendees", event), params)
    assert len(codes_on(response)) == 50
    filtered = {"sort": "name", "session": showcase.pk, "checked_in": "no"}
    with django_assert_num_queries(
        _queries(signed_in, url("attendees", event), filtered)
    ):
        signed_in.get(url("attendees", event), {**filtered, "search": "late"})


@pytest.mark.browser
def test_organiser_cancels_a_registration_from_the_attendee_page(
    live_server, transactional_db, chromium_path, organiser, event, talk
):
    """Sign in, find the person by name, open them, cancel through the confirmation."""
    from tests.test_browser import CHROMIUM_ARGS

    register(talk, "Wang Fang", "wang.fang@example.org")
    target = register(talk, "Chen Jiameng", "chen.jiameng@example.org")
    head = register(talk, "Li Next")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_context(
                locale="en-US", viewport={"width": 390, "height": 844}
            ).new_page()
            page.set_default_timeout(15_000)
            page.goto(live_server.url + "/accounts/login/")
            page.get_by_label("Email").fill("organiser@example.org")
            page.get_by_label("Password").fill("organiser-pw")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(r"/organise/"))

            page.goto(live_server.url + url("attendees", event))
            page.get_by_label("Search").fill("jiameng")
            page.get_by_role("button", name="Show").click()
            rows = page.locator("table.attendee-list tbody tr")
            expect(rows).to_have_count(1)
            page.get_by_role("link", name="Chen Jiameng").click()

            expect(page.get_by_role("heading", level=1)).to_have_text("Chen Jiameng")
            expect(page.get_by_test_id("registration-status")).to_have_text("Confirmed")
            page.get_by_role("button", name="Cancel this registration…").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(
                "Cancel Chen Jiameng"
            )
            expect(page.locator("article.confirm")).to_contain_text(
                "chen.jiameng@example.org"
            )
            expect(page.locator("article.confirm")).to_contain_text("Li Next")
            page.get_by_role("button", name="Cancel the registration").click()

            expect(page.get_by_test_id("registration-status")).to_have_text("Cancelled")
            expect(page.get_by_role("status")).to_contain_text("is cancelled")
        finally:
            browser.close()
    target.refresh_from_db()
    head.refresh_from_db()
    assert target.status == Registration.Status.CANCELLED
    assert head.status == Registration.Status.CONFIRMED


def test_the_person_pages_mail_table_names_kinds_of_email_in_chinese(
    signed_in, event, talk
):
    """The column lists kinds of email (候补登记), not addresses: 邮件类型, as on the
    mail page, while the address above it stays 电子邮箱."""
    person = register(talk, "张伟", "zhang@example.org")

    body = signed_in.get(
        url("attendee_detail", event, code=person.code), HTTP_ACCEPT_LANGUAGE="zh-CN"
    ).content.decode()

    assert '<th scope="col">邮件类型</th>' in body
    assert 'data-label="邮件类型"' in body
    assert "<dt>电子邮箱</dt>" in body
