"""The judges of a batch in the console: invite by email (a one-time link to set a
password that lands on the judging page), progress per judge, remind through the
outbox, remove behind a confirmation; and the judge's way in, in Chromium."""

import os
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect, sync_playwright

from awards import services
from awards.models import AuditEntry, Nomination, Review
from notifications.delivery import render_message
from notifications.models import Notification

from .factories import EventFactory, UserFactory
from .test_browser import CHROMIUM_ARGS

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def organiser():
    return UserFactory(is_staff=False)


@pytest.fixture
def event(organiser):
    return EventFactory(organisers=[organiser], title="Social Work Week")


@pytest.fixture
def batch(event, organiser):
    category = services.category_create(
        event=event,
        data={"name": "Demonstration base", "recipient_kind": "organisation"},
        actor=organiser,
    )
    batch = services.batch_create(
        category=category, data={"number": 5, "title": "Fifth batch"}, actor=organiser
    )
    for n in range(3):
        services.nomination_create(
            batch=batch,
            recipient=services.RecipientData(
                kind="organisation", name=f"Demo Community {n:02d}"
            ),
            citation=f"Citation {n}",
            actor=organiser,
        )
    return batch


def _judges_url(batch) -> str:
    return f"/organise/{batch.category.event.slug}/awards/batches/{batch.pk}/judges/"


def _link(notification: Notification) -> str:
    """The path of the one link in the email's text part, as the judge would follow it."""
    body = render_message(notification).body
    match = re.search(r"https?://\S+", body)
    assert match, body
    url = urlsplit(match.group(0))
    return f"{url.path}?{url.query}" if url.query else url.path


def test_invite_creates_the_judge_and_queues_one_invitation(
    client, batch, organiser
) -> None:
    """A new address becomes a judge without a usable password; one outbox row in
    the chosen language carries a one-time set-password link; inviting again adds
    no second invitation; the step is audited."""
    client.force_login(organiser)
    page = client.get(_judges_url(batch)).content.decode()
    assert "No judges yet" in page
    assert 'value="zh-hans" selected' in page, "Chinese is the default language"
    response = client.post(
        _judges_url(batch), {"email": " Li.Wei@Example.org ", "language": "en"}
    )
    assert response.status_code == 302
    judge = User.objects.get(email="li.wei@example.org")
    assert judge.username == "li.wei@example.org"
    assert not judge.has_usable_password()
    assert batch.judges.filter(pk=judge.pk).exists()
    row = Notification.objects.get(kind="judge_invited")
    assert row.recipient == "li.wei@example.org"
    assert row.language == "en"
    assert row.scope == f"event:{batch.category.event_id}"
    message = render_message(row)
    assert "Fifth batch" in message.subject
    assert "Social Work Week" in message.body and "Fifth batch" in message.body
    assert "/judging/welcome/" in _link(row) and f"batch={batch.pk}" in _link(row)
    assert "/judging/welcome/" in message.alternatives[0][0]
    assert AuditEntry.objects.filter(action="judge_added", batch=batch).exists()

    client.post(_judges_url(batch), {"email": "li.wei@example.org", "language": "en"})
    assert Notification.objects.filter(kind="judge_invited").count() == 1
    page = client.get(_judges_url(batch)).content.decode()
    assert "li.wei@example.org" in page and "scored 0 of 3" in page


