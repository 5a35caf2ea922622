"""An event's own questions: asked on the page and through the API, checked on the
server, stored with the registration, shown in the console, the CSV and the
dashboard, and still readable after the question is reworded or retired."""

import csv
import io
import os
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import sync_playwright

from events.models import Answer, Question, Registration
from events.questions import (
    AnswersInvalid,
    question_create,
    question_set_active,
    question_update,
)
from events.services import AttendeeData, registration_create
from tests.factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

MEALS = [
    {"value": "meat", "label_zh_hans": "荤", "label_en": "Meat"},
    {"value": "veg", "label_zh_hans": "素", "label_en": "Vegetarian"},
]
TOPICS = [
    {"value": "a", "label_zh_hans": "甲", "label_en": "Ageing"},
    {"value": "b", "label_zh_hans": "乙", "label_en": "Budgets"},
    {"value": "c", "label_zh_hans": "丙", "label_en": "Care"},
]


@pytest.fixture
def organiser():
    return UserFactory(username="organiser@example.org", is_staff=False)


@pytest.fixture
def event(organiser):
    return EventFactory(slug="week", title="Publicity Week", organisers=[organiser])


@pytest.fixture
def talk(event):
    return SessionFactory(event=event, title="Kick-off", capacity=20)


@pytest.fixture
def workshop(event):
    return SessionFactory(event=event, title="Workshop", capacity=20)


@pytest.fixture
def questions(event, workshop):
    """One of each kind; the meal question is asked for the workshop only."""
    make = lambda **data: question_create(event=event, data=data)  # noqa: E731
    unit = make(
        kind="short_text", label_zh_hans="工作单位", label_en="Work unit", required=True
    )
    notes = make(kind="long_text", label_en="Anything else?")
    age = make(kind="number", label_en="Years of practice")
    since = make(kind="date", label_en="Member since")
    meal = question_create(
        event=event,
        data={
            "kind": "single_choice",
            "label_zh_hans": "餐食",
            "label_en": "Meal",
            "required": True,
            "choices": MEALS,
        },
        sessions=[workshop],
    )
    topics = make(kind="multiple_choice", label_en="Topics", choices=TOPICS)
    interpreter = make(
        kind="yes_no",
        label_zh_hans="需要手语翻译吗",
        label_en="Sign-language interpreter?",
    )
    return {
        "unit": unit,
        "notes": notes,
        "age": age,
        "since": since,
        "meal": meal,
        "topics": topics,
        "interpreter": interpreter,
    }


def register(session, name, answers, email=None):
    email = (
        email or f"{re.sub(r'[^a-z0-9]+', '.', name.lower()).strip('.')}@example.org"
    )
    return registration_create(
        session=session,
        attendee=AttendeeData(full_name=name, email=email),
        answers=answers,
    )


def form_data(session, **extra):
    return {
        "session": session.pk,
        "full_name": "Chen Jing",
        "email": "chen@example.org",
        **extra,
    }


def api_url(event):
    return f"/api/v1/events/{event.slug}/registrations/"


# The page ----------------------------------------------------------------------------


