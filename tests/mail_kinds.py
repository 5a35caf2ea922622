"""Every kind of email Podium sends, made through the services that send them.

``every_mail(language)`` builds a bilingual, branded event and walks it through
registration, waiting list, promotion, a duplicate registration, a reminder, a
changed, a cancelled session, a cancelled event, an announced award batch with its
judges, a password reset and a locked sign-in, with every recipient reading
``language``; then it delivers the outbox through ``notifications_deliver`` (the
worker's path) into Django's locmem backend and returns ``{kind: message}``.
"""

import contextlib
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import RequestFactory
from django.utils import timezone, translation

from awards import services as award_services
from awards.models import AwardBatch, AwardCategory
from config.accounts import OutboxPasswordResetForm, sign_in_locked_notice
from events import services
from events.errors import AlreadyRegistered
from events.models import Event, Registration, Session, Venue
from events.notices import reminders_plan
from notifications.models import Notification
from notifications.services import notifications_deliver

from .factories import UserFactory

KINDS = (
    "registration_confirmed",
    "registration_waitlisted",
    "registration_promoted",
    "registration_cancelled",
    "manage_link",
    "session_reminder",
    "session_changed",
    "session_cancelled",
    "event_cancelled",
    "award_announced",
    "judge_invited",
    "judge_reminded",
    "password_reset",
    "sign_in_locked",
)

# Each language's own words, so that a test sees which one an email shows.
TEXTS = {
    "event_title": ("Ningbo Social Work Publicity Week", "宁波市社会工作宣传周"),
    "organiser_name": ("Ningbo Civil Affairs Bureau", "宁波市民政局"),
    "venue_name": ("Ningbo Talents House", "宁波人才之家"),
    "venue_address": ("Jiangbei District, Ningbo", "宁波市江北区"),
    "session_title": ("Kick-off and logo release", "启动仪式暨标识发布"),
    "ceremony_title": ("Award ceremony", "授牌仪式"),
    "category_name": ("Social work demonstration base", "社会工作示范基地"),
    "batch_title": ("Fifth batch of demonstration bases", "第五批示范基地"),
    "recipient_name": ("Wantou Community", "湾头社区"),
}
PEOPLE = {"en": "Ann Lee", "zh-hans": "张伟"}
# The shortest an organiser might write: the least text an email can carry.
SHORT_TEXTS = {name: ("W", "周") for name in TEXTS}


@contextlib.contextmanager
def texts(replacement: dict[str, tuple[str, str]]) -> Iterator[None]:
    """Makes the emails with other texts (``SHORT_TEXTS``) for a while."""
    saved = dict(TEXTS)
    TEXTS.update(replacement)
    try:
        yield
    finally:
        TEXTS.update(saved)


def text(name: str, language: str) -> str:
    en, zh = TEXTS[name]
    return zh if language.startswith("zh") else en


