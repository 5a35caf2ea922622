"""The award notice: congratulations, the certificate link, the ceremony invitation."""

from django.conf import settings
from django.urls import reverse

from notifications.ics import calendar_file
from notifications.services import Email

from .models import AwardBatch, Certificate


def award_notices(batch: AwardBatch, certificates: list[Certificate]) -> list[Email]:
    event = batch.category.event
    ceremony = batch.ceremony_session
    emails = []
    for certificate in certificates:
        recipient = certificate.nomination.recipient
        if not recipient.email:
            continue
        verify_url = settings.SITE_URL + reverse(
            "awards:verify", kwargs={"number": certificate.number}
        )
        context: dict[str, object] = {
            "full_name": recipient.name,
            "award_title": batch.title,
            "category_name": batch.category.name,
            "event_title": event.title,
            "certificate_number": certificate.number,
            "verify_url": verify_url,
            "timezone": event.timezone,
        }
        attachments = []
        if ceremony is not None and not ceremony.is_cancelled:
            venue = ceremony.venue or event.venue
            context.update(
                session_title=ceremony.title,
                starts_at=ceremony.starts_at.isoformat(),
                ends_at=ceremony.ends_at.isoformat(),
                venue_name=venue.name if venue else "",
                venue_address=venue.address if venue else "",
            )
            ics = calendar_file(
                uid=f"session-{ceremony.pk}-certificate-{certificate.number}@podium",
                sequence=ceremony.sequence,
                starts_at=ceremony.starts_at,
                ends_at=ceremony.ends_at,
                summary=f"{event.title}: {ceremony.title}",
                location=f"{venue.name}, {venue.address}".strip(", ") if venue else "",
                url=verify_url,
            )
            attachments.append(
                {
                    "filename": "ceremony.ics",
                    "mimetype": "text/calendar; method=PUBLISH",
                    "content": ics.decode(),
                }
            )
        emails.append(
            Email(
                kind="award_announced",
                to=recipient.email,
                template="awards/email/award_announced",
                dedupe_key=f"award_announced:certificate:{certificate.pk}",
                context=context,
                language=recipient.language,
                about=("awards.certificate", str(certificate.pk)),
                scope=f"event:{event.pk}",
                attachments=attachments,
            )
        )
    return emails