def test_page_asks_the_questions_and_enforces_required_ones(
    client, event, talk, workshop, questions
):
    page = client.get(reverse("events:registration_create", kwargs={"slug": "week"}))
    html = page.content.decode()
    for label in ("Work unit", "Meal", "Topics", "Sign-language interpreter?"):
        assert label in html
    assert "Asked only for:" in html  # the meal question names its session

    # Required answers left out, on the workshop: both named at their field.
    response = client.post(
        reverse("events:registration_create", kwargs={"slug": "week"}),
        form_data(workshop),
    )
    assert response.status_code == 400
    unit, meal = questions["unit"], questions["meal"]
    html = response.content.decode()
    assert f'id="id_q-{unit.pk}_error"' in html
    assert f'id="id_q-{meal.pk}_error"' in html
    assert "This question needs an answer." in html
    assert not Registration.objects.exists()

    # Bad kinds: each error at its own question.
    response = client.post(
        reverse("events:registration_create", kwargs={"slug": "week"}),
        form_data(
            workshop,
            **{
                f"q-{unit.pk}": "Social Work Bureau",
                f"q-{meal.pk}": "fish",
                f"q-{questions['age'].pk}": "many",
                f"q-{questions['since'].pk}": "2021-13-40",
                f"q-{questions['topics'].pk}": ["a", "z"],
                f"q-{questions['interpreter'].pk}": "perhaps",
            },
        ),
    )
    assert response.status_code == 400
    errors = dict(
        re.findall(r'id="id_q-(\d+)_error">([^<]+)<', response.content.decode())
    )
    assert set(errors) == {
        str(questions[k].pk) for k in ("meal", "age", "since", "topics", "interpreter")
    }
    assert "Give a number." in errors[str(questions["age"].pk)]
    assert not Registration.objects.exists()

    # All good: stored with the registration.
    response = client.post(
        reverse("events:registration_create", kwargs={"slug": "week"}),
        form_data(
            workshop,
            **{
                f"q-{unit.pk}": "Social Work Bureau",
                f"q-{meal.pk}": "veg",
                f"q-{questions['age'].pk}": "12",
                f"q-{questions['since'].pk}": "2021-09-20",
                f"q-{questions['topics'].pk}": ["c", "a"],
                f"q-{questions['interpreter'].pk}": "yes",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    registration = Registration.objects.get()
    stored = {a.question_id: a.value for a in registration.answers.all()}
    assert stored == {
        unit.pk: "Social Work Bureau",
        meal.pk: "veg",
        questions["age"].pk: 12,
        questions["since"].pk: "2021-09-20",
        questions["topics"].pk: ["a", "c"],
        questions["interpreter"].pk: True,
    }


def test_a_question_for_one_session_is_not_asked_for_another(
    client, event, talk, workshop, questions
):
    """The meal question is the workshop's: the talk registers without it."""
    response = client.post(
        reverse("events:registration_create", kwargs={"slug": "week"}),
        form_data(
            talk,
            **{
                f"q-{questions['unit'].pk}": "Bureau",
                f"q-{questions['meal'].pk}": "fish",
            },
        ),
    )
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert {a.question_id for a in registration.answers.all()} == {questions["unit"].pk}
    # Through the service and API an answer to a question not asked is refused.
    with pytest.raises(AnswersInvalid) as refused:
        register(
            talk,
            "Li Wei",
            {str(questions["unit"].pk): "X", str(questions["meal"].pk): "veg"},
        )
    assert list(refused.value.errors) == [str(questions["meal"].pk)]


# The API -----------------------------------------------------------------------------


def test_api_lists_the_questions_and_refuses_bad_answers(
    api, settings, event, talk, workshop, questions
):
    settings.REGISTRATION_RATE_LIMIT = None
    detail = api.get(f"/api/v1/events/{event.slug}/").json()
    listed = {q["id"]: q for q in detail["questions"]}
    meal = listed[questions["meal"].pk]
    assert meal["kind"] == "single_choice" and meal["required"] is True
    assert meal["sessions"] == [workshop.pk]
    assert meal["choices"] == [
        {"value": "meat", "label": "Meat"},
        {"value": "veg", "label": "Vegetarian"},
    ]
    assert listed[questions["unit"].pk]["sessions"] == []
    assert [q["id"] for q in detail["questions"]] == [q.pk for q in questions.values()]

    body = {
        "session": workshop.pk,
        "full_name": "Chen Jing",
        "email": "chen@example.org",
    }
    missing = api.post(api_url(event), body, format="json")
    assert missing.status_code == 400
    problem = missing.json()
    assert problem["code"] == "invalid"
    assert set(problem["errors"]) == {
        f"answers.{questions['unit'].pk}",
        f"answers.{questions['meal'].pk}",
    }

    bad = api.post(
        api_url(event),
        {
            **body,
            "answers": {
                str(questions["unit"].pk): "Bureau",
                str(questions["meal"].pk): "veg",
                str(questions["age"].pk): True,
                str(questions["since"].pk): "20/09/2021",
                str(questions["topics"].pk): "a,b",
                str(questions["interpreter"].pk): "maybe",
                "999999": "x",
            },
        },
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {
        f"answers.{questions[k].pk}" for k in ("age", "since", "topics", "interpreter")
    } | {"answers.999999"}
    assert not Registration.objects.exists()

    good = api.post(
        api_url(event),
        {
            **body,
            "answers": {
                str(questions["unit"].pk): "Bureau",
                str(questions["meal"].pk): "meat",
                str(questions["age"].pk): 3.5,
                str(questions["topics"].pk): ["b"],
                str(questions["interpreter"].pk): False,
            },
        },
        format="json",
    )
    assert good.status_code == 201, good.json()
    registration = Registration.objects.get(code=good.json()["code"])
    assert {a.question_id: a.value for a in registration.answers.all()} == {
        questions["unit"].pk: "Bureau",
        questions["meal"].pk: "meat",
        questions["age"].pk: 3.5,
        questions["topics"].pk: ["b"],
        questions["interpreter"].pk: False,
    }


# Shown in the console, the CSV and the dashboard -----------------------------------


@pytest.fixture
def answered(event, talk, workshop, questions):
    q = {k: str(v.pk) for k, v in questions.items()}
    chen = register(
        workshop,
        "Chen Jing",
        {
            q["unit"]: "Bureau",
            q["meal"]: "veg",
            q["topics"]: ["a", "b"],
            q["interpreter"]: True,
            q["notes"]: "=SUM(A1)",
        },
    )
    register(
        workshop,
        "Li Wei",
        {
            q["unit"]: "Centre",
            q["meal"]: "veg",
            q["topics"]: ["b"],
            q["interpreter"]: False,
        },
    )
    register(workshop, "Wang Fang", {q["unit"]: "Office", q["meal"]: "meat"})
    register(talk, "Zhao Lei", {q["unit"]: "Office", q["age"]: 7})
    return chen


def test_answers_on_the_attendee_page_and_in_both_csv_exports(
    client, api, organiser, event, questions, answered
):
    client.force_login(organiser)
    page = client.get(
        reverse(
            "console:attendee_detail", kwargs={"slug": "week", "code": answered.code}
        )
    )
    html = page.content.decode()
    section = html[html.index('data-testid="answers"') :]
    section = section[: section.index("</dl>")]
    assert "<dt>Meal</dt><dd>Vegetarian</dd>" in section
    assert "<dt>Topics</dt><dd>Ageing, Budgets</dd>" in section
    assert "<dt>Sign-language interpreter?</dt><dd>Yes</dd>" in section

    export = client.get(reverse("console:attendees_export", kwargs={"slug": "week"}))
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(export.streaming_content).decode().lstrip("\ufeff"))
        )
    )
    chen = next(r for r in rows if r["full_name"] == "Chen Jing")
    assert chen["Meal"] == "Vegetarian"
    assert chen["Topics"] == "Ageing, Budgets"
    assert chen["Work unit"] == "Bureau"
    assert chen["Sign-language interpreter?"] == "Yes"
    assert chen["Anything else?"] == "'=SUM(A1)"  # a formula stays text
    zhao = next(r for r in rows if r["full_name"] == "Zhao Lei")
    assert zhao["Years of practice"] == "7" and zhao["Meal"] == ""

    api.force_authenticate(organiser)
    response = api.get(f"/api/v1/events/{event.slug}/registrations/?format=csv")
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    header = next(csv.reader(io.StringIO(text)))
    assert header[-7:] == [
        "Work unit",
        "Anything else?",
        "Years of practice",
        "Member since",
        "Meal",
        "Topics",
        "Sign-language interpreter?",
    ]
    assert "Vegetarian" in text

    # In Chinese, the labels and values are the Chinese ones.
    zh = client.get(
        reverse("console:attendees_export", kwargs={"slug": "week"}),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    zh_text = b"".join(zh.streaming_content).decode()
    assert "工作单位" in zh_text and "餐食" in zh_text and "素" in zh_text


def test_rewording_and_retiring_keep_old_answers_readable(
    client, organiser, event, workshop, questions, answered
):
    meal = questions["meal"]
    question_update(
        question=meal,
        data={
            "label_en": "Lunch",
            "label_zh_hans": "午餐",
            "choices": [
                {"value": "meat", "label_zh_hans": "肉", "label_en": "With meat"},
                {"value": "fish", "label_zh_hans": "鱼", "label_en": "Fish"},
            ],
        },
    )
    # A new registrant answers the new wording.
    newcomer = register(
        workshop, "Sun Li", {str(questions["unit"].pk): "X", str(meal.pk): "fish"}
    )
    old = Answer.objects.get(registration=answered, question=meal)
    assert (old.label("en"), old.display("en")) == ("Meal", "Vegetarian")
    assert old.display("zh-hans") == "素"
    new = Answer.objects.get(registration=newcomer, question=meal)
    assert (new.label("en"), new.display("en")) == ("Lunch", "Fish")

    # The kind of an answered question does not change.
    from config.problems import DomainError

    with pytest.raises(DomainError):
        question_update(question=meal, data={"kind": "short_text"})

    question_set_active(question=questions["topics"], active=False)
    client.force_login(organiser)
    page = client.get(reverse("events:registration_create", kwargs={"slug": "week"}))
    assert "Topics" not in page.content.decode()
    detail = client.get(
        reverse(
            "console:attendee_detail", kwargs={"slug": "week", "code": answered.code}
        )
    )
    assert "<dt>Topics</dt><dd>Ageing, Budgets</dd>" in detail.content.decode()
    assert "<dt>Meal</dt><dd>Vegetarian</dd>" in detail.content.decode()
    export = client.get(reverse("console:attendees_export", kwargs={"slug": "week"}))
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(export.streaming_content).decode().lstrip("\ufeff"))
        )
    )
    chen = next(r for r in rows if r["full_name"] == "Chen Jing")
    assert chen["Topics"] == "Ageing, Budgets" and chen["Lunch"] == "Vegetarian"
    # An answered question cannot be deleted out from under its answers.
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        questions["topics"].delete()


