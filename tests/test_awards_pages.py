"""Award pages for judges and organisers: scoring, ranking, run-of-show, script."""

import datetime as dt

import pytest
from django.utils import timezone

from awards import services
from awards.models import AwardBatch, AwardCategory, Nomination, Review

from .factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser():
    return UserFactory()


@pytest.fixture
def batch(organiser):
    event = EventFactory(organisers=[organiser])
    category = AwardCategory.objects.create(
        event=event, name="Demonstration base", recipient_kind="organisation"
    )
    ceremony = SessionFactory(event=event, title="Award ceremony")
    batch = AwardBatch.objects.create(
        category=category, number=5, title="Fifth batch", ceremony_session=ceremony
    )
    for n in range(7):
        services.nomination_create(
            batch=batch,
            recipient=services.RecipientData(
                kind="organisation", name=f"Demo Community {n:02d}"
            ),
            citation="",
            actor=None,
        )
    return batch


def test_judge_page_shows_progress_and_takes_a_score(client, batch) -> None:
    judge = UserFactory(is_staff=False)
    services.judge_add(batch=batch, email=judge.email, actor=None)
    client.force_login(judge)
    page = client.get(f"/judging/{batch.pk}/").content.decode()
    assert "Scored 0 of 7" in page
    first = batch.nominations.order_by("pk").first()
    response = client.post(
        f"/judging/{batch.pk}/",
        {
            "nomination": first.pk,
            "score": 8,
            "comment": "好",
            "conflict_of_interest": "on",
        },
    )
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.score == 8 and review.conflict_of_interest
    assert "Scored 1 of 7" in client.get(f"/judging/{batch.pk}/").content.decode()
    bad = client.post(f"/judging/{batch.pk}/", {"nomination": first.pk, "score": 11})
    assert bad.status_code == 200 and Review.objects.count() == 1


def test_judging_page_is_for_the_batch_judges_only(client, batch, organiser) -> None:
    client.force_login(UserFactory(is_staff=False))
    assert client.get(f"/judging/{batch.pk}/").status_code == 404
    client.force_login(organiser)
    assert client.get(f"/judging/{batch.pk}/").status_code == 404


def test_ranking_approve_and_announce(client, batch, organiser) -> None:
    judge = UserFactory(is_staff=False)
    services.judge_add(batch=batch, email=judge.email, actor=None)
    nominations = list(batch.nominations.order_by("pk"))
    for nomination, score in zip(nominations, [3, 9, 6], strict=False):
        services.review_create(
            nomination=nomination,
            judge=judge,
            score=score,
            comment="",
            conflict_of_interest=False,
        )
    client.force_login(organiser)
    page = client.get(f"/organise/batches/{batch.pk}/").content.decode()
    assert (
        page.index("Demo Community 01")
        < page.index("Demo Community 02")
        < page.index("Demo Community 00")
    )
    client.post(f"/organise/batches/{batch.pk}/", {"action": "approve"})
    batch.refresh_from_db()
    assert batch.status == "draft", "undecided nominations keep it a draft"
    Nomination.objects.filter(batch=batch).update(status="awarded")
    client.post(f"/organise/batches/{batch.pk}/", {"action": "approve"})
    client.post(f"/organise/batches/{batch.pk}/", {"action": "announce"})
    batch.refresh_from_db()
    assert batch.status == "announced" and batch.certificates.count() == 7
    assert client.get("/organise/batches/999999/").status_code == 404


def test_run_of_show_groups_and_script(client, batch, organiser) -> None:
    Nomination.objects.filter(batch=batch).update(status="awarded")
    client.force_login(organiser)
    nominations = list(batch.nominations.order_by("pk"))
    data = {"presenter-1": "Deputy Mayor", "presenter-2": "Director Wang"}
    for index, nomination in enumerate(nominations):
        data[f"group-{nomination.pk}"] = "1" if index < 5 else "2"
        data[f"order-{nomination.pk}"] = str(10 - index)
    assert (
        client.post(f"/organise/batches/{batch.pk}/run-of-show/", data).status_code
        == 302
    )
    batch.refresh_from_db()
    groups = batch.run_of_show["groups"]
    assert [g["presenter"] for g in groups] == ["Deputy Mayor", "Director Wang"]
    assert groups[0]["nominations"] == [n.pk for n in reversed(nominations[:5])]
    script = client.get(f"/organise/batches/{batch.pk}/script/").content.decode()
    assert "presented by Deputy Mayor" in script
    assert script.index("Demo Community 04") < script.index("Demo Community 00")


def test_run_of_show_is_locked_once_the_ceremony_starts(
    client, batch, organiser
) -> None:
    Nomination.objects.filter(batch=batch).update(status="awarded")
    ceremony = batch.ceremony_session
    ceremony.starts_at = timezone.now() - dt.timedelta(minutes=1)
    ceremony.save()
    client.force_login(organiser)
    page = client.get(f"/organise/batches/{batch.pk}/run-of-show/").content.decode()
    assert "locked" in page
    client.post(f"/organise/batches/{batch.pk}/run-of-show/", {"presenter-1": "Late"})
    batch.refresh_from_db()
    assert batch.run_of_show == {"groups": []}
