"""Attendee and door pages, server-rendered; they work without JavaScript."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.problems import DomainError, NotFoundError

from . import notices, selectors, services
from .branding import brand_css_version, brand_stylesheet
from .errors import AlreadyRegistered
from .forms import QuestionsForm, RegistrationForm
from .images import brand_image_version, content_type_of
from .models import Event, Registration
from .notices import ticket_qr
from .questions import AnswersInvalid, questions_for_event
from .throttling import RegistrationRateThrottle, registration_allowed


def event_list(request: HttpRequest) -> HttpResponse:
    events = selectors.event_list_published()
    return render(request, "events/event_list.html", {"events": events})


def _published_event(slug: str) -> Event:
    try:
        return selectors.event_get_published(slug=slug)
    except NotFoundError:
        raise Http404 from None


def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The event's page; a cancelled event's says so (attendees' links lead here)."""
    try:
        event = selectors.event_get_published(slug=slug)
    except NotFoundError:
        cancelled = Event.objects.filter(
            slug=slug, status=Event.Status.CANCELLED
        ).first()
        if cancelled is None:
            raise Http404 from None
        return render(request, "events/event_cancelled.html", {"event": cancelled})
    return render(
        request,
        "events/event_detail.html",
        {"event": event, "registration_open": event.registration_is_open()},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def registration_create(request: HttpRequest, slug: str) -> HttpResponse:
    event = _published_event(slug)
    initial = {"session": request.GET.get("session")}
    form = RegistrationForm(request.POST or None, event=event, initial=initial)
    questions_form = QuestionsForm(
        request.POST or None, questions=questions_for_event(event=event)
    )
    # Only the questions asked for the chosen session are checked.
    answered = request.method != "POST" or questions_form.check_for(
        _chosen_session(form)
    )
    status = 200
    if request.method == "POST" and form.is_valid() and answered:
        if not registration_allowed(request):
            form.add_error(
                None,
                _(
                    "Too many registrations from your network. Please try again in a minute."
                ),
            )
            status = 429
        else:
            session = form.sessions[form.cleaned_data["session"]]
            session.event = event
            try:
                registration = services.registration_create(
                    session=session,
                    attendee=services.AttendeeData(
                        full_name=form.cleaned_data["full_name"],
                        email=form.cleaned_data["email"],
                        phone=form.cleaned_data["phone"],
                        organisation=form.cleaned_data["organisation"],
                        language=get_language() or "en",
                        consent=form.cleaned_data.get("consent", False),
                        consent_version=form.cleaned_data.get("consent_version"),
                    ),
                    answers=questions_form.answers,
                )
            except AnswersInvalid as exc:
                questions_form.add_answer_errors(exc.errors)
                status = 400
            except ValidationError as exc:
                # The privacy notice changed since the page was drawn.
                form.add_error(
                    "consent" if "consent" in form.fields else None,
                    exc.message_dict.get("consent", exc.messages),
                )
                status = 400
            except AlreadyRegistered:
                form.add_error(
                    "email",
                    _(
                        "This address is already registered for this session. "
                        "We have sent its manage link to it again."
                    ),
                )
                status = 409
            except DomainError as exc:
                form.add_error("session", exc.detail)
                status = 409
            else:
                url = reverse(
                    "events:registration_confirmed", kwargs={"code": registration.code}
                )
                return HttpResponseRedirect(f"{url}?token={registration.token}")
    elif request.method == "POST":
        status = 400
    response = render(
        request,
        "events/registration_form.html",
        {
            "event": event,
            "form": form,
            "questions_form": questions_form,
            "privacy_notice": event.privacy_notice_for(get_language()),
            "registration_open": event.registration_is_open(),
            # A link to a session that was cancelled since: say so, not pick another.
            "session_gone": request.method != "POST"
            and bool(initial["session"])
            and str(initial["session"]) not in {str(pk) for pk in form.sessions},
        },
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(_registration_retry_after())
    return response


def _chosen_session(form: RegistrationForm) -> int | None:
    """The session picked on a posted form, if it is one of the event's."""
    form.is_valid()
    session = getattr(form, "cleaned_data", {}).get("session")
    return session if isinstance(session, int) else None


def _registration_retry_after() -> int:
    """Seconds until the client's rate-limit window has surely passed."""
    rate = settings.REGISTRATION_RATE_LIMIT
    if not rate:
        return 60
    _count, seconds = RegistrationRateThrottle().parse_rate(rate)
    return seconds or 60


def _registration_from_link(request: HttpRequest, code: str) -> Registration:
    try:
        registration = services.registration_get_by_token(
            code=code, token=request.GET.get("token")
        )
    except NotFoundError:
        raise Http404 from None
    registration.waitlist_position = selectors.registration_waitlist_position(
        registration
    )
    return registration


def _qr_data_uri(registration: Registration) -> str:
    return ticket_qr(registration.code).svg_data_uri(scale=6, border=4)


def registration_confirmed(request: HttpRequest, code: str) -> HttpResponse:
    registration = _registration_from_link(request, code)
    return render(
        request,
        "events/registration_confirmed.html",
        {
            "registration": registration,
            "event": registration.session.event,
            "qr": _qr_data_uri(registration),
        },
    )


def registration_manage(request: HttpRequest, code: str) -> HttpResponse:
    registration = _registration_from_link(request, code)
    return render(
        request,
        "events/registration_manage.html",
        {
            "registration": registration,
            "event": registration.session.event,
            "qr": _qr_data_uri(registration),
        },
    )


@require_POST
def registration_cancel(request: HttpRequest, code: str) -> HttpResponse:
    """Cancels after a confirmation page that says what happens (it cannot be undone)."""
    token = request.GET.get("token") or request.POST.get("token")
    if request.POST.get("confirm") != "yes":
        registration = _registration_from_link(request, code)
        return render(
            request,
            "events/registration_cancel.html",
            {"registration": registration, "event": registration.session.event},
        )
    try:
        registration = services.registration_cancel(code=code, token=token)
    except NotFoundError:
        raise Http404 from None
    messages.success(request, _("Your registration is cancelled."))
    url = reverse("events:registration_manage", kwargs={"code": registration.code})
    return HttpResponseRedirect(f"{url}?token={registration.token}")


def registration_calendar(request: HttpRequest, code: str) -> HttpResponse:
    registration = _registration_from_link(request, code)
    # The mail's calendar file (organiser included), in the page's language.
    body = notices.registration_calendar(
        registration,
        cancelled=registration.status == Registration.Status.CANCELLED,
        language=get_language() or "",
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{registration.code}.ics"'
    return response


BRAND_IMAGES = ("logo", "seal")
# An address with the image's version (``?v=``) names one upload for ever.
LONG_CACHE, SHORT_CACHE = 365 * 24 * 3600, 300


def _branded_event(request: HttpRequest, slug: str) -> Event:
    try:
        return selectors.event_get_for_branding(slug=slug, user=request.user)
    except NotFoundError:
        raise Http404 from None


def _cache_control(
    response: HttpResponseBase, *, event: Event, versioned: bool
) -> None:
    """Public caches may keep what the public sees; a draft's is its organisers'."""
    scope = "private" if event.status == Event.Status.DRAFT else "public"
    if versioned:
        response["Cache-Control"] = f"{scope}, max-age={LONG_CACHE}, immutable"
    else:
        response["Cache-Control"] = f"{scope}, max-age={SHORT_CACHE}"
    if scope == "private":
        patch_vary_headers(response, ["Cookie"])


@require_http_methods(["GET", "HEAD"])
def event_brand_image(request: HttpRequest, slug: str, kind: str) -> HttpResponseBase:
    """The event's logo or seal, streamed from storage (any backend; no MEDIA_URL).

    The public sees a published or cancelled event's images, its organisers a
    draft's; anyone else gets 404. The image's type comes from the name Podium
    gave it after checking its bytes (events.images); ``nosniff`` and a sandboxing
    policy keep a browser from treating it as anything but an image.
    """
    if kind not in BRAND_IMAGES:
        raise Http404
    event = _branded_event(request, slug)
    image = getattr(event, kind)
    content_type = content_type_of(image.name) if image else None
    if content_type is None:
        raise Http404
    version = brand_image_version(image.name)
    etag = f'"{version}"'
    response: HttpResponseBase
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        try:
            handle = image.storage.open(image.name, "rb")
        except OSError:
            raise Http404 from None
        response = FileResponse(handle, content_type=content_type)
        response["Content-Disposition"] = (
            f'inline; filename="{kind}.{image.name.rsplit(".", 1)[-1]}"'
        )
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cross-Origin-Resource-Policy"] = "same-site"
    _cache_control(response, event=event, versioned=request.GET.get("v") == version)
    return response


@require_http_methods(["GET", "HEAD"])
def event_brand_css(request: HttpRequest, slug: str) -> HttpResponse:
    """The event's colour as Pico's primary colour (the CSP allows no inline
    styles, so each event's pages link this stylesheet)."""
    event = _branded_event(request, slug)
    response = HttpResponse(
        brand_stylesheet(event.accent_colour), content_type="text/css; charset=utf-8"
    )
    response["X-Content-Type-Options"] = "nosniff"
    _cache_control(
        response,
        event=event,
        versioned=request.GET.get("v") == brand_css_version(event.accent_colour),
    )
    return response


def check_in(request: HttpRequest) -> HttpResponse:
    """The old door page: check-in lives in the console now.

    An organiser of one event lands on its check-in page, anyone else on the
    console's front page (which asks for a sign-in first).
    """
    if request.user.is_authenticated and not request.user.is_superuser:
        events = list(Event.objects.for_organiser(request.user).only("slug")[:2])
        if len(events) == 1:
            return redirect("console:check_in", slug=events[0].slug)
    return redirect("console:home")
