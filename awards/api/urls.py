from django.urls import path

from . import views

urlpatterns = [
    path(
        "events/<slug:slug>/award-categories/",
        views.CategoryCreateApi.as_view(),
        name="award-category-create",
    ),
    path(
        "award-categories/<int:category_id>/batches/",
        views.BatchCreateApi.as_view(),
        name="award-batch-create",
    ),
    path(
        "award-batches/<int:batch_id>/",
        views.BatchDetailApi.as_view(),
        name="award-batch",
    ),
    path(
        "award-batches/<int:batch_id>/nominations/",
        views.BatchNominationsApi.as_view(),
        name="award-batch-nominations",
    ),
    path(
        "award-batches/<int:batch_id>/judges/",
        views.BatchJudgesApi.as_view(),
        name="award-batch-judges",
    ),
    path(
        "award-batches/<int:batch_id>/approve/",
        views.BatchApproveApi.as_view(),
        name="award-batch-approve",
    ),
    path(
        "award-batches/<int:batch_id>/announce/",
        views.BatchAnnounceApi.as_view(),
        name="award-batch-announce",
    ),
    path(
        "award-batches/<int:batch_id>/run-of-show/",
        views.RunOfShowApi.as_view(),
        name="award-batch-run-of-show",
    ),
    path(
        "nominations/<int:nomination_id>/",
        views.NominationApi.as_view(),
        name="nomination",
    ),
    path(
        "nominations/<int:nomination_id>/reviews/",
        views.ReviewCreateApi.as_view(),
        name="nomination-reviews",
    ),
    path(
        "certificates/<str:number>/", views.CertificateApi.as_view(), name="certificate"
    ),
    path(
        "certificates/<str:number>/pdf/",
        views.CertificatePdfApi.as_view(),
        name="certificate-pdf",
    ),
    path(
        "certificates/<str:number>/revoke/",
        views.CertificateRevokeApi.as_view(),
        name="certificate-revoke",
    ),
    path("honour-roll/", views.HonourRollApi.as_view(), name="honour-roll"),
]
