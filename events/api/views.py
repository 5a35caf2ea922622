"""Thin API views: parse, call one service or selector, serialise (API.md)."""

from typing import Any

from django.http import StreamingHttpResponse
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import permissions, serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.pagination import PagePagination
from config.problems import PROBLEM_CONTENT_TYPE

from .. import idempotency, selectors, services
from ..exports import registrations_csv
from ..models import Registration
from ..questions import AnswersInvalid, questions_for_event
from ..throttling import RegistrationCreateRateThrottle
from .serializers import (
    LANGUAGE_CODES,
    CheckInInputSerializer,
    CheckInOutputSerializer,
    EventDetailOutputSerializer,
    EventInputSerializer,
    EventOutputSerializer,
    ProblemSerializer,
    RegistrationCreatedSerializer,
    RegistrationFilterSerializer,
    RegistrationInputSerializer,
    RegistrationOrganiserSerializer,
    RegistrationOutputSerializer,
    SessionInputSerializer,
    SessionOutputSerializer,
)


def problems(*codes: int) -> dict[tuple[int, str], OpenApiResponse]:
    """Schema entries for the RFC 9457 errors an operation can answer with."""
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer)
        for code in codes
    }


class IsOrganiserUser(permissions.IsAuthenticated):
    """Signed in; whose event it is, the event's scoping decides (another's is 404,
    so that nothing tells what exists). Organisers are not staff: the admin is for
    operators only.
    """


class MayCreateEvents(permissions.IsAuthenticated):
    """An organiser may start an event: a superuser, a member of the organisers'
    group that ``add_organiser`` fills, or an organiser of some event already."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        user = request.user
        return bool(
            user.is_superuser
            or user.groups.filter(name="Organisers").exists()
            or user.organised_events.exists()  # type: ignore[union-attr]
        )


def paginated(name: str, serializer: Any) -> Any:
    """The schema of a page of a list: ``{count, next, previous, results}``."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer(many=True),
        },
    )


TOKEN_PARAMETER = OpenApiParameter(
    "token",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=True,
    description="The secret of the manage link.",
)


