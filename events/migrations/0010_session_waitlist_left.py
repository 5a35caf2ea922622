"""Sessions count those who left their waiting list.

A new place on the list is its number less those ahead who left it. That was
counted from the registrations in the registration's statement, whose snapshot is
older than the session row it locks: someone ahead who left while it waited for
the lock was still counted as waiting. The session row now keeps the count, under
the same lock as the numbers, filled in here from the registrations; the index of
leavers it was counted from goes.
"""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce


def leavers_counted(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    Session = apps.get_model("events", "Session")
    left = (
        Registration.objects.filter(
            session_id=OuterRef("pk"), waitlist_number__isnull=False
        )
        .filter(~Q(status="waitlisted"))
        .order_by()
        .values("session_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Session.objects.using(schema_editor.connection.alias).update(
        waitlist_left=Coalesce(Subquery(left[:1]), 0)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0009_registration_event"),
    ]

    operations = [
        migrations.AlterField(
            model_name="session",
            name="waitlist_last",
            field=models.PositiveIntegerField(
                default=0, editable=False, verbose_name="waiting-list numbers given"
            ),
        ),
        migrations.AddField(
            model_name="session",
            name="waitlist_left",
            field=models.PositiveIntegerField(
                default=0, editable=False, verbose_name="left the waiting list"
            ),
        ),
        migrations.RunPython(leavers_counted, migrations.RunPython.noop),
        # The index that count was read from.
        migrations.RemoveIndex(
            model_name="registration",
            name="registration_left_waitlist_idx",
        ),
        migrations.AddConstraint(
            model_name="session",
            constraint=models.CheckConstraint(
                condition=models.Q(("waitlist_left__lte", models.F("waitlist_last"))),
                name="session_waitlist_left_within_numbers",
            ),
        ),
    ]
