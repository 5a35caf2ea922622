"""The awards console: categories, batches and nominations (one by one, imported,
withdrawn), each through the awards services, with errors in the reader's language."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from awards import services
from awards.models import AuditEntry, AwardBatch, AwardCategory, Nomination

from .factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser():
    return UserFactory(is_staff=False)


@pytest.fixture
def event(organiser):
    return EventFactory(organisers=[organiser])


@pytest.fixture
def category(event, organiser):
    return services.category_create(
        event=event,
        data={"name": "Demonstration base", "recipient_kind": "organisation"},
        actor=organiser,
    )


@pytest.fixture
def batch(category, organiser):
    return services.batch_create(
        category=category, data={"number": 4, "title": "Fourth batch"}, actor=organiser
    )


def _awards(event) -> str:
    return f"/organise/{event.slug}/awards/"


def test_create_and_edit_a_category(client, event, organiser) -> None:
    client.force_login(organiser)
    bad = client.post(
        _awards(event) + "categories/new/",
        {
            "name_zh_hans": "示范基地",
            "recipient_kind": "organisation",
            "certificate_prefix": "NB-SW",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert bad.status_code == 400
    assert "Use 1 to 12 letters or digits." not in bad.content.decode()
    assert not AwardCategory.objects.exists()
    client.post(
        _awards(event) + "categories/new/",
        {
            "name_zh_hans": "示范基地",
            "recipient_kind": "organisation",
            "certificate_prefix": "NBSW",
        },
    )
    category = AwardCategory.objects.get(event=event)
    assert category.name == "示范基地" and category.prefix == "NBSW"
    client.post(
        _awards(event) + f"categories/{category.pk}/edit/",
        {
            "name_zh_hans": "市级示范基地",
            "recipient_kind": "organisation",
            "certificate_prefix": "NBSW",
        },
    )
    category.refresh_from_db()
    assert category.name == "市级示范基地"
    assert AuditEntry.objects.filter(event=event, action="category_changed").exists()


def test_a_certificate_prefix_taken_in_the_year_is_a_form_error(
    client, event, organiser
) -> None:
    theirs = EventFactory(starts_on=event.starts_on, ends_on=event.ends_on)
    services.category_create(
        event=theirs,
        data={
            "name": "Base",
            "recipient_kind": "organisation",
            "certificate_prefix": "NBSW",
        },
        actor=None,
    )
    client.force_login(organiser)
    form = {"name_zh_hans": "示范基地", "recipient_kind": "organisation"}
    refused = client.post(
        _awards(event) + "categories/new/", {**form, "certificate_prefix": "nbsw"}
    )
    assert refused.status_code == 400
    assert "already used" in refused.content.decode()
    assert not AwardCategory.objects.filter(event=event).exists()
    client.post(_awards(event) + "categories/new/", {**form, "certificate_prefix": ""})
    mine = AwardCategory.objects.get(event=event)
    edited = client.post(
        _awards(event) + f"categories/{mine.pk}/edit/",
        {**form, "certificate_prefix": "NBSW"},
    )
    assert edited.status_code == 400
    assert "already used" in edited.content.decode()
    mine.refresh_from_db()
    assert mine.certificate_prefix == ""


def test_batches_offer_only_this_events_sessions(
    client, event, category, organiser
) -> None:
    mine = SessionFactory(event=event, title="Award ceremony")
    theirs = SessionFactory(title="Someone else's ceremony")
    client.force_login(organiser)
    url = _awards(event) + f"categories/{category.pk}/batches/new/"
    page = client.get(url).content.decode()
    assert "Award ceremony" in page and "Someone else" not in page
    refused = client.post(
        url, {"number": 5, "title_en": "Fifth", "ceremony_session": theirs.pk}
    )
    assert refused.status_code == 400 and not AwardBatch.objects.exists()
    client.post(url, {"number": 5, "title_en": "Fifth", "ceremony_session": mine.pk})
    batch = AwardBatch.objects.get()
    assert batch.ceremony_session == mine and batch.status == "draft"
    duplicate = client.post(url, {"number": 5, "title_en": "Again"})
    assert duplicate.status_code == 400
    assert "already has a batch with this number" in duplicate.content.decode()
    assert AwardBatch.objects.count() == 1


def test_add_edit_and_withdraw_a_nomination(client, event, batch, organiser) -> None:
    client.force_login(organiser)
    base = _awards(event) + f"batches/{batch.pk}/nominations/"
    invisible = client.post(
        base + "new/",
        {"kind": "organisation", "name_en": "\u200b\u200b", "language": "zh-hans"},
    )
    assert invisible.status_code == 400 and not Nomination.objects.exists()
    client.post(
        base + "new/",
        {
            "kind": "organisation",
            "name_en": "Wantou Community",
            "new_district_en": "Jiangbei",
            "email": "wantou@example.org",
            "language": "zh-hans",
            "citation_en": "Twenty years of work.",
        },
    )
    nomination = Nomination.objects.get()
    assert str(nomination.recipient.district) == "Jiangbei"
    client.post(
        base + f"{nomination.pk}/edit/",
        {
            "kind": "organisation",
            "name_zh_hans": "湾头社区",
            "language": "zh-hans",
            "citation_zh_hans": "廿年",
        },
    )
    nomination.refresh_from_db()
    assert nomination.recipient.name == "湾头社区" and nomination.citation == "廿年"
    confirm = client.get(base + f"{nomination.pk}/withdraw/").content.decode()
    assert "Nobody is emailed" in confirm
    client.post(base + f"{nomination.pk}/withdraw/")
    nomination.refresh_from_db()
    assert nomination.status == "withdrawn"


def test_import_is_all_or_nothing_and_names_the_bad_line(
    client, event, batch, organiser
) -> None:
    client.force_login(organiser)
    url = _awards(event) + f"batches/{batch.pk}/nominations/import/"
    bad = "name,district,email\nWantou Community,Jiangbei,\nDemo 02,Haishu,not-an-address\n"
    response = client.post(
        url, {"file": SimpleUploadedFile("n.csv", bad.encode("utf-8-sig"))}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Line 3:" in body and "email" in body
    assert not Nomination.objects.exists()
    good = (
        "name,district,citation\n湾头社区,江北区,多年服务\nDemo Community 07,Haishu,\n"
    )
    response = client.post(url, {"file": SimpleUploadedFile("n.csv", good.encode())})
    assert response.status_code == 302
    assert list(
        Nomination.objects.order_by("pk").values_list("recipient__name", flat=True)
    ) == ["湾头社区", "Demo Community 07"]
    assert AuditEntry.objects.filter(action="nominations_imported").exists()
    # An approved batch takes no more nominations: a form error, nothing added.
    Nomination.objects.update(status="awarded")
    services.batch_approve(batch=batch, actor=organiser)
    locked = client.post(url, {"file": SimpleUploadedFile("n.csv", good.encode())})
    assert locked.status_code == 400 and Nomination.objects.count() == 2


def test_import_with_a_field_over_the_csv_limit_names_the_line(
    client, event, batch, organiser
) -> None:
    """A field over the csv module's 131,072-character limit is the file's fault: a
    400 naming its line, nothing imported; a citation over 5,000 likewise."""
    client.force_login(organiser)
    url = _awards(event) + f"batches/{batch.pk}/nominations/import/"
    huge = "name,citation\nWantou Community,short\nDemo 02," + "x" * 140_000 + "\n"
    response = client.post(url, {"file": SimpleUploadedFile("n.csv", huge.encode())})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Line 3:" in body and "too long" in body
    assert not Nomination.objects.exists()
    long_citation = "name,citation\nDemo 02," + "y" * 5001 + "\n"
    response = client.post(
        url, {"file": SimpleUploadedFile("n.csv", long_citation.encode())}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Line 2:" in body and "citation" in body
    assert not Nomination.objects.exists()


@pytest.fixture
def announced(batch, organiser):
    for name in ("湾头社区", "=HYPERLINK(1)"):
        services.nomination_create(
            batch=batch,
            recipient=services.RecipientData(kind="organisation", name=name),
            citation="",
            actor=organiser,
        )
    Nomination.objects.update(status="awarded")
    services.batch_approve(batch=batch, actor=organiser)
    return services.batch_announce(batch=batch, actor=organiser)


def test_revoke_then_reissue_a_certificate(client, event, announced, organiser) -> None:
    client.force_login(organiser)
    base = _awards(event) + f"batches/{announced.pk}/certificates/"
    first = announced.certificates.order_by("sequence").first()
    listing = client.get(base).content.decode()
    assert first.number in listing and "Revoke" in listing
    empty = client.post(base + f"{first.number}/revoke/", {"reason": ""})
    assert empty.status_code == 400
    first.refresh_from_db()
    assert first.status == "valid"
    client.post(base + f"{first.number}/revoke/", {"reason": "名称有误"})
    first.refresh_from_db()
    assert first.status == "revoked" and first.revoked_reason == "名称有误"
    assert "名称有误" in client.get(f"/verify/{first.number}/").content.decode()
    client.post(base + f"{first.number}/reissue/")
    new = announced.certificates.get(replaces=first)
    assert new.status == "valid" and new.sequence == 3 and new.number.endswith("-003")
    assert new.nomination_id == first.nomination_id
    # Once reissued, not again; a valid certificate is not reissued either.
    again = client.post(base + f"{first.number}/reissue/")
    assert again.status_code == 409
    assert client.post(base + f"{new.number}/reissue/").status_code == 409
    assert announced.certificates.count() == 3
    # The honour roll shows the valid certificate.
    roll = client.get(_awards(event) + "honour-roll/print/").content.decode()
    assert new.number in roll


def test_exports_are_csv_with_formulas_kept_as_text(
    client, event, announced, organiser
) -> None:
    client.force_login(organiser)
    response = client.get(_awards(event) + "honour-roll.csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff") and "湾头社区" in body
    assert "'=HYPERLINK(1)" in body
    assert body.count("\n") == 3  # the header and two awardees
    scores = client.get(_awards(event) + f"batches/{announced.pk}/scores.csv")
    assert "湾头社区" in b"".join(scores.streaming_content).decode("utf-8")


def test_the_demo_shows_the_whole_award_workflow(client) -> None:
    """make demo's data: a judge who signs in to a partly scored draft, an announced
    batch ranked by real scores, and the Lecturer Group appointed with certificates."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    fifth = AwardBatch.objects.get(number=5)
    assert fifth.status == "draft"
    judge = get_user_model().objects.get(email="judge@example.org")
    signed_in = client.post(
        "/accounts/login/",
        {"username": "judge@example.org", "password": "podium-demo"},
        follow=True,
    )
    assert signed_in.redirect_chain[-1][0] == f"/judging/{fifth.pk}/"
    page = signed_in.content.decode()
    assert "5" in page and "12" in page
    fourth = AwardBatch.objects.get(number=4)
    assert fourth.status == "announced" and fourth.judges.filter(pk=judge.pk).exists()
    organiser = UserFactory(is_staff=False)
    fourth.category.event.organisers.add(organiser)
    client.force_login(organiser)
    ranking = client.get(
        f"/organise/{fourth.category.event.slug}/awards/batches/{fourth.pk}/"
    ).content.decode()
    table = ranking.split("Ranking and decisions")[1].split("</tbody>")[0]
    assert ">–</td>" not in table, "every awardee has a mean score and a spread"
    assert 'data-label="Mean score">8.0</td>' in table
    lecturers = AwardBatch.objects.get(category__recipient_kind="person")
    assert lecturers.status == "announced" and lecturers.certificates.count() == 10
