"""``manage.py seed_demo``: the 2021 Social Work Publicity Week, ready to register for.

Everything people read is written in Simplified Chinese and in English, each in
its own column (``<field>_zh_hans``, ``<field>_en``), with the names the story
gives; the event carries its organiser's name, logo, seal and signatory.

Idempotent: a second run finds the same rows by stable keys (the event's slug, the
English names the demo has always used) and updates their texts and images instead
of adding new ones; the dates move along with the clock. What an announced batch
says stays as announced (DESIGN.md invariant 8): the seed only fills a language it
lacks.

It lives in ``awards``, the top of the import chain (awards -> events ->
notifications), since it loads both apps' data and nothing imports it.
"""

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone, translation

from awards import services as awards
from awards.models import AwardBatch, AwardCategory, District, Nomination
from events import services
from events.errors import AlreadyRegistered
from events.models import Event, Question, Registration, Session, Venue
from events.notices import ABOUT
from notifications.models import Notification

SLUG = "social-work-week-2021"
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
ASSETS = Path(__file__).resolve().parents[2] / "demo"  # awards/demo: drawn by draw.py


@dataclass(frozen=True)
class Text:
    """One text in both languages."""

    en: str
    zh: str = ""

    def columns(self, field: str) -> dict[str, str]:
        return {f"{field}_en": self.en, f"{field}_zh_hans": self.zh}


def texts(**fields: Text) -> dict[str, str]:
    """``texts(title=Text(...))`` -> ``{"title_en": ..., "title_zh_hans": ...}``."""
    columns: dict[str, str] = {}
    for field, text in fields.items():
        columns.update(text.columns(field))
    return columns


EVENT = texts(
    title=Text(
        "2021 Ningbo (Jiangbei) Social Work Publicity Week",
        "2021年宁波（江北）社会工作宣传周",
    ),
    description=Text(
        "A week of social work gathering its strength for rural revitalisation: the "
        "release of the Ningbo Social Work LOGO, the award of the fourth and fifth "
        "batches of municipal social work demonstration bases, the appointment of the "
        "Supervisory Lecturer Group and the districts' outstanding projects.",
        "汇聚社工力量，助力乡村振兴：宁波社工LOGO正式发布，第四、五批市级社会工作"
        "示范基地授牌，社会工作督导讲师团聘任，各区优秀社工项目展示。",
    ),
    # The story names no issuing body: the week's own organising committee, so that
    # the demo's seal is not taken for a real authority's.
    organiser_name=Text(
        "Organising Committee of the Ningbo (Jiangbei) Social Work Publicity Week",
        "宁波（江北）社会工作宣传周组委会",
    ),
    # Synthetic: the story names no signatory.
    signatory_name=Text("Wang Lihua", "王丽华"),
    signatory_title=Text("Director of the Organising Committee", "组委会主任"),
)
ACCENT_COLOUR = "#C4500F"  # the logo's orange, dark enough for text on white (4.7:1)
VENUE = texts(
    name=Text("Ningbo Talents House", "宁波人才之家"),
    address=Text("Jiangbei District, Ningbo", "宁波市江北区"),
)


@dataclass(frozen=True)
class SessionPlan:
    day: int
    start: str
    end: str
    kind: str
    capacity: int
    title: Text
    description: Text


