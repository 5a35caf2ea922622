"""Reads of the events app, each with the joins its callers need."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import (
    Case,
    Count,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Replace, TruncDate
from django.utils import timezone

from config.prepared import prepared_cursor, sql_text

from .errors import EventNotFound, RegistrationNotFound, SessionNotFound
from .models import Event, Registration, Session


def event_list_published() -> QuerySet[Event]:
    return Event.objects.published().select_related("venue").order_by("starts_on", "pk")


def event_get_published(*, slug: str) -> Event:
    event = (
        Event.objects.published()
        .select_related("venue")
        .prefetch_related(
            Prefetch(
                "sessions",
                queryset=Session.objects.select_related("venue").order_by(
                    "starts_at", "pk"
                ),
            )
        )
        .filter(slug=slug)
        .first()
    )
    if event is None:
        raise EventNotFound()
    return event


def event_get_for_organiser(
    *, slug: str, user: object, with_sessions: bool = True
) -> Event:
    """An event the user organises; anyone else is told it does not exist."""
    events = Event.objects.for_organiser(user).select_related("venue")
    if with_sessions:
        events = events.prefetch_related(
            Prefetch(
                "sessions",
                queryset=Session.objects.select_related("venue").order_by(
                    "starts_at", "pk"
                ),
            )
        )
    event = events.filter(slug=slug).first()
    if event is None:
        raise EventNotFound()
    return event


def event_get_visible(*, slug: str, user: object) -> Event:
    """A published event, or any event of the user's own."""
    try:
        return event_get_published(slug=slug)
    except EventNotFound:
        return event_get_for_organiser(slug=slug, user=user)


def event_get_for_branding(*, slug: str, user: object) -> Event:
    """An event whose logo, seal and colour the user may see: one the public sees
    (published, or cancelled: its page says so), or one the user organises."""
    public = Q(status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED])
    mine = Q(pk__in=Event.objects.for_organiser(user).values("pk"))
    event = Event.objects.filter(public | mine, slug=slug).first()
    if event is None:
        raise EventNotFound()
    return event


def session_get_for_registration(*, event: Event, session_id: object) -> Session:
    try:
        pk = int(str(session_id))
    except (TypeError, ValueError):
        raise SessionNotFound() from None
    if not 0 < pk < 2**63:
        raise SessionNotFound()
    session = (
        Session.objects.select_related("event", "event__venue", "venue")
        .filter(pk=pk, event=event)
        .first()
    )
    if session is None:
        raise SessionNotFound()
    return session


def _registration_lookup_sql() -> str:
    """The registration request's one read, written out once per process.

    The session, its event, the event's venue and the session's own venue, and
    whether the event asks any active question; the columns of each model in
    ``concrete_fields`` order, so that rows become instances with ``from_db``.
    """
    from .models import Question, Venue

    def columns(model: Any, alias: str) -> str:
        return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)

    return (
        f"SELECT {columns(Session, 's')}, {columns(Event, 'e')}, "  # noqa: S608 - the models' own names
        f"{columns(Venue, 'ev')}, {columns(Venue, 'sv')}, "
        f'EXISTS (SELECT 1 FROM "{Question._meta.db_table}" q '
        'WHERE q."event_id" = e."id" AND q."active") '
        f'FROM "{Session._meta.db_table}" s '
        f'JOIN "{Event._meta.db_table}" e ON e."id" = s."event_id" '
        f'LEFT JOIN "{Venue._meta.db_table}" ev ON ev."id" = e."venue_id" '
        f'LEFT JOIN "{Venue._meta.db_table}" sv ON sv."id" = s."venue_id" '
        f'WHERE s."id" = %s AND e."slug" = %s AND e."status" = {sql_text(Event.Status.PUBLISHED)}'
    )


_REGISTRATION_LOOKUP: list[str] = []
_CONVERTERS: dict[tuple[str, str], list[tuple[int, Any, list[Any]]]] = {}


def _lookup_converters(model: Any, connection: Any) -> list[tuple[int, Any, list[Any]]]:
    """The columns of ``model`` that the ORM converts on reading, with converters."""
    key = (model._meta.label, connection.alias)
    if key not in _CONVERTERS:
        found = []
        for k, field in enumerate(model._meta.concrete_fields):
            col = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(col) + col.get_db_converters(
                connection
            )
            if converters:
                found.append((k, col, converters))
        _CONVERTERS[key] = found
    return _CONVERTERS[key]


