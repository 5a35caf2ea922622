"""Console: an event's questions to registrants: list and order, add, edit, retire.

Every question is looked up within the event of the URL, so another event's
question id is a 404; the sessions offered are this event's only. The writes go
through ``events.questions``.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.problems import DomainError

from ..models import Event, Question, Session
from ..questions import (
    CHOICE_VALUE_MAX,
    MAX_CHOICES,
    question_create,
    question_delete,
    question_get_for_event,
    question_move,
    question_set_active,
    question_update,
    questions_for_event,
)
from ..validators import clean_free_text, no_control_characters
from .access import organiser_event


def choices_to_text(choices: list[dict[str, Any]]) -> str:
    return "\n".join(
        " | ".join(
            [str(c.get("value", "")), c.get("label_zh_hans", ""), c.get("label_en", "")]
        )
        for c in choices
    )


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of answer"), choices=Question.Kind.choices
    )
    required = forms.BooleanField(
        label=gettext_lazy("An answer is required"), required=False
    )
    label_zh_hans = forms.CharField(
        label=gettext_lazy("Question (Chinese)"),
        max_length=300,
        required=False,
        validators=[no_control_characters],
    )
    label_en = forms.CharField(
        label=gettext_lazy("Question (English)"),
        max_length=300,
        required=False,
        validators=[no_control_characters],
    )
    help_zh_hans = forms.CharField(
        label=gettext_lazy("Help (Chinese)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[clean_free_text],
    )
    help_en = forms.CharField(
        label=gettext_lazy("Help (English)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[clean_free_text],
    )
    choices_text = forms.CharField(
        label=gettext_lazy("Choices"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "For choice questions: one choice a line, as “value | 中文 | English”. "
            "The value is the key answers keep: leave it unchanged when you reword "
            "a choice. “value | label” uses one label for both languages."
        ),
    )
    sessions: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Asked for"),
        queryset=Session.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: asked for every session."),
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sessions = self.fields["sessions"]
        assert isinstance(sessions, forms.ModelMultipleChoiceField)
        sessions.queryset = Session.objects.filter(event=event).order_by(
            "starts_at", "pk"
        )

    def clean_choices_text(self) -> list[dict[str, str]]:
        text = self.cleaned_data.get("choices_text") or ""
        choices: list[dict[str, str]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) > 3 or not parts[0]:
                raise forms.ValidationError(
                    _("Line %(number)d: write “value | 中文 | English”.")
                    % {"number": number}
                )
            value = parts[0]
            zh = parts[1] if len(parts) > 1 else value
            en = parts[2] if len(parts) > 2 else zh
            for part in (value, zh, en):
                no_control_characters(part)
            if len(value) > CHOICE_VALUE_MAX or max(len(zh), len(en)) > 300:
                raise forms.ValidationError(
                    _("Line %(number)d is too long.") % {"number": number}
                )
            if any(c["value"] == value for c in choices):
                raise forms.ValidationError(
                    _("The value “%(value)s” is used twice.") % {"value": value}
                )
            choices.append({"value": value, "label_zh_hans": zh, "label_en": en})
        if len(choices) > MAX_CHOICES:
            raise forms.ValidationError(
                _("Give at most %(count)d choices.") % {"count": MAX_CHOICES}
            )
        return choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if (
            "label_zh_hans" in data
            and "label_en" in data
            and not (data["label_zh_hans"].strip() or data["label_en"].strip())
        ):
            self.add_error(
                "label_en", _("Write the question in at least one language.")
            )
        kind = data.get("kind")
        choices = data.get("choices_text")
        if kind in Question.CHOICE_KINDS and choices is not None and not choices:
            self.add_error("choices_text", _("A choice question needs choices."))
        if kind not in Question.CHOICE_KINDS and choices:
            self.add_error(
                "choices_text",
                _("Only choice questions have choices: empty this box."),
            )
        return data

    def question_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "required": data["required"],
            "label_zh_hans": data["label_zh_hans"].strip(),
            "label_en": data["label_en"].strip(),
            "help_zh_hans": data["help_zh_hans"].strip(),
            "help_en": data["help_en"].strip(),
            "choices": data["choices_text"],
        }


def _question(event: Event, question_id: int) -> Question:
    question = question_get_for_event(event=event, question_id=question_id)
    if question is None:
        raise Http404
    return question


@organiser_event
def questions(request: HttpRequest, event: Event) -> HttpResponse:
    items = questions_for_event(event=event, active_only=False)
    return render(
        request,
        "console/questions.html",
        {
            "event": event,
            "active": [q for q in items if q.active],
            "retired": [q for q in items if not q.active],
        },
    )


def _edit(
    request: HttpRequest, event: Event, question: Question | None
) -> HttpResponse:
    initial = None
    if question is not None:
        initial = {
            "kind": question.kind,
            "required": question.required,
            "label_zh_hans": question.label_zh_hans,
            "label_en": question.label_en,
            "help_zh_hans": question.help_zh_hans,
            "help_en": question.help_en,
            "choices_text": choices_to_text(question.choices or []),
            "sessions": list(question.sessions.all()),
        }
    form = QuestionForm(request.POST or None, event=event, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if question is None:
                    question_create(
                        event=event,
                        data=form.question_data(),
                        sessions=form.cleaned_data["sessions"],
                    )
                    messages.success(request, _("The question is added."))
                else:
                    question_update(
                        question=question,
                        data=form.question_data(),
                        sessions=form.cleaned_data["sessions"],
                    )
                    messages.success(
                        request,
                        _(
                            "The question is saved. Answers given before keep the "
                            "words they were given under."
                        ),
                    )
            except DomainError as error:
                form.add_error("kind", error.detail)
            else:
                return redirect("console:questions", slug=event.slug)
        status = 400
    return render(
        request,
        "console/question_form.html",
        {
            "event": event,
            "form": form,
            "question": question,
            "answered": question is not None and question.answers.exists(),
        },
        status=status,
    )


@organiser_event
def question_new(request: HttpRequest, event: Event) -> HttpResponse:
    return _edit(request, event, None)


@organiser_event
def question_edit(request: HttpRequest, event: Event, question_id: int) -> HttpResponse:
    return _edit(request, event, _question(event, question_id))


@organiser_event
def question_move_view(
    request: HttpRequest, event: Event, question_id: int
) -> HttpResponse:
    question = _question(event, question_id)
    if request.method != "POST":  # after the lookup: a foreign id is a 404
        return HttpResponseNotAllowed(["POST"])
    question_move(question=question, up=request.POST.get("direction") != "down")
    return redirect("console:questions", slug=event.slug)


@organiser_event
def question_retire(
    request: HttpRequest, event: Event, question_id: int
) -> HttpResponse:
    question = _question(event, question_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    question_set_active(question=question, active=False)
    messages.success(
        request,
        _(
            "“%(label)s” is no longer asked. The answers already given stay, on the "
            "attendee pages and in the export."
        )
        % {"label": question.label()},
    )
    return redirect("console:questions", slug=event.slug)


@organiser_event
def question_restore(
    request: HttpRequest, event: Event, question_id: int
) -> HttpResponse:
    question = _question(event, question_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    question_set_active(question=question, active=True)
    messages.success(
        request, _("“%(label)s” is asked again.") % {"label": question.label()}
    )
    return redirect("console:questions", slug=event.slug)


@organiser_event
def question_delete_view(
    request: HttpRequest, event: Event, question_id: int
) -> HttpResponse:
    """GET: what deleting does (or why it cannot); POST: delete an unanswered one."""
    question = _question(event, question_id)
    answered = question.answers.exists()
    if request.method == "POST":
        try:
            question_delete(question=question)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(
                request, _("“%(label)s” is deleted.") % {"label": question.label()}
            )
        return redirect("console:questions", slug=event.slug)
    return render(
        request,
        "console/question_delete.html",
        {"event": event, "question": question, "answered": answered},
    )


urlpatterns = [
    path("<slug:slug>/questions/", questions, name="questions"),
    path("<slug:slug>/questions/new/", question_new, name="question_new"),
    path(
        "<slug:slug>/questions/<int:question_id>/edit/",
        question_edit,
        name="question_edit",
    ),
    path(
        "<slug:slug>/questions/<int:question_id>/move/",
        question_move_view,
        name="question_move",
    ),
    path(
        "<slug:slug>/questions/<int:question_id>/retire/",
        question_retire,
        name="question_retire",
    ),
    path(
        "<slug:slug>/questions/<int:question_id>/delete/",
        question_delete_view,
        name="question_delete",
    ),
    path(
        "<slug:slug>/questions/<int:question_id>/restore/",
        question_restore,
        name="question_restore",
    ),
]