def test_dashboard_summary_counts_and_constant_queries(
    client, organiser, event, workshop, questions, answered, django_assert_num_queries
):
    client.force_login(organiser)
    url = reverse("console:dashboard", kwargs={"slug": "week"})
    with CaptureQueriesContext(connection) as first:
        page = client.get(url)
    html = page.content.decode()

    def table(question):
        start = html.index(f'data-question="{question.pk}"')
        return html[start : html.index("</table>", start)]

    def counts(question):
        return dict(
            re.findall(
                r'<th scope="row">([^<]+?)(?: <small[^<]*</small>)?</th><td class="number">(\d+)</td>',
                table(question),
            )
        )

    assert counts(questions["meal"]) == {"Meat": "1", "Vegetarian": "2"}
    assert counts(questions["topics"]) == {"Ageing": "1", "Budgets": "2", "Care": "0"}
    assert counts(questions["interpreter"]) == {"Yes": "1", "No": "1"}
    assert counts(questions["unit"]) == {"Answers": "4"}
    assert counts(questions["age"]) == {"Answers": "1"}

    # Cancelled registrations are not counted; more people cost no more queries.
    from events.services import registration_cancel_by_organiser

    registration_cancel_by_organiser(registration=answered)
    q = {k: str(v.pk) for k, v in questions.items()}
    for n in range(6):
        register(
            workshop,
            f"Extra {n}",
            {
                q["unit"]: "U",
                q["meal"]: "meat",
                q["topics"]: ["c"],
                q["interpreter"]: True,
            },
        )
    with django_assert_num_queries(len(first.captured_queries)):
        html = client.get(url).content.decode()
    assert counts(questions["meal"]) == {"Meat": "7", "Vegetarian": "1"}
    assert counts(questions["topics"]) == {"Ageing": "0", "Budgets": "1", "Care": "6"}


