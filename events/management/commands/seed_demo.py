"""``manage.py seed_demo``: the 2021 Social Work Publicity Week, ready to register for.

Idempotent: a second run updates the same rows (and moves the dates along) instead
of adding new ones.
"""

import datetime as dt
import zoneinfo
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from events import services
from events.errors import AlreadyRegistered
from events.models import Event, Session, Venue

SLUG = "social-work-week-2021"
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")

# (day, start, end, kind, capacity, title, description)
SESSIONS = [
    (
        0,
        "09:30",
        "11:00",
        Session.Kind.CEREMONY,
        300,
        "Kick-off and logo release · 启动仪式暨宁波社工标识发布",
        "The week opens at the Talents House and the orange LOGO of Ningbo Social Work is released.",
    ),
    (
        0,
        "14:00",
        "16:00",
        Session.Kind.CEREMONY,
        200,
        "Award ceremony: fourth and fifth batches of demonstration bases · 第四、五批市级社会工作示范基地授牌",
        "More than 20 communities, among them Wantou Community of Yongjiang Street, Jiangbei District, "
        "receive the plaque of a municipal social work demonstration base.",
    ),
    (
        1,
        "09:30",
        "10:30",
        Session.Kind.CEREMONY,
        120,
        "Appointment of the Supervisory Lecturer Group · 督导讲师团聘任仪式",
        "Ten municipal social work supervisory talents are appointed to the Ningbo Social Work "
        "Supervisory Lecturer Group.",
    ),
    (
        1,
        "14:00",
        "16:30",
        Session.Kind.SHOWCASE,
        150,
        "Showcase of outstanding projects: Haishu, Yinzhou and Jiangbei · 优秀社工项目展示",
        "Districts show what social work has achieved, project by project.",
    ),
    (
        2,
        "10:00",
        "11:30",
        Session.Kind.TALK,
        40,
        "Ciyuan Post: employment assistance in Cicheng Town · 慈园岗位就业帮扶项目分享",
        "Cicheng Town Social Workstation on how the Ciyuan Post project helped more than 150 "
        "residents find work, and its turn to agriculture and tourism.",
    ),
]
DEMO_REGISTRATIONS = (
    36  # on the Ciyuan Post talk, so that the demo shows a nearly full session
)


# The story's recipients, then clearly synthetic ones to make up the numbers.
BASES_FOURTH = [
    (f"Demo Community {n:02d}", "", "", district)
    for n, district in zip(
        range(1, 11),
        ["Haishu District", "Yinzhou District", "Jiangbei District"] * 4,
        strict=False,
    )
]
BASES_FIFTH = [
    (
        "Wantou Community · 万头社区",
        "",
        "Yongjiang Street · 甬江街道",
        "Jiangbei District · 江北区",
    )
] + [
    (f"Demo Community {n:02d}", "", "", district)
    for n, district in zip(
        range(11, 22),
        ["Haishu District", "Yinzhou District", "Jiangbei District"] * 4,
        strict=False,
    )
]
LECTURERS = [
    (
        "Chen Jiammeng · 陈佳萌",
        "Party branch secretary · 党支部书记",
        "Weilaishengyuan Community, Qianjiang Street · 钱江街道未来生园社区",
        "Jiangbei District · 江北区",
    )
] + [
    (f"Demo Lecturer {n:02d}", "Supervisory talent", "Demo Social Workstation", "")
    for n in range(2, 11)
]


def _at(day: dt.date, clock: str) -> dt.datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