def session_get_for_registration_by_slug(*, slug: str, session_id: object) -> Session:
    """A published event's session by the event's slug, in one query (the registration
    request's only read before its transaction).

    The session comes with its event and both venues (as ``select_related`` would
    give them), and ``has_questions``: whether the event asks any active question at
    all, so that an event without questions costs no query for them. The statement
    is written out once per process (``_registration_lookup_sql``): compiling the
    equivalent queryset cost more CPU than the rest of the request's reads. An
    unknown event is ``EventNotFound`` (as ``event_get_published``), an unknown
    session of it ``SessionNotFound``.
    """
    from django.db import connections

    from .models import Venue

    try:
        pk = int(str(session_id))
    except (TypeError, ValueError):
        pk = 0
    row = None
    if 0 < pk < 2**63:
        if not _REGISTRATION_LOOKUP:
            _REGISTRATION_LOOKUP.append(_registration_lookup_sql())
        with prepared_cursor(connections[Session.objects.db]) as cursor:
            cursor.execute(_REGISTRATION_LOOKUP[0], [pk, slug])
            row = cursor.fetchone()
    if row is None:
        if not Event.objects.published().filter(slug=slug).exists():
            raise EventNotFound()
        raise SessionNotFound()
    connection = connections[Session.objects.db]
    instances: list[Any] = []
    start = 0
    for model in (Session, Event, Venue, Venue):
        fields = model._meta.concrete_fields
        values = list(row[start : start + len(fields)])
        start += len(fields)
        if values[0] is None:  # no venue
            instances.append(None)
            continue
        for k, col, converters in _lookup_converters(model, connection):
            for convert in converters:  # as the ORM converts what it reads
                values[k] = convert(values[k], col, connection)
        instances.append(
            model.from_db(connection.alias, [f.attname for f in fields], values)
        )
    session, event, event_venue, session_venue = instances
    event._state.fields_cache["venue"] = event_venue
    session._state.fields_cache["event"] = event
    session._state.fields_cache["venue"] = session_venue
    session.has_questions = bool(row[start])
    return cast(Session, session)


def session_get_for_organiser(*, session_id: int, user: object) -> Session:
    if not 0 < session_id < 2**63:
        raise SessionNotFound()
    session = (
        Session.objects.select_related("event", "venue")
        .filter(pk=session_id, event__in=Event.objects.for_organiser(user))
        .first()
    )
    if session is None:
        raise SessionNotFound()
    return session


def _waitlist_position() -> Case:
    """Place on the waiting list: 1 for its head, null unless waitlisted."""
    ahead = (
        Registration.objects.filter(
            session=OuterRef("session"),
            status=Registration.Status.WAITLISTED,
            waitlist_number__lte=OuterRef("waitlist_number"),
        )
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Case(
        When(status=Registration.Status.WAITLISTED, then=Subquery(ahead)),
        default=None,
        output_field=IntegerField(),
    )


def with_waitlist_position(queryset: QuerySet[Registration]) -> QuerySet[Registration]:
    # The model declares waitlist_position for the rows that compute it one by one.
    return queryset.annotate(waitlist_position=_waitlist_position())  # type: ignore[no-redef]


def registration_waitlist_position(registration: Registration) -> int | None:
    if registration.status != Registration.Status.WAITLISTED:
        return None
    # The count the queryset ``Registration.objects.filter(session_id=...,
    # status=WAITLISTED, waitlist_number__lte=...).count()`` makes, written out:
    # it runs in every waitlisted registration's transaction, and compiling the
    # queryset cost more CPU than PostgreSQL's index scan.
    from django.db import connections

    with connections[Registration.objects.db].cursor() as cursor:
        cursor.execute(
            f'SELECT COUNT(*) FROM "{Registration._meta.db_table}" '  # noqa: S608 - the model's own table
            'WHERE "session_id" = %s AND "status" = %s AND "waitlist_number" <= %s',
            [
                registration.session_id,
                Registration.Status.WAITLISTED,
                registration.waitlist_number,
            ],
        )
        (position,) = cursor.fetchone()
    return int(position)


def registration_list_for_event(
    *,
    event: Event,
    session_id: int | None = None,
    status: str | None = None,
    search: str | None = None,
) -> QuerySet[Registration]:
    registrations = Registration.objects.filter(event=event).select_related("session")
    if session_id is not None:
        registrations = registrations.filter(session_id=session_id)
    if status:
        registrations = registrations.filter(status=status)
    if search:
        registrations = registrations.filter(
            Q(full_name__icontains=search)
            | Q(email__icontains=search)
            | Q(code__iexact=search.strip())
            | Q(organisation__icontains=search)
            | Q(phone__icontains=search)
        )
    return with_waitlist_position(registrations).order_by(
        "session__starts_at", "created_at", "pk"
    )


def check_in_counts(*, event: Event) -> dict[str, int]:
    """The door's running count: arrivals today (in the event's time zone), all
    arrivals, and the confirmed registrations they are out of."""
    tz = event.tzinfo
    midnight = dt.datetime.combine(timezone.localdate(timezone=tz), dt.time(), tz)
    return Registration.objects.filter(
        event=event, status=Registration.Status.CONFIRMED
    ).aggregate(
        confirmed=Count("pk"),
        checked_in=Count("pk", filter=Q(checked_in_at__isnull=False)),
        today=Count("pk", filter=Q(checked_in_at__gte=midnight)),
    )


def _digits(field: str) -> Replace:
    """A phone number without the separators people type in it."""
    expression: Any = field
    for separator in (" ", "-", "(", ")", ".", "+"):
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def registration_search_for_check_in(
    *, event: Event, query: str
) -> QuerySet[Registration]:
    """This event's confirmed registrations by name, phone (any spacing) or code."""
    from .services import normalise_code

    query = query.strip()
    if not query:
        return Registration.objects.none()
    match = Q(full_name__icontains=query) | Q(phone__icontains=query)
    digits = "".join(c for c in query if c.isdigit())
    if len(digits) >= 4 and len(digits) >= len(query.replace(" ", "")) - 3:
        match |= Q(phone_digits__contains=digits)
    code = normalise_code(query)
    if code:
        match |= Q(code=code)
    return (
        Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED)
        .annotate(phone_digits=_digits("phone"))
        .filter(match)
        .select_related("session")
        .order_by("full_name", "session__starts_at", "pk")
    )


