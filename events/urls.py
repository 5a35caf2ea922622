from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("events/<slug:slug>/", views.event_detail, name="event_detail"),
    path("events/<slug:slug>/brand.css", views.event_brand_css, name="event_brand_css"),
    path(
        "events/<slug:slug>/brand/<str:kind>",
        views.event_brand_image,
        name="event_brand_image",
    ),
    path(
        "events/<slug:slug>/register/",
        views.registration_create,
        name="registration_create",
    ),
    path("r/<str:code>/", views.registration_manage, name="registration_manage"),
    path(
        "r/<str:code>/confirmed/",
        views.registration_confirmed,
        name="registration_confirmed",
    ),
    path("r/<str:code>/cancel/", views.registration_cancel, name="registration_cancel"),
    path(
        "r/<str:code>/calendar.ics",
        views.registration_calendar,
        name="registration_calendar",
    ),
    path("checkin/", views.check_in, name="check_in"),
]
