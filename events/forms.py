"""Forms of the attendee pages."""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Event, Question, Session
from .validators import no_control_characters


def _session_choice_label(session: Session) -> str:
    """The session as offered in the form: full ones say what registering means."""
    if session.seats_left == 0:
        if session.waitlist_enabled:
            return _("%(title)s (full: you join the waiting list)") % {
                "title": session.title
            }
        return _("%(title)s (full)") % {"title": session.title}
    return session.title


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
            (pk, _session_choice_label(s)) for pk, s in self.sessions.items()
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


class QuestionsForm(forms.Form):
    """The event's own questions on the registration page, one field per question.

    Every active question is on the page (the session is picked on the same page,
    without JavaScript); only those asked for the chosen session are checked, by
    ``events.questions.answers_clean``, the check the API uses too.
    """

    prefix = "q"

    def __init__(self, *args: Any, questions: list[Question], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.answers: dict[str, Any] = {}
        for question in questions:
            self.fields[str(question.pk)] = _question_field(question)

    def rows(self) -> list[tuple[Question, forms.BoundField]]:
        return [(q, self[str(q.pk)]) for q in self.questions]

    def check_for(self, session_id: int | None) -> bool:
        """Checks the answers to the questions asked for ``session_id``; keeps the
        raw answers in ``answers`` for the service, which checks them again."""
        from .questions import AnswersInvalid, answers_clean, question_applies

        if not self.is_valid():
            return False
        asked = [q for q in self.questions if question_applies(q, session_id)]
        raw = {str(q.pk): self.cleaned_data.get(str(q.pk)) for q in asked}
        try:
            answers_clean(questions=asked, raw=raw)
        except AnswersInvalid as exc:
            self.add_answer_errors(exc.errors)
            return False
        self.answers = raw
        return True

    def add_answer_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            if key in self.fields:
                for message in messages:
                    self.add_error(key, message)
            else:
                for message in messages:
                    self.add_error(None, message)


class _LooseMultipleField(forms.Field):
    """A list of ticked boxes, left to ``answers_clean`` to check."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        return (
            [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        )


def _question_field(question: Question) -> forms.Field:
    """The field of a question; its label and help in the reader's language."""
    kind = question.kind
    common: dict[str, Any] = {
        "label": question.label(),
        "help_text": question.help(),
        "required": False,
    }
    if kind == Question.Kind.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == Question.Kind.NUMBER:
        return forms.CharField(
            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            **common,
        )
    if kind == Question.Kind.DATE:
        return forms.CharField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            **common,
        )
    if kind == Question.Kind.SINGLE_CHOICE:
        return forms.CharField(
            widget=forms.RadioSelect(choices=question.choice_options()), **common
        )
    if kind == Question.Kind.MULTIPLE_CHOICE:
        return _LooseMultipleField(
            widget=forms.CheckboxSelectMultiple(choices=question.choice_options()),
            **common,
        )
    if kind == Question.Kind.YES_NO:
        return forms.CharField(
            widget=forms.RadioSelect(choices=[("yes", _("Yes")), ("no", _("No"))]),
            **common,
        )
    return forms.CharField(**common)
