"""Awards in both languages (issue 10): the API's texts in the reader's language
with their per-language fields, districts by either name, the honour roll's
filters, the console's side-by-side forms and the CSV import's language columns."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from awards import services
from awards.models import AwardBatch, AwardCategory, District, Nomination, Recipient

from .awards_bilingual import announced_batch, branded_event
from .factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}"
    )
    return client


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
def batch(api, event) -> AwardBatch:
    category = api.post(
        "/api/v1/events/week/award-categories/",
        {
            "name_zh_hans": "宁波市社会工作示范基地",
            "name_en": "Municipal social work demonstration base",
            "recipient_kind": "organisation",
        },
        format="json",
    ).json()
    response = api.post(
        f"/api/v1/award-categories/{category['id']}/batches/",
        {"number": 5, "title_zh_hans": "第五批", "title_en": "Fifth batch"},
        format="json",
    )
    assert response.status_code == 201, response.content
    return AwardBatch.objects.get(pk=response.json()["id"])


def nominate(api, batch, recipient: dict, **extra) -> dict:
    response = api.post(
        f"/api/v1/award-batches/{batch.pk}/nominations/",
        {"recipient": {"kind": "organisation", **recipient}, **extra},
        format="json",
        **extra.pop("headers", {}),
    )
    assert response.status_code == 201, response.content
    return response.json()


# The API ------------------------------------------------------------------


def test_a_category_answers_in_the_readers_language_and_falls_back(api, event) -> None:
    EventFactory(slug="other")
    created = api.post(
        "/api/v1/events/week/award-categories/",
        {"name_zh_hans": "示范基地", "recipient_kind": "organisation"},
        format="json",
        **EN,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    # Only Chinese was written: English readers get it, and see that English is empty.
    assert body["name"] == "示范基地"
    assert body["name_zh_hans"] == "示范基地" and body["name_en"] is None
    category = AwardCategory.objects.get(pk=body["id"])
    assert (category.name_zh_hans, category.name_en) == ("示范基地", None)


def test_a_plain_text_is_written_in_the_requests_language(api, event) -> None:
    zh = api.post(
        "/api/v1/events/week/award-categories/",
        {"name": "示范基地", "description": "说明", "recipient_kind": "person"},
        format="json",
        **ZH,
    ).json()
    en = api.post(
        "/api/v1/events/week/award-categories/",
        {"name": "Lecturer group", "recipient_kind": "person"},
        format="json",
        **EN,
    ).json()
    assert (zh["name_zh_hans"], zh["name_en"], zh["description_zh_hans"]) == (
        "示范基地",
        None,
        "说明",
    )
    assert (en["name_zh_hans"], en["name_en"]) == (None, "Lecturer group")
    # An explicit column wins over the plain text.
    both = api.post(
        "/api/v1/events/week/award-categories/",
        {"name": "甲", "name_zh_hans": "乙", "recipient_kind": "person"},
        format="json",
        **ZH,
    ).json()
    assert both["name_zh_hans"] == "乙"


def test_a_name_is_needed_in_at_least_one_language(api, event) -> None:
    response = api.post(
        "/api/v1/events/week/award-categories/",
        {"name_en": " ", "name_zh_hans": "", "recipient_kind": "person"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "name" in response.json()["errors"]
    assert not AwardCategory.objects.exists()


def test_a_batch_title_reads_per_language(api, batch) -> None:
    zh = api.get(f"/api/v1/award-batches/{batch.pk}/", **ZH).json()
    en = api.get(f"/api/v1/award-batches/{batch.pk}/", **EN).json()
    assert zh["title"] == "第五批" and en["title"] == "Fifth batch"
    assert zh["title_zh_hans"] == en["title_zh_hans"] == "第五批"
    assert zh["title_en"] == en["title_en"] == "Fifth batch"


def test_a_nomination_in_both_languages_and_its_district(api, batch, event) -> None:
    created = nominate(
        api,
        batch,
        {
            "name_zh_hans": "湾头社区",
            "name_en": "Wantou Community",
            "street_zh_hans": "甬江街道",
            "street_en": "Yongjiang Street",
            "district_zh_hans": "江北区",
            "district_en": "Jiangbei District",
        },
        citation_zh_hans="服务居民二十年。",
        citation_en="Twenty years of service.",
    )
    recipient = created["recipient"]
    assert recipient["district_zh_hans"] == "江北区"
    assert recipient["district_en"] == "Jiangbei District"
    assert created["citation_zh_hans"] == "服务居民二十年。"
    url = f"/api/v1/award-batches/{batch.pk}/nominations/"
    zh = api.get(url, **ZH).json()["results"][0]
    en = api.get(url, **EN).json()["results"][0]
    assert (zh["recipient"]["name"], zh["recipient"]["district"]) == (
        "湾头社区",
        "江北区",
    )
    assert (
        zh["recipient"]["street"] == "甬江街道" and zh["citation"] == "服务居民二十年。"
    )
    assert (en["recipient"]["name"], en["recipient"]["district"]) == (
        "Wantou Community",
        "Jiangbei District",
    )
    assert en["citation"] == "Twenty years of service."
    # Another nomination names the district by either name, in any letter case:
    # the same district of the list, not a new one.
    for name in ("jiangbei district", "江北区"):
        again = nominate(api, batch, {"name_en": f"Demo {name}", "district": name})
        assert again["recipient"]["district_en"] == "Jiangbei District"
    assert District.objects.filter(event=event).count() == 1
    # A Chinese-only nomination reads in Chinese to an English reader too.
    nominate(api, batch, {"name": "庄桥社区"}, headers=ZH)
    only_zh = Recipient.objects.get(name_zh_hans="庄桥社区")
    assert only_zh.name_en is None
    listed = api.get(url, **EN).json()["results"]
    assert "庄桥社区" in [n["recipient"]["name"] for n in listed]
    # No text in a language reads null, as in the events API, "" stored or NULL.
    Recipient.objects.filter(pk=only_zh.pk).update(title_en="", affiliation_en=None)
    again = api.get(url, **EN).json()["results"]
    shown = next(n for n in again if n["recipient"]["name"] == "庄桥社区")
    assert shown["recipient"]["name_en"] is None
    assert shown["recipient"]["title_en"] is None
    assert shown["recipient"]["affiliation_en"] is None
    assert shown["citation_en"] is None


def test_a_citation_is_changed_per_language(api, batch) -> None:
    created = nominate(api, batch, {"name_en": "Wantou"}, citation_en="Old")
    response = api.patch(
        f"/api/v1/nominations/{created['id']}/",
        {"citation_zh_hans": "新的"},
        format="json",
        **EN,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["citation"], body["citation_en"], body["citation_zh_hans"]) == (
        "Old",
        "Old",
        "新的",
    )


def test_the_schema_names_the_language_fields(api) -> None:
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    recipient = next(
        body["properties"]
        for name, body in components.items()
        if name.startswith("RecipientOutput")
    )
    for field in ("name_zh_hans", "name_en", "district_zh_hans", "district_en"):
        assert field in recipient, field
    category_in = components["CategoryInputRequest"]["properties"]
    assert {"name", "name_zh_hans", "name_en", "description_en"} <= set(category_in)


# Districts ----------------------------------------------------------------


def test_district_resolve_finds_either_name_and_completes_the_other(event) -> None:
    first = services.district_resolve(event=event, name="江北区")
    assert (first.name_zh_hans, first.name_en) == ("江北区", None)
    same = services.district_resolve(
        event=event, name_en="Jiangbei District", name_zh_hans="江北区"
    )
    assert same.pk == first.pk
    same.refresh_from_db()
    assert same.name_en == "Jiangbei District", "the missing name is filled in"
    assert (
        services.district_resolve(event=event, name="JIANGBEI district").pk == first.pk
    )
    assert services.district_resolve(event=event, name="  ") is None
    other_event = EventFactory()
    elsewhere = services.district_resolve(event=other_event, name="江北区")
    assert elsewhere.pk != first.pk, "each event keeps its own list"


def test_a_district_name_is_unique_in_its_event(event) -> None:
    services.district_create(
        event=event, name_en="Haishu District", name_zh_hans="海曙区", actor=None
    )
    with pytest.raises(Exception, match="Another district"):
        services.district_create(
            event=event, name_en="haishu district", name_zh_hans="", actor=None
        )


@pytest.fixture
def console(client, organiser):
    client.force_login(organiser)
    return client


def test_the_districts_page_adds_renames_and_deletes(console, event, batch) -> None:
    url = f"/organise/{event.slug}/awards/districts/"
    index = console.get(f"/organise/{event.slug}/awards/").content.decode()
    assert url in index, "the awards console links to the districts"
    added = console.post(url, {"new-name_zh_hans": "江北区", "new-name_en": "Jiangbei"})
    assert added.status_code == 302
    district = District.objects.get(event=event)
    renamed = console.post(
        f"{url}{district.pk}/",
        {
            f"d{district.pk}-name_zh_hans": "江北区",
            f"d{district.pk}-name_en": "Jiangbei District",
        },
    )
    assert renamed.status_code == 302
    district.refresh_from_db()
    assert district.name_en == "Jiangbei District"
    page = console.get(url, **ZH).content.decode()
    assert 'value="江北区"' in page and 'value="Jiangbei District"' in page
    # Nameless: a form error, in the reader's language; nothing added.
    nameless = console.post(url, {"new-name_zh_hans": " ", "new-name_en": ""})
    assert nameless.status_code == 400 and District.objects.count() == 1
    # In use: deleting it is refused with a clear message.
    services.nomination_create(
        batch=batch,
        recipient=services.RecipientData(
            kind="organisation", name="Wantou", district_id=district.pk
        ),
        citation="",
        actor=None,
    )
    refused = console.post(f"{url}{district.pk}/delete/", follow=True)
    assert "district of 1 recipient" in refused.content.decode()
    assert District.objects.filter(pk=district.pk).exists()
    unused = District.objects.create(event=event, name_en="Haishu District")
    console.post(f"{url}{unused.pk}/delete/")
    assert not District.objects.filter(pk=unused.pk).exists()


def test_another_organiser_gets_404_on_the_districts_pages(client, event) -> None:
    district = District.objects.create(event=event, name_en="Jiangbei District")
    client.force_login(UserFactory())
    url = f"/organise/{event.slug}/awards/districts/"
    assert client.get(url).status_code == 404
    assert client.post(f"{url}{district.pk}/", {}).status_code == 404
    assert client.post(f"{url}{district.pk}/delete/").status_code == 404
    assert District.objects.filter(pk=district.pk).exists()


def test_a_district_of_another_event_cannot_be_renamed_here(console, event) -> None:
    theirs = District.objects.create(event=EventFactory(), name_en="Theirs")
    url = f"/organise/{event.slug}/awards/districts/{theirs.pk}/"
    assert console.post(url, {f"d{theirs.pk}-name_en": "Mine"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name_en == "Theirs"


# Console forms ------------------------------------------------------------


def test_the_nomination_form_chooses_a_district_or_adds_one(
    console, event, batch
) -> None:
    jiangbei = District.objects.create(
        event=event, name_zh_hans="江北区", name_en="Jiangbei District"
    )
    District.objects.create(event=EventFactory(), name_en="Someone else's")
    base = f"/organise/{event.slug}/awards/batches/{batch.pk}/nominations/"
    page = console.get(base + "new/", **ZH).content.decode()
    assert f'<option value="{jiangbei.pk}">江北区</option>' in page
    assert "Someone else" not in page
    assert 'lang="zh-Hans"' in page and 'name="name_en"' in page
    response = console.post(
        base + "new/",
        {
            "kind": "organisation",
            "name_zh_hans": "湾头社区",
            "name_en": "Wantou Community",
            "district": jiangbei.pk,
            "language": "zh-hans",
            "citation_zh_hans": "服务居民。",
            "citation_en": "Serves residents.",
        },
    )
    assert response.status_code == 302, response.content.decode()
    nomination = Nomination.objects.get()
    assert nomination.recipient.district == jiangbei
    assert (nomination.citation_zh_hans, nomination.citation_en) == (
        "服务居民。",
        "Serves residents.",
    )
    edit = console.get(base + f"{nomination.pk}/edit/").content.decode()
    assert 'value="湾头社区"' in edit and 'value="Wantou Community"' in edit
    console.post(
        base + f"{nomination.pk}/edit/",
        {
            "kind": "organisation",
            "name_zh_hans": "湾头社区",
            "name_en": "Wantou Community",
            "new_district_zh_hans": "海曙区",
            "new_district_en": "Haishu District",
            "language": "en",
        },
    )
    nomination.refresh_from_db()
    assert nomination.recipient.district.name_en == "Haishu District"
    assert nomination.recipient.district.name_zh_hans == "海曙区"
    both = console.post(
        base + "new/",
        {
            "kind": "organisation",
            "name_en": "Demo",
            "district": jiangbei.pk,
            "new_district_en": "Yinzhou District",
            "language": "en",
        },
    )
    assert both.status_code == 400 and Nomination.objects.count() == 1


def test_category_and_batch_forms_write_both_languages(console, event) -> None:
    awards = f"/organise/{event.slug}/awards/"
    response = console.post(
        awards + "categories/new/",
        {
            "name_zh_hans": "示范基地",
            "name_en": "Demonstration base",
            "description_zh_hans": "市级",
            "recipient_kind": "organisation",
        },
    )
    assert response.status_code == 302
    category = AwardCategory.objects.get(event=event)
    assert (category.name_zh_hans, category.name_en, category.description_zh_hans) == (
        "示范基地",
        "Demonstration base",
        "市级",
    )
    nameless = console.post(
        awards + "categories/new/", {"recipient_kind": "organisation"}, **ZH
    )
    assert nameless.status_code == 400
    console.post(
        awards + f"categories/{category.pk}/batches/new/",
        {"number": 4, "title_zh_hans": "第四批", "title_en": "Fourth batch"},
    )
    batch = AwardBatch.objects.get(category=category)
    edit = console.get(awards + f"batches/{batch.pk}/edit/").content.decode()
    assert 'value="第四批"' in edit and 'value="Fourth batch"' in edit
    console.post(
        awards + f"batches/{batch.pk}/edit/",
        {"number": 4, "title_zh_hans": "第四批示范基地", "title_en": "Fourth batch"},
    )
    batch.refresh_from_db()
    assert batch.title_zh_hans == "第四批示范基地" and batch.title_en == "Fourth batch"


def test_the_csv_import_takes_either_district_name_and_language_columns(
    console, event, batch
) -> None:
    District.objects.create(
        event=event, name_zh_hans="江北区", name_en="Jiangbei District"
    )
    text = (
        "name_zh_hans,name_en,district,citation\n"
        "湾头社区,Wantou Community,江北区,服务居民\n"
        "示范社区07,Demo Community 07,jiangbei district,\n"
        ",Demo Community 08,Haishu District,Serves residents\n"
    )
    url = f"/organise/{event.slug}/awards/batches/{batch.pk}/nominations/import/"
    response = console.post(url, {"file": SimpleUploadedFile("n.csv", text.encode())})
    assert response.status_code == 302, response.content.decode()
    recipients = list(
        Recipient.objects.order_by("pk").values_list(
            "name_zh_hans", "name_en", "district__name_en"
        )
    )
    assert recipients == [
        ("湾头社区", "Wantou Community", "Jiangbei District"),
        ("示范社区07", "Demo Community 07", "Jiangbei District"),
        (None, "Demo Community 08", "Haishu District"),
    ] or recipients == [
        ("湾头社区", "Wantou Community", "Jiangbei District"),
        ("示范社区07", "Demo Community 07", "Jiangbei District"),
        ("", "Demo Community 08", "Haishu District"),
    ]
    # A plain Chinese citation lands in the Chinese column, an English one in English.
    citations = list(
        Nomination.objects.order_by("pk").values_list("citation_zh_hans", "citation_en")
    )
    assert citations[0][0] == "服务居民" and citations[2][1] == "Serves residents"
    assert District.objects.filter(event=event).count() == 2


# The honour roll -------------------------------------------------------------


@pytest.fixture
def roll():
    event = branded_event()
    return announced_batch(event)


def test_the_honour_roll_finds_wantou_by_either_district_name(client, roll) -> None:
    for query in ("江北区", "Jiangbei", "jiangbei district"):
        page = client.get("/honour-roll/", {"district": query}, **ZH).content.decode()
        assert "湾头社区" in page, query
        assert "示范社区07" not in page, query
    none = client.get("/honour-roll/", {"district": "海曙区"}).content.decode()
    assert "Wantou Community" not in none and "海曙区" in none
    words = client.get("/honour-roll/", {"q": "甬江"}, **EN).content.decode()
    assert "Wantou Community" in words and "Demo Community 07" in words


def test_the_honour_roll_filters_by_batch_and_category(client, roll) -> None:
    other = announced_batch(branded_event(slug="second-week"), prefix="NBLG")
    page = client.get("/honour-roll/", **EN).content.decode()
    assert (
        f'<option value="{roll.pk}"' in page and f'<option value="{other.pk}"' in page
    )
    assert f'<option value="{roll.category_id}"' in page
    only = client.get("/honour-roll/", {"batch": roll.pk}, **EN).content.decode()
    assert only.count("Wantou Community</strong>") == 1
    by_category = client.get(
        "/honour-roll/", {"category": other.category_id}, **EN
    ).content.decode()
    assert other.certificates.first().number in by_category
    assert roll.certificates.first().number not in by_category
    junk = client.get("/honour-roll/", {"batch": "x²", "category": "-1"})
    assert junk.status_code == 200
    # PostgreSQL refuses NUL in a text value: typed into a search, it is dropped.
    for query in ({"district": "江\x00"}, {"q": "a\x00b"}):
        assert client.get("/honour-roll/", query).status_code == 200
        assert client.get("/api/v1/honour-roll/", query).status_code == 200


def test_the_honour_roll_page_reads_in_one_language(client, roll) -> None:
    zh = client.get("/honour-roll/", **ZH).content.decode()
    for chinese in (
        "湾头社区",
        "江北区",
        "第五批市级社会工作示范基地",
        "宁波市社会工作示范基地",
    ):
        assert chinese in zh
    for english in (
        "Wantou Community",
        "Jiangbei District",
        "Fifth batch of municipal",
        "Municipal social work demonstration base",
        "Ningbo Social Work Publicity Week",
    ):
        assert english not in zh, english
    en = client.get("/honour-roll/", **EN).content.decode()
    assert "Wantou Community" in en and "Jiangbei District" in en
    assert not re.search(r"湾头社区|江北区|第五批", en)


def test_the_honour_roll_api_answers_in_the_readers_language(roll) -> None:
    zh = APIClient().get("/api/v1/honour-roll/", {"district": "Jiangbei"}, **ZH).json()
    assert [r["name"] for r in zh[0]["recipients"]] == ["湾头社区"]
    assert zh[0]["recipients"][0]["district"] == "江北区"
    assert zh[0]["title"] == "第五批市级社会工作示范基地"
    assert zh[0]["category"] == "宁波市社会工作示范基地"
    en = APIClient().get("/api/v1/honour-roll/", {"district": "江北区"}, **EN).json()
    assert [r["name"] for r in en[0]["recipients"]] == ["Wantou Community"]
    assert en[0]["recipients"][0]["district"] == "Jiangbei District"
    everyone = APIClient().get("/api/v1/honour-roll/", {"batch": roll.pk}).json()
    assert len(everyone[0]["recipients"]) == 2
    assert APIClient().get("/api/v1/honour-roll/", {"category": 0}).status_code == 200


def test_the_honour_roll_api_counts_its_queries(
    roll, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(6):
        APIClient().get("/api/v1/honour-roll/", **ZH)


# Local time ----------------------------------------------------------------


def test_console_batch_pages_name_the_zone_the_local_way(client, roll) -> None:
    client.force_login(roll.category.event.organiser)
    event = roll.category.event
    for page in ("", "run-of-show/", "script/"):
        url = f"/organise/{event.slug}/awards/batches/{roll.pk}/{page}"
        zh = client.get(url, **ZH).content.decode()
        en = client.get(url, **EN).content.decode()
        assert "北京时间" in zh and "Asia/Shanghai" not in zh, url
        assert "China Standard Time" in en, url


# The admin -----------------------------------------------------------------


def test_the_admin_shows_each_language_and_the_districts(client, roll) -> None:
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get(f"/admin/awards/awardcategory/{roll.category_id}/change/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "name_zh_hans" in body and "name_en" in body
    recipients = client.get("/admin/awards/recipient/").content.decode()
    assert "湾头社区" in recipients and "Wantou Community" in recipients
    districts = client.get("/admin/awards/district/").content.decode()
    assert "江北区" in districts and "Jiangbei District" in districts
    district = District.objects.get(event=roll.category.event)
    refused = client.post(
        f"/admin/awards/district/{district.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert refused.status_code == 200
    assert District.objects.filter(pk=district.pk).exists()
    added = client.post(
        "/admin/awards/district/add/",
        {"event": roll.category.event_id, "name_zh_hans": "海曙区", "name_en": ""},
    )
    assert added.status_code == 302, re.findall(
        r"errorlist.{0,300}", added.content.decode()
    )
    assert District.objects.filter(name_zh_hans="海曙区").exists()


def test_a_revoked_certificate_is_marked_on_the_honour_roll(client, roll) -> None:
    """The public roll must not show a revoked certificate as if it stood."""
    from awards.services import certificate_revoke

    certificate = roll.certificates.order_by("sequence").first()
    before = client.get("/honour-roll/", **ZH).content.decode()
    assert "已撤销" not in before
    certificate_revoke(certificate=certificate, reason="名称有误。", actor=None)
    page = client.get("/honour-roll/", **ZH).content.decode()
    number = page.index(certificate.number)
    assert "已撤销" in page[number : number + 200]
    english = client.get("/honour-roll/", **EN).content.decode()
    number = english.index(certificate.number)
    assert "revoked" in english[number : number + 200]


def test_the_honour_roll_joins_a_chinese_name_with_chinese_commas(client, roll) -> None:
    from awards.models import Recipient

    Recipient.objects.filter(name_zh_hans="湾头社区").update(title_zh_hans="示范基地")
    page = client.get("/honour-roll/", **ZH).content.decode()
    assert "湾头社区</strong>，示范基地" in page
    english = client.get("/honour-roll/", **EN).content.decode()
    assert "Wantou Community</strong>, " in english
