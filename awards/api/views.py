"""Thin API views of the awards workflow (API.md)."""

from typing import Any

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.pagination import PagePagination
from events import selectors as event_selectors
from events.api.views import IsOrganiserUser, paginated, problems
from events.models import Session

from .. import selectors, services
from ..certificates import certificate_language, certificate_pdf
from ..errors import AwardNotFound, NotAllowed
from ..models import Nomination
from .serializers import (
    BatchInputSerializer,
    BatchOutputSerializer,
    CategoryInputSerializer,
    CategoryOutputSerializer,
    CertificateOutputSerializer,
    HonourBatchSerializer,
    JudgeInputSerializer,
    JudgeOutputSerializer,
    NominationInputSerializer,
    NominationOutputSerializer,
    NominationUpdateSerializer,
    ReviewInputSerializer,
    ReviewOutputSerializer,
    RevokeInputSerializer,
    RunOfShowSerializer,
    recipient_data,
)


def _nomination_out(nomination: Nomination) -> dict[str, Any]:
    scored = selectors.nominations_with_scores(
        Nomination.objects.filter(pk=nomination.pk)
    ).get()
    return NominationOutputSerializer(scored).data


class CategoryCreateApi(APIView):
    permission_classes = [IsOrganiserUser]

    @extend_schema(
        request=CategoryInputSerializer,
        responses={201: CategoryOutputSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, slug: str) -> Response:
        event = event_selectors.event_get_for_organiser(
            slug=slug, user=request.user, with_sessions=False
        )
        data = CategoryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(
            event=event, data=data.validated_data, actor=request.user
        )
        return Response(
            CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED
        )


class BatchCreateApi(APIView):
    permission_classes = [IsOrganiserUser]

    @extend_schema(
        request=BatchInputSerializer,
        responses={201: BatchOutputSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, category_id: int) -> Response:
        category = selectors.category_get_for_organiser(
            category_id=category_id, user=request.user
        )
        data = BatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        session_id = fields.pop("ceremony_session", None)
        if session_id is not None:
            session = Session.objects.filter(
                pk=session_id, event=category.event
            ).first()
            if session is None:
                raise ValidationError(
                    {"ceremony_session": ["No such session in this event."]}
                )
            fields["ceremony_session"] = session
        batch = services.batch_create(
            category=category, data=fields, actor=request.user
        )
        return Response(
            BatchOutputSerializer(batch).data, status=status.HTTP_201_CREATED
        )


class BatchDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: BatchOutputSerializer, **problems(401, 404)})
    def get(self, request: Request, batch_id: int) -> Response:
        batch, _organiser = selectors.batch_get_visible(
            batch_id=batch_id, user=request.user
        )
        return Response(BatchOutputSerializer(batch).data)


class BatchNominationsApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses={
            200: paginated("PaginatedNominationList", NominationOutputSerializer),
            **problems(401, 404),
        }
    )
    def get(self, request: Request, batch_id: int) -> Response:
        batch, _organiser = selectors.batch_get_visible(
            batch_id=batch_id, user=request.user
        )
        nominations = selectors.nominations_with_scores(
            batch.nominations.order_by("pk")
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(nominations, request, view=self)
        return paginator.get_paginated_response(
            NominationOutputSerializer(page, many=True).data
        )

    @extend_schema(
        request=NominationInputSerializer,
        responses={
            201: NominationOutputSerializer,
            **problems(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request, batch_id: int) -> Response:
        batch = selectors.batch_get_for_organiser(batch_id=batch_id, user=request.user)
        data = NominationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        nomination = services.nomination_create(
            batch=batch,
            recipient=recipient_data(data.validated_data["recipient"]),
            citation={
                key: value
                for key, value in data.validated_data.items()
                if key.startswith("citation_")
            },
            actor=request.user,
        )
        return Response(_nomination_out(nomination), status=status.HTTP_201_CREATED)


class NominationApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=NominationUpdateSerializer,
        responses={
            200: NominationOutputSerializer,
            **problems(400, 401, 403, 404, 409),
        },
    )
    def patch(self, request: Request, nomination_id: int) -> Response:
        nomination, organiser = selectors.nomination_get_visible(
            nomination_id=nomination_id, user=request.user
        )
        if not organiser:
            raise NotAllowed()
        data = NominationUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        nomination = services.nomination_update(
            nomination=nomination, data=data.validated_data, actor=request.user
        )
        return Response(_nomination_out(nomination))


class BatchJudgesApi(APIView):
    permission_classes = [IsOrganiserUser]

    @extend_schema(
        request=JudgeInputSerializer,
        responses={201: JudgeOutputSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, batch_id: int) -> Response:
        batch = selectors.batch_get_for_organiser(batch_id=batch_id, user=request.user)
        data = JudgeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        judge = services.judge_add(
            batch=batch, email=data.validated_data["email"], actor=request.user
        )
        return Response(
            {"batch": batch.pk, "email": judge.email}, status=status.HTTP_201_CREATED
        )


class ReviewCreateApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=ReviewInputSerializer,
        responses={201: ReviewOutputSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, nomination_id: int) -> Response:
        nomination, _organiser = selectors.nomination_get_visible(
            nomination_id=nomination_id, user=request.user
        )
        data = ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_create(
            nomination=nomination, judge=request.user, **data.validated_data
        )
        return Response(
            ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED
        )


class BatchApproveApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: BatchOutputSerializer, **problems(401, 403, 404, 409)},
    )
    def post(self, request: Request, batch_id: int) -> Response:
        batch = selectors.batch_get_for_organiser(batch_id=batch_id, user=request.user)
        batch = services.batch_approve(batch=batch, actor=request.user)
        return Response(BatchOutputSerializer(batch).data)


class BatchAnnounceApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: BatchOutputSerializer, **problems(401, 403, 404, 409)},
    )
    def post(self, request: Request, batch_id: int) -> Response:
        batch = selectors.batch_get_for_organiser(batch_id=batch_id, user=request.user)
        batch = services.batch_announce(batch=batch, actor=request.user)
        return Response(BatchOutputSerializer(batch).data)


class RunOfShowApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: RunOfShowSerializer, **problems(401, 404)})
    def get(self, request: Request, batch_id: int) -> Response:
        batch, _organiser = selectors.batch_get_visible(
            batch_id=batch_id, user=request.user
        )
        return Response(RunOfShowSerializer(batch.run_of_show).data)

    @extend_schema(
        request=RunOfShowSerializer,
        responses={200: RunOfShowSerializer, **problems(400, 401, 403, 404, 409)},
    )
    def put(self, request: Request, batch_id: int) -> Response:
        batch = selectors.batch_get_for_organiser(batch_id=batch_id, user=request.user)
        data = RunOfShowSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.run_of_show_update(
            batch=batch, groups=data.validated_data["groups"], actor=request.user
        )
        return Response(RunOfShowSerializer(batch.run_of_show).data)


class CertificateApi(APIView):
    @extend_schema(responses={200: CertificateOutputSerializer, **problems(404)})
    def get(self, request: Request, number: str) -> Response:
        certificate = selectors.certificate_get_public(number=number)
        return Response(CertificateOutputSerializer(certificate).data)


class CertificatePdfApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "lang",
                OpenApiTypes.STR,
                enum=["zh-hans", "en"],
                description="The certificate's language; by default the request's "
                "(Accept-Language).",
            )
        ],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **problems(404)},
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        certificate = selectors.certificate_get_public(number=number)
        language = certificate_language(
            request.query_params.get("lang") or get_language()
        )
        response = HttpResponse(
            certificate_pdf(certificate, language), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'inline; filename="{certificate.number}.pdf"'
        response["Content-Language"] = language
        patch_vary_headers(response, ["Accept-Language"])
        return response


class CertificateRevokeApi(APIView):
    permission_classes = [IsOrganiserUser]

    @extend_schema(
        request=RevokeInputSerializer,
        responses={200: CertificateOutputSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, number: str) -> Response:
        certificate = selectors.certificate_get_public(number=number)
        if (
            not event_selectors.Event.objects.for_organiser(request.user)
            .filter(pk=certificate.batch.category.event_id)
            .exists()
        ):
            raise AwardNotFound()
        data = RevokeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        certificate = services.certificate_revoke(
            certificate=certificate,
            reason=data.validated_data["reason"],
            actor=request.user,
        )
        return Response(CertificateOutputSerializer(certificate).data)


class HonourRollApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "district",
                OpenApiTypes.STR,
                description="Awardees of a district named so in either language "
                "(part of the name, any letter case).",
            ),
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description="Awardees whose name, title, affiliation, street, "
                "community or district holds these words, in either language.",
            ),
            OpenApiParameter("batch", OpenApiTypes.INT, description="A batch's id."),
            OpenApiParameter(
                "category", OpenApiTypes.INT, description="A category's id."
            ),
        ],
        responses={200: HonourBatchSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        batches = selectors.honour_roll(
            **selectors.honour_roll_filters(request.query_params)
        )
        return Response(HonourBatchSerializer(batches, many=True).data)