class Command(BaseCommand):
    help = "Loads the 2021 Social Work Publicity Week demo (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate(timezone=TZ)
        first_day = today + dt.timedelta(days=14)
        venue, _created = Venue.objects.update_or_create(
            name="Ningbo Talents House · 宁波人才之家",
            defaults={"address": "Jiangbei District, Ningbo · 宁波市江北区"},
        )
        event, _created = Event.objects.update_or_create(
            slug=SLUG,
            defaults={
                "title": "2021 Ningbo (Jiangbei) Social Work Publicity Week · 2021年宁波（江北）社会工作宣传周",
                "description": (
                    "A week of social work gathering its strength for rural revitalisation: "
                    "the logo release, the award of the fourth and fifth batches of municipal "
                    "social work demonstration bases, the Supervisory Lecturer Group and the "
                    "districts' outstanding projects."
                ),
                "status": Event.Status.PUBLISHED,
                "timezone": "Asia/Shanghai",
                "starts_on": first_day,
                "ends_on": first_day + dt.timedelta(days=2),
                "venue": venue,
                "registration_opens_at": timezone.now() - dt.timedelta(days=1),
                "registration_closes_at": _at(first_day, "09:00"),
            },
        )
        talk = None
        for day, start, end, kind, capacity, title, description in SESSIONS:
            date = first_day + dt.timedelta(days=day)
            session = Session.objects.filter(event=event, title=title).first()
            values = {
                "kind": kind,
                "starts_at": _at(date, start),
                "ends_at": _at(date, end),
                "venue": venue,
                "description": description,
            }
            if session is None:
                session = Session.objects.create(
                    event=event, title=title, capacity=capacity, **values
                )
            else:
                services.session_update(session=session, data=values)
            talk = session
        assert talk is not None
        added = 0
        for n in range(1, DEMO_REGISTRATIONS + 1):
            try:
                services.registration_create(
                    session=talk,
                    attendee=services.AttendeeData(
                        full_name=f"Demo Attendee {n:02d}",
                        email=f"demo-attendee-{n:02d}@example.org",
                        organisation="Demo Social Workstation",
                    ),
                )
                added += 1
            except AlreadyRegistered:
                pass
        self._awards(event)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo week {event.slug}: {event.sessions.count()} sessions from {first_day}, "
                f"{added} new demo registrations."
            )
        )

    def _awards(self, event: Event) -> None:
        from awards import services as awards
        from awards.models import AwardBatch, AwardCategory

        ceremony = event.sessions.filter(
            kind=Session.Kind.CEREMONY, title__startswith="Award"
        ).first()
        appointment = event.sessions.filter(title__startswith="Appointment").first()
        bases, _created = AwardCategory.objects.get_or_create(
            event=event,
            name="Municipal social work demonstration base · 市级社会工作示范基地",
            defaults={"recipient_kind": "organisation", "certificate_prefix": "NBSW"},
        )
        lecturers, _created = AwardCategory.objects.get_or_create(
            event=event,
            name="Supervisory Lecturer Group member · 督导讲师团成员",
            defaults={"recipient_kind": "person", "certificate_prefix": "NBSL"},
        )
        plans = [
            (
                bases,
                4,
                "Fourth batch of municipal social work demonstration bases · 第四批市级社会工作示范基地",
                ceremony,
                BASES_FOURTH,
                True,
            ),
            (
                bases,
                5,
                "Fifth batch of municipal social work demonstration bases · 第五批市级社会工作示范基地",
                ceremony,
                BASES_FIFTH,
                False,
            ),
            (
                lecturers,
                1,
                "Ningbo Social Work Supervisory Lecturer Group · 宁波市社会工作督导讲师团",
                appointment,
                LECTURERS,
                False,
            ),
        ]
        for category, number, title, session, recipients, announce in plans:
            batch, _created = AwardBatch.objects.get_or_create(
                category=category,
                number=number,
                defaults={"title": title, "ceremony_session": session},
            )
            if not batch.nominations.exists() and batch.is_draft:
                for name, person_title, affiliation, district in recipients:
                    nomination = awards.nomination_create(
                        batch=batch,
                        recipient=awards.RecipientData(
                            kind=category.recipient_kind,
                            name=name,
                            title=person_title,
                            affiliation=affiliation,
                            district=district,
                        ),
                        citation="",
                        actor=None,
                    )
                    if announce:
                        awards.nomination_update(
                            nomination=nomination,
                            data={"status": "awarded"},
                            actor=None,
                        )
            if announce and batch.is_draft:
                awards.batch_approve(batch=batch, actor=None)
                batch.refresh_from_db()
            if announce and batch.status == AwardBatch.Status.APPROVED:
                awards.batch_announce(batch=batch, actor=None)