# The console's attendee list sorts by these keys only; a leading "-" reverses.
REGISTRATION_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("full_name", "pk"),
    "registered": ("created_at", "pk"),
    "session": ("session__starts_at", "session__title", "created_at", "pk"),
    "status": ("status_rank", "created_at", "pk"),
}


def registration_list_for_console(
    *,
    event: Event,
    session_id: int | None = None,
    status: str | None = None,
    checked_in: bool | None = None,
    search: str | None = None,
    sort: str = "registered",
) -> QuerySet[Registration]:
    """The organiser's attendee list of one event: its filters, then a whitelisted sort.

    ``sort`` is a key of ``REGISTRATION_SORTS``, optionally with a leading ``-``;
    anything else sorts by registration time.
    """
    registrations = registration_list_for_event(
        event=event, session_id=session_id, status=status, search=search
    )
    if checked_in is not None:
        registrations = registrations.filter(checked_in_at__isnull=not checked_in)
    descending = sort.startswith("-")
    fields = REGISTRATION_SORTS.get(sort.lstrip("-"), REGISTRATION_SORTS["registered"])
    if "status_rank" in fields:
        registrations = registrations.annotate(
            status_rank=Case(
                When(status=Registration.Status.CONFIRMED, then=0),
                When(status=Registration.Status.WAITLISTED, then=1),
                default=2,
                output_field=IntegerField(),
            )
        )
    return registrations.order_by(
        *(f"-{field}" if descending else field for field in fields)
    )


def registration_get_for_event(*, event: Event, code: str) -> Registration:
    """A registration of this event by its ticket code; any other code is not found."""
    from .services import normalise_code

    code = normalise_code(code)
    registration = (
        with_waitlist_position(
            Registration.objects.select_related("session", "session__venue")
        )
        .filter(code=code, event=event)
        .first()
        if code
        else None
    )
    if registration is None:
        raise RegistrationNotFound()
    return registration


def registration_others_in_event(
    *, registration: Registration
) -> QuerySet[Registration]:
    """The same address's other registrations in the same event (never other events)."""
    return with_waitlist_position(
        Registration.objects.select_related("session")
        .filter(
            event_id=registration.event_id,
            email__iexact=registration.email,
        )
        .exclude(pk=registration.pk)
    ).order_by("session__starts_at", "created_at", "pk")


def registration_notifications(*, registration: Registration) -> QuerySet[Any]:
    """Every email queued about a registration, oldest first, with its state."""
    from notifications.selectors import notification_list_about

    from .notices import ABOUT

    return notification_list_about(
        about_type=ABOUT,
        about_id=str(registration.pk),
        scope=event_mail_scope(event_id=registration.session.event_id),
    )


def event_mail_scope(*, event_id: int) -> str:
    """The outbox scope of an event's mail (see ``events.notices``)."""
    return f"event:{event_id}"


# The event dashboard: a fixed handful of aggregate queries, however many
# registrations and sessions an event has.


