"""``manage.py seed_demo``: the 2021 Social Work Publicity Week, ready to register for.

Idempotent: a second run updates the same rows (and moves the dates along) instead
of adding new ones.
"""

import datetime as dt
import random
import zoneinfo
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from events import services
from events.errors import AlreadyRegistered
from events.models import Event, Question, Registration, Session, Venue
from events.notices import ABOUT
from notifications.models import Notification

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


# The demo's judges: the first signs in (make demo prints the login) and scores the
# fifth batch; all three scored the fourth before it was announced.
DEMO_JUDGE = "judge@example.org"
DEMO_PASSWORD = "podium-demo"  # noqa: S105 (the demo's published password)
DEMO_PANEL = [DEMO_JUDGE, "judge.wang@example.org", "judge.li@example.org"]
CITATIONS = [
    "Years of neighbourhood social work that residents can name. · 多年扎根社区，居民有口皆碑。",
    "A volunteer network that reaches every building. · 志愿服务网络覆盖每一栋楼。",
    "Services for the elderly and children, run with the community. · 与社区共建一老一小服务。",
]
REVIEW_COMMENTS = [
    "Strong, well documented. · 材料扎实。",
    "Good work; the numbers could be clearer. · 成效明显，数据可更清晰。",
    "",
]


DEMO_DISTRICTS = [
    ("jiangbei", "江北区", "Jiangbei District"),
    ("haishu", "海曙区", "Haishu District"),
    ("yinzhou", "鄞州区", "Yinzhou District"),
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
                "registration_opens_at": timezone.now()
                - dt.timedelta(days=DEMO_DAYS + 1),
                "registration_closes_at": _at(first_day, "09:00"),
            },
        )
        sessions = []
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
            sessions.append(session)
        self._awards(event)
        self._form(event)
        added = self._registrations(event, sessions)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo week {event.slug}: {event.sessions.count()} sessions from {first_day}, "
                f"{added} new demo registrations."
            )
        )

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

    def _awards(self, event: Event) -> None:
        """The story's award batches, showing the whole workflow.

        Batch 4 is announced, with real scores of three judges (one declared a
        conflict); batch 5 is a draft that the demo judge has scored in part; the
        Supervisory Lecturer Group is appointed, with certificates.
        """
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
                "announce",
            ),
            (
                bases,
                5,
                "Fifth batch of municipal social work demonstration bases · 第五批市级社会工作示范基地",
                ceremony,
                BASES_FIFTH,
                "judge",
            ),
            (
                lecturers,
                1,
                "Ningbo Social Work Supervisory Lecturer Group · 宁波市社会工作督导讲师团",
                appointment,
                LECTURERS,
                "appoint",
            ),
        ]
        for category, number, title, session, recipients, plan in plans:
            batch, _created = AwardBatch.objects.get_or_create(
                category=category,
                number=number,
                defaults={"title": title, "ceremony_session": session},
            )
            if batch.nominations.exists() or not batch.is_draft:
                continue  # seeded by an earlier run: its scores and decisions stay
            nominations = [
                awards.nomination_create(
                    batch=batch,
                    recipient=awards.RecipientData(
                        kind=category.recipient_kind,
                        name=name,
                        title=person_title,
                        affiliation=affiliation,
                        district=district,
                    ),
                    citation=CITATIONS[index % len(CITATIONS)],
                    actor=None,
                )
                for index, (name, person_title, affiliation, district) in enumerate(
                    recipients
                )
            ]
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
                continue
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
            awards.batch_announce(batch=batch, actor=None)

    def _judge(self, batch: Any, email: str) -> Any:
        """A demo judge of the batch; the first one signs in with the demo password."""
        from awards import services as awards

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
        for _at, index, n, _cancel in plan:
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
