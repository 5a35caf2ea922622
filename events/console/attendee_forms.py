"""The console's filter forms for the attendee list and the event's outbox.

Each form is built for one event: its choices list only that event's sessions and
the kinds of mail that event has, so that nothing of another event shows.
"""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import Notification

from ..models import Event, Registration, Session

SORT_CHOICES = [
    ("registered", _("Registered, oldest first")),
    ("-registered", _("Registered, newest first")),
    ("name", _("Name, A to Z")),
    ("-name", _("Name, Z to A")),
    ("session", _("Session, earliest first")),
    ("-session", _("Session, latest first")),
    ("status", _("Status: confirmed, waiting, cancelled")),
    ("-status", _("Status: cancelled, waiting, confirmed")),
]

CHECKED_IN_CHOICES = [("", _("Any")), ("yes", _("Checked in")), ("no", _("Not yet"))]


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.title)


class AttendeeFilterForm(forms.Form):
    """Search, filters and sort of the attendee list, read from the query string."""

    search = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        strip=True,
        help_text=_("Name, email, phone, ticket code or organisation"),
    )
    session = SessionChoiceField(
        label=_("Session"), queryset=Session.objects.none(), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), *Registration.Status.choices],
    )
    checked_in = forms.ChoiceField(
        label=_("Checked in"), required=False, choices=CHECKED_IN_CHOICES
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this event's sessions: another event's session id is a form error.
        sessions = self.fields["session"]
        assert isinstance(sessions, forms.ModelChoiceField)
        sessions.queryset = Session.objects.filter(event=event).order_by(
            "starts_at", "pk"
        )
        sessions.empty_label = _("All sessions")

    def filters(self) -> dict[str, Any]:
        """The selector's arguments for what is valid in the query string."""
        data = self.cleaned_data if self.is_bound else {}
        checked_in = data.get("checked_in")
        session = data.get("session")
        return {
            "search": data.get("search") or None,
            "session_id": session.pk if session else None,
            "status": data.get("status") or None,
            "checked_in": {"yes": True, "no": False}.get(checked_in or ""),
            "sort": data.get("sort") or "registered",
        }


class MailFilterForm(forms.Form):
    """State and kind filters of an event's outbox."""

    status = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Any")), *Notification.Status.choices],
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", _("Any")), *kinds]

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound else {}
        return {"status": data.get("status") or None, "kind": data.get("kind") or None}