SESSIONS = [
    SessionPlan(
        0,
        "09:30",
        "11:00",
        Session.Kind.CEREMONY,
        300,
        Text("Kick-off and logo release", "启动仪式暨宁波社工LOGO发布"),
        Text(
            "The week opens at Ningbo Talents House and the orange LOGO of Ningbo "
            "Social Work is released: two social workers with a heart between them.",
            "宣传周在宁波人才之家启动，以橙色为主色调的宁波社工LOGO正式发布："
            "两位社工之间是一颗心。",
        ),
    ),
    SessionPlan(
        0,
        "14:00",
        "16:00",
        Session.Kind.CEREMONY,
        200,
        Text(
            "Award ceremony: fourth and fifth batches of demonstration bases",
            "第四、五批市级社会工作示范基地授牌仪式",
        ),
        Text(
            "More than 20 communities, among them the newly selected Wantou Community "
            "of Yongjiang Street, Jiangbei District, receive the plaque of a municipal "
            "social work demonstration base.",
            "20余个社区获授市级社会工作示范基地牌匾，其中包括新入选的江北区甬江街道"
            "湾头社区。",
        ),
    ),
    SessionPlan(
        1,
        "09:30",
        "10:30",
        Session.Kind.CEREMONY,
        120,
        Text(
            "Appointment of the Supervisory Lecturer Group",
            "宁波市社会工作督导讲师团聘任仪式",
        ),
        Text(
            "Ten municipal social work supervisory talents are appointed to the Ningbo "
            "Social Work Supervisory Lecturer Group.",
            "10名市级社会工作督导人才受聘为宁波市社会工作督导讲师团成员。",
        ),
    ),
    SessionPlan(
        1,
        "14:00",
        "16:30",
        Session.Kind.SHOWCASE,
        150,
        Text(
            "Showcase of outstanding projects: Haishu, Yinzhou and Jiangbei",
            "优秀社会工作项目展示：海曙、鄞州、江北",
        ),
        Text(
            "Haishu, Yinzhou and Jiangbei districts show what social work has "
            "achieved, project by project.",
            "海曙区、鄞州区、江北区逐一展示社会工作成效和优秀项目。",
        ),
    ),
    SessionPlan(
        2,
        "10:00",
        "11:30",
        Session.Kind.TALK,
        40,
        Text(
            "Ciyuan Post: employment assistance in Cicheng Town",
            "慈园驿站：慈城镇就业帮扶社工项目分享",
        ),
        Text(
            "Cicheng Town Social Workstation on how its Ciyuan Post project has helped "
            "more than 150 residents find suitable jobs, and its turn to the "
            "integrated development of agriculture and tourism.",
            "慈城镇社会工作站分享“慈园驿站”就业帮扶项目如何帮助150余名居民找到合适的"
            "工作，以及项目如何转向助力农旅融合发展。",
        ),
    ),
]
# Demo registrations per session (in SESSIONS order): how many people, and how many
# of them cancel later. The Ciyuan Post talk (40 seats) fills up and has a waiting
# list; the others keep seats free. The people are "Demo Attendee NN"
# (demo-attendee-NN@example.org), drawn from a pool so that some register for
# several sessions; the talk's are 01 to 48, as earlier demos had 01 to 36.
DEMO_PLAN = [(74, 6), (46, 4), (31, 2), (42, 3), (48, 3)]
DEMO_PEOPLE = 120
DEMO_DAYS = 10  # registrations spread over the last ten days
# Share of the confirmed who have checked in, per session, so that the dashboard's
# check-in progress has something to show before the week itself.
DEMO_CHECKED_IN = [0.6, 0.25, 0, 0, 0]
# Confirmations of these people bounced, so that the mail health shows failures.
DEMO_BOUNCED = (13, 58, 97)

# (key, Chinese, English): the registration form's district question, and the
# event's district list. The story names Haishu, Yinzhou and Jiangbei.
DEMO_DISTRICTS = [
    ("jiangbei", "江北区", "Jiangbei District"),
    ("haishu", "海曙区", "Haishu District"),
    ("yinzhou", "鄞州区", "Yinzhou District"),
]
JIANGBEI, HAISHU, YINZHOU = (Text(en, zh) for _key, zh, en in DEMO_DISTRICTS)


@dataclass(frozen=True)
class RecipientPlan:
    name: Text
    district: Text | None
    citation: Text
    title: Text = Text("")
    affiliation: Text = Text("")
    street: Text = Text("")
    community: Text = Text("")
    # A few recipients have an address, so that the announcement mails them (in
    # their language) and reserves their seat at the ceremony.
    email: str = ""
    language: str = "zh-hans"

    def data(self, kind: str) -> awards.RecipientData:
        return awards.RecipientData(
            kind=kind,
            email=self.email,
            language=self.language,
            district=self.district.en if self.district else "",
            texts=texts(
                name=self.name,
                title=self.title,
                affiliation=self.affiliation,
                street=self.street,
                community=self.community,
            ),
        )


CITATIONS = [
    Text(
        "Years of neighbourhood social work that residents can name.",
        "多年扎根社区开展社会工作，居民有口皆碑。",
    ),
    Text(
        "A volunteer network that reaches every building.",
        "志愿服务网络覆盖每一栋楼。",
    ),
    Text(
        "Services for the elderly and children, run with the community.",
        "与社区共建“一老一小”服务。",
    ),
]
CYCLE = [HAISHU, YINZHOU, JIANGBEI]


