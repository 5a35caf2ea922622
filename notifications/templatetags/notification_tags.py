"""Template filters for email: times stored as ISO 8601 shown in an event's zone."""

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