def logo_png(colour: tuple[int, int, int] = (232, 89, 12)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 40), "white")
    ImageDraw.Draw(image).ellipse((4, 4, 36, 36), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _bilingual(prefix: str, **names: str) -> dict[str, str]:
    values = {}
    for field, key in names.items():
        en, zh = TEXTS[key]
        values[f"{field}_en"] = en
        values[f"{field}_zh_hans"] = zh
    return values


def branded_event(*, slug: str, logo: bool = True, **extra: Any) -> Event:
    now = timezone.now()
    venue = Venue.objects.create(
        **_bilingual("venue", name="venue_name", address="venue_address")
    )
    event = Event.objects.create(
        slug=slug,
        status=Event.Status.PUBLISHED,
        timezone="Asia/Shanghai",
        starts_on=timezone.localdate() + dt.timedelta(days=10),
        ends_on=timezone.localdate() + dt.timedelta(days=12),
        venue=venue,
        registration_opens_at=now - dt.timedelta(days=1),
        registration_closes_at=now + dt.timedelta(days=9),
        accent_colour="#E8590C",
        **_bilingual("event", title="event_title", organiser_name="organiser_name"),
        **extra,
    )
    if logo:
        event.logo.save("logo.png", ContentFile(logo_png()), save=True)
    return event


def _session(event: Event, title: str, starts_at: dt.datetime, **extra: Any) -> Session:
    return Session.objects.create(
        event=event,
        kind=Session.Kind.TALK,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        **_bilingual("session", title=title),
        **extra,
    )


def _register(session: Session, email: str, language: str) -> Registration:
    return services.registration_create(
        session=session,
        attendee=services.AttendeeData(
            full_name=PEOPLE[language], email=email, language=language
        ),
    )


def queue_every_mail(language: str, *, tag: str = "", logo: bool = True) -> None:
    """Makes Podium queue one email of every kind, each for a reader of ``language``."""
    lang = "zh" if language.startswith("zh") else "en"
    tag = tag or lang
    now = timezone.now().replace(microsecond=0)
    event = branded_event(slug=f"week-{tag}", logo=logo, reminder_offsets=[120])

    def address(kind: str) -> str:
        return f"{kind}.{tag}@example.org"

    # A full session: a confirmation, a place on the waiting list, a second try
    # (the manage link again), then a cancellation that promotes the waiting one.
    full = _session(
        event,
        "session_title",
        now + dt.timedelta(days=10),
        capacity=1,
        waitlist_enabled=True,
    )
    first = _register(full, address("first"), language)
    _register(full, address("waiting"), language)
    with pytest.raises(AlreadyRegistered):
        _register(full, address("first"), language)
    services.registration_cancel_by_organiser(registration=first)

    # A session that moves, then is cancelled.
    moving = _session(event, "session_title", now + dt.timedelta(days=11), capacity=10)
    _register(moving, address("moving"), language)
    services.session_update(
        session=moving,
        data={
            "starts_at": moving.starts_at + dt.timedelta(hours=1),
            "ends_at": moving.ends_at + dt.timedelta(hours=1),
        },
    )
    services.session_cancel(session=Session.objects.get(pk=moving.pk))

    # A session in ninety minutes: its two-hours-before reminder is due.
    soon = _session(event, "session_title", now + dt.timedelta(minutes=90), capacity=10)
    reminded = _register(soon, address("reminded"), language)
    Registration.objects.filter(pk=reminded.pk).update(
        created_at=now - dt.timedelta(days=1)
    )
    reminders_plan()

    # Another event of the same organiser, cancelled as a whole.
    other = branded_event(slug=f"other-{tag}", logo=logo)
    _register(
        _session(other, "session_title", now + dt.timedelta(days=12), capacity=5),
        address("event"),
        language,
    )
    services.event_cancel(event=other)

    # An award batch: its judge is invited and reminded, its awardee told.
    ceremony = _session(event, "ceremony_title", now + dt.timedelta(days=12))
    category = AwardCategory.objects.create(
        event=event,
        recipient_kind="organisation",
        **_bilingual("category", name="category_name"),
    )
    batch = AwardBatch.objects.create(
        category=category,
        number=5,
        ceremony_session=ceremony,
        **_bilingual("batch", title="batch_title"),
    )
    award_services.judge_invite(
        batch=batch, email=address("judge"), language=language, actor=None
    )
    judge = batch.judges.get()
    award_services.judge_remind(batch=batch, judge=judge, actor=None)
    nomination = award_services.nomination_create(
        batch=batch,
        recipient=award_services.RecipientData(
            kind="organisation",
            email=address("awardee"),
            language=language,
            texts=_bilingual("recipient", name="recipient_name"),
        ),
        citation="",
        actor=None,
    )
    award_services.nomination_update(
        nomination=nomination, data={"status": "awarded"}, actor=None
    )
    award_services.batch_approve(batch=batch, actor=None)
    award_services.batch_announce(batch=batch, actor=None)

    # Accounts: a password reset and a paused sign-in, asked in the language.
    user = UserFactory(username=address("organiser"))
    request = RequestFactory().post("/accounts/password_reset/")
    with translation.override(language):
        form = OutboxPasswordResetForm(data={"email": user.email})
        assert form.is_valid()
        form.save(request=request)
        sign_in_locked_notice(None, request=request, username=user.username)


def deliver_every_mail() -> dict[str, Any]:
    """Delivers every pending row through the worker's path; ``{kind: message}``."""
    rows = dict(Notification.objects.filter(status="pending").values_list("pk", "kind"))
    mail.outbox = []
    notifications_deliver(ids=list(rows))
    ids = dict(
        Notification.objects.filter(pk__in=list(rows), status="sent").values_list(
            "message_id", "kind"
        )
    )
    return {ids[m.extra_headers["Message-ID"]]: m for m in mail.outbox}


def every_mail(language: str, **options: Any) -> dict[str, Any]:
    queue_every_mail(language, **options)
    return deliver_every_mail()