def test_attendee_list_query_count_is_unchanged_by_questions(
    client, organiser, event, talk, workshop
):
    client.force_login(organiser)
    for n in range(3):
        register(talk, f"Person {n}", None)
    url = reverse("console:attendees", kwargs={"slug": "week"})
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    question = question_create(
        event=event, data={"kind": "short_text", "label_en": "Unit"}
    )
    for n in range(10):
        register(workshop, f"Answerer {n}", {str(question.pk): f"Unit {n}"})
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after.captured_queries) == len(before.captured_queries)


# The console's editor ----------------------------------------------------------------


def test_organiser_adds_edits_orders_retires_and_restores_questions(
    client, organiser, event, talk, workshop
):
    client.force_login(organiser)
    base = reverse("console:questions", kwargs={"slug": "week"})
    new = reverse("console:question_new", kwargs={"slug": "week"})
    assert (
        client.get(reverse("console:event_edit", kwargs={"slug": "week"}))
        .content.decode()
        .count(base)
        >= 1
    )

    # Bad input is a form error, never a 500.
    refused = client.post(
        new,
        {
            "kind": "single_choice",
            "label_en": "",
            "label_zh_hans": "",
            "choices_text": "",
            "sessions": [talk.pk],
        },
    )
    assert refused.status_code == 400
    assert "Write the question in at least one language." in refused.content.decode()
    assert "A choice question needs choices." in refused.content.decode()
    twice = client.post(
        new,
        {
            "kind": "single_choice",
            "label_en": "Meal",
            "choices_text": "a | 甲 | A\na | 乙 | B",
        },
    )
    assert "is used twice" in twice.content.decode()

    response = client.post(
        new,
        {
            "kind": "single_choice",
            "label_en": "Meal",
            "label_zh_hans": "餐食",
            "required": "on",
            "choices_text": "meat | 荤 | Meat\nveg | 素 | Vegetarian\nnone",
            "sessions": [workshop.pk],
        },
    )
    assert response.status_code == 302
    meal = Question.objects.get(label_en="Meal")
    assert meal.choices == [
        *MEALS,
        {"value": "none", "label_zh_hans": "none", "label_en": "none"},
    ]
    assert list(meal.sessions.all()) == [workshop]
    assert (
        client.post(new, {"kind": "yes_no", "label_en": "Interpreter?"}).status_code
        == 302
    )
    interpreter = Question.objects.get(label_en="Interpreter?")
    assert list(Question.objects.order_by("position")) == [meal, interpreter]

    # A session of another event is not offered and not accepted.
    other = SessionFactory(event=EventFactory(slug="other"))
    edit = reverse(
        "console:question_edit", kwargs={"slug": "week", "question_id": meal.pk}
    )
    form = client.get(edit).content.decode()
    assert "meat | 荤 | Meat" in form and other.title not in form
    response = client.post(
        edit,
        {
            "kind": "single_choice",
            "label_en": "Lunch",
            "choices_text": "meat | 荤 | Meat",
            "sessions": [other.pk],
        },
    )
    assert response.status_code == 400
    assert (
        client.post(
            edit,
            {
                "kind": "single_choice",
                "label_en": "Lunch",
                "choices_text": "meat | 荤 | Meat",
            },
        ).status_code
        == 302
    )
    meal.refresh_from_db()
    assert (
        meal.label_en == "Lunch"
        and meal.label_zh_hans == ""
        and not meal.sessions.exists()
    )

    move = reverse(
        "console:question_move", kwargs={"slug": "week", "question_id": interpreter.pk}
    )
    assert client.post(move, {"direction": "up"}).status_code == 302
    assert list(Question.objects.order_by("position")) == [interpreter, meal]
    assert client.get(move).status_code == 405

    retire = reverse(
        "console:question_retire", kwargs={"slug": "week", "question_id": meal.pk}
    )
    client.post(retire)
    meal.refresh_from_db()
    assert not meal.active
    listing = client.get(base).content.decode()
    assert "No longer asked" in listing
    client.post(
        reverse(
            "console:question_restore", kwargs={"slug": "week", "question_id": meal.pk}
        )
    )
    meal.refresh_from_db()
    assert meal.active


