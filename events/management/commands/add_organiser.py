"""``manage.py add_organiser EMAIL EVENT_SLUG``: an organiser and their API token."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction
from rest_framework.authtoken.models import Token

from events.models import Event

ORGANISERS_GROUP = "Organisers"


def organisers_group() -> Group:
    """The group of organisers: it names their role and grants nothing in the admin,
    which is for the platform's operators (superusers) only."""
    group, _created = Group.objects.get_or_create(name=ORGANISERS_GROUP)
    return group


class Command(BaseCommand):
    help = "Creates (or reuses) a user, makes them an organiser of the event and prints their API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("event_slug")
        parser.add_argument(
            "--password", help="Also set this password for signing in to the console."
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
        # Organisers work in the console, never the admin: they are not staff.
        if password:
            user.set_password(password)
        user.save()
        user.groups.add(organisers_group())
        event.organisers.add(user)
        token, _created = Token.objects.get_or_create(user=user)
        self.stdout.write(f"{email} organises {event.slug}.")
        self.stdout.write(token.key)
