"""Registrations name their event; the waiting list's leavers get an index.

The event is copied from each registration's session (in one statement), then the
column becomes required; on PostgreSQL a foreign key on (session, event) holds
every row to its session's event. The index of waitlisted rows by (session, number) was a
copy of the unique constraint's, and the session's own index a prefix of
(session, status): both go.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def events_copied(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    Session = apps.get_model("events", "Session")
    Registration.objects.using(schema_editor.connection.alias).update(
        event_id=Subquery(
            Session.objects.filter(pk=OuterRef("session_id")).values("event_id")[:1]
        )
    )


def session_event_held(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE events_session ADD CONSTRAINT session_id_event_id_key "
        "UNIQUE (id, event_id)"
    )
    schema_editor.execute(
        "ALTER TABLE events_registration ADD CONSTRAINT registration_session_event_fk "
        "FOREIGN KEY (session_id, event_id) REFERENCES events_session (id, event_id) "
        "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
    )


def session_event_released(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE events_registration DROP CONSTRAINT registration_session_event_fk"
    )
    schema_editor.execute(
        "ALTER TABLE events_session DROP CONSTRAINT session_id_event_id_key"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0008_bilingual_content_and_branding"),
    ]

    operations = [
        migrations.AddField(
            model_name="registration",
            name="event",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="registrations",
                to="events.event",
                verbose_name="event",
            ),
        ),
        migrations.RunPython(events_copied, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="registration",
            name="event",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="registrations",
                to="events.event",
                verbose_name="event",
            ),
        ),
        migrations.RunPython(
            session_event_held, session_event_released, elidable=False
        ),
        migrations.AlterField(
            model_name="registration",
            name="session",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="registrations",
                to="events.session",
                verbose_name="session",
            ),
        ),
        migrations.RemoveIndex(
            model_name="registration",
            name="registration_waitlist_idx",
        ),
        migrations.AddIndex(
            model_name="registration",
            index=models.Index(
                condition=Q(waitlist_number__isnull=False)
                & ~Q(status="waitlisted"),
                fields=["session", "waitlist_number"],
                name="registration_left_waitlist_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="registration",
            index=models.Index(
                fields=["event", "status"], name="registration_event_idx"
            ),
        ),
    ]