def demo_community(n: int) -> RecipientPlan:
    """A clearly synthetic community, to make up the story's numbers; the third
    reads its mail in English."""
    return RecipientPlan(
        name=Text(f"Demo Community {n:02d}", f"示范社区{n:02d}"),
        district=CYCLE[n % len(CYCLE)],
        citation=CITATIONS[n % len(CITATIONS)],
        email="demo-community-03@example.org" if n == 3 else "",
        language="en" if n == 3 else "zh-hans",
    )


# The story's recipients, then clearly synthetic ones to make up the numbers.
# Wantou Community is in the announced fourth batch, so that the honour roll shows
# it; the fifth batch is the draft the demo judge is scoring.
BASES_FOURTH = [
    RecipientPlan(
        name=Text("Wantou Community", "湾头社区"),
        street=Text("Yongjiang Street", "甬江街道"),
        district=JIANGBEI,
        email="wantou@example.org",
        citation=Text(
            "Newly selected: a community of Yongjiang Street where residents, social "
            "workers and volunteers run their services together.",
            "新入选：甬江街道湾头社区，居民、社工与志愿者携手共建社区服务。",
        ),
    ),
    *(demo_community(n) for n in range(1, 10)),
]
BASES_FIFTH = [
    RecipientPlan(
        name=Text("Cicheng Town Social Workstation", "慈城镇社会工作站"),
        street=Text("Cicheng Town", "慈城镇"),
        district=JIANGBEI,
        citation=Text(
            "Its Ciyuan Post employment-assistance project has helped more than 150 "
            "residents find suitable jobs and now serves the integrated development "
            "of agriculture and tourism.",
            "其“慈园驿站”就业帮扶项目已帮助150余名居民找到合适的工作，目前聚焦助力"
            "农旅融合发展。",
        ),
    ),
    *(demo_community(n) for n in range(10, 21)),
]
LECTURERS = [
    RecipientPlan(
        name=Text("Chen Jiammeng", "陈佳萌"),
        title=Text("Party branch secretary", "党支部书记"),
        affiliation=Text(
            "Weilaishengyuan Community, Qianjiang Street", "前江街道未来生园社区"
        ),
        street=Text("Qianjiang Street", "前江街道"),
        community=Text("Weilaishengyuan Community", "未来生园社区"),
        district=JIANGBEI,
        email="chen.jiammeng@example.org",
        citation=Text(
            "A Party branch secretary who brings supervision to the community social "
            "workers of Qianjiang Street.",
            "社区党支部书记，把专业督导带进前江街道的社区社工队伍。",
        ),
    ),
    *(
        RecipientPlan(
            name=Text(f"Demo Lecturer {n:02d}", f"示范讲师{n:02d}"),
            title=Text("Municipal supervisory talent", "市级社会工作督导人才"),
            affiliation=Text("Demo Social Work Service Centre", "示范社会工作服务中心"),
            district=None,
            email="demo-lecturer-02@example.org" if n == 2 else "",
            language="en" if n == 2 else "zh-hans",
            citation=Text(
                "A municipal supervisory talent who trains and supervises frontline "
                "social workers.",
                "市级社会工作督导人才，长期培训和督导一线社工。",
            ),
        )
        for n in range(2, 11)
    ),
]

CATEGORIES = {
    "bases": (
        texts(
            name=Text(
                "Municipal social work demonstration base", "市级社会工作示范基地"
            ),
            description=Text(
                "Communities and units whose social work shows the way for the city.",
                "社会工作服务成效突出、可供全市学习借鉴的社区和单位。",
            ),
        ),
        {"recipient_kind": "organisation", "certificate_prefix": "NBSW"},
    ),
    "lecturers": (
        texts(
            name=Text(
                "Supervisory Lecturer Group member", "宁波市社会工作督导讲师团成员"
            ),
            description=Text(
                "Municipal social work supervisory talents who teach and supervise "
                "the city's social workers.",
                "为全市社工授课、提供专业督导的市级社会工作督导人才。",
            ),
        ),
        {"recipient_kind": "person", "certificate_prefix": "NBSL"},
    ),
}
ALL_RECIPIENTS = [*BASES_FOURTH, *BASES_FIFTH, *LECTURERS]
# (category, number, title, ceremony session index, recipients, plan)
BATCHES = [
    (
        "bases",
        4,
        Text(
            "Fourth batch of municipal social work demonstration bases",
            "第四批市级社会工作示范基地",
        ),
        1,
        BASES_FOURTH,
        "announce",
    ),
    (
        "bases",
        5,
        Text(
            "Fifth batch of municipal social work demonstration bases",
            "第五批市级社会工作示范基地",
        ),
        1,
        BASES_FIFTH,
        "judge",
    ),
    (
        "lecturers",
        1,
        Text(
            "Ningbo Social Work Supervisory Lecturer Group",
            "宁波市社会工作督导讲师团",
        ),
        2,
        LECTURERS,
        "appoint",
    ),
]

