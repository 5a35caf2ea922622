"""Hostile input, password guessing and the security headers (issue 9).

Every bad input answers a 4xx problem with a ``code`` (never a 5xx); sign-in and
password reset are throttled; every page carries a Content-Security-Policy without
'unsafe-inline' and a Permissions-Policy.
"""

import datetime as dt
import json
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from awards.models import AwardBatch, AwardCategory, Nomination, Recipient
from events.models import Event, Registration, Session

from .factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] and body["detail"]
    assert "{" not in body["title"], "a placeholder left unfilled"
    return body


@pytest.fixture
def organiser():
    return UserFactory()


@pytest.fixture
def event(organiser):
    return EventFactory(slug="week", organisers=[organiser], timezone="Europe/London")


@pytest.fixture
def session(event):
    return SessionFactory(event=event, capacity=5)


@pytest.fixture
def staff_api(organiser) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=organiser).key}"
    )
    return client


def registrations_url(event: Event) -> str:
    return f"/api/v1/events/{event.slug}/registrations/"


# Finding 3: bad input that answered 500


def test_deeply_nested_json_is_invalid_not_a_server_error(api, event) -> None:
    response = api.post(
        registrations_url(event), "[" * 100_000, content_type="application/json"
    )
    assert_problem(response, 400, "invalid")
    assert not Registration.objects.exists()


def test_deeply_nested_json_inside_an_object_is_invalid(api, event) -> None:
    body = '{"full_name": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = api.post(registrations_url(event), body, content_type="application/json")
    assert_problem(response, 400, "invalid")


def make_batch(event: Event) -> AwardBatch:
    category = AwardCategory.objects.create(
        event=event, name="Demonstration base", recipient_kind="organisation"
    )
    return AwardBatch.objects.create(category=category, number=4, title="Fourth batch")


def test_a_judge_email_longer_than_a_username_is_a_field_error(
    staff_api, event
) -> None:
    batch = make_batch(event)
    address = "j" * 158 + "@example.org"
    assert len(address) == 170
    response = staff_api.post(
        f"/api/v1/award-batches/{batch.pk}/judges/", {"email": address}, format="json"
    )
    body = assert_problem(response, 400, "invalid")
    assert "email" in body["errors"]
    assert not get_user_model().objects.filter(email=address).exists()


def awarded_nomination(batch: AwardBatch) -> Nomination:
    recipient = Recipient.objects.create(kind="organisation", name="Wantou Community")
    return Nomination.objects.create(
        batch=batch, recipient=recipient, status=Nomination.Status.AWARDED
    )


@pytest.mark.parametrize("presenter", ["Mayor\x00Chen", "Mayor\r\nBcc: x@example.org"])
def test_run_of_show_api_refuses_nul_and_line_breaks(
    staff_api, event, presenter
) -> None:
    batch = make_batch(event)
    nomination = awarded_nomination(batch)
    response = staff_api.put(
        f"/api/v1/award-batches/{batch.pk}/run-of-show/",
        {"groups": [{"presenter": presenter, "nominations": [nomination.pk]}]},
        format="json",
    )
    body = assert_problem(response, 400, "invalid")
    assert "groups.0.presenter" in json.dumps(body["errors"]) or body["errors"]
    batch.refresh_from_db()
    assert batch.run_of_show in ({}, {"groups": []})


def run_of_show_page(batch: AwardBatch) -> str:
    return reverse(
        "awards_console:run_of_show",
        kwargs={"slug": batch.category.event.slug, "batch_id": batch.pk},
    )


@pytest.mark.parametrize(
    "presenter", ["Mayor\x00Chen", "Mayor\r\nChen", "Mayor\nChen", "\u202eneehC"]
)
def test_run_of_show_page_refuses_what_the_api_refuses(
    client, organiser, event, presenter
) -> None:
    batch = make_batch(event)
    nomination = awarded_nomination(batch)
    client.force_login(organiser)
    response = client.post(
        run_of_show_page(batch),
        {
            "presenter-1": presenter,
            f"group-{nomination.pk}": "1",
            f"order-{nomination.pk}": "1",
        },
    )
    assert response.status_code == 400
    assert "not allowed" in response.content.decode()
    batch.refresh_from_db()
    assert batch.run_of_show in ({}, {"groups": []})