class EventListApi(APIView):
    def get_permissions(self) -> list[Any]:
        return [MayCreateEvents()] if self.request.method == "POST" else []

    @extend_schema(
        responses={
            200: paginated("PaginatedEventList", EventOutputSerializer),
            **problems(404),
        },
        operation_id="events_list",
    )
    def get(self, request: Request) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            selectors.event_list_published(), request, view=self
        )
        return paginator.get_paginated_response(
            EventOutputSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        request=EventInputSerializer,
        responses={201: EventDetailOutputSerializer, **problems(400, 401, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        data = EventInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.event_create(data=data.validated_data, organiser=request.user)
        event = selectors.event_get_for_organiser(slug=event.slug, user=request.user)
        return Response(
            EventDetailOutputSerializer(event, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class EventDetailApi(APIView):
    def get_permissions(self) -> list[Any]:
        return [IsOrganiserUser()] if self.request.method == "PATCH" else []

    @extend_schema(responses={200: EventDetailOutputSerializer, **problems(404)})
    def get(self, request: Request, slug: str) -> Response:
        event = selectors.event_get_visible(slug=slug, user=request.user)
        return Response(
            EventDetailOutputSerializer(event, context={"request": request}).data
        )

    @extend_schema(
        request=EventInputSerializer(partial=True),
        responses={200: EventDetailOutputSerializer, **problems(400, 401, 403, 404)},
    )
    def patch(self, request: Request, slug: str) -> Response:
        event = selectors.event_get_for_organiser(slug=slug, user=request.user)
        data = EventInputSerializer(event, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.event_update(event=event, data=data.validated_data)
        event = selectors.event_get_for_organiser(slug=event.slug, user=request.user)
        return Response(
            EventDetailOutputSerializer(event, context={"request": request}).data
        )


class EventSessionsApi(APIView):
    permission_classes = [IsOrganiserUser]

    @extend_schema(
        request=SessionInputSerializer,
        responses={201: SessionOutputSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, slug: str) -> Response:
        event = selectors.event_get_for_organiser(slug=slug, user=request.user)
        data = SessionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_create(event=event, data=data.validated_data)
        return Response(
            SessionOutputSerializer(session).data, status=status.HTTP_201_CREATED
        )


class SessionDetailApi(APIView):
    permission_classes = [IsOrganiserUser]

    @extend_schema(
        request=SessionInputSerializer(partial=True),
        responses={200: SessionOutputSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, session_id: int) -> Response:
        session = selectors.session_get_for_organiser(
            session_id=session_id, user=request.user
        )
        data = SessionInputSerializer(session, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        session = services.session_update(session=session, data=data.validated_data)
        return Response(SessionOutputSerializer(session).data)


class SessionCancelApi(APIView):
    permission_classes = [IsOrganiserUser]

    @extend_schema(
        request=None,
        responses={200: SessionOutputSerializer, **problems(401, 403, 404)},
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = selectors.session_get_for_organiser(
            session_id=session_id, user=request.user
        )
        session = services.session_cancel(session=session)
        return Response(SessionOutputSerializer(session).data)


class CSVRenderer(BaseRenderer):
    """Lets ``?format=csv`` through content negotiation; errors still render as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        return JSONRenderer().render(data)


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    idempotency.HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique key per registration (a UUID), quoted as the IETF draft's "
        'Structured Field string (`"..."`) or bare, at most 255 printable ASCII '
        "characters. A retry with the same key and body within 24 hours gets the "
        "first answer again (status and body) and registers nobody twice; the same "
        "key with another body is 422 `idempotency_key_reused`."
    ),
)


# One output serializer per process: a ModelSerializer builds its fields from the
# model on first use, which cost the registration request more CPU than its reads.
# It holds no per-request state (no context), so every request can use it.
_REGISTRATION_CREATED = RegistrationCreatedSerializer()


class _RegistrationInput(RegistrationInputSerializer):
    """The registration's input, checked as ``RegistrationInputSerializer`` checks it,
    with its fields built once per process: DRF deep-copies the declared fields for
    every instance, and none of them keeps state of a request (no context is used).
    """

    _shared_fields: Any = None

    @property
    def fields(self) -> Any:
        cls = type(self)
        if cls._shared_fields is None:
            cls._shared_fields = RegistrationInputSerializer().fields
        return cls._shared_fields


class EventRegistrationsApi(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer]

    def get_permissions(self) -> list[Any]:
        return [IsOrganiserUser()] if self.request.method == "GET" else []

    def get_throttles(self) -> list[Any]:
        return (
            [RegistrationCreateRateThrottle()] if self.request.method == "POST" else []
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("session", OpenApiTypes.INT, OpenApiParameter.QUERY),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=Registration.Status.values,
            ),
            OpenApiParameter("search", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter(
                "format", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=["json", "csv"]
            ),
        ],
        responses={
            200: paginated(
                "PaginatedRegistrationList", RegistrationOrganiserSerializer
            ),
            (200, "text/csv"): OpenApiTypes.STR,
            **problems(400, 401, 403, 404),
        },
    )
    def get(self, request: Request, slug: str) -> Response | StreamingHttpResponse:
        event = selectors.event_get_for_organiser(
            slug=slug, user=request.user, with_sessions=False
        )
        filters = RegistrationFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        registrations = selectors.registration_list_for_event(
            event=event,
            session_id=filters.validated_data.get("session"),
            status=filters.validated_data.get("status"),
            search=filters.validated_data.get("search"),
        )
        if request.accepted_renderer.format == "csv":
            response = StreamingHttpResponse(
                registrations_csv(
                    registrations,
                    questions=questions_for_event(event=event, active_only=False),
                ),
                content_type="text/csv; charset=utf-8",
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{event.slug}-registrations.csv"'
            )
            return response
        paginator = PagePagination()
        page = paginator.paginate_queryset(registrations, request, view=self)
        return paginator.get_paginated_response(
            RegistrationOrganiserSerializer(page, many=True).data
        )

    @extend_schema(
        request=RegistrationInputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: RegistrationCreatedSerializer,
            **problems(400, 404, 409, 422, 429),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        key = idempotency.request_key(request)
        if key is None:
            return self.registration_create(request, slug)
        return idempotency.idempotent_response(
            scope=self.idempotency_scope(request),
            key=key,
            body=request.data,
            respond=lambda: self.registration_create(request, slug),
            handle_exception=self.handle_exception,
        )

    def idempotency_scope(self, request: Request) -> str:
        """Where a registration's ``Idempotency-Key`` is unique: this event's list."""
        return idempotency.request_scope(
            request=request, endpoint=f"registrations:{self.kwargs['slug']}"
        )

    def registration_create(self, request: Request, slug: str) -> Response:
        data = _RegistrationInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        # One query for the session with its event (and whether it asks questions).
        session = selectors.session_get_for_registration_by_slug(
            slug=slug, session_id=fields["session"]
        )
        language = fields.get("language") or (
            get_language() if get_language() in LANGUAGE_CODES else "en"
        )
        try:
            registration = services.registration_create(
                session=session,
                attendee=services.AttendeeData(
                    full_name=fields["full_name"],
                    email=fields["email"],
                    phone=fields["phone"],
                    organisation=fields["organisation"],
                    language=language,
                    consent=fields["consent"],
                ),
                answers=fields.get("answers"),
            )
        except AnswersInvalid as exc:
            # Each refused answer is named as ``answers.<question id>``.
            raise serializers.ValidationError({"answers": exc.errors}) from None
        # The service has counted a waitlisted registration's place already.
        return Response(
            _REGISTRATION_CREATED.to_representation(registration),
            status=status.HTTP_201_CREATED,
        )


class RegistrationApi(APIView):
    @extend_schema(
        parameters=[TOKEN_PARAMETER],
        responses={200: RegistrationOutputSerializer, **problems(404)},
    )
    def get(self, request: Request, code: str) -> Response:
        registration = services.registration_get_by_token(
            code=code, token=request.query_params.get("token")
        )
        registration.waitlist_position = selectors.registration_waitlist_position(
            registration
        )
        return Response(RegistrationOutputSerializer(registration).data)


class RegistrationCancelApi(APIView):
    @extend_schema(
        request=None,
        parameters=[TOKEN_PARAMETER],
        responses={200: RegistrationOutputSerializer, **problems(404)},
    )
    def post(self, request: Request, code: str) -> Response:
        registration = services.registration_cancel(
            code=code, token=request.query_params.get("token")
        )
        registration.waitlist_position = selectors.registration_waitlist_position(
            registration
        )
        return Response(RegistrationOutputSerializer(registration).data)


class CheckInApi(APIView):
    permission_classes = [IsOrganiserUser]

    @extend_schema(
        request=CheckInInputSerializer,
        responses={200: CheckInOutputSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, slug: str) -> Response:
        event = selectors.event_get_for_organiser(
            slug=slug, user=request.user, with_sessions=False
        )
        data = CheckInInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration, already = services.registration_check_in(
            event=event, code=data.validated_data["code"]
        )
        registration.waitlist_position = None
        body = {
            "registration": registration,
            "checked_in_at": registration.checked_in_at,
            "already_checked_in": already,
        }
        return Response(CheckInOutputSerializer(body).data)