def test_invite_refuses_a_bad_address_with_a_form_error(
    client, batch, organiser
) -> None:
    client.force_login(organiser)
    for address in ("not-an-address", "a" * 140 + "@example.org", ""):
        response = client.post(
            _judges_url(batch),
            {"email": address, "language": "zh-hans"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 400, address
        assert 'aria-invalid="true"' in response.content.decode()
    assert not batch.judges.exists()
    assert not Notification.objects.filter(kind="judge_invited").exists()
    assert User.objects.count() == 1


def test_the_link_sets_a_password_signs_in_lands_on_judging_and_works_once(
    client, batch, organiser
) -> None:
    services.judge_invite(
        batch=batch, email="judge@example.org", language="zh-hans", actor=organiser
    )
    link = _link(Notification.objects.get(kind="judge_invited"))
    first = client.get(link)
    assert first.status_code == 302, "the token moves from the URL to the session"
    form_url = first["Location"]
    assert "set-password" in form_url and f"batch={batch.pk}" in form_url
    page = client.get(form_url).content.decode()
    assert "judge@example.org" in page and "new_password1" in page
    weak = client.post(form_url, {"new_password1": "1", "new_password2": "1"})
    assert weak.status_code == 200 and "errorlist" in weak.content.decode()
    done = client.post(
        form_url,
        {
            "new_password1": "a-judge's-long-pass",
            "new_password2": "a-judge's-long-pass",
        },
    )
    assert done["Location"] == f"/judging/{batch.pk}/"
    judging = client.get(done["Location"])
    assert judging.status_code == 200 and "Scored 0 of 3" in judging.content.decode()
    judge = User.objects.get(email="judge@example.org")
    assert judge.check_password("a-judge's-long-pass")

    client.logout()
    again = client.get(link, follow=True)
    assert again.status_code == 200
    assert "new_password1" not in again.content.decode()
    assert "used already or has expired" in again.content.decode()
    signed_in = client.post(
        "/accounts/login/",
        {"username": "judge@example.org", "password": "a-judge's-long-pass"},
    )
    assert signed_in.status_code == 302


def test_the_link_does_nothing_for_a_deactivated_account(
    client, batch, organiser
) -> None:
    judge = services.judge_invite(
        batch=batch, email="judge@example.org", language="en", actor=organiser
    )
    link = _link(Notification.objects.get(kind="judge_invited"))
    User.objects.filter(pk=judge.pk).update(is_active=False)
    page = client.get(link, follow=True).content.decode()
    assert "used already or has expired" in page and "new_password1" not in page


def test_an_account_in_use_gets_the_sign_in_page_not_a_password_link(
    client, batch, organiser
) -> None:
    """Only an account that exists for this event alone may be mailed a
    set-password link (its organisers can read the event's outbox)."""
    has_password = UserFactory(is_staff=False, username="chen@example.org")
    has_password.set_password("secret-enough-1")
    has_password.save()
    other_event = EventFactory(organisers=[UserFactory(is_staff=False)])
    other_category = services.category_create(
        event=other_event,
        data={"name": "Other prize", "recipient_kind": "person"},
        actor=None,
    )
    other_batch = services.batch_create(
        category=other_category, data={"number": 1, "title": "Other"}, actor=None
    )
    elsewhere = services.judge_add(
        batch=other_batch, email="elsewhere@example.org", actor=None
    )
    for judge in (has_password, elsewhere):
        services.judge_invite(
            batch=batch, email=judge.email, language="en", actor=organiser
        )
        row = Notification.objects.get(kind="judge_invited", recipient=judge.email)
        assert _link(row) == f"/accounts/login/?next=%2Fjudging%2F{batch.pk}%2F"


def test_remind_queues_a_new_row_each_time(client, batch, organiser) -> None:
    judge = services.judge_invite(
        batch=batch, email="slow@example.org", language="en", actor=organiser
    )
    client.force_login(organiser)
    url = _judges_url(batch) + f"{judge.pk}/remind/"
    assert client.get(url).status_code == 405
    for _ in range(2):
        response = client.post(url, follow=True)
        assert "A reminder to slow@example.org is on its way." in (
            response.content.decode()
        )
    rows = Notification.objects.filter(kind="judge_reminded")
    assert rows.count() == 2
    assert len({r.dedupe_key for r in rows}) == 2
    assert all(r.language == "en" for r in rows), "the invitation's language"
    assert "scored 0 of 3" in render_message(rows.first()).body
    assert AuditEntry.objects.filter(action="judge_reminded").count() == 2


def test_remove_asks_first_and_keeps_the_reviews(client, batch, organiser) -> None:
    judge = services.judge_add(batch=batch, email="gone@example.org", actor=organiser)
    services.reviews_save(
        batch=batch,
        judge=judge,
        entries=[
            services.ReviewEntry(nomination_id=batch.nominations.first().pk, score=7)
        ],
    )
    client.force_login(organiser)
    url = _judges_url(batch) + f"{judge.pk}/remove/"
    confirm = client.get(url).content.decode()
    assert "Remove gone@example.org from the judges?" in confirm
    assert "The 1 score they gave stays" in confirm
    assert batch.judges.filter(pk=judge.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not batch.judges.filter(pk=judge.pk).exists()
    assert Review.objects.filter(judge=judge).count() == 1
    entry = AuditEntry.objects.get(action="judge_removed")
    assert entry.detail == {"judge": "gone@example.org", "reviews_kept": 1}
    assert client.get(url).status_code == 404, "no longer a judge of the batch"
    client.force_login(judge)
    assert client.get(f"/judging/{batch.pk}/").status_code == 404


def test_progress_counts_open_nominations_and_conflicts(
    client, batch, organiser
) -> None:
    """m leaves withdrawn nominations out; a declared conflict counts as done."""
    busy = services.judge_add(batch=batch, email="busy@example.org", actor=None)
    services.judge_add(batch=batch, email="idle@example.org", actor=None)
    first, second, third = batch.nominations.order_by("pk")
    services.reviews_save(
        batch=batch,
        judge=busy,
        entries=[
            services.ReviewEntry(nomination_id=first.pk, score=9),
            services.ReviewEntry(
                nomination_id=second.pk, score=None, conflict_of_interest=True
            ),
            services.ReviewEntry(nomination_id=third.pk, score=4),
        ],
    )
    services.nomination_update(
        nomination=third, data={"status": Nomination.Status.WITHDRAWN}, actor=None
    )
    client.force_login(organiser)
    page = client.get(_judges_url(batch)).content.decode()
    busy_row = page[page.index("busy@example.org") : page.index("idle@example.org")]
    assert "scored 2 of 2" in busy_row
    assert "1 conflict of interest declared" in busy_row
    idle_row = page[page.index("idle@example.org") :]
    assert "scored 0 of 2" in idle_row


def test_another_organiser_gets_404_on_every_judges_url(client, batch) -> None:
    judge = services.judge_add(batch=batch, email="j@example.org", actor=None)
    client.force_login(UserFactory(is_staff=False))
    base = _judges_url(batch)
    for url in (base, f"{base}{judge.pk}/remind/", f"{base}{judge.pk}/remove/"):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"email": "x@example.org"}).status_code == 404, url
    assert batch.judges.count() == 1
    assert not Notification.objects.exists()


def test_a_judge_of_another_batch_is_404_on_this_batch(client, batch) -> None:
    judge = services.judge_add(batch=batch, email="j@example.org", actor=None)
    other = services.batch_create(
        category=batch.category, data={"number": 6, "title": "Sixth"}, actor=None
    )
    client.force_login(judge)
    base = _judges_url(other)
    for url in (base, f"{base}{judge.pk}/remove/"):
        assert client.get(url).status_code == 404
    assert client.get(f"/judging/{other.pk}/").status_code == 404


def test_an_approved_batch_takes_no_new_judge_and_says_so(
    client, batch, organiser
) -> None:
    judge = services.judge_add(batch=batch, email="j@example.org", actor=None)
    Nomination.objects.filter(batch=batch).update(status="awarded")
    services.batch_approve(batch=batch, actor=organiser)
    client.force_login(organiser)
    response = client.post(
        _judges_url(batch),
        {"email": "late@example.org", "language": "en"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This batch can no longer be changed." in page and "error-box" in page
    assert not User.objects.filter(email="late@example.org").exists()
    reminded = client.post(_judges_url(batch) + f"{judge.pk}/remind/", follow=True)
    assert '<li class="error">' in reminded.content.decode()
    assert not Notification.objects.exists()


def test_the_api_still_refuses_a_second_review_after_the_page(api, batch) -> None:
    """The page's reviews and the API's are one: POST /reviews/ stays 201 or 409."""
    judge = services.judge_add(batch=batch, email="j@example.org", actor=None)
    first, second = batch.nominations.order_by("pk")[:2]
    services.reviews_save(
        batch=batch,
        judge=judge,
        entries=[services.ReviewEntry(nomination_id=first.pk, score=4)],
    )
    api.force_authenticate(judge)
    again = api.post(
        f"/api/v1/nominations/{first.pk}/reviews/", {"score": 5}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "duplicate_review"
    created = api.post(
        f"/api/v1/nominations/{second.pk}/reviews/", {"score": 5}, format="json"
    )
    assert created.status_code == 201 and created.json()["score"] == 5


@pytest.mark.browser
def test_judge_flow_in_chromium(
    live_server, transactional_db, chromium_path, settings
) -> None:
    """The organiser invites a judge on the judges page; the judge opens the link
    from the email, sets a password, lands on the judging page on a phone-sized
    screen and scores every nomination, each row saved as it changes, until the
    page says "Scored 3 of 3". Nothing is posted with the Save button."""
    organiser = UserFactory(username="org@example.org", is_staff=False)
    organiser.set_password("a-long-organiser-password")
    organiser.save()
    event = EventFactory(organisers=[organiser], title="Social Work Week")
    category = services.category_create(
        event=event,
        data={"name": "Demonstration base", "recipient_kind": "organisation"},
        actor=organiser,
    )
    batch = services.batch_create(
        category=category, data={"number": 5, "title": "Fifth batch"}, actor=organiser
    )
    names = ["Wantou Community", "Yongjiang Street", "Demo Community 07"]
    for name in names:
        services.nomination_create(
            batch=batch,
            recipient=services.RecipientData(kind="organisation", name=name),
            citation=f"Why {name}",
            actor=organiser,
        )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            desk = browser.new_context(locale="en-US")
            page = desk.new_page()
            page.set_default_timeout(15_000)
            page.goto(live_server.url + _judges_url(batch))
            page.get_by_label("Email").fill("org@example.org")
            page.get_by_label("Password").fill("a-long-organiser-password")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Judges of Fifth batch"
            )
            page.get_by_label("Email").fill("judge@example.org")
            page.get_by_label("Language of the invitation").select_option("en")
            page.get_by_role("button", name="Invite").click()
            expect(page.get_by_role("status")).to_contain_text("judge@example.org")
            expect(
                page.get_by_role("row", name=re.compile("judge@example.org"))
            ).to_contain_text("scored 0 of 3")
            desk.close()

            link = _link(Notification.objects.get(kind="judge_invited"))
            phone = browser.new_context(
                locale="en-US", viewport={"width": 390, "height": 844}
            )
            page = phone.new_page()
            page.set_default_timeout(15_000)
            page.goto(live_server.url + link)
            page.get_by_label("New password", exact=True).fill("judging-is-fun-2021")
            page.get_by_label("New password again").fill("judging-is-fun-2021")
            page.get_by_role("button", name="Save the password and start").click()
            expect(page).to_have_url(f"{live_server.url}/judging/{batch.pk}/")
            progress = page.get_by_test_id("progress")
            expect(progress).to_have_text("Scored 0 of 3")

            posts: list[str] = []
            page.on(
                "request",
                lambda r: (
                    posts.append(r.post_data or "") if r.method == "POST" else None
                ),
            )
            rows = page.locator("article.nomination")
            for index, score in enumerate(["8", "6"]):
                row = rows.nth(index)
                row.get_by_text(score, exact=True).click()
                expect(row.locator("[data-status]")).to_have_text("Saved")
                row.get_by_label("Comment").fill(f"Comment {index}")
                row.get_by_label("Comment").blur()
                expect(row.locator("[data-status]")).to_have_text("Saved")
            expect(progress).to_have_text("Scored 2 of 3")
            third = rows.nth(2)
            third.get_by_label("I have a conflict of interest").check()
            expect(third.locator("[data-status]")).to_have_text("Saved")
            expect(progress).to_have_text("Scored 3 of 3")
            assert posts and all('name="only"' in p for p in posts), posts
            phone.close()
        finally:
            browser.close()

    judge = User.objects.get(email="judge@example.org")
    reviews = {
        r.nomination.recipient.name: r
        for r in Review.objects.filter(judge=judge).select_related(
            "nomination__recipient"
        )
    }
    assert reviews["Wantou Community"].score == 8
    assert reviews["Wantou Community"].comment == "Comment 0"
    assert reviews["Yongjiang Street"].score == 6
    assert reviews["Demo Community 07"].conflict_of_interest
    assert reviews["Demo Community 07"].score is None


def test_the_organisers_outbox_hides_the_judges_password_link(
    client, batch, organiser
) -> None:
    """The set-password link opens the account: the event's organisers read the
    invitation in their outbox without it; the judge's own email carries it."""
    services.judge_invite(
        batch=batch, email="judge@example.org", language="en", actor=organiser
    )
    row = Notification.objects.get(kind="judge_invited")
    assert "/judging/welcome/" in _link(row)
    client.force_login(organiser)
    page = client.get(f"/organise/{batch.category.event.slug}/mail/{row.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "/judging/welcome/" not in body and "[hidden" in body
    preview = client.get(
        f"/organise/{batch.category.event.slug}/mail/{row.pk}/preview/"
    ).content.decode()
    assert "/judging/welcome/" not in preview


def test_the_link_stops_working_once_the_account_gains_another_role(
    client, batch, organiser
) -> None:
    """An invitation read before the account became an organiser elsewhere (or
    staff, or a judge of another event) opens nothing afterwards."""
    services.judge_invite(
        batch=batch, email="judge@example.org", language="en", actor=organiser
    )
    link = _link(Notification.objects.get(kind="judge_invited"))
    judge = User.objects.get(email="judge@example.org")
    EventFactory(organisers=[judge])
    page = client.get(link, follow=True).content.decode()
    assert "new_password1" not in page
    assert "used already or has expired" in page
    judge.refresh_from_db()
    assert not judge.has_usable_password()


def test_a_judge_without_a_password_can_reset_one_by_mail(client, batch, organiser):
    """A judge whose invitation link is lost gets a reset link at their address."""
    services.judge_add(batch=batch, email="judge@example.org", actor=organiser)
    client.post("/accounts/password_reset/", {"email": "judge@example.org"})
    assert Notification.objects.filter(
        kind="password_reset", recipient="judge@example.org"
    ).exists()


@pytest.mark.parametrize("batch_param", ["²", "9" * 5000, "-1", "abc"])
def test_a_strange_batch_number_in_the_link_is_not_a_server_error(
    client, batch_param
) -> None:
    response = client.get(f"/judging/welcome/MQ/set-password/?batch={batch_param}")
    assert response.status_code == 200
    response = client.get(f"/judging/welcome/MQ/abc-def/?batch={batch_param}")
    assert response.status_code in (200, 302)
