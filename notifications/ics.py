"""Calendar files (RFC 5545) for the mail and pages of any app.

Knows nothing of events: callers hand it a stable UID, a SEQUENCE that rises with
every change, and the times in UTC.
"""

import datetime as dt

from icalendar import Calendar, Event


def calendar_file(
    *,
    uid: str,
    sequence: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    summary: str,
    location: str = "",
    description: str = "",
    url: str = "",
    cancelled: bool = False,
    stamp: dt.datetime | None = None,
) -> bytes:
    """One VEVENT in a VCALENDAR; ``cancelled`` makes it METHOD:CANCEL."""
    calendar = Calendar()
    calendar.add("prodid", "-//Podium//Event registration//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp or dt.datetime.now(dt.UTC))
    event.add("dtstart", starts_at.astimezone(dt.UTC))
    event.add("dtend", ends_at.astimezone(dt.UTC))
    event.add("summary", summary)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
