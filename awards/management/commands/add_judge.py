"""``manage.py add_judge EMAIL BATCH_ID``: a judge of one award batch and their API token."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from rest_framework.authtoken.models import Token

from awards.models import AwardBatch
from awards.services import judge_add


class Command(BaseCommand):
    help = "Creates (or reuses) a user, makes them a judge of the batch and prints their API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("batch_id", type=int)
        parser.add_argument(
            "--password", help="Also set this password for the judging page."
        )

    def handle(
        self,
        *args: Any,
        email: str,
        batch_id: int,
        password: str | None,
        **options: Any,
    ) -> None:
        try:
            validate_email(email.strip())
        except ValidationError as exc:
            raise CommandError(f"Not an email address: {email}") from exc
        batch = AwardBatch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"No award batch with the id {batch_id}.")
        judge = judge_add(batch=batch, email=email, actor=None)
        if password:
            judge.set_password(password)
            judge.save(update_fields=["password"])
        token, _created = Token.objects.get_or_create(user=judge)
        self.stdout.write(f"{judge.email} judges {batch}.")
        self.stdout.write(token.key)