# The demo's judges: the first signs in (make demo prints the login) and scores the
# fifth batch; all three scored the fourth before it was announced. Judges write
# their comments in one language, as people do.
DEMO_JUDGE = "judge@example.org"
DEMO_PASSWORD = "podium-demo"  # noqa: S105 (the demo's published password)
DEMO_PANEL = [DEMO_JUDGE, "judge.wang@example.org", "judge.li@example.org"]
REVIEW_COMMENTS = [
    "材料扎实，成效明显。",
    "Good work; the numbers could be clearer.",
    "",
]


def _at(day: dt.date, clock: str) -> dt.datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def _first(queryset: Any, columns: dict[str, str], *fields: str) -> Any:
    """The row whose English or Chinese value of a field is the demo's (the stable
    key: earlier demos had the same names), else None."""
    match = Q()
    for field in fields:
        for suffix in ("en", "zh_hans"):
            if columns.get(f"{field}_{suffix}"):
                match |= Q(**{f"{field}_{suffix}": columns[f"{field}_{suffix}"]})
    return queryset.filter(match).order_by("pk").first() if match else None


def _write(row: Model, columns: dict[str, Any], *, fill_only: bool = False) -> None:
    """Sets the language columns on a row and saves what changed; ``fill_only``
    sets only the columns still empty."""
    changed = []
    for column, value in columns.items():
        current = getattr(row, column)
        if current == value or (fill_only and current):
            continue
        setattr(row, column, value)
        changed.append(column)
    if changed:
        # The plain column is saved too: it keeps a copy for readers that bypass
        # the translation, as the services keep it.
        plain = {c.removesuffix("_en").removesuffix("_zh_hans") for c in changed}
        row.save(update_fields=[*changed, *plain])


