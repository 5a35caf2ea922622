"""Forms of the awards console; their limits are the API's."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from events.models import Event, Session
from events.validators import clean_free_text, no_control_characters

from ..models import AwardCategory, District
from ..services import RecipientData

LANGUAGE_LABELS = {
    "zh_hans": _("Chinese"),
    "en": _("English"),
}


def in_language(label: Any, suffix: str) -> Any:
    """A field's label with its language: "Name (Chinese)", "名称（中文）"."""
    return format_lazy(
        _("{text} ({language})"), text=label, language=LANGUAGE_LABELS[suffix]
    )


def line_field(label: Any, max_length: int, required: bool = False) -> forms.CharField:
    """A name or one-line text: no line breaks, controls or invisible-only values."""
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        validators=[no_control_characters],
    )


def free_field(label: Any, max_length: int, rows: int) -> forms.CharField:
    """A text that may break lines (citations, descriptions)."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        validators=[clean_free_text],
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class BilingualForm(forms.Form):
    """A form whose texts are written in both languages, side by side.

    ``bilingual`` names the texts (``name`` for ``name_zh_hans`` and ``name_en``),
    ``required_texts`` those that need at least one language.
    """

    bilingual: tuple[str, ...] = ()
    required_texts: tuple[str, ...] = ()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.required_texts:
            columns = [f"{name}_zh_hans", f"{name}_en"]
            if any(column in self.errors for column in columns):
                continue
            if not any((data.get(column) or "").strip() for column in columns):
                self.add_error(
                    columns[0], _("Write it in Chinese, in English, or in both.")
                )
        return data

    def pairs(self) -> list[dict[str, Any]]:
        """The texts, each with its Chinese and English field, for the template."""
        return [
            {
                "name": name,
                "label": getattr(self.fields[f"{name}_zh_hans"], "text_label", name),
                "zh_hans": self[f"{name}_zh_hans"],
                "en": self[f"{name}_en"],
                "required": name in self.required_texts,
            }
            for name in self.bilingual
        ]

    def recipient_pairs(self) -> list[dict[str, Any]]:
        return [pair for pair in self.pairs() if pair["name"] != "citation"]

    def citation_pairs(self) -> list[dict[str, Any]]:
        return [pair for pair in self.pairs() if pair["name"] == "citation"]

    def other_fields(self) -> list[Any]:
        """The fields that are not texts in two languages, in their order."""
        columns = {f"{n}_{s}" for n in self.bilingual for s in LANGUAGE_LABELS}
        return [self[name] for name in self.fields if name not in columns]

    def texts(self) -> dict[str, str]:
        """The cleaned per-language columns: ``{"name_zh_hans": ..., ...}``."""
        return {
            f"{name}_{suffix}": (
                self.cleaned_data.get(f"{name}_{suffix}") or ""
            ).strip()
            for name in self.bilingual
            for suffix in LANGUAGE_LABELS
        }


def _pair(label: Any, field: Any, *args: Any) -> dict[str, forms.Field]:
    """The Chinese and English fields of one text."""
    return {
        suffix: field(in_language(label, suffix), *args) for suffix in LANGUAGE_LABELS
    }


def _declare(
    attrs: dict[str, Any], name: str, label: Any, field: Any, *args: Any
) -> None:
    """Declares ``<name>_zh_hans`` and ``<name>_en`` in a form's class body."""
    for suffix, made in _pair(label, field, *args).items():
        made.text_label = label  # type: ignore[attr-defined]
        attrs[f"{name}_{suffix}"] = made


