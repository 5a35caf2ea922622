"""Local time said the local way: a zone's name in the reader's language.

"Asia/Shanghai" is an identifier, not something a reader says: a Chinese reader
says 北京时间, an English one "China Standard Time". Names come from CLDR through
Babel; mainland China's zones get the name people use there.
"""

import datetime as dt
import functools
import re
import zoneinfo

from babel.core import UnknownLocaleError
from babel.dates import get_timezone_name
from django.utils import timezone
from django.utils.translation import get_language

# The column suffixes of translated content (django-modeltranslation): every
# translated field <f> has <f>_zh_hans and <f>_en.
LANGUAGE_SUFFIXES = ("zh_hans", "en")

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def language_column(text: str) -> str:
    """The column suffix of the language a text is written in: a text with any
    Chinese character in it is Chinese."""
    return "zh_hans" if _HAN.search(text) else "en"


# Mainland China keeps one time, which Chinese calls Beijing time.
_BEIJING_TIME_ZONES = frozenset(
    {"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"}
)


def babel_locale(language: str | None) -> str:
    """Babel's name for a Django language code: zh-hans -> zh_Hans_CN, en -> en_GB."""
    language = (language or "en").lower()
    if language.startswith("zh"):
        return "zh_Hant_TW" if "hant" in language else "zh_Hans_CN"
    return "en_GB"


def zone_name(
    zone: str, language: str | None = None, at: dt.datetime | None = None
) -> str:
    """The zone's long name in the language (the active one by default), at the
    moment ``at`` (now by default: summer and winter names differ)."""
    language = language or get_language() or "en"
    if language.lower().startswith("zh") and zone in _BEIJING_TIME_ZONES:
        return "北京时间"
    moment = at or timezone.now()
    # Within an hour the name cannot change; a page lists many times in one zone.
    return _zone_name(
        zone, babel_locale(language), moment.replace(minute=0, second=0, microsecond=0)
    )


@functools.lru_cache(maxsize=512)
def _zone_name(zone: str, locale: str, hour: dt.datetime) -> str:
    try:
        tz = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zone
    try:
        return get_timezone_name(hour.astimezone(tz), "long", locale=locale)
    except (LookupError, UnknownLocaleError):
        return zone
