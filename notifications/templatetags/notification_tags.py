"""Template filters for email: times stored as ISO 8601 shown in an event's zone,
named the reader's way."""

import datetime as dt
import zoneinfo

from django import template

register = template.Library()


@register.filter
def in_zone(value: str | dt.datetime | None, zone: str) -> dt.datetime | None:
    """``{{ starts_at|in_zone:timezone|date:"DATETIME_FORMAT" }}``"""
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    try:
        return moment.astimezone(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return moment


@register.filter
def zone_name(zone: str, at: str | dt.datetime | None = None) -> str:
    """``{{ event.timezone|zone_name }}``: 北京时间 / China Standard Time, in the
    active language; ``|zone_name:starts_at`` names the zone at that moment."""
    from config.l10n import zone_name as name

    moment = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    return name(zone, at=moment)


@register.simple_tag
def when(
    starts_at: str | dt.datetime | None,
    ends_at: str | dt.datetime | None,
    zone: str,
) -> str:
    """``{% when starts_at ends_at timezone %}``: "14 December 2021, 09:30 – 11:30
    (China Standard Time)" / "2021年12月14日 09:30–11:30（北京时间）", in the
    active language, in the event's zone, named the reader's way."""
    from django.utils.formats import date_format, time_format
    from django.utils.translation import gettext

    start = in_zone(starts_at, zone)
    if start is None:
        return ""
    end = in_zone(ends_at, zone)
    values = {
        "start": date_format(start, "DATETIME_FORMAT"),
        "zone": zone_name(zone, start),
    }
    if end is None:
        return gettext("%(start)s (%(zone)s)") % values
    values["end"] = (
        time_format(end, "TIME_FORMAT")
        if end.date() == start.date()
        else date_format(end, "DATETIME_FORMAT")
    )
    return gettext("%(start)s – %(end)s (%(zone)s)") % values
