"""``manage.py add_organiser EMAIL EVENT_SLUG``: an organiser and their API token."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction
from rest_framework.authtoken.models import Token

from events.models import Event

ORGANISERS_GROUP = "Organisers"
ORGANISER_MODELS = {
    "events": ["event", "session", "registration", "venue", "attendee"],
    "awards": ["awardcategory", "awardbatch", "nomination", "recipient", "certificate"],
}
# Mail is read (and resent) by organisers, never edited.
ORGANISER_VIEW_ONLY = {
    "notifications": ["notification"],
    "awards": ["review", "auditentry"],
}


def organisers_group() -> Group:
    """The group whose permissions let organisers use the admin for their events."""
    group, _created = Group.objects.get_or_create(name=ORGANISERS_GROUP)
    for app_label, models in ORGANISER_MODELS.items():
        permissions = Permission.objects.filter(
            content_type__app_label=app_label, content_type__model__in=models
        )
        group.permissions.add(*permissions)
    for app_label, models in ORGANISER_VIEW_ONLY.items():
        permissions = Permission.objects.filter(
            content_type__app_label=app_label,
            content_type__model__in=models,
            codename__startswith="view_",
        )
        group.permissions.add(*permissions)
    return group


class Command(BaseCommand):
    help = "Creates (or reuses) a user, makes them an organiser of the event and prints their API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("event_slug")
        parser.add_argument(
            "--password", help="Also set this password for the admin login."
        )

    @transaction.atomic
    def handle(
        self,
        *args: Any,
        email: str,
        event_slug: str,
        password: str | None,
        **options: Any,
    ) -> None:
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"Not an email address: {email}") from exc
        event = Event.objects.filter(slug=event_slug).first()
        if event is None:
            raise CommandError(f"No event with the slug {event_slug!r}.")
        User = get_user_model()
        user = (
            User.objects.filter(email__iexact=email).first()
            or User.objects.filter(username=email).first()
        )
        if user is None:
            user = User.objects.create_user(username=email, email=email)
            user.set_unusable_password()
        user.is_staff = True
        if password:
            user.set_password(password)
        user.save()
        user.groups.add(organisers_group())
        event.organisers.add(user)
        token, _created = Token.objects.get_or_create(user=user)
        self.stdout.write(f"{email} organises {event.slug}.")
        self.stdout.write(token.key)