class CategoryForm(BilingualForm):
    bilingual = ("name", "description")
    required_texts: tuple[str, ...] = ("name",)

    _declare(locals(), "name", pgettext_lazy("of a thing", "Name"), line_field, 200)
    _declare(locals(), "description", _("Description"), free_field, 5000, 3)
    recipient_kind = forms.ChoiceField(
        label=_("Who receives it"), choices=AwardCategory.RecipientKind.choices
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


class BatchForm(BilingualForm):
    bilingual = ("title",)
    required_texts = ("title",)

    number = forms.IntegerField(
        label=_("Number"),
        min_value=1,
        max_value=999,
        help_text=_("4 for the fourth batch."),
    )
    _declare(locals(), "title", _("Title"), line_field, 300)
    ceremony_session: forms.ModelChoiceField = forms.ModelChoiceField(
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


class RecipientTextsForm(BilingualForm):
    """Who is nominated and why, in both languages: the console's nomination form
    and each row of a CSV import are checked by it."""

    bilingual = ("name", "title", "affiliation", "street", "community", "citation")
    required_texts: tuple[str, ...] = ("name",)

    kind = forms.ChoiceField(
        label=_("Recipient kind"), choices=AwardCategory.RecipientKind.choices
    )
    _declare(locals(), "name", pgettext_lazy("of a thing", "Name"), line_field, 200)
    _declare(locals(), "title", _("Title or position"), line_field, 200)
    _declare(locals(), "affiliation", _("Affiliation"), line_field, 200)
    _declare(locals(), "street", _("Street"), line_field, 100)
    _declare(locals(), "community", _("Community"), line_field, 100)
    email = forms.EmailField(
        label=_("Contact email"),
        required=False,
        help_text=_("The award notice and certificate link go here."),
    )
    _declare(locals(), "citation", _("Citation"), free_field, 5000, 4)


class NominationForm(RecipientTextsForm):
    district: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("District"),
        queryset=District.objects.none(),
        required=False,
        empty_label=_("(none)"),
        help_text=_("From the event's list of districts."),
    )
    _declare(locals(), "new_district", _("Or a new district"), line_field, 100)
    language = forms.ChoiceField(
        label=_("Language of their mail"),
        choices=settings.LANGUAGES,
        initial="zh-hans",
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this event's districts: another event's cannot even be named.
        self.fields["district"].queryset = District.objects.filter(  # type: ignore[attr-defined]
            event=event
        ).order_by("pk")

    def other_fields(self) -> list[Any]:
        return [
            field
            for field in super().other_fields()
            if not field.name.startswith("new_district_")
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        new = any(
            (data.get(f"new_district_{s}") or "").strip() for s in LANGUAGE_LABELS
        )
        if new and data.get("district") is not None:
            self.add_error(
                "district",
                _("Choose a district from the list or add a new one, not both."),
            )
        return data

    def recipient(self) -> RecipientData:
        """What the services take: the texts by language, the district."""
        data = self.cleaned_data
        texts = {k: v for k, v in self.texts().items() if not k.startswith("citation")}
        district = data.get("district")
        if district is not None:
            texts["district_zh_hans"] = district.name_zh_hans or ""
            texts["district_en"] = district.name_en or ""
        else:
            texts["district_zh_hans"] = data.get("new_district_zh_hans", "")
            texts["district_en"] = data.get("new_district_en", "")
        return RecipientData(
            kind=data["kind"],
            email=data.get("email", ""),
            language=data["language"],
            district_id=district.pk if district is not None else None,
            texts=texts,
        )

    def citation(self) -> dict[str, str]:
        return {k: v for k, v in self.texts().items() if k.startswith("citation")}


class DistrictForm(forms.Form):
    name_zh_hans = line_field(
        in_language(pgettext_lazy("of a thing", "Name"), "zh_hans"), 100
    )
    name_en = line_field(in_language(pgettext_lazy("of a thing", "Name"), "en"), 100)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not any(
            (data.get(f) or "").strip() for f in ("name_zh_hans", "name_en")
        ):
            self.add_error(
                "name_zh_hans", _("Write it in Chinese, in English, or in both.")
            )
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, first line: kind, name, title, affiliation, district, street, "
            "community, email, citation (only name is required). kind is "
            "organisation or person; empty means the category's kind. A text "
            "may also be given per language: name_zh_hans, name_en, and so on."
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
