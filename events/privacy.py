"""What Podium holds about one person in one event: the reads behind the export.

The export answers a person's request for their data (PIPL art. 45, GDPR art. 15)
for the event of the organiser who asks: their registrations and answers, the
privacy notice they agreed to, their check-ins, the emails sent to them about this
event and whether they asked for no reminders. Nothing of another event is read.
The writes (erasure, retention) are in ``events.services``.
"""

import datetime as dt
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications.models import Notification, Unsubscription

from .models import Event, PersonalDataErasure, PrivacyNotice, Registration
from .notices import ABOUT


def _moment(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def person_registrations(*, event: Event, email: str) -> QuerySet[Registration]:
    """The address's registrations in this event, in any letter case, oldest first."""
    address = email.strip().lower()
    if not address:
        return Registration.objects.none()
    return (
        Registration.objects.filter(event=event, erased_at__isnull=True)
        .filter(Q(email__iexact=address) | Q(attendee__email=address))
        .select_related("session")
        .order_by("created_at", "pk")
    )


def person_notifications(
    *, event: Event, email: str, registration_ids: list[int]
) -> QuerySet[Notification]:
    """The emails about this event to the address or about its registrations."""
    address = email.strip().lower()
    return Notification.objects.filter(scope=f"event:{event.pk}").filter(
        Q(recipient__iexact=address)
        | Q(about_type=ABOUT, about_id__in=[str(i) for i in registration_ids])
    )


def _answers(registration_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Answers to the event's questions per registration, where that feature exists."""
    try:
        answer_model = apps.get_model("events", "Answer")
    except LookupError:
        return {}
    answers: dict[int, list[dict[str, Any]]] = {}
    rows = answer_model.objects.filter(registration_id__in=registration_ids)
    for row in rows.order_by("pk"):
        item: dict[str, Any] = {}
        for field in row._meta.concrete_fields:
            if field.name in {"id", "registration"}:
                continue
            value = getattr(row, field.attname)
            item[field.attname] = (
                value.isoformat() if hasattr(value, "isoformat") else value
            )
        question = getattr(row, "question", None)
        if question is not None:
            item["question"] = str(question)
        answers.setdefault(row.registration_id, []).append(item)
    return answers


def _award_recipients(*, event: Event, address: str) -> list[dict[str, Any]]:
    """Honour-roll entries of this event naming the address as their contact."""
    try:
        nomination_model = apps.get_model("awards", "Nomination")
    except LookupError:
        return []
    nominations = nomination_model.objects.filter(
        batch__category__event=event, recipient__email__iexact=address
    ).select_related("recipient", "batch__category")
    return [
        {
            "name": n.recipient.name,
            "category": n.batch.category.name,
            "batch": n.batch.title,
            "status": n.status,
        }
        for n in nominations.order_by("pk")
    ]


def person_data_export(*, event: Event, email: str) -> dict[str, Any]:
    """Everything this event holds about the address, as JSON-ready data."""
    address = email.strip().lower()
    registrations = list(person_registrations(event=event, email=address))
    ids = [r.pk for r in registrations]
    answers = _answers(ids)
    versions = {r.consent_version for r in registrations if r.consent_version}
    notices = {
        n.version: n
        for n in PrivacyNotice.objects.filter(event=event, version__in=versions)
    }
    mails = person_notifications(event=event, email=address, registration_ids=ids)
    return {
        "exported_at": timezone.now().isoformat(),
        "event": {"slug": event.slug, "title": event.title},
        "email": address,
        "registrations": [
            {
                "code": r.code,
                "session": {
                    "id": r.session_id,
                    "title": r.session.title,
                    "starts_at": _moment(r.session.starts_at),
                },
                "full_name": r.full_name,
                "email": r.email,
                "phone": r.phone,
                "organisation": r.organisation,
                "language": r.language,
                "status": r.status,
                "reserved_seat": r.reserved,
                "registered_at": _moment(r.created_at),
                "cancelled_at": _moment(r.cancelled_at),
                "promoted_at": _moment(r.promoted_at),
                "answers": answers.get(r.pk, []),
            }
            for r in registrations
        ],
        "consents": [
            {
                "registration": r.code,
                "consented_at": _moment(r.consent_at),
                "privacy_notice_version": r.consent_version,
                "privacy_notice": (
                    {
                        "zh-hans": notices[r.consent_version].text_zh_hans,
                        "en": notices[r.consent_version].text_en,
                    }
                    if r.consent_version in notices
                    else None
                ),
            }
            for r in registrations
            if r.consent_at
        ],
        "check_ins": [
            {"registration": r.code, "checked_in_at": _moment(r.checked_in_at)}
            for r in registrations
            if r.checked_in_at
        ],
        "emails": [
            {
                "kind": m.kind,
                "template": m.template,
                "recipient": m.recipient,
                "language": m.language,
                "status": m.status,
                "queued_at": _moment(m.created_at),
                "send_after": _moment(m.send_after),
                "sent_at": _moment(m.sent_at),
                "attempts": m.attempts,
            }
            for m in mails.order_by("created_at", "pk")
        ],
        "unsubscribed_from_reminders": _moment(
            Unsubscription.objects.filter(email=address)
            .values_list("created_at", flat=True)
            .first()
        ),
        "award_recipients": _award_recipients(event=event, address=address),
    }


def person_summary(*, event: Event, email: str) -> dict[str, Any]:
    """What the people page shows before an export or an erasure."""
    registrations = list(person_registrations(event=event, email=email))
    ids = [r.pk for r in registrations]
    mails = person_notifications(event=event, email=email, registration_ids=ids)
    return {
        "registrations": registrations,
        "emails": mails.count(),
        "queued": mails.filter(status=Notification.Status.PENDING).count(),
        "active": sum(1 for r in registrations if r.is_active),
        "award_recipients": _award_recipients(
            event=event, address=email.strip().lower()
        ),
    }


def erasures_for_event(*, event: Event) -> QuerySet[PersonalDataErasure]:
    return PersonalDataErasure.objects.filter(event=event).select_related("actor")
