"""The attendee pages in a real browser: Debian's Chromium, driven by Playwright.

The live server runs with the production defaults (DEBUG off, Secure CSRF and
session cookies), so the test also shows that the CSRF-protected forms work from
Chromium over plain http on a loopback address, by name (localhost) and by IP
(127.0.0.1): Chromium keeps Secure cookies there, and nowhere else over http.
"""

import os
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, Cookie, expect, sync_playwright
from pytest_django import Settings

from events.models import Registration
from tests.factories import EventFactory, SessionFactory

# Playwright's sync API runs an event loop in the test's thread, so Django would
# refuse the ORM calls the test makes between browser steps; they are synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def _csrf_cookie(context: BrowserContext, url: str) -> Cookie:
    return next(
        c for c in context.cookies(url) if c["name"] == settings.CSRF_COOKIE_NAME
    )


@pytest.fixture
def static_files_without_manifest(settings: Settings) -> None:
    """Serves static files as they are: the tests run without ``collectstatic``."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


def test_attendee_registers_sees_ticket_and_cancels(
    live_server, transactional_db, chromium_path, static_files_without_manifest
):
    """An attendee registers by the labelled form, gets a ticket, then cancels it.

    A bad email address is refused with an error tied to its field; the ticket code
    shown is the confirmed registration's; cancelling frees the seat; the manage page
    reads in Chinese after the language switch.
    """
    event = EventFactory(title="2021年宁波（江北）社会工作宣传周")
    session = SessionFactory(event=event, title="督导讲师团聘任仪式", capacity=1)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                locale="en-US", viewport={"width": 390, "height": 844}
            )
            page = context.new_page()
            page.set_default_timeout(15_000)

            page.goto(live_server.url + event.get_absolute_url())
            expect(page.get_by_role("heading", level=1)).to_have_text(event.title)
            expect(page.locator(f"#session-{session.pk}")).to_contain_text(
                "1 seat left"
            )
            page.get_by_role("link", name=f"Register – {session.title}").click()

            expect(page.get_by_label("Session")).to_have_value(str(session.pk))
            page.get_by_label("Full name").fill("陈佳萌")
            page.get_by_label("Email").fill("chen.jiameng@example")
            page.get_by_label("Phone").fill("+86 574 8765 4321")
            page.get_by_label("Organisation").fill("江北区社会工作协会")
            page.get_by_role("button", name="Register").click()

            email = page.get_by_label("Email")
            expect(email).to_have_attribute("aria-invalid", "true")
            expect(email).to_have_accessible_description("Enter a valid email address.")
            expect(page.get_by_label("Full name")).to_have_value("陈佳萌")
            assert not Registration.objects.exists()

            email.fill("chen.jiameng@example.org")
            page.get_by_role("button", name="Register").click()

            expect(page.get_by_role("heading", level=1)).to_have_text(
                "You are registered"
            )
            code = page.get_by_test_id("ticket-code").inner_text().strip()
            registration = Registration.objects.get(session=session)
            assert registration.code == code
            assert registration.status == Registration.Status.CONFIRMED
            assert registration.full_name == "陈佳萌"
            session.refresh_from_db()
            assert session.seats_taken == 1

            # Secure unless DEBUG or DJANGO_SECURE_COOKIES=false: it got through.
            secure = settings.CSRF_COOKIE_SECURE
            assert _csrf_cookie(context, live_server.url)["secure"] is secure

            page.locator("#manage-link").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Your registration"
            )
            expect(page.get_by_test_id("ticket-code")).to_have_text(code)
            page.get_by_role("button", name="Cancel my registration").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Cancel your registration?"
            )
            page.get_by_role("button", name="Yes, cancel my registration").click()

            expect(page.get_by_role("status")).to_have_text(
                "Your registration is cancelled."
            )
            expect(page.locator(".ticket .status-cancelled")).to_have_text("Cancelled")
            registration.refresh_from_db()
            assert registration.status == Registration.Status.CANCELLED
            session.refresh_from_db()
            assert session.seats_taken == 0

            # The same page by IP address is another origin with its own CSRF cookie;
            # the language switch posts to it.
            by_ip = f"http://127.0.0.1:{urlsplit(live_server.url).port}"
            manage = urlsplit(page.url)
            page.goto(f"{by_ip}{manage.path}?{manage.query}")
            assert _csrf_cookie(context, by_ip)["secure"] is secure
            page.get_by_label("Language").select_option("zh-hans")
            page.get_by_role("button", name="Switch").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("我的报名")
            expect(page.locator(".ticket .status-cancelled")).to_have_text("已取消")
        finally:
            browser.close()
