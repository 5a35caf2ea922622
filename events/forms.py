"""Forms of the attendee pages."""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Event, Session
from .validators import no_control_characters


class RegistrationForm(forms.Form):
    session = forms.TypedChoiceField(label=_("Session"), coerce=int)
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        validators=[no_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        validators=[no_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    organisation = forms.CharField(
        label=_("Organisation"),
        max_length=200,
        required=False,
        validators=[no_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = {
            s.pk: s
            for s in event.sessions.all()
            if s.status == Session.Status.SCHEDULED
        }
        cast(forms.ChoiceField, self.fields["session"]).choices = [
            (pk, s.title) for pk, s in self.sessions.items()
        ]
        if event.has_privacy_notice:
            # The version shown travels with the form: a notice changed meanwhile
            # is read again before anyone agrees to it.
            self.fields["consent"] = forms.BooleanField(
                label=_("I have read the privacy notice above and agree to it."),
                error_messages={
                    "required": _("Agree to the privacy notice to register.")
                },
            )
            self.fields["consent_version"] = forms.IntegerField(
                widget=forms.HiddenInput,
                initial=event.privacy_notice_version,
                required=False,
            )


class CheckInForm(forms.Form):
    """A ticket code typed at the door (the event is the page's)."""

    code = forms.CharField(
        label=_("Ticket code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "enterkeyhint": "go",
            }
        ),
    )