@dataclass(frozen=True)
class RegistrationCounts:
    """An event's registrations by state, as the API's list counts them."""

    registered: int  # every registration, cancelled ones included
    confirmed: int
    waiting: int
    cancelled: int
    checked_in: int  # confirmed and checked in at the door


@dataclass(frozen=True)
class RegistrationDay:
    """One day of registrations, in the event's time zone."""

    day: dt.date
    registered: int  # registrations made that day
    cancelled: int  # registrations cancelled that day
    total: int  # registrations made up to the end of that day
    active: int  # of those, not cancelled by the end of that day


@dataclass(frozen=True)
class SessionFill:
    """How full a session is, its waiting list and its arrivals."""

    id: int
    title: str
    starts_at: dt.datetime
    cancelled: bool
    capacity: int | None
    seats_left: int | None
    confirmed: int  # reserved guests included
    reserved: int  # guests seated outside the public capacity
    waiting: int
    checked_in: int


def _registration_states(prefix: str = "") -> dict[str, Count]:
    status = Registration.Status
    confirmed = Q(**{f"{prefix}status": status.CONFIRMED})
    return {
        "registered": Count(f"{prefix}pk"),
        "confirmed": Count(f"{prefix}pk", filter=confirmed),
        "waiting": Count(
            f"{prefix}pk", filter=Q(**{f"{prefix}status": status.WAITLISTED})
        ),
        "cancelled": Count(
            f"{prefix}pk", filter=Q(**{f"{prefix}status": status.CANCELLED})
        ),
        "checked_in": Count(
            f"{prefix}pk",
            filter=confirmed & Q(**{f"{prefix}checked_in_at__isnull": False}),
        ),
    }


def event_registration_counts(*, event: Event) -> RegistrationCounts:
    """Registered, confirmed, waiting, cancelled and checked in, in one query."""
    numbers = Registration.objects.filter(event=event).aggregate(
        **_registration_states()
    )
    return RegistrationCounts(**numbers)


def event_session_fill(*, event: Event) -> list[SessionFill]:
    """Every session of the event in order, with its counts, in one query."""
    rows: Iterable[Mapping[str, Any]] = (
        Session.objects.filter(event=event)
        # The join names the event too, so that the registrations are read by
        # their event's index, not the whole table (bench --growth EXPLAIN).
        .annotate(
            held=FilteredRelation(
                "registrations", condition=Q(registrations__event=event)
            )
        )
        .order_by("starts_at", "pk")
        .values("pk", "title", "starts_at", "status", "capacity", "seats_taken")
        .annotate(
            **_registration_states("held__"),
            reserved=Count(
                "held",
                filter=Q(
                    held__status=Registration.Status.CONFIRMED,
                    held__reserved=True,
                ),
            ),
        )
    )
    return [
        SessionFill(
            id=row["pk"],
            title=row["title"],
            starts_at=row["starts_at"],
            cancelled=row["status"] == Session.Status.CANCELLED,
            capacity=row["capacity"],
            seats_left=(
                None
                if row["capacity"] is None
                else max(row["capacity"] - row["seats_taken"], 0)
            ),
            confirmed=row["confirmed"],
            reserved=row["reserved"],
            waiting=row["waiting"],
            checked_in=row["checked_in"],
        )
        for row in rows
    ]


def event_registrations_by_day(
    *, event: Event, until: dt.date | None = None
) -> list[RegistrationDay]:
    """Registrations made and cancelled per day in the event's time zone, in two
    queries; every day from the first registration to ``until`` has a row."""
    registrations = Registration.objects.filter(event=event).order_by()
    made = dict(
        registrations.annotate(day=TruncDate("created_at", tzinfo=event.tzinfo))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    cancelled = dict(
        registrations.filter(cancelled_at__isnull=False)
        .annotate(day=TruncDate("cancelled_at", tzinfo=event.tzinfo))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    days = set(made) | set(cancelled)
    if not days:
        return []
    first, last = min(days), max(days)
    if until is not None and until > last:
        last = until
    result, total, active = [], 0, 0
    day = first
    while day <= last:
        total += made.get(day, 0)
        active += made.get(day, 0) - cancelled.get(day, 0)
        result.append(
            RegistrationDay(
                day=day,
                registered=made.get(day, 0),
                cancelled=cancelled.get(day, 0),
                total=total,
                active=active,
            )
        )
        day += dt.timedelta(days=1)
    return result


def registration_waitlist_head(*, session_id: int) -> Registration | None:
    """The first on a session's waiting list: who gets the next free seat."""
    return (
        Registration.objects.filter(
            session_id=session_id, status=Registration.Status.WAITLISTED
        )
        .order_by("waitlist_number")
        .first()
    )
