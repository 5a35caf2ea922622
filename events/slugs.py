"""Event slugs that name console pages rather than events.

An event's dashboard is ``/organise/<slug>/``; a slug such as ``new`` would be
shadowed by the page of that name. The console's form, the API and the admin all
refuse these, through ``validate_event_slug`` (the services call it too).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

RESERVED_SLUGS = frozenset({"new"})


def validate_event_slug(value: str) -> None:
    """Refuses a slug that is reserved for a console page (in any letter case)."""
    if value.strip().lower() in RESERVED_SLUGS:
        raise ValidationError(
            _("This address is reserved; choose another."), code="reserved"
        )
