"""Management commands: add_organiser, add_judge, seed_demo."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from events.models import Event, Registration, Session, Venue

from .factories import EventFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_add_organiser_prints_the_token_last_and_reuses_the_user() -> None:
    event = EventFactory(slug="week")
    other = EventFactory(slug="other")
    first = run("add_organiser", "Org@Example.org", "week").strip().splitlines()[-1]
    second = run("add_organiser", "org@example.org", "other").strip().splitlines()[-1]
    user = get_user_model().objects.get(email="org@example.org")
    assert first == second == Token.objects.get(user=user).key
    assert set(user.organised_events.all()) == {event, other}


def test_add_organiser_makes_no_staff() -> None:
    """Organisers work in the console; the admin is for operators only."""
    EventFactory(slug="week")
    run("add_organiser", "org@example.org", "week", "--password", "long-password-1")
    user = get_user_model().objects.get(email="org@example.org")
    assert not user.is_staff and not user.is_superuser
    assert user.check_password("long-password-1")


def test_add_judge_makes_no_staff() -> None:
    from awards.services import batch_create, category_create

    category = category_create(
        event=EventFactory(),
        data={"name": "Lecturer Group", "recipient_kind": "person"},
        actor=None,
    )
    batch = batch_create(
        category=category, data={"number": 1, "title": "1"}, actor=None
    )
    run("add_judge", "judge@example.org", str(batch.pk))
    judge = get_user_model().objects.get(email="judge@example.org")
    assert not judge.is_staff and not judge.is_superuser


def test_add_organiser_refuses_unknown_event_and_bad_email() -> None:
    with pytest.raises(CommandError):
        run("add_organiser", "org@example.org", "nope")
    EventFactory(slug="week")
    with pytest.raises(CommandError):
        run("add_organiser", "not-an-email", "week")
    assert not get_user_model().objects.exists()


def test_seed_demo_twice_duplicates_nothing() -> None:
    run("seed_demo")
    counts = (
        Event.objects.count(),
        Session.objects.count(),
        Venue.objects.count(),
        Registration.objects.count(),
    )
    run("seed_demo")
    assert (
        Event.objects.count(),
        Session.objects.count(),
        Venue.objects.count(),
        Registration.objects.count(),
    ) == counts
    event = Event.objects.get(slug="social-work-week-2021")
    assert event.status == "published" and event.registration_is_open()
    assert "2021" in event.title
    titles = " ".join(event.sessions.values_list("title", flat=True))
    for words in ("logo", "fifth batches", "Lecturer Group", "showcase", "Ciyuan Post"):
        assert words.lower() in titles.lower()
    assert counts[1] == 5


def test_seed_demo_has_the_story_awards() -> None:
    from awards.models import AwardBatch, Certificate, Nomination

    run("seed_demo")
    run("seed_demo")
    fourth = AwardBatch.objects.get(number=4)
    fifth = AwardBatch.objects.get(number=5)
    assert fourth.status == "announced" and fifth.status == "draft"
    assert (
        Certificate.objects.filter(batch=fourth).count()
        == fourth.nominations.count()
        == 10
    )
    names = set(Nomination.objects.values_list("recipient__name", flat=True))
    assert any(name.startswith("Wantou Community") for name in names)
    assert any(name.startswith("Chen Jiammeng") for name in names)
    assert (
        Nomination.objects.filter(
            batch__category__recipient_kind="organisation"
        ).count()
        >= 20
    )
