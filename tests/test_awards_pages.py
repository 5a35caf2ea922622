"""Award pages for judges and organisers: scoring, ranking, decisions, approval and
announcement behind confirmations, run-of-show, script."""

import datetime as dt

import pytest
from django.utils import timezone

from awards import selectors, services
from awards.models import AuditEntry, AwardBatch, AwardCategory, Nomination, Review

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


def _judge(batch):
    judge = UserFactory(is_staff=False)
    services.judge_add(batch=batch, email=judge.email, actor=None)
    return judge


def _row(nomination, score="", comment="", conflict=False) -> dict[str, str]:
    data = {f"n{nomination.pk}-score": str(score), f"n{nomination.pk}-comment": comment}
    if conflict:
        data[f"n{nomination.pk}-conflict_of_interest"] = "on"
    return data


def test_judging_form_saves_several_rows_updates_and_records_a_conflict(
    client, batch
) -> None:
    """One form holds every open nomination; saving it creates the filled rows and
    leaves the empty ones; a second save changes a score; a declared conflict
    keeps no score and stays out of the mean; each change is audited."""
    judge = _judge(batch)
    client.force_login(judge)
    first, second, third, *_rest = batch.nominations.order_by("pk")
    services.nomination_update(
        nomination=_rest[-1], data={"status": "withdrawn"}, actor=None
    )
    page = client.get(f"/judging/{batch.pk}/").content.decode()
    assert "Scored 0 of 6" in page, "a withdrawn nomination is not to be scored"
    assert page.count('type="radio"') == 6 * 10
    response = client.post(
        f"/judging/{batch.pk}/",
        {**_row(first, 8, "好"), **_row(second, 5), **_row(third, conflict=True)},
    )
    assert response.status_code == 302
    mine = {r.nomination_id: r for r in Review.objects.filter(judge=judge)}
    assert (mine[first.pk].score, mine[first.pk].comment) == (8, "好")
    assert mine[second.pk].score == 5
    assert mine[third.pk].conflict_of_interest and mine[third.pk].score is None
    assert "Scored 3 of 6" in client.get(f"/judging/{batch.pk}/").content.decode()

    client.post(
        f"/judging/{batch.pk}/",
        {**_row(first, 8, "好"), **_row(second, 9), **_row(third, 7, conflict=True)},
    )
    assert Review.objects.get(judge=judge, nomination=second).score == 9
    assert Review.objects.get(judge=judge, nomination=third).score is None
    actions = list(
        AuditEntry.objects.filter(batch=batch, actor=judge).values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["review_changed", "reviewed", "reviewed", "reviewed"]

    other = _judge(batch)
    services.reviews_save(
        batch=batch,
        judge=other,
        entries=[services.ReviewEntry(nomination_id=third.pk, score=2)],
    )
    ranking = {n.pk: n for n in selectors.batch_ranking(batch)}
    assert ranking[third.pk].mean_score == 2, "the conflict is left out of the mean"
    assert ranking[third.pk].reviews_count == 2


def test_a_bad_row_is_not_saved_and_says_why_the_others_are(client, batch) -> None:
    judge = _judge(batch)
    client.force_login(judge)
    first, second, third, *_rest = batch.nominations.order_by("pk")
    response = client.post(
        f"/judging/{batch.pk}/",
        {**_row(first, 11), **_row(second, 6), **_row(third, "", "no score")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count('class="error-box"') == 2
    assert "Ensure this value is less than or equal to 10." in page
    assert "Give a score from 1 to 10, or declare a conflict of interest." in page
    assert "no score" in page, "the bad row keeps what the judge typed"
    assert '<li class="success">' not in page
    assert list(Review.objects.values_list("nomination_id", "score")) == [
        (second.pk, 6)
    ]


def test_a_row_saves_on_its_own_in_json(client, batch) -> None:
    """What judging.js posts as a field changes: one row, answered in JSON."""
    judge = _judge(batch)
    client.force_login(judge)
    first, second = batch.nominations.order_by("pk")[:2]
    url = f"/judging/{batch.pk}/"
    saved = client.post(url, {"only": first.pk, **_row(first, 7), **_row(second, 3)})
    assert saved.status_code == 200
    assert saved.json() == {
        "saved": True,
        "errors": [],
        "scored": 1,
        "total": 7,
        "progress": "Scored 1 of 7",
    }
    assert list(Review.objects.values_list("nomination_id", flat=True)) == [first.pk]
    bad = client.post(url, {"only": first.pk, **_row(first, "")})
    assert bad.status_code == 400 and not bad.json()["saved"]
    assert bad.json()["errors"] == [
        "Give a score from 1 to 10, or declare a conflict of interest."
    ]
    assert Review.objects.get().score == 7
    assert client.post(url, {"only": 999999, **_row(first, 7)}).status_code == 404


def test_the_judging_page_is_read_only_once_the_batch_is_approved(
    client, batch
) -> None:
    judge = _judge(batch)
    first = batch.nominations.order_by("pk").first()
    services.reviews_save(
        batch=batch,
        judge=judge,
        entries=[services.ReviewEntry(nomination_id=first.pk, score=6)],
    )
    Nomination.objects.filter(batch=batch).update(status="awarded")
    services.batch_approve(batch=batch, actor=None)
    client.force_login(judge)
    page = client.get(f"/judging/{batch.pk}/").content.decode()
    assert "Your score: 6" in page and 'type="radio"' not in page
    refused = client.post(f"/judging/{batch.pk}/", {"only": first.pk, **_row(first, 9)})
    assert refused.status_code == 409
    assert Review.objects.get().score == 6


def test_judging_page_is_for_the_batch_judges_only(client, batch, organiser) -> None:
    client.force_login(UserFactory(is_staff=False))
    assert client.get(f"/judging/{batch.pk}/").status_code == 404
    client.force_login(organiser)
    assert client.get(f"/judging/{batch.pk}/").status_code == 404
    other = AwardBatch.objects.create(
        category=batch.category, number=6, title="Sixth batch"
    )
    client.force_login(_judge(other))
    assert client.get(f"/judging/{batch.pk}/").status_code == 404
    assert client.post(f"/judging/{batch.pk}/", {}).status_code == 404


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
    url = _batch_url(batch)
    page = client.get(url).content.decode()
    assert (
        page.index("Demo Community 01")
        < page.index("Demo Community 02")
        < page.index("Demo Community 00")
    )
    refused = client.post(url + "approve/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 409
    assert "error-box" in refused.content.decode()
    batch.refresh_from_db()
    assert batch.status == "draft", "undecided nominations keep it a draft"
    Nomination.objects.filter(batch=batch).update(status="awarded")
    confirm = client.get(url + "approve/").content.decode()
    assert "lock the batch" in confirm and "keep 7 awardees" in confirm
    assert client.post(url + "approve/").status_code == 302
    confirm = client.get(url + "announce/").content.decode()
    assert "number 7 certificates" in confirm
    assert "reserve 0 seats in Award ceremony" in confirm
    assert client.post(url + "announce/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == "announced" and batch.certificates.count() == 7
    assert client.get(_batch_url(batch, 999999)).status_code == 404
    # Old links to the batch page land on its console page.
    old = client.get(f"/organise/batches/{batch.pk}/")
    assert old.status_code == 301 and old["Location"] == url


def test_decisions_one_by_one_and_several_at_once(client, batch, organiser) -> None:
    client.force_login(organiser)
    url = _batch_url(batch)
    first, second, third, *rest = batch.nominations.order_by("pk")
    response = client.post(url, {"one": f"{first.pk}:awarded"}, follow=True)
    assert "1 nomination is now “Awarded”." in response.content.decode()
    client.post(
        url,
        {"nominations": [second.pk, third.pk], "decision": "not_awarded"},
    )
    statuses = dict(batch.nominations.values_list("pk", "status"))
    assert statuses[first.pk] == "awarded"
    assert statuses[second.pk] == statuses[third.pk] == "not_awarded"
    assert all(statuses[n.pk] == "nominated" for n in rest)
    # Nothing ticked: an error in the reader's language, and nothing changes.
    refused = client.post(url, {"decision": "awarded"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 400
    assert "Tick at least one nomination." not in refused.content.decode()
    assert dict(batch.nominations.values_list("pk", "status")) == statuses


def test_approving_with_undecided_nominations_says_so(client, batch, organiser) -> None:
    client.force_login(organiser)
    page = client.get(_batch_url(batch) + "approve/").content.decode()
    assert "7 nominations are not decided yet" in page
    assert "Yes, approve" not in page


def test_run_of_show_groups_and_script(client, batch, organiser) -> None:
    Nomination.objects.filter(batch=batch).update(status="awarded")
    client.force_login(organiser)
    nominations = list(batch.nominations.order_by("pk"))
    data = {"presenter-1": "Deputy Mayor", "presenter-2": "Director Wang"}
    for index, nomination in enumerate(nominations):
        data[f"group-{nomination.pk}"] = "1" if index < 5 else "2"
        data[f"order-{nomination.pk}"] = str(10 - index)
    assert client.post(_batch_url(batch) + "run-of-show/", data).status_code == 302
    batch.refresh_from_db()
    groups = batch.run_of_show["groups"]
    assert [g["presenter"] for g in groups] == ["Deputy Mayor", "Director Wang"]
    assert groups[0]["nominations"] == [n.pk for n in reversed(nominations[:5])]
    script = client.get(_batch_url(batch) + "script/").content.decode()
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
    url = _batch_url(batch) + "run-of-show/"
    page = client.get(url).content.decode()
    assert "locked" in page
    client.post(url, {"presenter-1": "Late"})
    client.post(url, {"move": f"{batch.nominations.first().pk}:1"})
    batch.refresh_from_db()
    assert batch.run_of_show == {"groups": []}


def test_run_of_show_moves_an_awardee_earlier_and_later(
    client, batch, organiser
) -> None:
    Nomination.objects.filter(batch=batch).update(status="awarded")
    ids = list(batch.nominations.order_by("pk").values_list("pk", flat=True))
    services.run_of_show_update(
        batch=batch,
        groups=[
            {"presenter": "A", "nominations": ids[:3]},
            {"presenter": "B", "nominations": ids[3:]},
        ],
        actor=organiser,
    )
    client.force_login(organiser)
    url = _batch_url(batch) + "run-of-show/"
    client.post(url, {"move": f"{ids[0]}:1"})
    batch.refresh_from_db()
    assert batch.run_of_show["groups"][0]["nominations"] == [ids[1], ids[0], ids[2]]
    # The last of group 1 moving later joins group 2 at its start.
    client.post(url, {"move": f"{ids[2]}:1"})
    batch.refresh_from_db()
    groups = batch.run_of_show["groups"]
    assert groups[0]["nominations"] == [ids[1], ids[0]]
    assert groups[1]["nominations"][:2] == [ids[2], ids[3]]
    assert [g["presenter"] for g in groups] == ["A", "B"]
    # The script follows the run-of-show.
    script = client.get(_batch_url(batch) + "script/").content.decode()
    assert script.index("Demo Community 01") < script.index("Demo Community 00")


def _batch_url(batch: AwardBatch, batch_id: int | None = None) -> str:
    slug = batch.category.event.slug
    return f"/organise/{slug}/awards/batches/{batch_id or batch.pk}/"


def test_the_audit_log_shows_each_step_of_this_event_only(
    client, batch, organiser
) -> None:
    other = EventFactory()
    other_category = services.category_create(
        event=other,
        data={"name": "Elsewhere", "recipient_kind": "person"},
        actor=organiser,
    )
    client.force_login(organiser)
    client.post(_batch_url(batch), {"one": f"{batch.nominations.first().pk}:awarded"})
    page = client.get(f"/organise/{batch.category.event.slug}/awards/audit/")
    body = page.content.decode()
    assert page.status_code == 200
    assert body.count("added a nomination") == 7
    assert "changed a nomination" in body and organiser.email in body
    assert "status: Nominated → Awarded" in body, "details read as words"
    assert "{'status'" not in body
    assert "created the award category" not in body, other_category.name


def test_the_public_can_type_a_certificate_number(client) -> None:
    """The honour roll offers a form; a typed number leads to its page, a wrong one
    says so in words with the form to try again (still a 404)."""
    page = client.get("/honour-roll/").content.decode()
    assert 'action="/verify/"' in page
    assert client.get("/verify/").status_code == 200
    typed = client.get("/verify/", {"number": " nbsw-2021-05-007 "})
    assert typed.status_code == 302 and typed["Location"] == "/verify/NBSW-2021-05-007/"
    missing = client.get("/verify/NBSW-2021-05-007/")
    assert missing.status_code == 404
    assert "No certificate has the number" in missing.content.decode()
    assert client.get("/verify/", {"number": "<script>"}).status_code == 400
    filtered = client.get("/honour-roll/", {"district": "Nowhere"}).content.decode()
    assert "No awardee in a district matching" in filtered
