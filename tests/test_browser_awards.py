"""The award workflow end to end in Chromium, as people do it.

The organiser creates a batch and imports its nominations from a CSV file, invites
a judge; the judge sets a password from the invitation email and scores everything;
the organiser decides, approves and announces, each behind its confirmation; the
awardee's email carries the certificate link; the honour roll and the certificate's
verification page show it.
"""

import os
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from awards import services
from awards.models import AwardBatch, Certificate
from notifications.delivery import render_message
from notifications.models import Notification

from .factories import EventFactory, SessionFactory, UserFactory
from .test_browser import CHROMIUM_ARGS

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

NOMINATIONS_CSV = (
    "name,district,email,citation\n"
    "湾头社区,江北区,wantou@example.org,二十年社区服务\n"
    "Demo Community 07,Haishu District,,Volunteers in every building\n"
)


def _link_in(notification: Notification) -> str:
    body = render_message(notification).body
    match = re.search(r"https?://\S+", body)
    assert match, body
    url = urlsplit(match.group(0))
    return f"{url.path}?{url.query}" if url.query else url.path


def _sign_in(page: Page, base: str, path: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/?next={path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_the_award_workflow_from_batch_to_certificate(
    live_server, transactional_db, chromium_path, tmp_path, settings
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    organiser = UserFactory(username="org@example.org", is_staff=False)
    organiser.set_password("a-long-organiser-password")
    organiser.save()
    event = EventFactory(organisers=[organiser], title="宁波社会工作宣传周")
    SessionFactory(event=event, title="Award ceremony", capacity=50)
    category = services.category_create(
        event=event,
        data={
            "name": "市级社会工作示范基地",
            "recipient_kind": "organisation",
            "certificate_prefix": "NBSW",
        },
        actor=organiser,
    )
    csv_file = tmp_path / "nominations.csv"
    csv_file.write_text(NOMINATIONS_CSV, encoding="utf-8")
    base = live_server.url
    awards = f"/organise/{event.slug}/awards/"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            desk = browser.new_context(locale="en-US")
            page = desk.new_page()
            page.set_default_timeout(15_000)
            _sign_in(page, base, awards, "org@example.org", "a-long-organiser-password")

            # A new batch of the category, its ceremony chosen from this event.
            page.get_by_role("link", name="New batch").click()
            page.get_by_label("Number").fill("5")
            page.get_by_label("Title (Chinese)").fill("第五批市级社会工作示范基地")
            page.get_by_label("Ceremony session").select_option(label="Award ceremony")
            page.get_by_role("button", name="Save").click()
            expect(page.get_by_test_id("batch-status")).to_have_text("Draft")
            batch = AwardBatch.objects.get(category=category, number=5)

            # Nominations from a file.
            page.get_by_role("link", name="Import nominations").click()
            page.get_by_label("CSV file").set_input_files(str(csv_file))
            page.get_by_role("button", name="Import").click()
            expect(page.get_by_role("status")).to_contain_text(
                "2 nominations imported."
            )

            # A judge, invited by email.
            page.get_by_role("link", name="Judges", exact=True).click()
            page.get_by_label("Email").fill("judge@example.org")
            page.get_by_label("Language of the invitation").select_option("en")
            page.get_by_role("button", name="Invite").click()
            expect(page.get_by_role("status")).to_contain_text("judge@example.org")

            # The judge follows the emailed link, sets a password and scores.
            judge_desk = browser.new_context(
                locale="en-US", viewport={"width": 390, "height": 844}
            )
            judging = judge_desk.new_page()
            judging.set_default_timeout(15_000)
            judging.goto(
                base + _link_in(Notification.objects.get(kind="judge_invited"))
            )
            judging.get_by_label("New password", exact=True).fill("judging-is-fun-2021")
            judging.get_by_label("New password again").fill("judging-is-fun-2021")
            judging.get_by_role("button", name="Save the password and start").click()
            expect(judging).to_have_url(f"{base}/judging/{batch.pk}/")
            rows = judging.locator("article.nomination")
            for index, score in enumerate(["9", "7"]):
                rows.nth(index).get_by_text(score, exact=True).click()
                expect(rows.nth(index).locator("[data-status]")).to_have_text("Saved")
            expect(judging.get_by_test_id("progress")).to_have_text("Scored 2 of 2")
            judge_desk.close()

            # The organiser decides both at once, then approves and announces.
            page.goto(f"{base}{awards}batches/{batch.pk}/")
            for checkbox in page.locator("input[name=nominations]").all():
                checkbox.check()
            page.get_by_label("Decision for the ticked nominations").select_option(
                "awarded"
            )
            page.get_by_role("button", name="Apply to the ticked nominations").click()
            expect(page.get_by_role("status")).to_contain_text(
                "2 nominations are now “Awarded”."
            )
            page.get_by_role("button", name="Approve…").click()
            expect(page.locator("main")).to_contain_text("keep 2 awardees")
            page.get_by_role("button", name="Yes, approve and lock the batch").click()
            expect(page.get_by_test_id("batch-status")).to_have_text("Approved")
            page.get_by_role("button", name="Announce…").click()
            expect(page.locator("main")).to_contain_text("number 2 certificates")
            expect(page.locator("main")).to_contain_text(
                "email 1 awardee who has an address"
            )
            page.get_by_role("button", name="Yes, announce the batch").click()
            expect(page.get_by_test_id("batch-status")).to_have_text("Announced")

            # The awardee's email links to the certificate; the public sees it.
            certificate = Certificate.objects.get(
                nomination__recipient__name="湾头社区"
            )
            mail = Notification.objects.get(
                kind="award_announced", recipient="wantou@example.org"
            )
            assert f"/verify/{certificate.number}/" in render_message(mail).body
            page.goto(f"{base}/honour-roll/")
            expect(
                page.get_by_role("heading", name="第五批市级社会工作示范基地")
            ).to_be_visible()
            expect(page.get_by_text("湾头社区")).to_be_visible()
            page.get_by_role("link", name=certificate.number).click()
            expect(page.get_by_text("Valid")).to_be_visible()
        finally:
            browser.close()

    batch.refresh_from_db()
    assert batch.status == "announced"
    assert batch.certificates.count() == 2
    assert certificate.number.startswith("NBSW-")
