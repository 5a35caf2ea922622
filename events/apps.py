from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _organiser_scopes(user: Any) -> list[str]:
    from .models import Event

    return [
        f"event:{pk}"
        for pk in Event.objects.for_organiser(user).values_list("pk", flat=True)
    ]


def _registration_mail_resend(notification: Any) -> Any:
    """The admin's resend of a registration's mail keeps the console's rules."""
    from notifications.services import NotResendable

    from .models import Registration
    from .services import event_mail_resend

    registration = (
        Registration.objects.select_related("session__event")
        .filter(pk=int(notification.about_id))
        .first()
        if str(notification.about_id).isdigit()
        else None
    )
    if registration is None:
        raise NotResendable()
    return event_mail_resend(
        event=registration.session.event, notification=notification
    )


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from notifications.services import (
            planner_register,
            resender_register,
            scope_finder_register,
        )

        from .notices import ABOUT, reminders_plan

        planner_register(reminders_plan)
        scope_finder_register(_organiser_scopes)
        resender_register(ABOUT, _registration_mail_resend)
