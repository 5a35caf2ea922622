"""The ways a registration or session use case is refused, each with its API code."""

from django.utils.translation import gettext_lazy as _

from config.problems import ConflictError, NotFoundError


class EventNotFound(NotFoundError):
    title = _("No such event.")


class SessionNotFound(NotFoundError):
    title = _("No such session in this event.")


class RegistrationNotFound(NotFoundError):
    title = _("No such registration.")


class AlreadyRegistered(ConflictError):
    code = "already_registered"
    title = _("This email address is already registered for this session.")


class SessionFull(ConflictError):
    code = "session_full"
    title = _("This session is full and has no waiting list.")


class RegistrationClosed(ConflictError):
    code = "registration_closed"
    title = _("Registration for this session is closed.")


class CapacityBelowConfirmed(ConflictError):
    code = "capacity_below_confirmed"
    title = _(
        "The capacity cannot be lower than the number of confirmed registrations."
    )


class NotActive(ConflictError):
    code = "not_active"
    title = _("This registration is cancelled or on the waiting list.")


class SessionCancelled(ConflictError):
    code = "session_cancelled"
    title = _("This session is cancelled.")
