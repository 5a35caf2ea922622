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
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo week {event.slug}: {event.sessions.count()} sessions from {first_day}, "
                f"{added} new demo registrations."
            )
        )
