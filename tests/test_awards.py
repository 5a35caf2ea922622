"""The awards workflow through its API: transitions, permissions, announcement."""

import io
import re
import shutil
import subprocess
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from awards import services
from awards.certificates import CertificateFontMissing, certificate_font
from awards.errors import InvalidTransition
from awards.models import AuditEntry, AwardBatch, AwardCategory, Certificate, Nomination
from events.models import Event, Registration
from notifications.delivery import render_message
from notifications.models import Notification

from .conftest import require
from .factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}"
    )
    return client


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code


@pytest.fixture
def organiser():
    return UserFactory()


@pytest.fixture
def event(organiser):
    return EventFactory(slug="week", organisers=[organiser])


@pytest.fixture
def api(organiser) -> APIClient:
    return client_for(organiser)


@pytest.fixture
def batch(api, event):
    category = api.post(
        "/api/v1/events/week/award-categories/",
        {
            "name": "Municipal social work demonstration base",
            "recipient_kind": "organisation",
            "certificate_prefix": "NBSW",
        },
        format="json",
    ).json()
    ceremony = SessionFactory(event=event, capacity=2, title="Award ceremony")
    response = api.post(
        f"/api/v1/award-categories/{category['id']}/batches/",
        {
            "number": 5,
            "title": "Fifth batch of municipal social work demonstration bases",
            "ceremony_session": ceremony.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "draft"
    return AwardBatch.objects.get(pk=response.json()["id"])


def nominate(api, batch, name: str, **recipient) -> dict:
    response = api.post(
        f"/api/v1/award-batches/{batch.pk}/nominations/",
        {
            "recipient": {"kind": "organisation", "name": name, **recipient},
            "citation": "Serves its residents.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def decide(api, nomination: dict, status: str) -> None:
    response = api.patch(
        f"/api/v1/nominations/{nomination['id']}/", {"status": status}, format="json"
    )
    assert response.status_code == 200, response.content


def test_duplicate_batch_number(api, batch) -> None:
    response = api.post(
        f"/api/v1/award-categories/{batch.category_id}/batches/",
        {"number": 5, "title": "Again"},
        format="json",
    )
    assert_problem(response, 409, "duplicate_batch")


def test_the_whole_workflow(api, batch) -> None:
    wantou = nominate(
        api,
        batch,
        "Wantou Community",
        district="Jiangbei District",
        email="wantou@example.org",
    )
    demo = nominate(api, batch, "Demo Community 07", district="Haishu District")
    withdrawn = nominate(api, batch, "Demo Community 08")
    assert (
        wantou["status"] == "nominated"
        and wantou["mean_score"] is None
        and wantou["reviews_count"] == 0
    )

    judge = UserFactory(is_staff=False)
    assert (
        api.post(
            f"/api/v1/award-batches/{batch.pk}/judges/",
            {"email": judge.email},
            format="json",
        ).status_code
        == 201
    )
    judge_api = client_for(judge)
    for nomination, score, conflict in ((wantou, 9, False), (demo, 7, False)):
        response = judge_api.post(
            f"/api/v1/nominations/{nomination['id']}/reviews/",
            {"score": score, "comment": "好", "conflict_of_interest": conflict},
            format="json",
        )
        assert response.status_code == 201, response.content
    assert_problem(
        judge_api.post(
            f"/api/v1/nominations/{wantou['id']}/reviews/", {"score": 3}, format="json"
        ),
        409,
        "duplicate_review",
    )
    listed = judge_api.get(f"/api/v1/award-batches/{batch.pk}/nominations/").json()[
        "results"
    ]
    assert [n["mean_score"] for n in listed] == [9.0, 7.0, None]

    assert_problem(
        api.post(f"/api/v1/award-batches/{batch.pk}/announce/"),
        409,
        "invalid_transition",
    )
    assert_problem(
        api.post(f"/api/v1/award-batches/{batch.pk}/approve/"),
        409,
        "undecided_nominations",
    )
    decide(api, wantou, "awarded")
    decide(api, demo, "awarded")
    decide(api, withdrawn, "withdrawn")
    show = {
        "groups": [
            {"presenter": "Deputy Mayor", "nominations": [demo["id"], wantou["id"]]}
        ]
    }
    assert (
        api.put(
            f"/api/v1/award-batches/{batch.pk}/run-of-show/", show, format="json"
        ).json()
        == show
    )
    approved = api.post(f"/api/v1/award-batches/{batch.pk}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert_problem(
        api.post(f"/api/v1/award-batches/{batch.pk}/approve/"),
        409,
        "invalid_transition",
    )
    assert_problem(nominate_raw(api, batch), 409, "batch_locked")
    assert_problem(
        api.patch(
            f"/api/v1/nominations/{demo['id']}/", {"citation": "x"}, format="json"
        ),
        409,
        "batch_locked",
    )

    announced = api.post(f"/api/v1/award-batches/{batch.pk}/announce/")
    assert announced.status_code == 200 and announced.json()["status"] == "announced"
    assert announced.json()["announced_at"]
    numbers = list(
        Certificate.objects.order_by("sequence").values_list("number", "nomination_id")
    )
    year = batch.category.event.starts_on.year
    assert numbers == [
        (f"NBSW-{year}-05-001", demo["id"]),
        (f"NBSW-{year}-05-002", wantou["id"]),
    ]

    roll = APIClient().get("/api/v1/honour-roll/").json()
    assert [r["name"] for r in roll[0]["recipients"]] == [
        "Demo Community 07",
        "Wantou Community",
    ]
    assert roll[0]["recipients"][1]["certificate_number"] == f"NBSW-{year}-05-002"

    notice = Notification.objects.get(kind="award_announced")
    assert notice.recipient == "wantou@example.org"
    assert {a["filename"] for a in notice.attachments} == {"ceremony.ics"}
    seat = Registration.objects.get(email="wantou@example.org")
    assert seat.reserved and seat.status == "confirmed"
    batch.ceremony_session.refresh_from_db()
    assert batch.ceremony_session.seats_left == 2, (
        "an awardee's seat is not a public one"
    )

    certificate = APIClient().get(f"/api/v1/certificates/NBSW-{year}-05-002/").json()
    assert (
        certificate["status"] == "valid"
        and certificate["recipient_name"] == "Wantou Community"
    )
    revoked = api.post(
        f"/api/v1/certificates/NBSW-{year}-05-002/revoke/",
        {"reason": "Merged into another community."},
        format="json",
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = APIClient().get(f"/api/v1/certificates/NBSW-{year}-05-002/").json()
    assert (
        again["status"] == "revoked"
        and again["revoked_reason"] == "Merged into another community."
    )
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "nominated",
        "reviewed",
        "nomination_changed",
        "approved",
        "announced",
        "certificate_revoked",
        "run_of_show_changed",
    }


def nominate_raw(api, batch):
    return api.post(
        f"/api/v1/award-batches/{batch.pk}/nominations/",
        {"recipient": {"kind": "person", "name": "Late"}, "citation": ""},
        format="json",
    )


def test_permission_matrix(api, batch, event) -> None:
    nomination = nominate(api, batch, "Wantou Community")
    judge = UserFactory(is_staff=False)
    services.judge_add(batch=batch, email=judge.email, actor=None)
    judge_api = client_for(judge)
    stranger_api = client_for(UserFactory())
    # A judge sees the batch but may not approve, nominate or decide.
    assert judge_api.get(f"/api/v1/award-batches/{batch.pk}/").status_code == 200
    assert_problem(
        judge_api.post(f"/api/v1/award-batches/{batch.pk}/approve/"),
        403,
        "permission_denied",
    )
    assert_problem(
        judge_api.patch(
            f"/api/v1/nominations/{nomination['id']}/",
            {"status": "awarded"},
            format="json",
        ),
        403,
        "permission_denied",
    )
    # An organiser of another event is told nothing exists.
    assert_problem(
        stranger_api.get(f"/api/v1/award-batches/{batch.pk}/"), 404, "not_found"
    )
    assert_problem(
        stranger_api.get(f"/api/v1/award-batches/{batch.pk}/nominations/"),
        404,
        "not_found",
    )
    assert_problem(
        stranger_api.post(f"/api/v1/award-batches/{batch.pk}/announce/"),
        404,
        "not_found",
    )
    assert_problem(
        stranger_api.post(
            f"/api/v1/events/{event.slug}/award-categories/",
            {"name": "x", "recipient_kind": "person"},
            format="json",
        ),
        404,
        "not_found",
    )
    # An organiser who is not a judge may not score.
    assert_problem(
        api.post(
            f"/api/v1/nominations/{nomination['id']}/reviews/",
            {"score": 5},
            format="json",
        ),
        403,
        "permission_denied",
    )
    # The public sees only announced batches.
    assert APIClient().get("/api/v1/honour-roll/").json() == []
    assert_problem(
        APIClient().get(f"/api/v1/award-batches/{batch.pk}/"), 401, "not_authenticated"
    )
    assert Nomination.objects.get().status == "nominated"


def create_category(api, slug: str, name: str, prefix: str = "") -> int:
    category = api.post(
        f"/api/v1/events/{slug}/award-categories/",
        {"name": name, "recipient_kind": "organisation", "certificate_prefix": prefix},
        format="json",
    )
    assert category.status_code == 201, category.content
    return category.json()["id"]


def announce_one(api, slug: str, name: str, prefix: str = "", category_id=None):
    """A batch 1 with one awardee in a (new) category of the event, announced: the
    announce response."""
    category_id = category_id or create_category(api, slug, name, prefix)
    batch = api.post(
        f"/api/v1/award-categories/{category_id}/batches/",
        {"number": 1, "title": "First batch"},
        format="json",
    ).json()
    decide(api, nominate(api, AwardBatch(pk=batch["id"]), f"{name} 1"), "awarded")
    approved = api.post(f"/api/v1/award-batches/{batch['id']}/approve/")
    assert approved.status_code == 200, approved.content
    return api.post(f"/api/v1/award-batches/{batch['id']}/announce/")


def test_chinese_named_categories_of_two_events_number_apart(api, event) -> None:
    """Two events of one year, each with a category named without Latin letters and
    its batch 1: both announce, with different certificate numbers."""
    other = EventFactory(
        organisers=[UserFactory()], starts_on=event.starts_on, ends_on=event.ends_on
    )
    other_api = client_for(other.organisers.get())
    for client, slug in ((api, event.slug), (other_api, other.slug)):
        announced = announce_one(client, slug, "示范基地")
        assert announced.status_code == 200, announced.content
    numbers = sorted(Certificate.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 2
    for number in numbers:
        assert re.fullmatch(rf"[A-Z0-9-]+-{event.starts_on.year}-01-001", number)
    # A category's derived prefix is its own, however it is named.
    first, second = AwardCategory.objects.order_by("pk")
    assert first.prefix != second.prefix
    assert str(first.pk) in first.prefix and str(second.pk) in second.prefix


def test_a_certificate_prefix_is_one_events_in_its_year(api, batch, event) -> None:
    """NBSW is the week's in its year: another organiser's event of that year cannot
    take it (in any case); an event of another year can."""
    same_year = EventFactory(
        organisers=[UserFactory()], starts_on=event.starts_on, ends_on=event.ends_on
    )
    other_api = client_for(same_year.organisers.get())
    refused = other_api.post(
        f"/api/v1/events/{same_year.slug}/award-categories/",
        {
            "name": "Copy",
            "recipient_kind": "organisation",
            "certificate_prefix": "nbsw",
        },
        format="json",
    )
    assert_problem(refused, 400, "invalid")
    assert "certificate_prefix" in refused.json()["errors"]
    assert AwardCategory.objects.count() == 1
    next_year = EventFactory(
        organisers=[UserFactory()],
        starts_on=event.starts_on.replace(year=event.starts_on.year + 1),
        ends_on=event.ends_on.replace(year=event.ends_on.year + 1),
    )
    created = client_for(next_year.organisers.get()).post(
        f"/api/v1/events/{next_year.slug}/award-categories/",
        {"name": "Own", "recipient_kind": "organisation", "certificate_prefix": "NBSW"},
        format="json",
    )
    assert created.status_code == 201, created.content


def test_a_taken_certificate_number_is_a_conflict_not_a_500(
    api, event, organiser, client
) -> None:
    """Numbers can still meet (an event moved into another's year after both chose
    NBSW): the announcement is refused with 409 and nothing is numbered."""
    later = EventFactory(
        organisers=[organiser],
        starts_on=event.starts_on.replace(year=event.starts_on.year + 1),
        ends_on=event.ends_on.replace(year=event.ends_on.year + 1),
    )
    assert announce_one(api, event.slug, "Base", prefix="NBSW").status_code == 200
    theirs = create_category(api, later.slug, "Base", prefix="NBSW")
    Event.objects.filter(pk=later.pk).update(
        starts_on=event.starts_on, ends_on=event.ends_on
    )
    refused = announce_one(api, later.slug, "Base", category_id=theirs)
    assert_problem(refused, 409, "certificate_number_taken")
    assert "NBSW" in refused.json()["detail"]
    batch = AwardBatch.objects.get(category__event=later)
    assert batch.status == "approved" and not batch.certificates.exists()
    client.force_login(organiser)
    page = client.post(f"/organise/{later.slug}/awards/batches/{batch.pk}/announce/")
    assert page.status_code == 409
    assert "NBSW" in page.content.decode()
    batch.refresh_from_db()
    assert batch.status == "approved" and not batch.certificates.exists()


def test_concurrent_double_announce_yields_one_set(postgres_transactional) -> None:
    event = EventFactory()
    category = AwardCategory.objects.create(
        event=event, name="Lecturer Group", recipient_kind="person"
    )
    batch = AwardBatch.objects.create(
        category=category, number=1, title="Supervisory Lecturer Group"
    )
    for n in range(10):
        nomination = services.nomination_create(
            batch=batch,
            recipient=services.RecipientData(
                kind="person", name=f"Lecturer {n}", email=f"l{n}@example.org"
            ),
            citation="",
            actor=None,
        )
        services.nomination_update(
            nomination=nomination, data={"status": "awarded"}, actor=None
        )
    services.batch_approve(batch=batch, actor=None)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def announce() -> None:
        barrier.wait()
        try:
            outcomes.append(services.batch_announce(batch=batch, actor=None).status)
        except InvalidTransition as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=announce) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["announced", "invalid_transition"]
    assert Certificate.objects.count() == 10
    assert Notification.objects.filter(kind="award_announced").count() == 10


def test_script_name_is_escaped_on_the_honour_roll_and_in_the_email(
    api, batch, client
) -> None:
    nomination = nominate(
        api, batch, "<script>alert(1)</script>", email="x@example.org"
    )
    decide(api, nomination, "awarded")
    api.post(f"/api/v1/award-batches/{batch.pk}/approve/")
    api.post(f"/api/v1/award-batches/{batch.pk}/announce/")
    page = client.get("/honour-roll/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    message = render_message(Notification.objects.get(kind="award_announced"))
    html = message.alternatives[0][0]
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_honour_roll_page_searches_by_district(api, batch, client) -> None:
    for name, district in (
        ("Wantou Community", "Jiangbei District"),
        ("Demo Community 07", "Haishu District"),
    ):
        decide(api, nominate(api, batch, name, district=district), "awarded")
    api.post(f"/api/v1/award-batches/{batch.pk}/approve/")
    api.post(f"/api/v1/award-batches/{batch.pk}/announce/")
    page = client.get("/honour-roll/", {"district": "jiangbei"}).content.decode()
    assert "Wantou Community" in page and "Demo Community 07" not in page
    assert "Fifth batch of municipal social work demonstration bases" in page


def test_verify_page_shows_revoked(api, batch, client) -> None:
    decide(api, nominate(api, batch, "Wantou Community"), "awarded")
    api.post(f"/api/v1/award-batches/{batch.pk}/approve/")
    api.post(f"/api/v1/award-batches/{batch.pk}/announce/")
    certificate = Certificate.objects.get()
    assert "Valid" in client.get(f"/verify/{certificate.number}/").content.decode()
    services.certificate_revoke(
        certificate=certificate, reason="Issued in error", actor=None
    )
    page = client.get(f"/verify/{certificate.number}/").content.decode()
    assert "Revoked" in page and "Issued in error" in page
    assert client.get("/verify/NOPE-1/").status_code == 404


def test_add_judge_prints_the_token_last(batch) -> None:
    out = io.StringIO()
    call_command("add_judge", "Judge@Example.org", str(batch.pk), stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    assert Token.objects.get(key=token).user in batch.judges.all()


def pdf_text(content: bytes, tmp_path) -> str:
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_certificate_pdf_has_the_chinese_name_and_number(api, batch, tmp_path) -> None:
    try:
        certificate_font()
    except CertificateFontMissing:
        require(False, "a CJK font (Debian: fonts-noto-cjk)")
    nomination = nominate(
        api, batch, "湾头社区 <script>alert(1)</script>", district="江北区"
    )
    decide(api, nomination, "awarded")
    api.post(f"/api/v1/award-batches/{batch.pk}/approve/")
    api.post(f"/api/v1/award-batches/{batch.pk}/announce/")
    certificate = Certificate.objects.get()
    response = APIClient().get(f"/api/v1/certificates/{certificate.number}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "湾头社区 <script>alert(1)</script>" in text
    assert certificate.number in text
    certificate.refresh_from_db()
    rendered_at = certificate.pdf_rendered_at
    assert rendered_at is not None
    APIClient().get(f"/api/v1/certificates/{certificate.number}/pdf/")
    certificate.refresh_from_db()
    assert certificate.pdf_rendered_at == rendered_at, "rendered once and stored"
    services.certificate_revoke(certificate=certificate, reason="重复授予", actor=None)
    revoked = pdf_text(
        APIClient().get(f"/api/v1/certificates/{certificate.number}/pdf/").content,
        tmp_path,
    )
    assert "REVOKED" in revoked and "重复授予" in revoked
    assert APIClient().get("/api/v1/certificates/NOPE-1/pdf/").status_code == 404


def import_csv(tmp_path, text: str, batch) -> str:
    path = tmp_path / "nominations.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import_nominations",
        str(path),
        "--batch",
        str(batch.pk),
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue()


def test_import_nominations_all_rows(batch, tmp_path) -> None:
    text = "name,district,email,citation\n湾头社区,江北区,wantou@example.org,示范\nDemo Community 07,Haishu District,,\n"
    assert "Imported 2" in import_csv(tmp_path, text, batch)
    assert list(
        Nomination.objects.order_by("pk").values_list(
            "recipient__name", "recipient__kind"
        )
    ) == [
        ("湾头社区", "organisation"),
        ("Demo Community 07", "organisation"),
    ]


def test_import_nominations_bad_row_imports_nothing(batch, tmp_path) -> None:
    text = "name,email\nGood One,good@example.org\n,missing-name@example.org\nThird,not-an-email\n"
    with pytest.raises(CommandError, match="line 3: name"):
        import_csv(tmp_path, text, batch)
    assert not Nomination.objects.exists()


def test_import_nominations_field_over_the_csv_limit(batch, tmp_path) -> None:
    text = "name,citation\nGood One,ok\nBig One," + "x" * 140_000 + "\n"
    with pytest.raises(CommandError, match=r"line 3: .*too long"):
        import_csv(tmp_path, text, batch)
    assert not Nomination.objects.exists()


def test_import_into_an_approved_batch_is_refused(batch, tmp_path) -> None:
    AwardBatch.objects.filter(pk=batch.pk).update(status="approved")
    with pytest.raises(CommandError, match="approved"):
        import_csv(tmp_path, "name\nLate\n", batch)
    assert not Nomination.objects.exists()


def test_run_of_show_api_refuses_strangers_and_locks_at_the_ceremony(
    api, batch
) -> None:
    nomination = nominate(api, batch, "Wantou Community")
    decide(api, nomination, "awarded")
    url = f"/api/v1/award-batches/{batch.pk}/run-of-show/"
    bad = api.put(
        url, {"groups": [{"presenter": "X", "nominations": [999999]}]}, format="json"
    )
    assert_problem(bad, 400, "invalid")
    ceremony = batch.ceremony_session
    # In 2001, and two hours long whatever the hour the test runs at.
    ceremony.starts_at = ceremony.starts_at.replace(year=2001, hour=9)
    ceremony.ends_at = ceremony.starts_at.replace(hour=11)
    ceremony.save()
    locked = api.put(
        url,
        {"groups": [{"presenter": "X", "nominations": [nomination["id"]]}]},
        format="json",
    )
    assert_problem(locked, 409, "batch_locked")
    assert api.get(url).json() == {"groups": []}


def test_mean_score_leaves_out_conflicts_of_interest(api, batch) -> None:
    nomination = nominate(api, batch, "Wantou Community")
    judges = [UserFactory(is_staff=False) for _ in range(3)]
    for judge, score, conflict in zip(
        judges, [9, 5, 1], [False, False, True], strict=True
    ):
        services.judge_add(batch=batch, email=judge.email, actor=None)
        response = client_for(judge).post(
            f"/api/v1/nominations/{nomination['id']}/reviews/",
            {"score": score, "conflict_of_interest": conflict},
            format="json",
        )
        assert response.status_code == 201
    (listed,) = api.get(f"/api/v1/award-batches/{batch.pk}/nominations/").json()[
        "results"
    ]
    assert listed["mean_score"] == 7.0 and listed["reviews_count"] == 3
    assert_problem(
        client_for(judges[0]).post(
            f"/api/v1/nominations/{nomination['id']}/reviews/",
            {"score": 0},
            format="json",
        ),
        400,
        "invalid",
    )