def test_run_of_show_page_still_saves_a_clean_presenter(
    client, organiser, event
) -> None:
    batch = make_batch(event)
    nomination = awarded_nomination(batch)
    client.force_login(organiser)
    response = client.post(
        run_of_show_page(batch),
        {
            "presenter-1": "  Mayor Chen ",
            f"group-{nomination.pk}": "1",
            f"order-{nomination.pk}": "1",
        },
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.run_of_show == {
        "groups": [{"presenter": "Mayor Chen", "nominations": [nomination.pk]}]
    }


EVENT_BODY = {
    "slug": "london-week",
    "title": "London week",
    "timezone": "Europe/London",
    "starts_on": "2031-09-20",
    "ends_on": "2031-09-22",
}


@pytest.mark.parametrize("field", ["registration_opens_at", "registration_closes_at"])
def test_event_times_without_an_offset_are_refused(staff_api, event, field) -> None:
    body = {**EVENT_BODY, field: "2031-09-01T10:00:00"}
    problem = assert_problem(
        staff_api.post("/api/v1/events/", body, format="json"), 400, "invalid"
    )
    assert field in problem["errors"]
    assert not Event.objects.filter(slug="london-week").exists()


def test_event_patch_with_a_naive_time_is_refused(staff_api, event) -> None:
    before = event.registration_opens_at
    response = staff_api.patch(
        f"/api/v1/events/{event.slug}/",
        {"registration_opens_at": "2031-09-01T10:00"},
        format="json",
    )
    assert "registration_opens_at" in assert_problem(response, 400, "invalid")["errors"]
    event.refresh_from_db()
    assert event.registration_opens_at == before


def test_session_times_without_an_offset_are_refused(staff_api, event) -> None:
    body = {
        "title": "Kick-off",
        "starts_at": "2031-09-20T10:00:00",
        "ends_at": "2031-09-20T12:00:00Z",
    }
    response = staff_api.post(
        f"/api/v1/events/{event.slug}/sessions/", body, format="json"
    )
    assert set(assert_problem(response, 400, "invalid")["errors"]) == {"starts_at"}
    assert not Session.objects.filter(title="Kick-off").exists()


def test_session_patch_with_a_naive_time_is_refused(staff_api, session) -> None:
    before = session.starts_at
    response = staff_api.patch(
        f"/api/v1/sessions/{session.pk}/",
        {"ends_at": "2031-09-20T12:00:00"},
        format="json",
    )
    assert "ends_at" in assert_problem(response, 400, "invalid")["errors"]
    session.refresh_from_db()
    assert session.starts_at == before


def test_times_with_an_offset_are_read_as_given(staff_api, event) -> None:
    body = {
        "title": "Kick-off",
        "starts_at": "2031-09-20T10:00:00+01:00",
        "ends_at": "2031-09-20T12:00:00Z",
    }
    response = staff_api.post(
        f"/api/v1/events/{event.slug}/sessions/", body, format="json"
    )
    assert response.status_code == 201, response.content
    created = Session.objects.get(title="Kick-off")
    assert created.starts_at == dt.datetime(2031, 9, 20, 9, tzinfo=dt.UTC)


# Finding 5: 405, 413, 415 problems; HEAD; Retry-After from the page


def test_method_not_allowed_names_the_method(api, event) -> None:
    body = assert_problem(
        api.put(f"/api/v1/events/{event.slug}/", {}, format="json"),
        405,
        "method_not_allowed",
    )
    assert body["title"] == 'Method "PUT" not allowed.'


def test_unsupported_media_type_names_the_type(api, event, session) -> None:
    response = api.post(
        registrations_url(event), "session=1", content_type="text/plain"
    )
    body = assert_problem(response, 415, "unsupported_media_type")
    assert "text/plain" in body["title"]


def test_a_body_over_the_limit_is_too_large(api, event, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"full_name": "x" * 20_000})
    response = api.post(registrations_url(event), body, content_type="application/json")
    assert_problem(response, 413, "too_large")


