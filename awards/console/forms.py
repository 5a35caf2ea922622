"""Forms of the awards console; their limits are the API's."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from events.models import Event, Session
from events.validators import clean_free_text, no_control_characters

from ..models import AwardCategory


class CategoryForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=200, validators=[no_control_characters]
    )
    recipient_kind = forms.ChoiceField(
        label=_("Who receives it"), choices=AwardCategory.RecipientKind.choices
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        validators=[clean_free_text],
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    certificate_prefix = forms.RegexField(
        label=_("Certificate prefix"),
        regex=r"^[A-Za-z0-9]{1,12}$",
        required=False,
        help_text=_(
            "Up to 12 letters or digits that start its certificate numbers, e.g. NBSW."
        ),
        error_messages={"invalid": _("Use 1 to 12 letters or digits.")},
    )


class BatchForm(forms.Form):
    number = forms.IntegerField(
        label=_("Number"),
        min_value=1,
        max_value=999,
        help_text=_("4 for the fourth batch."),
    )
    title = forms.CharField(
        label=_("Title"), max_length=300, validators=[no_control_characters]
    )
    ceremony_session = forms.ModelChoiceField(
        label=_("Ceremony session"),
        queryset=Session.objects.none(),
        required=False,
        help_text=_("Where the awardees are called up; each gets a reserved seat."),
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this event's sessions: another event's cannot even be named.
        self.fields["ceremony_session"].queryset = Session.objects.filter(  # type: ignore[attr-defined]
            event=event
        ).order_by("starts_at", "pk")


class NominationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Recipient kind"), choices=AwardCategory.RecipientKind.choices
    )
    name = forms.CharField(
        label=_("Name"), max_length=200, validators=[no_control_characters]
    )
    title = forms.CharField(
        label=_("Title or position"),
        max_length=200,
        required=False,
        validators=[no_control_characters],
    )
    affiliation = forms.CharField(
        label=_("Affiliation"),
        max_length=200,
        required=False,
        validators=[no_control_characters],
    )
    district = forms.CharField(
        label=_("District"),
        max_length=100,
        required=False,
        validators=[no_control_characters],
    )
    street = forms.CharField(
        label=_("Street"),
        max_length=100,
        required=False,
        validators=[no_control_characters],
    )
    community = forms.CharField(
        label=_("Community"),
        max_length=100,
        required=False,
        validators=[no_control_characters],
    )
    email = forms.EmailField(
        label=_("Contact email"),
        required=False,
        help_text=_("The award notice and certificate link go here."),
    )
    language = forms.ChoiceField(
        label=_("Language of their mail"),
        choices=settings.LANGUAGES,
        initial="zh-hans",
    )
    citation = forms.CharField(
        label=_("Citation"),
        required=False,
        max_length=5000,
        validators=[clean_free_text],
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, first line: kind, name, title, affiliation, district, street, "
            "community, email, citation (only name is required). kind is "
            "organisation or person; empty means the category's kind."
        ),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The file is over 2 MB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
            ) from None


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        validators=[clean_free_text],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to anyone who verifies the certificate."),
    )
