from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _organiser_scopes(user: Any) -> list[str]:
    from .models import Event

    return [
        f"event:{pk}"
        for pk in Event.objects.for_organiser(user).values_list("pk", flat=True)
    ]


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from notifications.services import planner_register, scope_finder_register

        from .notices import reminders_plan

        planner_register(reminders_plan)
        scope_finder_register(_organiser_scopes)
