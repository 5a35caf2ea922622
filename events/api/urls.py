from django.urls import path

from . import views

urlpatterns = [
    path("events/", views.EventListApi.as_view(), name="event-list"),
    path("events/<slug:slug>/", views.EventDetailApi.as_view(), name="event-detail"),
    path(
        "events/<slug:slug>/sessions/",
        views.EventSessionsApi.as_view(),
        name="event-sessions",
    ),
    path(
        "events/<slug:slug>/registrations/",
        views.EventRegistrationsApi.as_view(),
        name="event-registrations",
    ),
    path(
        "events/<slug:slug>/checkins/",
        views.CheckInApi.as_view(),
        name="event-checkins",
    ),
    path(
        "sessions/<int:session_id>/",
        views.SessionDetailApi.as_view(),
        name="session-detail",
    ),
    path(
        "sessions/<int:session_id>/cancel/",
        views.SessionCancelApi.as_view(),
        name="session-cancel",
    ),
    path(
        "registrations/<str:code>/",
        views.RegistrationApi.as_view(),
        name="registration-detail",
    ),
    path(
        "registrations/<str:code>/cancel/",
        views.RegistrationCancelApi.as_view(),
        name="registration-cancel",
    ),
]
