"""``/organise/``: the console's URLs. Each area of the console keeps its own list."""

from . import (
    attendees,
    checkin,
    dashboard,
    event_views,
    home,
    mail,
    people,
    questions,
)

app_name = "console"

urlpatterns = [
    *home.urlpatterns,
    *event_views.urlpatterns,
    *attendees.urlpatterns,
    *people.urlpatterns,
    *questions.urlpatterns,
    *mail.urlpatterns,
    *checkin.urlpatterns,
    # Last: its pattern is the event's bare slug.
    *dashboard.urlpatterns,
]
