"""An organiser announces a batch in Chromium, and the honour roll shows it."""

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from awards import services
from awards.models import AwardBatch, AwardCategory, Certificate

from .factories import EventFactory, SessionFactory, UserFactory
from .test_browser import CHROMIUM_ARGS

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser


def test_organiser_announces_and_the_honour_roll_shows_it(
    live_server, transactional_db, chromium_path, settings
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    organiser = UserFactory(username="org@example.org")
    organiser.set_password("a-long-organiser-password")
    organiser.save()
    event = EventFactory(organisers=[organiser], title="宁波社会工作宣传周")
    category = AwardCategory.objects.create(
        event=event, name="市级社会工作示范基地", recipient_kind="organisation"
    )
    batch = AwardBatch.objects.create(
        category=category,
        number=5,
        title="第五批市级社会工作示范基地",
        ceremony_session=SessionFactory(event=event),
    )
    for name in ("万头社区", "Demo Community 07"):
        nomination = services.nomination_create(
            batch=batch,
            recipient=services.RecipientData(
                kind="organisation", name=name, district="江北区"
            ),
            citation="",
            actor=None,
        )
        services.nomination_update(
            nomination=nomination, data={"status": "awarded"}, actor=None
        )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.goto(f"{live_server.url}/organise/batches/{batch.pk}/")
        page.get_by_label("Email").fill("org@example.org")
        page.get_by_label("Password").fill("a-long-organiser-password")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_test_id("batch-status")).to_have_text("Approved")
        page.get_by_role("button", name="Announce").click()
        expect(page.get_by_test_id("batch-status")).to_have_text("Announced")

        page.goto(f"{live_server.url}/honour-roll/")
        expect(
            page.get_by_role("heading", name="第五批市级社会工作示范基地")
        ).to_be_visible()
        expect(page.get_by_text("万头社区")).to_be_visible()
        number = Certificate.objects.get(nomination__recipient__name="万头社区").number
        page.get_by_role("link", name=number).click()
        expect(page.get_by_text("Valid")).to_be_visible()
        browser.close()

    batch.refresh_from_db()
    assert batch.status == "announced"
    assert batch.certificates.count() == 2