def test_another_organiser_gets_404_on_every_question_url(client, event, talk):
    question = question_create(
        event=event, data={"kind": "short_text", "label_en": "Unit"}
    )
    stranger = UserFactory(username="stranger@example.org", is_staff=False)
    EventFactory(slug="theirs", organisers=[stranger])
    client.force_login(stranger)
    urls = [
        reverse("console:questions", kwargs={"slug": "week"}),
        reverse("console:question_new", kwargs={"slug": "week"}),
    ]
    urls += [
        reverse(
            f"console:question_{name}",
            kwargs={"slug": "week", "question_id": question.pk},
        )
        for name in ("edit", "move", "retire", "restore", "delete")
    ]
    # Their own event's URLs with this event's question id: 404 too.
    urls += [
        reverse(
            f"console:question_{name}",
            kwargs={"slug": "theirs", "question_id": question.pk},
        )
        for name in ("edit", "move", "retire", "restore", "delete")
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert (
            client.post(
                url, {"direction": "down", "label_en": "Hacked", "kind": "short_text"}
            ).status_code
            == 404
        ), url
    question.refresh_from_db()
    assert question.label_en == "Unit" and question.active


# In Chromium ----------------------------------------------------------------------


def _violations(page) -> list[str]:
    """Serious or critical axe-core findings on the page."""
    from tests.test_accessibility import _violations as axe_violations

    return axe_violations(page)


@pytest.mark.browser
def test_registration_page_and_editor_in_chromium(
    live_server, transactional_db, chromium_path
):
    """A phone registers with answers without JavaScript; the pages fit 390 px and
    1280 px (screenshots go to $QUESTION_SHOTS when set)."""
    from tests.test_browser import CHROMIUM_ARGS

    organiser = UserFactory(username="organiser@example.org", is_staff=False)
    organiser.set_password("organiser-pw")
    organiser.save()
    event = EventFactory(slug="week", title="Publicity Week", organisers=[organiser])
    SessionFactory(event=event, title="Kick-off")
    workshop = SessionFactory(event=event, title="Workshop")
    question_create(
        event=event,
        data={
            "kind": "short_text",
            "label_zh_hans": "工作单位",
            "label_en": "Work unit",
            "required": True,
            "help_en": "As on your staff card.",
        },
    )
    meal = question_create(
        event=event,
        data={
            "kind": "single_choice",
            "label_en": "Meal",
            "label_zh_hans": "餐食",
            "required": True,
            "choices": MEALS,
        },
        sessions=[workshop],
    )
    question_create(
        event=event,
        data={"kind": "multiple_choice", "label_en": "Topics", "choices": TOPICS},
    )
    question_create(
        event=event, data={"kind": "yes_no", "label_en": "Sign-language interpreter?"}
    )
    question_create(event=event, data={"kind": "date", "label_en": "Member since"})
    shots = os.environ.get("QUESTION_SHOTS")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            for width in (390, 1280):
                context = browser.new_context(
                    viewport={"width": width, "height": 900},
                    java_script_enabled=False,
                    bypass_csp=True,
                )
                page = context.new_page()
                page.goto(f"{live_server.url}/events/week/register/")
                page.select_option("#id_session", str(workshop.pk))
                page.fill("#id_full_name", f"Chen {width}")
                page.fill("#id_email", f"chen{width}@example.org")
                page.get_by_role("button", name="Register").click()
                if shots:
                    page.screenshot(
                        path=str(Path(shots) / f"register-errors-{width}.png"),
                        full_page=True,
                    )
                assert page.locator(f"#id_q-{meal.pk}_error").is_visible()
                scroll = page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, (width, scroll)
                if shots:
                    page.screenshot(
                        path=str(Path(shots) / f"register-errors-{width}.png"),
                        full_page=True,
                    )
                page.get_by_label("Work unit").fill("Social Work Bureau")
                page.get_by_label("Vegetarian").check()
                page.get_by_label("Budgets").check()
                page.get_by_label("Yes", exact=True).check()
                page.get_by_role("button", name="Register").click()
                assert "/registrations/" in page.url or "confirmed" in page.url, (
                    page.url
                )
                context.close()

                context = browser.new_context(
                    viewport={"width": width, "height": 900}, bypass_csp=True
                )
                page = context.new_page()
                # axe-core needs JavaScript: the page with its errors once more.
                page.goto(f"{live_server.url}/events/week/register/")
                page.select_option("#id_session", str(workshop.pk))
                page.get_by_role("button", name="Register").click()
                assert page.locator(f"#id_q-{meal.pk}_error").is_visible()
                assert not _violations(page)
                page.goto(
                    f"{live_server.url}/accounts/login/?next=/organise/week/questions/"
                )
                page.get_by_label("Email").fill("organiser@example.org")
                page.get_by_label("Password").fill("organiser-pw")
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/organise/week/questions/")
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                if shots:
                    page.screenshot(
                        path=str(Path(shots) / f"questions-{width}.png"), full_page=True
                    )
                assert not _violations(page)
                page.goto(f"{live_server.url}/organise/week/questions/{meal.pk}/edit/")
                assert not _violations(page)
                if shots:
                    page.screenshot(
                        path=str(Path(shots) / f"question-edit-{width}.png"),
                        full_page=True,
                    )
                page.goto(f"{live_server.url}/organise/week/")
                summary = page.locator(f'table[data-question="{meal.pk}"]')
                assert "Vegetarian" in summary.inner_text()
                assert not _violations(page)
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                if shots:
                    page.screenshot(
                        path=str(Path(shots) / f"dashboard-{width}.png"), full_page=True
                    )
                context.close()
        finally:
            browser.close()
    answers = Answer.objects.filter(registration__full_name="Chen 390")
    assert {a.question_id for a in answers} >= {meal.pk}


def test_a_refused_registration_stores_no_answers(event, workshop, questions):
    """Answers are written in the registration's own transaction: no seat, no answers."""
    from events.errors import AlreadyRegistered, SessionFull

    q = {k: str(v.pk) for k, v in questions.items()}
    answers = {q["unit"]: "Bureau", q["meal"]: "veg"}
    register(workshop, "Chen Jing", answers)
    with pytest.raises(AlreadyRegistered):
        register(workshop, "Chen Jing", answers, email="CHEN.JING@example.org")
    type(workshop).objects.filter(pk=workshop.pk).update(
        capacity=1, waitlist_enabled=False
    )
    workshop.refresh_from_db()
    with pytest.raises(SessionFull):
        register(workshop, "Li Wei", answers)
    assert Answer.objects.count() == 2
    assert Registration.objects.count() == 1


def test_only_an_unanswered_question_can_be_deleted(client, organiser, event, workshop):
    client.force_login(organiser)
    asked = question_create(event=event, data={"kind": "yes_no", "label_en": "Asked"})
    unasked = question_create(event=event, data={"kind": "yes_no", "label_en": "Spare"})
    register(workshop, "Chen Jing", {str(asked.pk): True})

    def delete(question):
        return reverse(
            "console:question_delete",
            kwargs={"slug": "week", "question_id": question.pk},
        )

    page = client.get(delete(unasked)).content.decode()
    assert "This cannot be undone." in page and "Delete the question" in page
    page = client.get(delete(asked)).content.decode()
    assert "cannot be deleted" in page and "Delete the question" not in page
    response = client.post(delete(asked), follow=True)
    assert "stop asking it instead" in response.content.decode()
    assert Question.objects.filter(pk=asked.pk).exists()
    client.post(delete(unasked))
    assert not Question.objects.filter(pk=unasked.pk).exists()