def test_a_page_over_the_limit_is_too_large(client, session, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post(
        "/events/week/register/",
        {"session": session.pk, "full_name": "x" * 20_000, "email": "a@example.org"},
    )
    assert response.status_code == 413
    assert not Registration.objects.exists()


def test_head_on_the_registration_page_answers_like_get(client, session) -> None:
    get = client.get("/events/week/register/")
    head = client.head("/events/week/register/")
    assert head.status_code == get.status_code == 200
    assert head["Content-Type"] == get["Content-Type"]
    assert head.content == b""


def test_the_form_page_throttle_says_when_to_retry(client, session, settings) -> None:
    settings.REGISTRATION_RATE_LIMIT = "1/min"
    first = client.post(
        "/events/week/register/",
        {"session": session.pk, "full_name": "A", "email": "a@example.org"},
    )
    assert first.status_code == 302
    second = client.post(
        "/events/week/register/",
        {"session": session.pk, "full_name": "B", "email": "b@example.org"},
    )
    assert second.status_code == 429
    assert 0 < int(second["Retry-After"]) <= 60


# Text hygiene: invisible-only names, bidi controls, C1 controls


HOSTILE_NAMES = {
    "zero-width only": "\u200b\u200c\u200d\u2060\ufeff",
    "bidi override": "Chen \u202eJiameng",
    "bidi isolate": "\u2066Chen\u2069",
    "C1 control": "Chen\x85Jiameng",
    "C1 CSI": "Chen\x9b31m",
    "hangul filler only": "\u3164\u3164",
}


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_the_api_refuses_hostile_names(api, event, session, name) -> None:
    response = api.post(
        registrations_url(event),
        {"session": session.pk, "full_name": name, "email": "chen@example.org"},
        format="json",
    )
    assert "full_name" in assert_problem(response, 400, "invalid")["errors"]
    assert not Registration.objects.exists()


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_the_form_refuses_hostile_names(client, session, name) -> None:
    response = client.post(
        "/events/week/register/",
        {
            "session": session.pk,
            "full_name": "Chen",
            "organisation": name,
            "email": "chen@example.org",
        },
    )
    assert response.status_code == 400
    assert not Registration.objects.exists()


def test_names_in_other_scripts_and_emoji_are_fine(api, event, session) -> None:
    for index, name in enumerate(
        ["陈佳萌", "Zoë O'Brien-Łukasz", "محمد", "👩‍👩‍👧 family", "Nguyễn Văn A"]
    ):
        response = api.post(
            registrations_url(event),
            {"session": session.pk, "full_name": name, "email": f"{index}@example.org"},
            format="json",
        )
        assert response.status_code == 201, (name, response.content)


def test_nomination_free_text_refuses_bidi_controls(staff_api, event) -> None:
    batch = make_batch(event)
    url = f"/api/v1/award-batches/{batch.pk}/nominations/"
    response = staff_api.post(
        url,
        {
            "recipient": {"kind": "organisation", "name": "Wantou Community"},
            "citation": "Serves \u202eits residents",
        },
        format="json",
    )
    assert "citation" in assert_problem(response, 400, "invalid")["errors"]
    response = staff_api.post(
        url,
        {
            "recipient": {"kind": "organisation", "name": "\u200b"},
            "citation": "Line one\nline two",
        },
        format="json",
    )
    assert "recipient.name" in assert_problem(response, 400, "invalid")["errors"]
    ok = staff_api.post(
        url,
        {
            "recipient": {"kind": "organisation", "name": "Wantou Community"},
            "citation": "Line one\r\nline two\tand a tab",
        },
        format="json",
    )
    assert ok.status_code == 201, ok.content


def test_event_description_refuses_c1_controls(staff_api, event) -> None:
    body = {**EVENT_BODY, "description": "Welcome\x9b to the week"}
    assert (
        "description"
        in assert_problem(
            staff_api.post("/api/v1/events/", body, format="json"), 400, "invalid"
        )["errors"]
    )


# Finding 4: password guessing and password reset


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def account():
    user = UserFactory(username="chen@example.org", email="chen@example.org")
    user.set_password("correct horse battery staple")
    user.save()
    return user


def sign_in(client, username: str, password: str, path: str = "/accounts/login/"):
    return client.post(path, {"username": username, "password": password})


def test_sign_in_locks_an_account_after_repeated_failures(client, account) -> None:
    for attempt in range(4):
        response = sign_in(client, "chen@example.org", f"guess {attempt}")
        assert response.status_code == 200
    locked = sign_in(client, "chen@example.org", "guess 5")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in locked.content.decode()
    # The right password does not get through during the lock-out, from any client.
    other = Client(REMOTE_ADDR="198.51.100.7")
    right = sign_in(other, "CHEN@example.org", "correct horse battery staple")
    assert right.status_code == 429
    assert "_auth_user_id" not in other.session


def test_sign_in_locks_a_client_that_guesses_many_accounts(client, account) -> None:
    for attempt in range(5):
        sign_in(client, f"someone{attempt}@example.org", "guess")
    response = sign_in(client, "chen@example.org", "correct horse battery staple")
    assert response.status_code == 429
    # Another client still signs in to the account.
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert (
        sign_in(other, "chen@example.org", "correct horse battery staple").status_code
        == 302
    )


def test_the_admin_sign_in_is_throttled_too(client, account) -> None:
    for attempt in range(6):
        response = sign_in(
            client, "chen@example.org", f"guess {attempt}", "/admin/login/"
        )
    assert response.status_code == 429


def test_the_lock_out_message_is_in_the_readers_language(client, account) -> None:
    for attempt in range(6):
        response = client.post(
            "/accounts/login/",
            {"username": "chen@example.org", "password": f"guess {attempt}"},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 429
    page = response.content.decode()
    assert 'lang="zh-hans"' in page
    assert "<h1>登录</h1>" in page
    assert "登录失败次数过多" in page
    assert "Too many failed sign-in attempts" not in page


def test_a_successful_sign_in_clears_the_failures(client, account) -> None:
    for attempt in range(4):
        sign_in(client, "chen@example.org", f"guess {attempt}")
    assert (
        sign_in(client, "chen@example.org", "correct horse battery staple").status_code
        == 302
    )
    client.logout()
    for attempt in range(4):
        assert (
            sign_in(client, "chen@example.org", f"again {attempt}").status_code == 200
        )


def test_the_sign_in_page_offers_a_password_reset(client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in page
    reset = client.get("/accounts/password_reset/")
    assert reset.status_code == 200
    assert "extends" not in reset.content.decode()
    assert "podium.css" in reset.content.decode(), "styled like the rest of Podium"


def test_password_reset_mails_through_the_outbox(client, account, mailoutbox) -> None:
    from notifications.models import Notification

    response = client.post(
        "/accounts/password_reset/",
        {"email": "Chen@Example.org"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert mailoutbox == [], "nothing is sent inside the request"
    row = Notification.objects.get(kind="password_reset")
    assert row.recipient == "chen@example.org"
    assert row.language == "zh-hans"
    assert row.status == Notification.Status.PENDING
    assert row.scope == "", "organisers do not see it in their mail pages"
    link = row.context["reset_url"]
    assert link.startswith("http://127.0.0.1:8000/accounts/reset/")

    from notifications.delivery import render_message

    message = render_message(row)
    assert link in message.body
    # The link works: a new password, then signing in with it.
    form = client.get(link.removeprefix("http://127.0.0.1:8000"), follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a new Pa55word!", "new_password2": "a new Pa55word!"},
    )
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.check_password("a new Pa55word!")


def test_password_reset_answers_the_same_for_an_unknown_address(
    client, account
) -> None:
    from notifications.models import Notification

    known = client.post("/accounts/password_reset/", {"email": "chen@example.org"})
    unknown = client.post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert (known.status_code, known["Location"]) == (
        unknown.status_code,
        unknown["Location"],
    )
    assert Notification.objects.filter(kind="password_reset").count() == 1


def test_password_reset_is_throttled_per_address_silently(client, account) -> None:
    from notifications.models import Notification

    answers = set()
    for index in range(6):
        other = Client(REMOTE_ADDR=f"198.51.100.{index + 1}")
        response = other.post(
            "/accounts/password_reset/", {"email": "chen@example.org"}
        )
        answers.add((response.status_code, response["Location"]))
    assert answers == {(302, "/accounts/password_reset/done/")}
    assert Notification.objects.filter(kind="password_reset").count() == 3


def test_password_reset_is_throttled_per_client(client, account) -> None:
    for index in range(10):
        response = client.post(
            "/accounts/password_reset/", {"email": f"x{index}@example.org"}
        )
        assert response.status_code == 302
    response = client.post("/accounts/password_reset/", {"email": "y@example.org"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many password reset requests" in response.content.decode()


# Finding 5: Content-Security-Policy and Permissions-Policy


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (
            part.split() for part in header.split(";") if part.strip()
        )
    }


PAGES = [
    "/",
    "/events/week/",
    "/events/week/register/",
    "/honour-roll/",
    "/accounts/login/",
    "/accounts/password_reset/",
    "/admin/login/",
    "/api/docs/",
    "/api/v1/events/",
    "/no-such-page/",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_strict_content_security_policy(client, session, path) -> None:
    response = client.get(path)
    assert response.status_code in (200, 404), path
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_denies_the_camera_and_friends(client, session, path) -> None:
    policy = client.get(path)["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_the_door_check_in_page_alone_may_use_the_camera(
    client, organiser, event
) -> None:
    client.force_login(organiser)
    door = client.get(f"/organise/{event.slug}/check-in/")
    assert door.status_code == 200
    assert "camera=(self)" in door["Permissions-Policy"]
    assert "microphone=()" in door["Permissions-Policy"]
    dashboard = client.get(f"/organise/{event.slug}/")
    assert "camera=()" in dashboard["Permissions-Policy"]


def test_the_api_docs_page_has_no_inline_script_or_style(client) -> None:
    page = client.get("/api/docs/").content.decode()
    assert "<style" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


TEMPLATE_ROOTS = [
    settings.BASE_DIR / "templates",
    *sorted((settings.BASE_DIR).glob("*/templates")),
]
INLINE_CODE = re.compile(
    r"<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:"
    r"|<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(ld\+)?json\")",
    re.IGNORECASE,
)


def test_no_page_template_holds_inline_script_or_style() -> None:
    """Email templates are exempt (mail programs ignore CSP and need inline style)."""
    offenders = []
    for root in TEMPLATE_ROOTS:
        for path in root.rglob("*.html"):
            if "email" in path.parts or "emails" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if INLINE_CODE.search(line):
                    offenders.append(f"{path.relative_to(settings.BASE_DIR)}:{number}")
    assert offenders == []


@pytest.mark.browser
def test_the_api_docs_work_under_the_policy_in_chromium(
    live_server, transactional_db, chromium_path
) -> None:
    """Swagger UI renders the operations, and Chromium reports no CSP violation."""
    import os

    from playwright.sync_api import sync_playwright

    from .test_browser import CHROMIUM_ARGS

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    violations: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        for path in ("/api/docs/", "/accounts/login/", "/"):
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            if path == "/api/docs/":
                page.wait_for_selector(".opblock", timeout=15_000)
                assert page.locator(".opblock").count() > 10
        browser.close()
    assert violations == []


# Finding 6: secure cookies follow SITE_URL's scheme


def production_settings(site_url: str, command: list[str]):
    import os
    import subprocess
    import sys

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SECRET_KEY": "a-long-random-production-secret-key-4f9d2c7e1b8a6d3f5e0c9b2a7d4e1f8c",
        "DJANGO_ALLOWED_HOSTS": "podium.example.org",
        "DATABASE_URL": "sqlite:////tmp/podium-security-check.sqlite3",
        "SITE_URL": site_url,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


COOKIES = [
    "shell",
    "--no-imports",
    "-c",
    "from django.conf import settings as s; "
    "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)",
]


def test_cookies_are_secure_when_the_site_is_https() -> None:
    result = production_settings("https://podium.example.org", COOKIES)
    assert result.stdout.split() == ["True", "True"], result.stderr


def test_cookies_work_over_plain_http_and_check_deploy_says_why() -> None:
    result = production_settings("http://podium.example.org", COOKIES)
    assert result.stdout.split() == ["False", "False"], result.stderr
    check = production_settings("http://podium.example.org", ["check", "--deploy"])
    assert "podium.W001" in check.stderr + check.stdout
    clean = production_settings("https://podium.example.org", ["check", "--deploy"])
    assert "podium.W001" not in clean.stderr + clean.stdout


# Finding 5: opaque, expiring unsubscribe tokens


def test_the_unsubscribe_token_does_not_carry_the_address() -> None:
    import base64
    import contextlib
    import zlib

    from notifications.services import email_from_unsubscribe_token, unsubscribe_token

    token = unsubscribe_token("Chen.Jiameng@Example.org")
    assert email_from_unsubscribe_token(token) == "chen.jiameng@example.org"
    readable = [token.lower()]
    for part in token.replace(":", ".").split("."):
        padded = part + "=" * (-len(part) % 4)
        try:
            raw = base64.urlsafe_b64decode(padded)
        except ValueError:
            continue
        readable.append(raw.decode("latin-1").lower())
        with contextlib.suppress(zlib.error):
            readable.append(zlib.decompress(raw).decode("latin-1").lower())
    assert not any("chen" in text or "example" in text for text in readable)
    # Another address gets another key; the same address keeps its key.
    assert unsubscribe_token("other@example.org").split(":")[0] != token.split(":")[0]
    assert (
        unsubscribe_token("chen.jiameng@example.org").split(":")[0]
        == token.split(":")[0]
    )


def test_an_unsubscribe_link_works_for_a_year_then_expires(client, monkeypatch) -> None:
    import time

    from notifications.models import Unsubscription
    from notifications.services import unsubscribe_token

    now = time.time()
    monkeypatch.setattr("django.core.signing.time.time", lambda: now - 364 * 86400)
    from_last_year = unsubscribe_token("chen@example.org")
    monkeypatch.setattr("django.core.signing.time.time", lambda: now - 367 * 86400)
    too_old = unsubscribe_token("chen@example.org")
    monkeypatch.setattr("django.core.signing.time.time", lambda: now)

    assert client.get(f"/unsubscribe/{too_old}/").status_code == 404
    assert client.post(f"/unsubscribe/{too_old}/").status_code == 404
    assert not Unsubscription.objects.exists()
    page = client.get(f"/unsubscribe/{from_last_year}/")
    assert page.status_code == 200
    assert client.post(f"/unsubscribe/{from_last_year}/").status_code == 200
    assert Unsubscription.objects.filter(email="chen@example.org").exists()


def test_old_format_and_forged_unsubscribe_tokens_are_not_found(client) -> None:
    from django.core import signing

    from notifications.models import Unsubscription
    from notifications.services import unsubscribe_token

    old = signing.dumps(
        "chen@example.org", salt="podium.notifications.unsubscribe", compress=True
    )
    assert client.post(f"/unsubscribe/{old}/").status_code == 404
    token = unsubscribe_token("chen@example.org")
    key, stamp, signature = token.split(":")
    assert (
        client.post(f"/unsubscribe/{key}:{stamp}:{signature[:-2]}xx/").status_code
        == 404
    )
    assert client.post(f"/unsubscribe/{key}x:{stamp}:{signature}/").status_code == 404
    assert not Unsubscription.objects.exists()


def test_a_reminder_carries_an_opaque_one_click_unsubscribe_link() -> None:
    from notifications.delivery import render_message
    from notifications.models import Notification

    row = Notification.objects.create(
        kind="session_reminder",
        recipient="chen@example.org",
        template="registration/email/password_reset",
        context={"reset_url": "http://x", "valid_days": 3},
        unsubscribable=True,
        dedupe_key="reminder:test",
        send_after=dt.datetime.now(dt.UTC),
    )
    message = render_message(row)
    header = message.extra_headers["List-Unsubscribe"]
    assert "/unsubscribe/" in header
    assert "chen" not in header.lower() and "example" not in header.lower()


# Finding 6: `make demo` stops its worker and scheduler with it, under dash


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    import os

    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _group_members(pgid: int) -> list[str]:
    import subprocess

    listing = subprocess.run(
        # -ww: whole command lines, however long the checkout's path (without
        # it ps cuts them at 80 columns when it writes to no terminal).
        ["ps", "-ww", "-o", "pid=,args=", "-g", str(pgid)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [line.strip() for line in listing.splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["TERM to the script", "Ctrl-C to the group"])
def test_the_demo_stops_worker_and_beat_with_the_web_server(tmp_path, how) -> None:
    """scripts/demo.sh under Debian's /bin/sh (dash) leaves no process behind."""
    import os
    import shutil
    import signal
    import socket
    import subprocess
    import time

    assert os.path.realpath("/bin/sh").endswith("dash") or shutil.which("dash")
    port = _free_port()
    control_dir = settings.BASE_DIR / "control"
    before = set(control_dir.iterdir()) if control_dir.exists() else set()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "CELERY_BROKER_URL": "filesystem://",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "PODIUM_DEMO_ADDRESS": f"127.0.0.1:{port}",
        "NOTIFICATIONS_DISPATCH_INTERVAL": "1",
        "BIN": str(settings.BASE_DIR / ".venv" / "bin"),
    }
    demo = subprocess.Popen(
        ["/bin/sh", "scripts/demo.sh"],
        cwd=settings.BASE_DIR,
        env=env,
        start_new_session=True,  # its own process group, as make's job would be
        # As from a terminal: a test run started in the background inherits an
        # ignored SIGINT, which a shell may not trap ("ignored on entry").
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pgid = demo.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the web server did not start"
                time.sleep(0.5)
        members = _group_members(pgid)
        deadline = time.monotonic() + 30
        while not (
            any("worker" in m for m in members) and any(" beat" in m for m in members)
        ):
            assert time.monotonic() < deadline, members
            time.sleep(0.5)
            members = _group_members(pgid)
        # Beat has sent a dispatch through the broker, which wrote its exchange table.
        exchanges = settings.BASE_DIR / "var" / "broker" / "control"
        deadline = time.monotonic() + 30
        while not list(exchanges.glob("*.exchange")):
            assert time.monotonic() < deadline, "no exchange table under var/broker/"
            time.sleep(0.5)
        if how == "TERM to the script":
            demo.send_signal(signal.SIGTERM)
        else:
            os.killpg(pgid, signal.SIGINT)
        demo.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _group_alive(pgid):
            assert time.monotonic() < deadline, _group_members(pgid)
            time.sleep(0.5)
    finally:
        if _group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
    after = set(control_dir.iterdir()) if control_dir.exists() else set()
    assert after <= before, "the broker's control files belong under var/broker/"
    assert (settings.BASE_DIR / "var" / "broker" / "control").is_dir()


def test_the_console_event_form_refuses_bidi_controls_in_the_description(
    client, organiser, event
) -> None:
    client.force_login(organiser)
    before = Event.objects.values().get(pk=event.pk)
    response = client.post(
        reverse("console:event_edit", args=[event.slug]),
        {
            "title": event.title,
            "description": "Welcome \u202eto the week",
            "timezone": event.timezone,
            "starts_on": event.starts_on.isoformat(),
            "ends_on": event.ends_on.isoformat(),
            "venue_name": event.venue.name,
            "venue_address": event.venue.address,
            "registration_opens_at": "",
            "registration_closes_at": "",
            "reminder_offsets": "1440, 120",
        },
    )
    assert response.status_code in (200, 400)
    # The plain name is the reader's language's field (English here).
    assert "description_en" in response.context["form"].errors
    assert Event.objects.values().get(pk=event.pk) == before


@pytest.mark.browser
@pytest.mark.slow
def test_the_demo_week_pages_raise_no_csp_violation_in_chromium(
    live_server, transactional_db, chromium_path
) -> None:
    """Chromium walks the public pages, the console and the admin of the demo week,
    following links, and reports no Content-Security-Policy violation (nor a
    Permissions-Policy feature it does not know)."""
    import os
    from urllib.parse import urljoin, urlsplit

    from django.core.management import call_command
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from .test_browser import CHROMIUM_ARGS

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    call_command("seed_demo", verbosity=0)
    user = UserFactory(username="organiser@example.org", is_superuser=True)
    user.set_password("podium-demo-password")
    user.save()
    slug = "social-work-week-2021"
    start = [
        "/",
        f"/events/{slug}/",
        "/honour-roll/",
        "/organise/",
        f"/organise/{slug}/",
        f"/organise/{slug}/check-in/",
        f"/organise/{slug}/awards/",
        "/admin/",
        "/admin/events/registration/",
        "/admin/notifications/notification/",
    ]
    skip = ("logout", ".csv", ".pdf", ".ics", "/i18n/", "/delete/", "/cancel", "export")
    violations: list[str] = []
    visited: set[str] = set()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.on(
            "console",
            lambda message: (
                violations.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text
                or "Permissions-Policy" in message.text
                else None
            ),
        )
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "organiser@example.org")
        page.fill("#id_password", "podium-demo-password")
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert "/organise/" in page.url, page.url
        queue = list(start)
        while queue and len(visited) < 80:
            path = queue.pop(0)
            if path in visited:
                continue
            visited.add(path)
            try:
                page.goto(f"{live_server.url}{path}")
            except PlaywrightError as exc:  # a download: no page to check
                assert "Download is starting" in str(exc)
                continue
            page.wait_for_load_state("networkidle")
            for href in page.eval_on_selector_all(
                "a[href]", "links => links.map(a => a.getAttribute('href'))"
            ):
                url = urlsplit(urljoin(f"{live_server.url}{path}", href))
                if url.netloc != urlsplit(live_server.url).netloc:
                    continue
                if url.path.startswith(("/organise/", "/events/", "/r/")) and not any(
                    part in url.path for part in skip
                ):
                    queue.append(url.path + (f"?{url.query}" if url.query else ""))
        browser.close()
    assert len(visited) > 20, sorted(visited)
    assert violations == []


def test_a_locked_account_is_told_once_through_the_outbox(client, account) -> None:
    from notifications.delivery import render_message
    from notifications.models import Notification

    for attempt in range(9):
        sign_in(client, "Chen@Example.org", f"guess {attempt}")
    notices = Notification.objects.filter(kind="sign_in_locked")
    assert [n.recipient for n in notices] == ["chen@example.org"]
    message = render_message(notices.get())
    assert "15 minutes" in message.body
    assert "/accounts/password_reset/" in message.body
    # A name without an account: the same page, and nobody to tell.
    other = Client(REMOTE_ADDR="198.51.100.9")
    for attempt in range(6):
        response = sign_in(other, "nobody@example.org", f"guess {attempt}")
    assert response.status_code == 429
    assert notices.count() == 1


def test_a_lone_surrogate_is_invalid_not_a_server_error(api, event, session) -> None:
    body = (
        f'{{"session": {session.pk}, "full_name": "Chen \\ud800", '
        '"email": "chen@example.org", "organisation": "\\udfff"}'
    )
    response = api.post(registrations_url(event), body, content_type="application/json")
    problem = assert_problem(response, 400, "invalid")
    assert {"full_name", "organisation"} <= set(problem["errors"])
    assert not Registration.objects.exists()


def test_make_demo_runs_the_script_not_dash_job_control() -> None:
    import subprocess

    recipe = subprocess.run(
        ["make", "-n", "demo"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert "exec sh scripts/demo.sh" in recipe
    assert "%1" not in recipe, "job specs do nothing in dash scripts"
