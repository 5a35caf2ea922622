"""Calendar files (RFC 5545) for the mail and pages of any app.

Knows nothing of events: callers hand it a stable UID, a SEQUENCE that rises with
every change, the times (kept in UTC in the file, so that every calendar shows
them in its own zone), and the texts already in the reader's language.
"""

import datetime as dt

from icalendar import Calendar, Event, vCalAddress, vText


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
    organizer_name: str = "",
    organizer_email: str = "",
    language: str = "",
) -> bytes:
    """One VEVENT in a VCALENDAR; ``cancelled`` makes it METHOD:CANCEL.

    ``organizer_email`` (with ``organizer_name`` as its CN) is the ORGANIZER: who
    runs the event, reachable at the address its mail comes from. ``language``
    (a BCP 47 tag such as ``zh-Hans``) is said on the texts.
    """
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
    texts = {"summary": summary, "location": location, "description": description}
    for name, value in texts.items():
        if value:
            text = vText(value)
            if language:
                text.params["language"] = language
            event.add(name, text)
    if organizer_email:
        organizer = vCalAddress(f"mailto:{organizer_email}")
        if organizer_name:
            organizer.params["cn"] = organizer_name
        event.add("organizer", organizer)
    if url:
        event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