class Command(BaseCommand):
    help = "Loads the 2021 Social Work Publicity Week demo (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        # What the services write down as said at the time (the audit log's
        # details, the name on a reserved ceremony seat) is in the site's
        # language, whatever language the caller had active: the same every run.
        with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
            self._load()

    def _load(self) -> None:
        today = timezone.localdate(timezone=TZ)
        first_day = today + dt.timedelta(days=14)
        venue = _first(Venue.objects.all(), VENUE, "name") or Venue.objects.create(
            **VENUE
        )
        _write(venue, VENUE)
        event = Event.objects.filter(slug=SLUG).first()
        dates = {
            "status": Event.Status.PUBLISHED,
            "timezone": "Asia/Shanghai",
            "starts_on": first_day,
            "ends_on": first_day + dt.timedelta(days=2),
            "venue": venue,
            "registration_opens_at": timezone.now() - dt.timedelta(days=DEMO_DAYS + 1),
            "registration_closes_at": _at(first_day, "09:00"),
            "accent_colour": ACCENT_COLOUR,
        }
        if event is None:
            event = Event.objects.create(slug=SLUG, **dates, **EVENT)
        else:
            Event.objects.filter(pk=event.pk).update(**dates)
            event.refresh_from_db()
        _write(event, EVENT)
        self._images(event)
        sessions = []
        for plan in SESSIONS:
            date = first_day + dt.timedelta(days=plan.day)
            columns = texts(title=plan.title, description=plan.description)
            values = {
                "kind": plan.kind,
                "starts_at": _at(date, plan.start),
                "ends_at": _at(date, plan.end),
                "venue": venue,
            }
            session = _first(event.sessions.all(), columns, "title")
            if session is None:
                session = Session.objects.create(
                    event=event, capacity=plan.capacity, **values, **columns
                )
            else:
                services.session_update(session=session, data=values)
                session.refresh_from_db()
                _write(session, columns)
            sessions.append(session)
        self._districts(event)
        self._awards(event, sessions)
        self._form(event)
        added = self._registrations(event, sessions)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo week {event.slug}: {event.sessions.count()} sessions from {first_day}, "
                f"{added} new demo registrations."
            )
        )

    def _images(self, event: Event) -> None:
        """The demo's logo and seal (awards/demo), stored through the event's image
        fields (Django's storage); a second run keeps files that are the same."""
        changed = []
        for field in ("logo", "seal"):
            content = (ASSETS / f"{field}.png").read_bytes()
            stored = getattr(event, field)
            if stored.name and stored.storage.exists(stored.name):
                with stored.storage.open(stored.name, "rb") as file:
                    if file.read() == content:
                        continue
                transaction.on_commit(partial(stored.storage.delete, stored.name))
            stored.save(f"{field}.png", ContentFile(content), save=False)
            changed.append(field)
        if changed:
            event.save(update_fields=changed)

    def _districts(self, event: Event) -> None:
        """The event's district list: the three the story names, in both languages."""
        for _key, zh, en in DEMO_DISTRICTS:
            columns = texts(name=Text(en, zh))
            district = _first(District.objects.filter(event=event), columns, "name")
            if district is None:
                District.objects.create(event=event, **columns)
            else:
                _write(district, columns)

    def _form(self, event: Event) -> None:
        """Two questions of the organiser on the registration form.

        The demo event has no privacy notice: with one, registering through the
        API needs ``consent``, which the API contract's clients do not send.
        """
        if event.questions.exists():
            return
        Question.objects.create(
            event=event,
            position=1,
            kind=Question.Kind.SINGLE_CHOICE,
            label_zh_hans="所在区（县、市）",
            label_en="Your district",
            choices=[
                {"value": value, "label_zh_hans": zh, "label_en": en}
                for value, zh, en in DEMO_DISTRICTS
            ],
        )
        Question.objects.create(
            event=event,
            position=2,
            kind=Question.Kind.YES_NO,
            label_zh_hans="是否需要手语翻译？",
            label_en="Do you need a sign-language interpreter?",
        )

    def _answers(self, event: Event, n: int) -> dict[str, object]:
        district, interpreter = event.questions.order_by("position")[:2]
        return {
            str(district.pk): DEMO_DISTRICTS[n % len(DEMO_DISTRICTS)][0],
            str(interpreter.pk): n % 17 == 0,
        }

    def _awards(self, event: Event, sessions: list[Session]) -> None:
        """The story's award batches, showing the whole workflow.

        Batch 4 is announced, with real scores of three judges (one declared a
        conflict); batch 5 is a draft that the demo judge has scored in part; the
        Supervisory Lecturer Group is appointed, with certificates. A batch seeded
        by an earlier run keeps its scores and decisions; its texts are brought up
        to date (an announced one only gains the language it lacked).
        """
        categories = {}
        for key, (columns, options) in CATEGORIES.items():
            category = _first(
                AwardCategory.objects.filter(event=event), columns, "name"
            )
            if category is None:
                category = AwardCategory.objects.create(
                    event=event, **options, **columns
                )
            else:
                _write(category, columns)
            categories[key] = category
        for key, number, title, ceremony, recipients, plan in BATCHES:
            category = categories[key]
            batch = AwardBatch.objects.filter(category=category, number=number).first()
            if batch is None:
                batch = AwardBatch.objects.create(
                    category=category,
                    number=number,
                    ceremony_session=sessions[ceremony],
                    **texts(title=title),
                )
            _write(batch, texts(title=title), fill_only=not batch.is_draft)
            if batch.nominations.exists():
                self._update_nominations(batch, recipients)
                continue
            nominations = [
                awards.nomination_create(
                    batch=batch,
                    recipient=recipient.data(category.recipient_kind),
                    citation="",
                    actor=None,
                )
                for recipient in recipients
            ]
            for nomination, recipient in zip(nominations, recipients, strict=True):
                _write(nomination, texts(citation=recipient.citation))
            self._decide(batch, nominations, plan)

    def _update_nominations(
        self, batch: AwardBatch, recipients: list[RecipientPlan]
    ) -> None:
        """Brings an earlier run's nominations up to date, each found by its
        recipient's name in either language; a draft batch gains the recipients it
        lacks."""
        event = batch.category.event
        # Earlier demos put some recipients in another batch: they are found too.
        known = recipients + [r for r in ALL_RECIPIENTS if r not in recipients]
        for recipient in known:
            names = texts(name=recipient.name)
            nomination = _first(
                Nomination.objects.filter(batch=batch).select_related("recipient"),
                {f"recipient__{c}": v for c, v in names.items()},
                "recipient__name",
            )
            if nomination is None:
                if batch.is_draft and recipient in recipients:
                    nomination = awards.nomination_create(
                        batch=batch,
                        recipient=recipient.data(batch.category.recipient_kind),
                        citation="",
                        actor=None,
                    )
                    _write(nomination, texts(citation=recipient.citation))
                continue
            fill_only = not batch.is_draft
            person = nomination.recipient
            _write(
                person,
                recipient.data(batch.category.recipient_kind).texts,
                fill_only=fill_only,
            )
            if recipient.district and (person.district is None or not fill_only):
                district = awards.district_resolve(
                    event=event, name=recipient.district.en
                )
                if person.district_id != getattr(district, "pk", None):
                    person.district = district
                    person.save(update_fields=["district"])
            _write(nomination, texts(citation=recipient.citation), fill_only=fill_only)

    def _decide(
        self, batch: AwardBatch, nominations: list[Nomination], plan: str
    ) -> None:
        if plan == "judge":
            # The demo judge has scored the first five: "scored 5 of 12".
            judge = self._judge(batch, DEMO_JUDGE)
            for index, nomination in enumerate(nominations[:5]):
                awards.review_create(
                    nomination=nomination,
                    judge=judge,
                    score=8 - index % 3,
                    comment=REVIEW_COMMENTS[index % len(REVIEW_COMMENTS)],
                    conflict_of_interest=False,
                )
            return
        if plan == "announce":
            judges = [self._judge(batch, email) for email in DEMO_PANEL]
            for index, nomination in enumerate(nominations):
                for offset, judge in enumerate(judges):
                    awards.review_create(
                        nomination=nomination,
                        judge=judge,
                        # Deterministic, and different enough to rank and spread.
                        score=max(1, min(10, 9 - index % 5 + (offset - 1))),
                        comment=REVIEW_COMMENTS[
                            (index + offset) % len(REVIEW_COMMENTS)
                        ],
                        conflict_of_interest=(index == 3 and offset == 2),
                    )
        awards.nominations_decide(
            batch=batch,
            nomination_ids=[n.pk for n in nominations],
            status="awarded",
            actor=None,
        )
        awards.batch_approve(batch=batch, actor=None)
        # Certificates are numbered with the year the event starts in, e.g.
        # NBSW-2026-04-001 (awards.services): the year of the demo week's dates.
        awards.batch_announce(batch=batch, actor=None)

    def _judge(self, batch: Any, email: str) -> Any:
        """A demo judge of the batch; the first one signs in with the demo password."""
        judge = awards.judge_add(batch=batch, email=email, actor=None)
        if email == DEMO_JUDGE and not judge.has_usable_password():
            judge.set_password(DEMO_PASSWORD)
            judge.save(update_fields=["password"])
        return judge

    def _registrations(self, event: Event, sessions: list[Session]) -> int:
        """Registrations over the last days, some cancelled, promoted, checked in,
        with their emails in several states, made through the services.

        The services stamp everything "now"; the demo then moves the stamps back
        to the planned moments, so that the dashboard has a history to draw. A
        second run adds nobody and moves the stamps along with the clock.
        """
        now = timezone.now()
        rng = random.Random(2021)
        plan: list[tuple[dt.datetime, int, int, bool]] = []
        for index, (count, cancelling) in enumerate(DEMO_PLAN):
            if index == len(DEMO_PLAN) - 1:
                people = list(range(1, count + 1))
            else:
                people = sorted(rng.sample(range(1, DEMO_PEOPLE + 1), count))
            cancels = set(rng.sample(people[: count * 2 // 3], cancelling))
            for n in people:
                # More people register on the first days and again lately.
                days_ago = rng.choices(
                    range(DEMO_DAYS + 1),
                    weights=[9, 7, 5, 4, 3, 3, 4, 5, 7, 9, 6],
                )[0]
                at = now - dt.timedelta(days=days_ago, minutes=rng.randint(0, 12 * 60))
                plan.append((at, index, n, n in cancels))
        plan.sort()
        # The newest three arrived a moment ago: their mail is still on its way.
        for back, seconds in zip(range(1, 4), (100, 70, 40), strict=True):
            at, index, n, cancel = plan[-back]
            plan[-back] = (now - dt.timedelta(seconds=seconds), index, n, False)
        plan.sort()

        registered = {
            (session_id, email.lower())
            for session_id, email in Registration.objects.filter(
                session__event=event
            ).values_list("session_id", "email")
        }
        added = 0
        for _at_time, index, n, _cancel in plan:
            session = sessions[index]
            email = f"demo-attendee-{n:02d}@example.org"
            if (session.pk, email) in registered:
                continue
            try:
                services.registration_create(
                    session=session,
                    attendee=services.AttendeeData(
                        full_name=f"Demo Attendee {n:02d}",
                        email=email,
                        organisation="Demo Social Workstation",
                        language="zh-hans" if n % 3 == 0 else "en",
                    ),
                    answers=self._answers(event, n),
                )
                added += 1
            except AlreadyRegistered:
                pass

        rows = {
            (r.session_id, r.email.lower()): r
            for r in Registration.objects.filter(
                session__event=event, email__startswith="demo-attendee-"
            )
        }
        moments: dict[int, dict[str, dt.datetime]] = {}
        for at, index, n, cancel in plan:
            # A cancellation (or a promotion) some hours after registering.
            later = min(
                at + dt.timedelta(hours=rng.randint(6, 72)),
                now - dt.timedelta(minutes=30),
            )
            registration = rows.get(
                (sessions[index].pk, f"demo-attendee-{n:02d}@example.org")
            )
            if registration is None:
                continue
            if cancel:
                services.registration_cancel_by_organiser(registration=registration)
            moments[registration.pk] = {
                "registration_confirmed": at,
                "registration_waitlisted": at,
                "registration_cancelled": max(later, at),
                "registration_promoted": max(later, at),
            }
        self._backdate(moments, now)
        for share, session in zip(DEMO_CHECKED_IN, sessions, strict=True):
            confirmed = list(
                Registration.objects.filter(
                    session=session,
                    status=Registration.Status.CONFIRMED,
                    email__startswith="demo-attendee-",
                )
                .order_by("email")
                .values_list("code", flat=True)
            )
            for code in confirmed[: int(len(confirmed) * share)]:
                services.registration_check_in(event=event, code=code)
        return added

    def _backdate(
        self, moments: dict[int, dict[str, dt.datetime]], now: dt.datetime
    ) -> None:
        """Moves registrations and their emails back to the planned moments; emails
        older than a few minutes count as sent, a few as bounced."""
        registrations = list(Registration.objects.filter(pk__in=moments))
        for registration in registrations:
            planned = moments[registration.pk]
            registration.created_at = planned["registration_confirmed"]
            if registration.cancelled_at is not None:
                registration.cancelled_at = planned["registration_cancelled"]
            if registration.promoted_at is not None:
                registration.promoted_at = planned["registration_promoted"]
        Registration.objects.bulk_update(
            registrations, ["created_at", "cancelled_at", "promoted_at"], batch_size=500
        )
        bounced = {f"demo-attendee-{n:02d}@example.org" for n in DEMO_BOUNCED}
        notifications = list(
            Notification.objects.filter(
                about_type=ABOUT, about_id__in=[str(pk) for pk in moments]
            )
        )
        for notification in notifications:
            at = moments[int(notification.about_id)].get(notification.kind)
            if at is None:
                continue
            notification.created_at = notification.send_after = at
            if notification.status != Notification.Status.PENDING:
                continue
            if (
                notification.kind == "registration_confirmed"
                and notification.recipient in bounced
            ):
                notification.status = Notification.Status.FAILED
                notification.attempts = 3
                notification.last_error = (
                    "550 5.1.1 Recipient address rejected: mailbox unavailable (demo)"
                )
            elif at < now - dt.timedelta(minutes=10):
                notification.status = Notification.Status.SENT
                notification.attempts = 1
                notification.sent_at = at + dt.timedelta(seconds=3)
        Notification.objects.bulk_update(
            notifications,
            [
                "created_at",
                "send_after",
                "status",
                "attempts",
                "last_error",
                "sent_at",
            ],
            batch_size=500,
        )
